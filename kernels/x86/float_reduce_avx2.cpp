// Float reductions, softmax and normalizations for AVX2 (xsimd); compiled with AVX2 flags, only called after
// the CPU check.
#include "kernels/reduce/float_reduce_simd.h"

namespace octet::reduce {

const FloatReduceKernels& float_reduce_kernels_avx2() {
  static constexpr FloatReduceKernels kernels = make_float_reduce_kernels<xsimd::avx2>();
  return kernels;
}

}  // namespace octet::reduce
