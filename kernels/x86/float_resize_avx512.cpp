// Float linear / cubic Resize rows for AVX-512 (xsimd); compiled with AVX-512 flags, only called after the
// CPU check.
#include "kernels/resize/float_resize_simd.h"

namespace octet::resize {

const FloatResizeKernels& float_resize_kernels_avx512() {
  static constexpr FloatResizeKernels kernels = make_float_resize_kernels<xsimd::avx512bw>();
  return kernels;
}

}  // namespace octet::resize
