// Float reductions, softmax and normalizations for AVX-512 (xsimd); compiled with AVX-512 flags, only called
// after the CPU check.
#include "kernels/reduce/float_reduce_simd.h"

namespace octet::reduce {

const FloatReduceKernels& float_reduce_kernels_avx512() {
  static constexpr FloatReduceKernels kernels = make_float_reduce_kernels<xsimd::avx512bw>();
  return kernels;
}

}  // namespace octet::reduce
