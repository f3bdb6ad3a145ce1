#include "kernels/conv/transposed_gemm.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/conv/output_stride.h"
#include "kernels/conv/segment_copy.h"
#include "kernels/error.h"
#include "kernels/gemm/row_sums.h"

namespace octet::conv {

namespace {

constexpr int64_t kTilePixels = 48;

}  // namespace

bool transposed_gemm_applies(const ref::ConvTranspose2dParams& p, int64_t kernel_h, int64_t kernel_w) {
  return p.groups == 1 && p.stride_h == kernel_h && p.stride_w == kernel_w && p.dilation_h == 1 &&
         p.dilation_w == 1 && p.pad.top == 0 && p.pad.left == 0 && p.pad.bottom == 0 && p.pad.right == 0 &&
         p.output_padding_h == 0 && p.output_padding_w == 0;
}

template <class W>
TransposedGemm prepare_transposed_gemm(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                                       const QuantParams& input, const QuantParams& output, Clamp clamp,
                                       RequantMode mode) {
  TransposedGemm t;
  t.out_channels = weights.shape.at(0);
  t.kernel_h = weights.shape.at(1);
  t.kernel_w = weights.shape.at(2);
  t.in_channels = weights.shape.at(3);
  // Rows ordered (ky, kx, oc): one input pixel's results are then KH runs of KW * C_out contiguous bytes,
  // exactly an output row segment each.
  const int64_t rows = t.kernel_h * t.kernel_w * t.out_channels, k = t.in_channels;
  std::vector<W> rowwise(static_cast<size_t>(rows * k));
  QuantParams rq;
  std::vector<int32_t> row_bias(static_cast<size_t>(rows));
  rq.axis = weights.quant.is_per_tensor() ? -1 : 0;
  if (weights.quant.is_per_tensor()) rq = weights.quant;
  for (int64_t ky = 0; ky < t.kernel_h; ++ky)
    for (int64_t kx = 0; kx < t.kernel_w; ++kx)
      for (int64_t oc = 0; oc < t.out_channels; ++oc) {
        const int64_t r = (ky * t.kernel_w + kx) * t.out_channels + oc;
        std::memcpy(rowwise.data() + r * k,
                    weights.data.data() + ((oc * t.kernel_h + ky) * t.kernel_w + kx) * k,
                    static_cast<size_t>(k) * sizeof(W));
        if (!weights.quant.is_per_tensor()) {
          rq.scales.push_back(weights.quant.scale(oc));
          rq.zero_points.push_back(weights.quant.zero_point(oc));
        }
        row_bias[static_cast<size_t>(r)] = bias ? bias->data.at(static_cast<size_t>(oc)) : 0;
      }
  t.weights = gemm::pack(isa, rowwise.data(), rows, k, rq, bias ? row_bias.data() : nullptr, input, output,
                         clamp, "conv_transpose2d", 1, mode);
  if (small_transposed_applies(isa, t.kernel_h, t.kernel_w, t.in_channels, t.out_channels))
    t.small = prepare_small_transposed(t.weights, t.kernel_h, t.kernel_w, t.in_channels, t.out_channels);
  else if (isa == Isa::avx512amx)
    t.amx = AmxConv{gemm::amx_pack(rowwise.data(), rows, k, rq, bias ? row_bias.data() : nullptr, input,
                                   output, clamp, "conv_transpose2d", mode)};
  return t;
}

template TransposedGemm prepare_transposed_gemm(Isa, const Tensor<int8_t>&, const TensorS32*,
                                                const QuantParams&, const QuantParams&, Clamp, RequantMode);
template TransposedGemm prepare_transposed_gemm(Isa, const Tensor<uint8_t>&, const TensorS32*,
                                                const QuantParams&, const QuantParams&, Clamp, RequantMode);

void run(const TransposedGemm& t, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output,
         int64_t output_stride) {
  // Output pixels `stride` bytes apart: C_out, or more for a slice of a concatenation's output.
  const int64_t stride = output_pixel_stride("conv_transpose2d", output_stride, t.out_channels);
  const bool dense = stride == t.out_channels;
  if (t.small && dense) return run(*t.small, input, n, ih, iw, output);
  const gemm::PackedWeights& w = t.weights;
  // The GEMM on the VNNI (or AVX2, scalar, NEON) kernel, or on AMX tiles.
  auto gemm_rows = [&](const void* a, int64_t a_stride, const int32_t* row_sums, int64_t rows,
                       int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
    if (t.amx)
      amx_compute(*t.amx, static_cast<const uint8_t*>(a), a_stride, w.needs_row_sums ? row_sums : nullptr,
                  rows, n_begin, n_end, c, c_stride);
    else
      gemm::compute(w, a, a_stride, row_sums, rows, n_begin, n_end, c, c_stride);
  };
  const int64_t pixels = n * ih * iw, cin = t.in_channels, cout = t.out_channels;
  const int64_t oh = ih * t.kernel_h, ow = iw * t.kernel_w, cols = t.kernel_h * t.kernel_w * cout;
  const int64_t elem = w.a_element_size();
  struct Scratch {
    std::vector<uint8_t> a, c;
    std::vector<int32_t> sums;
  };
  static tbb::enumerable_thread_specific<Scratch> scratch_space;
  const int64_t run = t.kernel_w * cout;  // one kernel row of one input pixel: a run of output bytes
  // Strided, each kernel tap's C_out channels are a GEMM call of their own: they start a channel block.
  const bool taps_aligned = dense || cout % gemm::kChannelBlock == 0;
  if (elem == 1 && w.k_padded == w.k && !w.needs_row_sums && run % gemm::kChannelBlock == 0 && taps_aligned) {
    // The pixels of one input row write kernel row ky's runs side by side along output row
    // y * KH + ky: C's columns of kernel row ky are a matrix with row stride `run` there, so the GEMM
    // writes them in place, one call per kernel row, with no copy. Tiles stay within input rows.
    const int64_t per_row = (iw + kTilePixels - 1) / kTilePixels;
    tbb::parallel_for(int64_t{0}, n * ih * per_row, [&](int64_t task) {
      const int64_t line = task / per_row, x = task % per_row * kTilePixels;
      const int64_t b = line / ih, y = line % ih, rows = std::min(kTilePixels, iw - x);
      const uint8_t* a = input + (line * iw + x) * cin;
      for (int64_t ky = 0; ky < t.kernel_h; ++ky) {
        uint8_t* out_row = output + ((b * oh + y * t.kernel_h + ky) * ow + x * t.kernel_w) * stride;
        if (dense) {
          gemm_rows(a, cin, nullptr, rows, ky * run, (ky + 1) * run, out_row - ky * run, run);
          continue;
        }
        // Tap (ky, kx) of consecutive input pixels lands KW output pixels apart.
        for (int64_t kx = 0; kx < t.kernel_w; ++kx) {
          const int64_t first = (ky * t.kernel_w + kx) * cout;
          gemm_rows(a, cin, nullptr, rows, first, first + cout, out_row + kx * stride - first,
                    t.kernel_w * stride);
        }
      }
    });
    return;
  }
  const int64_t tiles = (pixels + kTilePixels - 1) / kTilePixels;
  tbb::parallel_for(int64_t{0}, tiles, [&](int64_t tile) {
    const int64_t first = tile * kTilePixels, rows = std::min(kTilePixels, pixels - first);
    Scratch& s = scratch_space.local();
    s.c.resize(static_cast<size_t>(kTilePixels * cols));
    const void* a = input + first * cin;
    int64_t a_stride = cin;
    // A rows are the input pixels themselves when the ISA reads bytes and K needs no padding.
    if (elem != 1 || w.k_padded != w.k || w.needs_row_sums) {
      const int64_t row_bytes = w.k_padded * elem;
      s.a.assign(static_cast<size_t>(kTilePixels * row_bytes), 0);
      s.sums.assign(static_cast<size_t>(kTilePixels), 0);
      for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* src = input + (first + r) * cin;
        if (elem == 1) {
          std::memcpy(s.a.data() + r * row_bytes, src, static_cast<size_t>(cin));
        } else {
          auto* wide = reinterpret_cast<int16_t*>(s.a.data() + r * row_bytes);
          for (int64_t i = 0; i < cin; ++i)
            wide[i] = src[i];
        }
        if (w.needs_row_sums) s.sums[static_cast<size_t>(r)] = gemm::byte_sum(src, cin);
      }
      a = s.a.data();
      a_stride = row_bytes;
    }
    gemm_rows(a, a_stride, s.sums.empty() ? nullptr : s.sums.data(), rows, 0, cols, s.c.data(), cols);
    // Input pixel (line, x) writes kernel row ky's run at output row line * KH + ky (oh = ih * KH), column
    // x * KW. The first pixel's position by division, the others by stepping: a 64-bit division per pixel
    // cost more than its copies.
    int64_t line = first / iw, x = first % iw;
    for (int64_t r = 0; r < rows; ++r, ++x) {
      if (x == iw) x = 0, ++line;
      for (int64_t ky = 0; ky < t.kernel_h; ++ky) {
        uint8_t* to = output + ((line * t.kernel_h + ky) * ow + x * t.kernel_w) * stride;
        const uint8_t* from = s.c.data() + r * cols + ky * run;
        if (dense) {
          copy_bytes(to, from, run);
          continue;
        }
        for (int64_t kx = 0; kx < t.kernel_w; ++kx)
          copy_bytes(to + kx * stride, from + kx * cout, cout);
      }
    }
  });
}

}  // namespace octet::conv
