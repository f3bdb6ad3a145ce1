#pragma once

// Float pooling and resizing, NHWC, the scalar references.

#include <cstdint>
#include <vector>

#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/resize.h"
#include "kernels/tensor.h"

namespace octet::ref {

// Max pooling; padding never wins; NaN propagates; a window that misses the input entirely (possible only
// through dilation) gives -inf before the clamp. Output shape as the uint8 op (pool_output_size). N and C
// may be 0; H and W must be >= 1 (for every pooling here).
void float_max_pool2d(const float* x, const Shape& nhwc, const Pool2dParams& p, FloatClamp clamp, float* y);

// Average pooling: the window's elements summed in (ky, kx) order starting from 0.0f, then divided by the
// count (the uint8 op's rule for count_include_pad and ceil_mode), then clamped.
void float_average_pool2d(const float* x, const Shape& nhwc, const Pool2dParams& p, FloatClamp clamp,
                          float* y);

// Mean over H and W: [N, H, W, C] -> [N, 1, 1, C], the ordered sum (float_reduce.h) over the H * W pixels
// divided by H * W. (GlobalMaxPool is float_max_pool2d with an H x W window.)
void float_global_average_pool(const float* x, const Shape& nhwc, float* y);

// Resize of the H and W axes of an NHWC tensor, every ONNX Resize mode: nearest (all nearest_mode
// roundings), linear, cubic (cubic_coeff_a, exclude_outside), every coordinate transformation
// (half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nearest).
enum class FloatResizeMode { nearest, linear, cubic };
struct FloatResizeParams {
  ResizeParams base;  // out_h / out_w, scales, coordinate mode, nearest rounding (mode ignored)
  FloatResizeMode mode = FloatResizeMode::nearest;
  bool tf_half_pixel_for_nearest = false;  // overrides base.coordinate_mode
  float cubic_coeff_a = -0.75f;
  bool exclude_outside = false;
};
// Every output element is a fixed sequence of float operations on per-axis taps (FloatResizeAxis, computed
// in double once per layer): nearest copies x[iy, ix]; linear (2 taps) and cubic (4 taps) compute, left to
// right and each product and sum rounded to float,
//   row(ky) = wx[0] * x[iy[ky], ix[0]] + wx[1] * x[iy[ky], ix[1]] + ...
//   y       = wy[0] * row(0) + wy[1] * row(1) + ...
// as ONNX's reference interpolates the inner axis first. Sizes: input H, W >= 1; outputs may be empty.
void float_resize(const float* x, const Shape& nhwc, const FloatResizeParams& p, float* y);

// The taps of one axis, shared by every Resize kernel: output index o reads input indices
// index[o * taps + t] (clamped to [0, in): ONNX's edge padding) with weights weight[o * taps + t].
// The source coordinate x (double) follows the coordinate transformation with `scale` (0: out / in;
// align_corners and pytorch_half_pixel map an output of size 1 to 0). As ONNX's reference: with
// base = floor(x) and ratio = x - base, except ratio = 1 and base = x - 1 for an integral x,
//   nearest: 1 tap, the rounding of x (nearest_rounding), weight 1;
//   linear:  taps base, base + 1, weights 1 - ratio, ratio;
//   cubic:   taps base - 1 .. base + 2, the cubic convolution weights of ratio with cubic_coeff_a;
// with exclude_outside (linear and cubic, as ONNX's reference), taps outside [0, in) get weight 0 and the
// rest are divided by their sum. A coordinate beyond the padded edge (only from a scale that does not fit
// the sizes) is clamped first, so it reads edge pixels.
struct FloatResizeAxis {
  int64_t taps = 1;
  std::vector<int64_t> index;
  std::vector<float> weight;
};
FloatResizeAxis float_resize_axis(int64_t in, int64_t out, double scale, const FloatResizeParams& p);

}  // namespace octet::ref
