// Float max / average pooling rows for AVX-512 (xsimd); compiled with AVX-512 flags, only called after the
// CPU check.
#include "kernels/pooling/float_pooling_simd.h"

namespace octet::pooling {

const FloatPoolKernels& float_pool_kernels_avx512() {
  static constexpr FloatPoolKernels kernels = make_float_pool_kernels<xsimd::avx512bw>();
  return kernels;
}

}  // namespace octet::pooling
