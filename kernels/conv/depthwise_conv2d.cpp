#include "kernels/conv/depthwise_conv2d.h"

#include <algorithm>
#include <cstdint>

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "kernels/error.h"
#include "kernels/quantization/conv_requant.h"

namespace octet::conv {

namespace {

// The kernel size K of the AVX-512 or AVX2 column kernel that can run `d` (its weights aside), or 0.
int64_t column_kernel_size(const DepthwiseConv2d& d) {
  const auto& p = d.params;
  const bool fits = (d.isa == Isa::avx512vnni || d.isa == Isa::avx2) && d.kernel_h == d.kernel_w &&
                    (d.kernel_h == 3 || d.kernel_h == 5 || d.kernel_h == 7) &&
                    (p.stride_w == 1 || p.stride_w == 2);
  return fits ? d.kernel_h : 0;
}

// Whether the column kernel runs rows `ow` pixels wide. A dilated row runs as D phases of about ow / D
// pixels each (ColumnRow), and each phase pays a block's setup and, on AVX-512 below 4 pixels, 4 pixels'
// work; where phases are narrow the tap kernel is faster. Zen 5, 1 thread, 33x33 x 960 channels, column /
// tap kernel time: AVX-512 3x3 0.74 at dilation 8 (phases of 4-5 pixels), 1.0 at 11-12 (2-3), 1.5 at 18
// (1-2); 5x5 0.77 at 12, 1.25 at 18; 7x7 0.44 at 12. AVX2 3x3 0.78 at 8, 1.03 at 12; 5x5 1.24 at 18; 7x7 1.0
// at 6, 1.2 at 12.
bool column_kernel_runs(const DepthwiseConv2d& d, int64_t ow) {
  if (d.column_kernel == 0) return false;
  const int64_t dilation = d.params.dilation_w;
  const int64_t narrowest_phase = d.isa == Isa::avx512vnni && d.column_kernel >= 5 ? 2 : 4;
  return dilation == 1 || ow >= narrowest_phase * dilation;
}

// DepthwiseConv2d::lanes64 from the byte weights and the folded bias of `d`, and `rq`'s per-channel
// constants, each block's channels reordered by lanes64_channel.
DepthwiseConv2d::Lanes64 transpose_lanes64(const DepthwiseConv2d& d, const ConvRequant& rq) {
  DepthwiseConv2d::Lanes64 lanes;
  lanes.channels = d.channels / 64 * 64;
  if (lanes.channels == 0) return lanes;
  const auto count = static_cast<size_t>(lanes.channels);
  auto source = [](size_t position) {
    return static_cast<size_t>(lanes64_channel(static_cast<int64_t>(position)));
  };
  ConvRequant transposed = rq;
  // The first `count` channels, transposed (make_channel_requant takes as many as there are).
  auto transpose = [&](auto& values, const auto& original) {
    if (values.empty()) return;
    values.resize(count);
    for (size_t p = 0; p < count; ++p)
      values[p] = original[source(p)];
  };
  transpose(transposed.weight_zero_points, rq.weight_zero_points);
  transpose(transposed.multipliers, rq.multipliers);
  transpose(transposed.scales, rq.scales);
  lanes.requant = make_channel_requant(transposed, lanes.channels);
  transpose(lanes.requant.bias, d.requant.bias);
  // 3x3 column_bytes: one quad per kernel column.
  lanes.weights.resize(3 * count * 4);
  for (size_t kx = 0; kx < 3; ++kx)
    for (size_t p = 0; p < count; ++p)
      for (size_t ky = 0; ky < 4; ++ky)
        lanes.weights[(kx * count + p) * 4 + ky] =
            d.column_bytes[(kx * static_cast<size_t>(d.channels_padded) + source(p)) * 4 + ky];
  return lanes;
}

}  // namespace

template <class W>
DepthwiseConv2d prepare_depthwise_conv2d(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                                         const ref::Conv2dParams& params, const QuantParams& input,
                                         const QuantParams& output, Clamp clamp, RequantMode mode) {
  isa = vector_isa(isa);  // avx512amx: the avx512vnni kernel (AMX gains nothing on depthwise layers)
#if defined(__aarch64__)
  const bool has_kernel = isa == Isa::neon || isa == Isa::neon_dotprod || isa == Isa::neon_i8mm;
#else
  const bool has_kernel = isa == Isa::avx2 || isa == Isa::avx512vnni;
#endif
  if (!has_kernel) throw Error("depthwise conv2d: no kernel for this ISA");
  const int64_t c = weights.shape.at(0), kh = weights.shape.at(1), kw = weights.shape.at(2);
  if (weights.shape.at(3) != 1 || params.groups != c)
    throw Error("depthwise conv2d: needs groups == channels and one input channel per group");
  const int64_t taps = kh * kw;
  // The same overflow guard and multipliers as the reference operator.
  const TensorU8 probe({1, 1, 1, c}, input);
  const ConvRequant rq = prepare_conv_requant("conv2d", probe, weights, bias, output, clamp, c, taps, mode);
  DepthwiseConv2d d;
  d.isa = isa;
  d.params = params;
  d.kernel_h = kh;
  d.kernel_w = kw;
  d.channels = c;
  d.channels_padded = (c + kDepthwiseBlock - 1) / kDepthwiseBlock * kDepthwiseBlock;
  d.tap_pairs = (taps + 1) / 2;
  d.requant = make_channel_requant(rq, d.channels_padded);
  d.weights.assign(static_cast<size_t>(d.tap_pairs * d.channels_padded * 2), 0);
  const int32_t za = rq.input_zero_point;
  for (int64_t ch = 0; ch < c; ++ch) {
    const int32_t zw = rq.weight_zero_points[static_cast<size_t>(ch)];
    int64_t sum = 0;
    for (int64_t t = 0; t < taps; ++t) {
      const int32_t v = static_cast<int32_t>(weights.data[static_cast<size_t>(ch * taps + t)]) - zw;
      d.weights[static_cast<size_t>(((t / 2) * d.channels_padded + ch) * 2 + t % 2)] =
          static_cast<int16_t>(v);
      sum += v;
    }
    // acc = bias + sum_t (a_t - z_a)(w_t - z_w) = bias - z_a * sum_t (w_t - z_w) + sum_t a_t (w_t - z_w).
    d.requant.bias[static_cast<size_t>(ch)] =
        static_cast<int32_t>((bias ? bias->data[static_cast<size_t>(ch)] : 0) - za * sum);
  }
  d.zero_row.assign(static_cast<size_t>(d.channels_padded), static_cast<uint8_t>(za));
  if (const int64_t k = column_kernel_size(d); k > 0) {
    // Same values as `weights`, regrouped by kernel column (see the header).
    auto tap = [&](int64_t ch, int64_t t) {
      return static_cast<int16_t>(static_cast<int32_t>(weights.data[static_cast<size_t>(ch * taps + t)]) -
                                  rq.weight_zero_points[static_cast<size_t>(ch)]);
    };
    bool bytes_fit = isa == Isa::avx512vnni;  // only the AVX-512 kernel multiplies bytes
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t t = 0; t < taps; ++t)
        bytes_fit = bytes_fit && tap(ch, t) >= INT8_MIN && tap(ch, t) <= INT8_MAX;
    if (bytes_fit) {
      const int64_t quads = (k + 3) / 4;
      d.column_bytes.assign(static_cast<size_t>(k * quads * d.channels_padded * 4), 0);
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t kx = 0; kx < k; ++kx)
          for (int64_t ky = 0; ky < k; ++ky)
            d.column_bytes[static_cast<size_t>(((kx * quads + ky / 4) * d.channels_padded + ch) * 4 +
                                               ky % 4)] = static_cast<int8_t>(tap(ch, ky * k + kx));
    }
    if (k == 3 || isa == Isa::avx2) {
      const int64_t pairs = (k + 1) / 2;
      d.column_weights.assign(static_cast<size_t>(pairs * k * d.channels_padded * 2), 0);
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t ky = 0; ky < k; ++ky)
          for (int64_t kx = 0; kx < k; ++kx)
            d.column_weights[static_cast<size_t>((((ky / 2) * k + kx) * d.channels_padded + ch) * 2 +
                                                 ky % 2)] = tap(ch, ky * k + kx);
      if (k == 3 && bytes_fit) d.lanes64 = transpose_lanes64(d, rq);
    }
    // AVX-512 5x5 and 7x7 with weights that do not fit bytes: the tap kernel (its word form is 3x3 only).
    if (k == 3 || bytes_fit || isa == Isa::avx2) d.column_kernel = k;
  }
  return d;
}

