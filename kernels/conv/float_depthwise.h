#pragma once

// The float depthwise convolution kernel (groups == C_in == C_out), one output row at a time, per ISA:
// vectors run across channels, and each output channel's accumulator starts at its bias and takes the
// taps in (ky, kx) order through fma, padding taps included with x = 0.0f, as ref::float_conv2d. A channel
// multiplier > 1 is run on an input whose channels were repeated to C_out (kernels/conv/float_conv.cpp).

#include <cstdint>

#include "kernels/reference/conv2d.h"
#include "kernels/reference/float_elementwise.h"

namespace octet::conv {

struct FloatDepthwiseRow {
  const float* image = nullptr;  // one image, [ih, iw, channels]
  int64_t ih = 0, iw = 0, channels = 0;
  const float* weights = nullptr;  // [KH * KW, channels]: tap (ky, kx) at (ky * KW + kx) * channels
  const float* bias = nullptr;     // [channels] or null
  int64_t kernel_h = 1, kernel_w = 1;
  ref::Conv2dParams params;
  FloatClamp clamp;
  int64_t oy = 0;                    // the output row
  int64_t ox_begin = 0, ox_end = 0;  // its pixels to compute
  float* out = nullptr;              // the output row: pixel ox at out + ox * channels
};

// One row on each ISA's kernel (kernels/float_kernels.h chooses).
void float_depthwise_row_scalar(const FloatDepthwiseRow& row);
void float_depthwise_row_avx2(const FloatDepthwiseRow& row);
void float_depthwise_row_avx512(const FloatDepthwiseRow& row);
void float_depthwise_row_neon(const FloatDepthwiseRow& row);

}  // namespace octet::conv
