#pragma once

// The per-ISA vector kernel behind kernels/resize/float_resize.h: one interpolated output row at a time,
// compiled once per instruction set (kernels/x86/float_resize_avx2.cpp, float_resize_avx512.cpp,
// kernels/arm/float_resize_neon.cpp) from kernels/resize/float_resize_simd.h.

#include <cstdint>

namespace octet::resize {

// One output row of a linear / cubic resize: `taps` input rows iy[t] weighted wy[t], and for each output
// column ox the input columns ix[ox * taps + t] weighted wx[ox * taps + t] (ref::FloatResizeAxis).
struct FloatResizeRow {
  const float* image = nullptr;  // one image [ih, iw, c]
  int64_t iw = 0, c = 0, ow = 0, taps = 0;
  const int64_t* iy = nullptr;
  const float* wy = nullptr;
  const int64_t* ix = nullptr;
  const float* wx = nullptr;
};

// A linear / cubic resize along x of input rows with few channels (an RGB image before the network), where
// vectors across the channels of one pixel would be mostly empty lanes: the taps of every output element
// j = ox * c + channel of a row, tap kx at offset[kx * padded + j] (the input element within the row) with
// weight[kx * padded + j]. `padded`, a multiple of every ISA's vector width, is at least span = ow * c; the
// elements past span read offset 0 with weight 0, and their results are never stored by combine_rows.
struct FewChannelTaps {
  int64_t span = 0, padded = 0, taps = 0;
  const int32_t* offset = nullptr;
  const float* weight = nullptr;
};

struct FloatResizeKernels {
  // y: ow * c outputs, each computed as ref::float_resize does (the inner axis first, left to right).
  void (*interpolate_row)(const FloatResizeRow& row, float* y);
  // Few channels: one input row `line` interpolated along x into h (t.padded floats), then output rows
  // combined from `taps` such rows (rows[ky] weighted wy[ky]) into y (t.span floats), with the products and
  // sums of interpolate_row in its order. A row interpolated along x serves every output row that reads it.
  void (*interpolate_x)(const FewChannelTaps& t, const float* line, float* h);
  void (*combine_rows)(const float* const* rows, const float* wy, int64_t taps, int64_t span, float* y);
  // The most channels that take interpolate_x and combine_rows (at most 8): where vectors across channels
  // would be at least half empty, and on NEON, which has no gather instruction, no more than before.
  int64_t few_channels_max;
};

// Each ISA's kernels (kernels/float_kernels.h chooses).

const FloatResizeKernels& float_resize_kernels_avx2();
const FloatResizeKernels& float_resize_kernels_avx512();
const FloatResizeKernels& float_resize_kernels_neon();

}  // namespace octet::resize
