#pragma once

// The float kernels of each ISA, chosen by one switch: every family's vector kernels for that ISA
// (compiled with its flags: kernels/x86/float_*_avx2.cpp, float_*_avx512.cpp, kernels/arm/float_*_neon.cpp),
// or for Isa::scalar the portable GEMM and depthwise instantiations and no others (those families run
// their references instead).

#include "kernels/conv/float_depthwise.h"
#include "kernels/elementwise/float_elementwise_kernels.h"
#include "kernels/gemm/float_gemm_kernel.h"
#include "kernels/isa.h"
#include "kernels/pooling/float_pooling_kernels.h"
#include "kernels/reduce/float_reduce_kernels.h"
#include "kernels/resize/float_resize_kernels.h"

namespace octet {

struct FloatKernels {
  void (*gemm_block)(const gemm::FloatGemmBlock& block);
  void (*depthwise_row)(const conv::FloatDepthwiseRow& row);
  // Null where the references run instead.
  elementwise::FloatUnaryKernel unary;
  elementwise::FloatBinaryKernel binary;
  const pooling::FloatPoolKernels* pool;
  const resize::FloatResizeKernels* resize;
  const reduce::FloatReduceKernels* reduce;
};

// The kernels of `isa`, which the CPU must support; an ISA of another architecture gets the scalar ones.
const FloatKernels& float_kernels(Isa isa);

}  // namespace octet
