// The float GEMM and depthwise kernels for AVX-512; compiled with AVX-512 flags, only called after the CPU
// check.
#include "kernels/conv/float_depthwise_simd.h"
#include "kernels/gemm/float_gemm_simd.h"

namespace octet::gemm {

void float_gemm_block_avx512(const FloatGemmBlock& block) {
  using Arch = xsimd::avx512bw;
  constexpr FloatTile tile = float_tile(Isa::avx512vnni);
  float_gemm_block_simd<Arch, tile>(block);
}

}  // namespace octet::gemm

namespace octet::conv {

void float_depthwise_row_avx512(const FloatDepthwiseRow& row) {
  // Its vectors are the GEMM's, whose width prepare_float_conv2d reads (float_tile) for lane_group.
  static_assert(gemm::float_tile(Isa::avx512vnni).vector_width == simd::Lanes<xsimd::avx512bw>::width);
  float_depthwise_row_simd<xsimd::avx512bw>(row);
}

}  // namespace octet::conv
