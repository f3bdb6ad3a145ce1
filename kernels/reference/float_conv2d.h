#pragma once

// Float 2-D convolutions (direct and transposed), NHWC, the scalar references. The arithmetic every kernel
// reproduces bit for bit: for each output element, acc starts at the bias (0.0f without one) and takes
// one std::fma per tap, taps in (ky, kx, ci) order, padding taps included with x = 0.0f; then the clamp.

#include "kernels/reference/conv2d.h"
#include "kernels/reference/conv_transpose2d.h"
#include "kernels/reference/float_elementwise.h"
#include "kernels/tensor.h"

namespace octet::ref {

// input [N, H, W, C_in]; weights [C_out, KH, KW, C_in / groups]; bias [C_out] or null;
// output [N, OH, OW, C_out] (conv_output_size).
void float_conv2d(const float* input, const Shape& input_shape, const float* weights,
                  const Shape& weight_shape, const float* bias, const Conv2dParams& params, FloatClamp clamp,
                  float* output);

// The transposed convolution with conv_transpose2d's conventions (weights [C_out, KH, KW, C_in / groups]).
// Gathered per output element: the taps (ky, kx) whose input pixel (oy + pad.top - ky * dilation_h) /
// stride_h, ... is whole and inside the input, in (ky, kx, ci) order; taps that fall outside contribute
// nothing.
void float_conv_transpose2d(const float* input, const Shape& input_shape, const float* weights,
                            const Shape& weight_shape, const float* bias, const ConvTranspose2dParams& params,
                            FloatClamp clamp, float* output);

}  // namespace octet::ref
