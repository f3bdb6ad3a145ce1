// Float linear / cubic Resize rows for AArch64 Advanced SIMD (xsimd); the baseline every
// aarch64 ISA uses.
#include "kernels/resize/float_resize_simd.h"

namespace octet::resize {

const FloatResizeKernels& float_resize_kernels_neon() {
  static constexpr FloatResizeKernels kernels = make_float_resize_kernels<xsimd::neon64>();
  return kernels;
}

}  // namespace octet::resize
