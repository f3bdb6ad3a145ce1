#pragma once

// Float pooling and resizing, NHWC, the scalar references.

#include <cstdint>

#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/resize.h"
#include "kernels/tensor.h"

namespace octet::ref {

// Max pooling; padding never wins; NaN propagates. Output shape as the uint8 op (pool_output_size).
void float_max_pool2d(const float* x, const Shape& nhwc, const Pool2dParams& p, FloatClamp clamp, float* y);

// Average pooling: the window's elements summed in (ky, kx) order starting from 0.0f, then divided by the
// count (the uint8 op's rule for count_include_pad and ceil_mode), then clamped.
void float_average_pool2d(const float* x, const Shape& nhwc, const Pool2dParams& p, FloatClamp clamp, float* y);

// Mean / max over H and W: [N, H, W, C] -> [N, 1, 1, C]. The mean is the ordered sum (float_reduce.h) over
// the H * W pixels divided by H * W.
void float_global_average_pool(const float* x, const Shape& nhwc, float* y);
void float_global_max_pool(const float* x, const Shape& nhwc, float* y);

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
void float_resize(const float* x, const Shape& nhwc, const FloatResizeParams& p, float* y);

}  // namespace octet::ref
