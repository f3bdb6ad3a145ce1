#pragma once

// The float depthwise convolution kernel (groups == C_in == C_out), one output row at a time, per ISA:
// vectors run across channels, and each output channel's accumulator starts at its bias and takes the
// taps in (ky, kx) order through fma, padding taps included with x = 0.0f, as ref::float_conv2d. A channel
// multiplier > 1 is run on an input whose channels were repeated to C_out, and a grouped convolution with
// few channels per group on one whose pixels hold, for each of a group's `inner` input channels i, the
// value every output channel reads at i (kernels/conv/float_conv.cpp), or, where a vector holds several
// whole groups of as many input as output channels, on the input itself (lane_group): the taps are then
// (ky, kx, i), the reference's order.

#include <cstdint>

#include "kernels/reference/conv2d.h"
#include "kernels/reference/float_elementwise.h"

namespace octet::conv {

struct FloatDepthwiseRow {
  // One image, [ih, iw, inner, channels], from row `first_row` on: the rows the output row reads (a band
  // of an expanded input, float_conv.cpp), or all of them (first_row 0).
  const float* image = nullptr;
  int64_t first_row = 0;
  int64_t ih = 0, iw = 0, channels = 0;
  int64_t inner = 1;  // input values per output channel and kernel position (1: depthwise)
  // > 1: a grouped convolution with lane_group input and output channels per group (inner == lane_group)
  // on its own input, [ih, iw, channels], not expanded: the lanes of a vector of input channels hold whole
  // groups (lane_group divides the ISA's vector width and is less than it), and each output channel's
  // i-th operand is moved into its lane in registers (float_depthwise_simd.h).
  int64_t lane_group = 0;
  // [KH * KW * inner, channels]: tap (ky, kx, i) at ((ky * KW + kx) * inner + i) * channels
  const float* weights = nullptr;
  const float* bias = nullptr;  // [channels] or null
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

// Throws: the row's lane_group has no kernel in vectors of `width` floats. (Out of line, in a file compiled
// without any ISA's flags, like everything a per-ISA kernel calls besides its own templates.)
[[noreturn]] void no_grouped_row_kernel(const FloatDepthwiseRow& row, int64_t width);

}  // namespace octet::conv
