#pragma once

#include <cstdint>
#include <vector>

#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/reference/conv2d.h"
#include "kernels/tensor.h"

namespace octet::ref {

struct Pool2dParams {
  int64_t kernel_h = 1;
  int64_t kernel_w = 1;
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t dilation_h = 1;  // max pooling only
  int64_t dilation_w = 1;
  Padding2d pad;
  bool ceil_mode = false;
  bool count_include_pad = false;  // average pooling only
};

// Output size of a pooling window sweep; with ceil_mode the last partial window is kept only if it starts
// inside the input or the leading padding (the ONNX and PyTorch rule). Padding must be smaller than the
// dilated kernel so that every window sees at least one input element.
int64_t pool_output_size(std::string_view op, std::string_view axis, int64_t input, int64_t kernel,
                         int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end,
                         bool ceil_mode);

// Max pooling, NHWC uint8. The output keeps the input's params (max commutes with a monotonic mapping), so
// it is exact. Padding never wins the max.
TensorU8 max_pool2d(const TensorU8& input, const Pool2dParams& params);

// The window sum is shifted left by this many bits before requantization (keeping |sum| << shift below 2^30
// for the largest window), so that the fixed-point multiply rounds once at full precision rather than twice
// at a coarse one. Kernels must use the same shift to stay bit-exact.
int average_pool_sum_shift(int64_t max_count);

// The requantization multipliers s_in / (s_out * count * 2^shift) of average pooling for every window
// count 1..max_count (index 0 unused); shared with the fast kernels so that they compute the same thing.
std::vector<FixedMultiplier> average_pool_multipliers(double s_in, double s_out, int64_t max_count,
                                                      int shift);

// Average pooling, NHWC uint8, output requantized to `output`:
//   out = clamp(z_out + round(s_in / s_out * sum(a - z_in) / count)), the rounding being the fixed-point
//   requantization of sum << shift with multiplier s_in / (s_out * count * 2^shift),
//   shift = average_pool_sum_shift(kernel_h * kernel_w).
// count is the number of input elements under the window, or, with count_include_pad, the window's extent
// clipped to the padded input (PyTorch's and ONNX's definition: ceil_mode overhang beyond the padding is
// never counted).
// In float_scale mode: out = requantize_float(sum(a - z_in), average_pool_float_scale(s_in, s_out, count)),
// ONNX Runtime's QLinearGlobalAveragePool arithmetic (kernels/quantization/float_requant.h).
TensorU8 average_pool2d(const TensorU8& input, const Pool2dParams& params, const QuantParams& output,
                        Clamp clamp = {}, RequantMode mode = RequantMode::fixed_point);

// The float mode's scale for a window of `count` elements: s_in / (s_out * count), in float32 in that order.
float average_pool_float_scale(float input_scale, float output_scale, int64_t count);

// Mean over H and W: uint8 [N, H, W, C] -> uint8 [N, 1, 1, C] requantized to `output`, with the
// same pre-shift as average_pool2d (shift = average_pool_sum_shift(H * W)).
TensorU8 global_average_pool(const TensorU8& input, const QuantParams& output, Clamp clamp = {},
                             RequantMode mode = RequantMode::fixed_point);

}  // namespace octet::ref
