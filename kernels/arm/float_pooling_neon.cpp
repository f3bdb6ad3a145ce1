// Float max / average pooling rows for AArch64 Advanced SIMD (xsimd); the baseline every
// aarch64 ISA uses.
#include "kernels/pooling/float_pooling_simd.h"

namespace octet::pooling {

const FloatPoolKernels& float_pool_kernels_neon() {
  static constexpr FloatPoolKernels kernels = make_float_pool_kernels<xsimd::neon64>();
  return kernels;
}

}  // namespace octet::pooling
