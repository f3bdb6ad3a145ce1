// Float reductions, softmax and normalizations for AArch64 Advanced SIMD (xsimd), the baseline every
// aarch64 ISA uses.
#include "kernels/reduce/float_reduce_simd.h"

namespace octet::reduce {

const FloatReduceKernels& float_reduce_kernels_neon() {
  static constexpr FloatReduceKernels kernels = make_float_reduce_kernels<xsimd::neon64>();
  return kernels;
}

}  // namespace octet::reduce
