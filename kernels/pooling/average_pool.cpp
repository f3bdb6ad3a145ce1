#include "kernels/pooling/average_pool.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/quantization/float_requant.h"

namespace octet::pooling {

namespace {

bool is_global(const AveragePool& a) {
  return a.params.kernel_h == 0;
}

}  // namespace

AveragePool prepare_average_pool(const ref::Pool2dParams& params, const QuantParams& input,
                                 const QuantParams& output, Clamp clamp, RequantMode mode) {
  if (params.dilation_h != 1 || params.dilation_w != 1)
    throw Error("average_pool2d: dilation is not supported");
  const int64_t max_count = params.kernel_h * params.kernel_w;
  if (params.kernel_h < 1 || params.kernel_w < 1 || max_count > std::numeric_limits<int32_t>::max() / 255)
    throw Error("average_pool2d: kernel " + std::to_string(params.kernel_h) + "x" +
                std::to_string(params.kernel_w) + " is empty or too large for an int32 sum");
  AveragePool a;
  a.params = params;
  a.shift = ref::average_pool_sum_shift(max_count);
  a.multipliers = ref::average_pool_multipliers(input.scale(), output.scale(), max_count, a.shift);
  if (mode == RequantMode::float_scale)
    for (int64_t count = 0; count <= max_count; ++count)  // index 0 unused, as for the multipliers
      a.float_scales.push_back(
          ref::average_pool_float_scale(input.scale(), output.scale(), std::max<int64_t>(count, 1)));
  a.input_zero_point = input.zero_point();
  a.output_zero_point = output.zero_point();
  a.clamp = clamp;
  return a;
}

AveragePool prepare_global_average_pool(int64_t ih, int64_t iw, const QuantParams& input,
                                        const QuantParams& output, Clamp clamp, RequantMode mode) {
  const int64_t hw = ih * iw;
  if (hw < 1 || hw > std::numeric_limits<int32_t>::max() / 255)
    throw Error("global_average_pool: " + std::to_string(hw) + " pixels overflow an int32 sum");
  AveragePool a;
  a.params.kernel_h = a.params.kernel_w = 0;
  a.shift = ref::average_pool_sum_shift(hw);
  // The reference's one multiplier, s_in / (s_out * hw * 2^shift), is entry hw of this table; only that
  // entry is kept.
  a.multipliers.assign(
      1, quantize_multiplier(input.scale() / (static_cast<double>(output.scale()) * static_cast<double>(hw) *
                                              std::ldexp(1.0, a.shift))));
  if (mode == RequantMode::float_scale)
    a.float_scales.assign(1, ref::average_pool_float_scale(input.scale(), output.scale(), hw));
  a.input_zero_point = input.zero_point();
  a.output_zero_point = output.zero_point();
  a.clamp = clamp;
  return a;
}

void run(const AveragePool& a, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
         uint8_t* output) {
  const auto& p = a.params;
  const bool global = is_global(a);
  const int64_t oh = global ? 1
                            : ref::pool_output_size("average_pool2d", "height", ih, p.kernel_h, p.stride_h, 1,
                                                    p.pad.top, p.pad.bottom, p.ceil_mode);
  const int64_t ow = global ? 1
                            : ref::pool_output_size("average_pool2d", "width", iw, p.kernel_w, p.stride_w, 1,
                                                    p.pad.left, p.pad.right, p.ceil_mode);
  static tbb::enumerable_thread_specific<std::vector<int32_t>> scratch;
  tbb::parallel_for(int64_t{0}, n * oh, [&](int64_t row) {
    const int64_t b = row / oh, y = row % oh;
    std::vector<int32_t>& sums = scratch.local();
    sums.resize(static_cast<size_t>(c));
    for (int64_t x = 0; x < ow; ++x) {
      int64_t vy0 = 0, vy1 = ih, vx0 = 0, vx1 = iw, count = ih * iw;
      if (!global) {
        const int64_t y0 = y * p.stride_h - p.pad.top, x0 = x * p.stride_w - p.pad.left;
        const int64_t y1 = std::min(y0 + p.kernel_h, ih + p.pad.bottom),
                      x1 = std::min(x0 + p.kernel_w, iw + p.pad.right);
        vy0 = std::max<int64_t>(y0, 0), vx0 = std::max<int64_t>(x0, 0);
        vy1 = std::min(y1, ih), vx1 = std::min(x1, iw);
        count = p.count_include_pad ? (y1 - y0) * (x1 - x0) : (vy1 - vy0) * (vx1 - vx0);
      }
      std::fill(sums.begin(), sums.end(), 0);
      int32_t* s = sums.data();
      for (int64_t iy = vy0; iy < vy1; ++iy)
        for (int64_t ix = vx0; ix < vx1; ++ix) {
          const uint8_t* px = input + ((b * ih + iy) * iw + ix) * c;
          for (int64_t ch = 0; ch < c; ++ch)
            s[ch] += px[ch];
        }
      // sum(a - z) over the valid elements, as the reference adds it up (exact: no int32 overflow).
      const auto offset = static_cast<int32_t>((vy1 - vy0) * (vx1 - vx0)) * a.input_zero_point;
      const auto entry = static_cast<size_t>(global ? 0 : count);
      uint8_t* out = output + (row * ow + x) * c;
      if (!a.float_scales.empty()) {
        const float scale = a.float_scales[entry];
        for (int64_t ch = 0; ch < c; ++ch)
          out[ch] = static_cast<uint8_t>(
              requantize_float(s[ch] - offset, scale, a.output_zero_point, a.clamp.min, a.clamp.max));
        continue;
      }
      const FixedMultiplier m = a.multipliers[entry];
      for (int64_t ch = 0; ch < c; ++ch)
        out[ch] = static_cast<uint8_t>(
            requantize((s[ch] - offset) * (1 << a.shift), m, a.output_zero_point, a.clamp.min, a.clamp.max));
    }
  });
}

}  // namespace octet::pooling