template DepthwiseConv2d prepare_depthwise_conv2d(Isa, const Tensor<int8_t>&, const TensorS32*,
                                                  const ref::Conv2dParams&, const QuantParams&,
                                                  const QuantParams&, Clamp, RequantMode);
template DepthwiseConv2d prepare_depthwise_conv2d(Isa, const Tensor<uint8_t>&, const TensorS32*,
                                                  const ref::Conv2dParams&, const QuantParams&,
                                                  const QuantParams&, Clamp, RequantMode);

void run(const DepthwiseConv2d& d, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output) {
  const auto& p = d.params;
  const int64_t oh = ref::conv_output_size("conv2d", "height", ih, d.kernel_h, p.stride_h, p.dilation_h,
                                           p.pad.top, p.pad.bottom);
  const int64_t ow = ref::conv_output_size("conv2d", "width", iw, d.kernel_w, p.stride_w, p.dilation_w,
                                           p.pad.left, p.pad.right);
  const int64_t c = d.channels, taps = d.kernel_h * d.kernel_w;
  static tbb::enumerable_thread_specific<std::vector<const uint8_t*>> scratch;
  // Tasks are output rows, and for small images also groups of channel blocks (the column kernel), so
  // that a 7x7 layer still spreads over the threads evenly.
  const int64_t threads = tbb::this_task_arena::max_concurrency(),
                blocks = d.channels_padded / kDepthwiseBlock;
  int64_t groups = 1;
  const bool by_columns = column_kernel_runs(d, ow);
  if (by_columns && threads > 1 && n * oh < 4 * threads)
    groups = std::min(blocks, (4 * threads + n * oh - 1) / (n * oh));
  const int64_t group_width = (blocks + groups - 1) / groups * kDepthwiseBlock;
  groups = (d.channels_padded + group_width - 1) / group_width;
  tbb::parallel_for(int64_t{0}, n * oh * groups, [&](int64_t task) {
    const int64_t row = task / groups;
    [[maybe_unused]] const int64_t g = task % groups;  // channel groups: x86 column kernel only
    const int64_t b = row / oh, y = row % oh;
    uint8_t* out = output + row * ow * c;
#if defined(__x86_64__)
    if (by_columns) {
      const uint8_t* rows[kMaxColumnKernel] = {};
      for (int64_t ky = 0; ky < d.column_kernel; ++ky) {
        const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
        rows[ky] = iy >= 0 && iy < ih ? input + (b * ih + iy) * iw * c : nullptr;
      }
      const int64_t c_begin = g * group_width, c_end = std::min(c, (g + 1) * group_width);
      // The phases of a dilated row (ColumnRow); one phase without dilation.
      const int64_t dilation = p.dilation_w;
      for (int64_t phase = 0; phase < std::min(dilation, ow); ++phase) {
        // Input column of the phase's first pixel under kernel column 0, and the first column of the image
        // that the phase reads (both congruent modulo the dilation).
        const int64_t first = phase * p.stride_w - p.pad.left;
        const int64_t column0 = (first % dilation + dilation) % dilation;
        const int64_t phase_columns = column0 < iw ? (iw - column0 + dilation - 1) / dilation : 0;
        const uint8_t* phase_rows[kMaxColumnKernel] = {};
        for (int64_t ky = 0; ky < d.column_kernel; ++ky)
          phase_rows[ky] = rows[ky] != nullptr && phase_columns > 0 ? rows[ky] + column0 * c : nullptr;
        const ColumnRow column_row{.rows = phase_rows,
                                   .ix_origin = (first - column0) / dilation,
                                   .iw = phase_columns,
                                   .width = (ow - phase + dilation - 1) / dilation,
                                   .column_pitch = dilation * c,
                                   .out = out + phase * c,
                                   .pixel_pitch = dilation * c};
        if (d.isa == Isa::avx512vnni)
          depthwise_row_columns_avx512(d, column_row, c_begin, c_end);
        else
          depthwise_row_columns_avx2(d, column_row, c_begin, c_end);
      }
      return;
    }
#endif
    std::vector<const uint8_t*>& pointers = scratch.local();
    pointers.resize(static_cast<size_t>(ow * taps));
    for (int64_t x = 0; x < ow; ++x)
      for (int64_t ky = 0; ky < d.kernel_h; ++ky) {
        const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
        for (int64_t kx = 0; kx < d.kernel_w; ++kx) {
          const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
          const bool inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw;
          pointers[static_cast<size_t>(x * taps + ky * d.kernel_w + kx)] =
              inside ? input + ((b * ih + iy) * iw + ix) * c : d.zero_row.data();
        }
      }
#if defined(__aarch64__)
    depthwise_row_neon(d, pointers.data(), ow, out);
#else
    if (d.isa == Isa::avx512vnni)
      depthwise_row_avx512(d, pointers.data(), ow, out);
    else
      depthwise_row_avx2(d, pointers.data(), ow, out);
#endif
  });
}

}  // namespace octet::conv
