// Float linear / cubic Resize rows for AVX2 (xsimd); compiled with AVX2 flags, only called after the CPU
// check.
#include "kernels/resize/float_resize_simd.h"

namespace octet::resize {

const FloatResizeKernels& float_resize_kernels_avx2() {
  static constexpr FloatResizeKernels kernels = make_float_resize_kernels<xsimd::avx2>();
  return kernels;
}

}  // namespace octet::resize
