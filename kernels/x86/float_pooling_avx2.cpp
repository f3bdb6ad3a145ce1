// Float max / average pooling rows for AVX2 (xsimd); compiled with AVX2 flags, only called after the CPU
// check.
#include "kernels/pooling/float_pooling_simd.h"

namespace octet::pooling {

const FloatPoolKernels& float_pool_kernels_avx2() {
  static constexpr FloatPoolKernels kernels = make_float_pool_kernels<xsimd::avx2>();
  return kernels;
}

}  // namespace octet::pooling
