#include "kernels/conv/transposed_phases.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>

#include "kernels/conv/segment_copy.h"
#include "kernels/error.h"
#include "kernels/quantization/conv_requant.h"

namespace octet::conv {

namespace {

constexpr int64_t kTilePixels = 48;

}  // namespace

bool transposed_phases_apply(Isa isa, const ref::ConvTranspose2dParams& p) {
  return gemm::has_segmented_kernel(isa) && p.groups == 1 && p.dilation_w == 1;
}

template <class W>
TransposedPhases prepare_transposed_phases(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                                           const ref::ConvTranspose2dParams& params, const QuantParams& input,
                                           const QuantParams& output, Clamp clamp, RequantMode mode) {
  if (!transposed_phases_apply(isa, params)) throw Error("conv_transpose2d: phase kernel does not apply");
  TransposedPhases t;
  t.params = params;
  t.out_channels = weights.shape.at(0);
  t.kernel_h = weights.shape.at(1);
  t.kernel_w = weights.shape.at(2);
  t.in_channels = weights.shape.at(3);
  const int64_t cout = t.out_channels, cin = t.in_channels, kh = t.kernel_h, kw = t.kernel_w;
  // The reference's checks and overflow guard over the whole kernel, so that this path refuses exactly
  // what the reference refuses (a phase's own guard over fewer taps would be weaker).
  const TensorU8 probe({1, 1, 1, cin}, input);
  (void)prepare_conv_requant("conv_transpose2d", probe, weights, bias, output, clamp, cout, kh * kw * cin,
                             mode);
  const int64_t sh = params.stride_h, sw = params.stride_w, dh = params.dilation_h;
  for (int64_t rh = 0; rh < sh; ++rh)
    for (int64_t rw = 0; rw < sw; ++rw) {
      TransposedPhase ph;
      ph.residue_h = rh;
      ph.residue_w = rw;
      std::vector<int64_t> kys, kxs;
      for (int64_t ky = 0; ky < kh; ++ky)
        if (ky * dh % sh == rh) kys.push_back(ky);
      for (int64_t kx = rw; kx < kw; kx += sw)  // dilation_w == 1
        kxs.push_back(kx);
      for (int64_t ky : kys)
        ph.row_offsets.push_back((ky * dh - rh) / sh);
      const bool empty = kys.empty() || kxs.empty();
      ph.columns = empty ? 1 : static_cast<int64_t>(kxs.size());
      const int64_t segments = empty ? 1 : static_cast<int64_t>(kys.size()), k = segments * ph.columns * cin;
      // Segment s, position p reads input column Qx - (columns - 1) + p: tap kx = kxs[columns - 1 - p].
      std::vector<W> w(static_cast<size_t>(cout * k), static_cast<W>(0));
      if (!empty)
        for (int64_t oc = 0; oc < cout; ++oc)
          for (int64_t s = 0; s < segments; ++s)
            for (int64_t p = 0; p < ph.columns; ++p) {
              const int64_t ky = kys[static_cast<size_t>(s)],
                            kx = kxs[static_cast<size_t>(ph.columns - 1 - p)];
              std::memcpy(w.data() + ((oc * segments + s) * ph.columns + p) * cin,
                          weights.data.data() + ((oc * kh + ky) * kw + kx) * cin,
                          static_cast<size_t>(cin) * sizeof(W));
            }
      if (empty) {
        // No taps: one zero segment over the zero point row. The weights' zero points must then be the
        // same as the real ones for the folding; W's zero value is only 0 for int8 weights with z_w = 0,
        // so fill with each channel's zero point instead (w - z_w = 0).
        for (int64_t oc = 0; oc < cout; ++oc)
          std::fill(w.begin() + oc * k, w.begin() + (oc + 1) * k,
                    static_cast<W>(weights.quant.zero_point(oc)));
      }
      ph.weights = gemm::pack(isa, w.data(), cout, k, weights.quant, bias ? bias->data.data() : nullptr,
                              input, output, clamp, "conv_transpose2d", segments, mode);
      if (ph.weights.needs_row_sums)
        throw Error("conv_transpose2d: phase kernel needs symmetric weights");  // callers check first
      if (isa == Isa::avx512amx)
        ph.amx = AmxConv{gemm::amx_pack(w.data(), cout, k, weights.quant, bias ? bias->data.data() : nullptr,
                                        input, output, clamp, "conv_transpose2d", mode, segments)};
      t.phases.push_back(std::move(ph));
    }
  return t;
}

template TransposedPhases prepare_transposed_phases(Isa, const Tensor<int8_t>&, const TensorS32*,
                                                    const ref::ConvTranspose2dParams&, const QuantParams&,
                                                    const QuantParams&, Clamp, RequantMode);
template TransposedPhases prepare_transposed_phases(Isa, const Tensor<uint8_t>&, const TensorS32*,
                                                    const ref::ConvTranspose2dParams&, const QuantParams&,
                                                    const QuantParams&, Clamp, RequantMode);

void run(const TransposedPhases& t, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
         uint8_t* output) {
  const auto& p = t.params;
  const int64_t oh = ref::conv_transpose_output_size("height", ih, t.kernel_h, p.stride_h, p.dilation_h,
                                                     p.pad.top, p.pad.bottom, p.output_padding_h);
  const int64_t ow = ref::conv_transpose_output_size("width", iw, t.kernel_w, p.stride_w, 1, p.pad.left,
                                                     p.pad.right, p.output_padding_w);
  const int64_t cin = t.in_channels, cout = t.out_channels, sh = p.stride_h, sw = p.stride_w;
  // Output row oy belongs to phase row residue (oy + pad_top) mod sh; along it, the phase's pixels are
  // ox = first_x, first_x + sw, ... with (first_x + pad_left) mod sw = residue_w.
  auto first_of = [](int64_t residue, int64_t pad, int64_t stride) {
    return ((residue - pad) % stride + stride) % stride;
  };
  const int64_t max_row_pixels = (ow + sw - 1) / sw;
  const int64_t tiles_per_row = (max_row_pixels + kTilePixels - 1) / kTilePixels;
  const uint8_t* input_end = input + n * ih * iw * cin;
  struct Scratch {
    std::vector<const uint8_t*> table;
    std::vector<uint8_t> copies;
  };
  static tbb::enumerable_thread_specific<Scratch> scratch_space;
  // Tasks: (image row oy, phase column residue, tile along the row); the row's phase row is fixed by oy.
  tbb::parallel_for(int64_t{0}, n * oh * sw * tiles_per_row, [&](int64_t task) {
    const int64_t tile = task % tiles_per_row, rw = task / tiles_per_row % sw,
                  line = task / (tiles_per_row * sw);
    const int64_t b = line / oh, oy = line % oh;
    const int64_t rh = (oy + p.pad.top) % sh;
    const TransposedPhase& ph = t.phases[static_cast<size_t>(rh * sw + rw)];
    const int64_t x_first = first_of(rw, p.pad.left, sw);
    const int64_t row_pixels = x_first < ow ? (ow - x_first + sw - 1) / sw : 0;
    const int64_t j0 = tile * kTilePixels, rows = std::min(kTilePixels, row_pixels - j0);
    if (rows <= 0) return;
    const gemm::PackedWeights& w = ph.weights;
    const int64_t segments = w.segments, padded = w.segment_padded;
    const bool empty = ph.row_offsets.empty() || segments != static_cast<int64_t>(ph.row_offsets.size());
    Scratch& s = scratch_space.local();
    s.table.resize(static_cast<size_t>(kTilePixels * segments));
    s.copies.resize(static_cast<size_t>(kTilePixels * segments * padded));
    const uint8_t** table = s.table.data();
    uint8_t* copies = s.copies.data();
    const auto za = static_cast<uint8_t>(w.input_zero_point);
    const int64_t qy = (oy + p.pad.top - rh) / sh;
    for (int64_t j = j0; j < j0 + rows; ++j) {
      const int64_t ox = x_first + j * sw;
      const int64_t qx = (ox + p.pad.left - rw) / sw, x0 = qx - (ph.columns - 1);
      for (int64_t seg = 0; seg < segments; ++seg) {
        const int64_t iy = empty ? -1 : qy - ph.row_offsets[static_cast<size_t>(seg)];
        const bool row_inside = iy >= 0 && iy < ih;
        const uint8_t* line_start = input + (b * ih + (row_inside ? iy : 0)) * iw * cin;
        if (row_inside && x0 >= 0 && qx < iw && line_start + x0 * cin + padded <= input_end) {
          *table++ = line_start + x0 * cin;
          continue;
        }
        uint8_t* copy = copies;
        copies += padded;
        copy_segment(copy, row_inside ? line_start : nullptr, x0, ph.columns, iw, cin, za, padded);
        *table++ = copy;
      }
    }
    uint8_t* out = output + ((b * oh + oy) * ow + x_first + j0 * sw) * cout;
    if (ph.amx)
      amx_compute_segmented(*ph.amx, s.table.data(), rows, 0, cout, out, sw * cout);
    else
      gemm::compute_segmented(w, s.table.data(), rows, 0, cout, out, sw * cout);
  });
}

}  // namespace octet::conv
