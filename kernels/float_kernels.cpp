#include "kernels/float_kernels.h"

namespace octet {

const FloatKernels& float_kernels(Isa isa) {
  switch (vector_isa(isa)) {
#if defined(__x86_64__)
    case Isa::avx512vnni: {
      static const FloatKernels kernels{
          &gemm::float_gemm_block_avx512,        &conv::float_depthwise_row_avx512,
          &elementwise::float_unary_avx512,      &elementwise::float_binary_avx512,
          &pooling::float_pool_kernels_avx512(), &resize::float_resize_kernels_avx512(),
          &reduce::float_reduce_kernels_avx512()};
      return kernels;
    }
    case Isa::avx2: {
      static const FloatKernels kernels{
          &gemm::float_gemm_block_avx2,        &conv::float_depthwise_row_avx2,
          &elementwise::float_unary_avx2,      &elementwise::float_binary_avx2,
          &pooling::float_pool_kernels_avx2(), &resize::float_resize_kernels_avx2(),
          &reduce::float_reduce_kernels_avx2()};
      return kernels;
    }
#endif
#if defined(__aarch64__)
    case Isa::neon:
    case Isa::neon_dotprod:
    case Isa::neon_i8mm: {
      static const FloatKernels kernels{
          &gemm::float_gemm_block_neon,        &conv::float_depthwise_row_neon,
          &elementwise::float_unary_neon,      &elementwise::float_binary_neon,
          &pooling::float_pool_kernels_neon(), &resize::float_resize_kernels_neon(),
          &reduce::float_reduce_kernels_neon()};
      return kernels;
    }
#endif
    default: {
      static constexpr FloatKernels kernels{&gemm::float_gemm_block_scalar,
                                            &conv::float_depthwise_row_scalar,
                                            nullptr,
                                            nullptr,
                                            nullptr,
                                            nullptr,
                                            nullptr};
      return kernels;
    }
  }
}

}  // namespace octet
