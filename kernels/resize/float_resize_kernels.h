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
  // taps * ow * c floats of scratch, for rows with few channels (interpolated along x first); owned by the
  // caller, so that no std::vector code is compiled with an ISA's flags.
  float* scratch = nullptr;
};

struct FloatResizeKernels {
  // y: ow * c outputs, each computed as ref::float_resize does (the inner axis first, left to right).
  void (*interpolate_row)(const FloatResizeRow& row, float* y);
};

// Each ISA's kernels (kernels/float_kernels.h chooses).

const FloatResizeKernels& float_resize_kernels_avx2();
const FloatResizeKernels& float_resize_kernels_avx512();
const FloatResizeKernels& float_resize_kernels_neon();

}  // namespace octet::resize
