#pragma once

// The per-ISA vector kernels behind kernels/pooling/float_pooling.h: one output row at a time, compiled once
// per instruction set (kernels/x86/float_pooling_avx2.cpp, float_pooling_avx512.cpp,
// kernels/arm/float_pooling_neon.cpp) from kernels/pooling/float_pooling_simd.h.

#include <cstdint>

#include "kernels/reference/float_pooling.h"

namespace octet::pooling {

// One image's pooling geometry (NHWC, the output width already computed).
struct FloatPoolRow {
  int64_t ih = 0, iw = 0, c = 0, ow = 0;
  ref::Pool2dParams p;
  FloatClamp clamp;
};

struct FloatPoolKernels {
  // Output row oy of one image (`image`: its [ih, iw, c] input; y: ow * c outputs), as the references.
  void (*max_pool_row)(const float* image, const FloatPoolRow& g, int64_t oy, float* y);
  void (*average_pool_row)(const float* image, const FloatPoolRow& g, int64_t oy, float* y);
};

// Each ISA's kernels (kernels/float_kernels.h chooses).

const FloatPoolKernels& float_pool_kernels_avx2();
const FloatPoolKernels& float_pool_kernels_avx512();
const FloatPoolKernels& float_pool_kernels_neon();

}  // namespace octet::pooling
