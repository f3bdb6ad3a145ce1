#include "kernels/reference/pooling.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/float_requant.h"

namespace octet::ref {

namespace {

void validate_per_tensor_u8(const QuantParams& q, const Shape& shape, const std::string& what) {
  validate(q, ElementType::u8, shape, what);
  if (!q.is_per_tensor()) throw Error(what + " must be quantized per tensor");
}

}  // namespace

std::vector<FixedMultiplier> average_pool_multipliers(double s_in, double s_out, int64_t max_count,
                                                      int shift) {
  std::vector<FixedMultiplier> m(static_cast<size_t>(max_count + 1));
  for (int64_t c = 1; c <= max_count; ++c)
    m[static_cast<size_t>(c)] =
        quantize_multiplier(s_in / (s_out * static_cast<double>(c) * std::ldexp(1.0, shift)));
  return m;
}

int average_pool_sum_shift(int64_t max_count) {
  const auto bound = static_cast<uint64_t>(255 * std::max<int64_t>(max_count, 1));
  return std::max(0, 30 - static_cast<int>(std::bit_width(bound)));
}

int64_t pool_output_size(std::string_view op, std::string_view axis, int64_t input, int64_t kernel,
                         int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end,
                         bool ceil_mode) {
  const std::string where = std::string(op) + ": " + std::string(axis);
  // conv_output_size checks kernel, stride, dilation and that the window fits the padded input.
  const int64_t floor_size = conv_output_size(op, axis, input, kernel, stride, dilation, pad_begin, pad_end);
  const int64_t extent = dilation * (kernel - 1) + 1;
  if (pad_begin >= extent || pad_end >= extent)
    throw Error(where + " padding (" + std::to_string(pad_begin) + ", " + std::to_string(pad_end) +
                ") must be smaller than the kernel extent " + std::to_string(extent));
  if (!ceil_mode) return floor_size;
  // conv_output_size checked that the padded input and the extent fit in 64 bits and that the window fits;
  // the rest divides before it multiplies, so a stride near 2^63 cannot wrap it either.
  const auto ceil_div = [&](int64_t x) { return x / stride + (x % stride != 0 ? 1 : 0); };
  const int64_t steps = ceil_div(input + pad_begin + pad_end - extent);
  // A last window would start at steps * stride: it is taken only if that is inside the input or its
  // begin padding.
  return steps >= ceil_div(input + pad_begin) ? steps : steps + 1;
}

TensorU8 max_pool2d(const TensorU8& input, const Pool2dParams& p) {
  check_nhwc(input, "max_pool2d input");
  if (!input.quant.scales.empty()) validate(input.quant, ElementType::u8, input.shape, "max_pool2d input");
  const int64_t n = input.dim(0), ih = input.dim(1), iw = input.dim(2), c = input.dim(3);
  const int64_t oh = pool_output_size("max_pool2d", "height", ih, p.kernel_h, p.stride_h, p.dilation_h,
                                      p.pad.top, p.pad.bottom, p.ceil_mode);
  const int64_t ow = pool_output_size("max_pool2d", "width", iw, p.kernel_w, p.stride_w, p.dilation_w,
                                      p.pad.left, p.pad.right, p.ceil_mode);
  TensorU8 out({n, oh, ow, c}, input.quant);
  size_t o = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t ch = 0; ch < c; ++ch) {
          int32_t best = -1;
          for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
            const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
            if (iy < 0 || iy >= ih) continue;
            for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
              const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
              if (ix < 0 || ix >= iw) continue;
              best = std::max<int32_t>(best,
                                       input.data[static_cast<size_t>(((b * ih + iy) * iw + ix) * c + ch)]);
            }
          }
          // A window with no input element can only arise from dilation skipping over the input; it yields
          // real 0.0, like a padded value.
          out.data[o++] = static_cast<uint8_t>(best >= 0 ? best : input.quant.zero_point());
        }
  return out;
}

float average_pool_float_scale(float input_scale, float output_scale, int64_t count) {
  return input_scale / (output_scale * static_cast<float>(count));
}

TensorU8 average_pool2d(const TensorU8& input, const Pool2dParams& p, const QuantParams& output, Clamp clamp,
                        RequantMode mode) {
  check_nhwc(input, "average_pool2d input");
  validate_per_tensor_u8(input.quant, input.shape, "average_pool2d input");
  validate_per_tensor_u8(output, {}, "average_pool2d output");
  validate(clamp, "average_pool2d");
  if (p.dilation_h != 1 || p.dilation_w != 1) throw Error("average_pool2d: dilation is not supported");
  const int64_t n = input.dim(0), ih = input.dim(1), iw = input.dim(2), c = input.dim(3);
  const int64_t oh = pool_output_size("average_pool2d", "height", ih, p.kernel_h, p.stride_h, 1, p.pad.top,
                                      p.pad.bottom, p.ceil_mode);
  const int64_t ow = pool_output_size("average_pool2d", "width", iw, p.kernel_w, p.stride_w, 1, p.pad.left,
                                      p.pad.right, p.ceil_mode);
  const int64_t max_count = p.kernel_h * p.kernel_w;
  if (max_count > std::numeric_limits<int32_t>::max() / 255)
    throw Error("average_pool2d: kernel " + std::to_string(p.kernel_h) + "x" + std::to_string(p.kernel_w) +
                " is too large for an int32 sum");
  const int shift = average_pool_sum_shift(max_count);
  const std::vector<FixedMultiplier> m =
      average_pool_multipliers(input.quant.scale(), output.scale(), max_count, shift);
  const int32_t zin = input.quant.zero_point();
  TensorU8 out({n, oh, ow, c}, output);
  size_t o = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        const int64_t y0 = y * p.stride_h - p.pad.top, x0 = x * p.stride_w - p.pad.left;
        const int64_t y1 = std::min(y0 + p.kernel_h, ih + p.pad.bottom),
                      x1 = std::min(x0 + p.kernel_w, iw + p.pad.right);
        const int64_t vy0 = std::max<int64_t>(y0, 0), vx0 = std::max<int64_t>(x0, 0);
        const int64_t vy1 = std::min(y1, ih), vx1 = std::min(x1, iw);
        const int64_t count = p.count_include_pad ? (y1 - y0) * (x1 - x0) : (vy1 - vy0) * (vx1 - vx0);
        for (int64_t ch = 0; ch < c; ++ch) {
          int32_t sum = 0;
          for (int64_t iy = vy0; iy < vy1; ++iy)
            for (int64_t ix = vx0; ix < vx1; ++ix)
              sum += input.data[static_cast<size_t>(((b * ih + iy) * iw + ix) * c + ch)] - zin;
          out.data[o++] = static_cast<uint8_t>(
              mode == RequantMode::float_scale
                  ? requantize_float(sum,
                                     average_pool_float_scale(input.quant.scale(), output.scale(), count),
                                     output.zero_point(), clamp.min, clamp.max)
                  : requantize(sum * (1 << shift), m[static_cast<size_t>(count)], output.zero_point(),
                               clamp.min, clamp.max));
        }
      }
  return out;
}

TensorU8 global_average_pool(const TensorU8& input, const QuantParams& output, Clamp clamp,
                             RequantMode mode) {
  check_nhwc(input, "global_average_pool input");
  validate_per_tensor_u8(input.quant, input.shape, "global_average_pool input");
  validate_per_tensor_u8(output, {}, "global_average_pool output");
  validate(clamp, "global_average_pool");
  const int64_t n = input.dim(0), hw = input.dim(1) * input.dim(2), c = input.dim(3);
  if (hw > std::numeric_limits<int32_t>::max() / 255)
    throw Error("global_average_pool: " + std::to_string(hw) + " pixels overflow an int32 sum");
  const int shift = average_pool_sum_shift(hw);
  const FixedMultiplier m = quantize_multiplier(
      input.quant.scale() / (static_cast<double>(output.scale()) * hw * std::ldexp(1.0, shift)));
  const int32_t zin = input.quant.zero_point();
  TensorU8 out({n, 1, 1, c}, output);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      int32_t sum = 0;
      for (int64_t i = 0; i < hw; ++i)
        sum += input.data[static_cast<size_t>((b * hw + i) * c + ch)] - zin;
      out.data[static_cast<size_t>(b * c + ch)] = static_cast<uint8_t>(
          mode == RequantMode::float_scale
              ? requantize_float(sum, average_pool_float_scale(input.quant.scale(), output.scale(), hw),
                                 output.zero_point(), clamp.min, clamp.max)
              : requantize(sum * (1 << shift), m, output.zero_point(), clamp.min, clamp.max));
    }
  return out;
}

}  // namespace octet::ref
