// The float GEMM and depthwise kernels for AVX2 + FMA; compiled with -mavx2 -mfma, only called after the
// CPU check. (xsimd's fma3<avx2>: the FMA itself comes from kernels/simd/float_primitives.h either way.)
#include "kernels/conv/float_depthwise_simd.h"
#include "kernels/gemm/float_gemm_simd.h"

namespace octet::gemm {

void float_gemm_block_avx2(const FloatGemmBlock& block) {
  using Arch = xsimd::fma3<xsimd::avx2>;
  constexpr FloatTile tile = float_tile(Isa::avx2);
  float_gemm_block_simd<Arch, tile>(block);
}

}  // namespace octet::gemm

namespace octet::conv {

void float_depthwise_row_avx2(const FloatDepthwiseRow& row) {
  // Its vectors are the GEMM's, whose width prepare_float_conv2d reads (float_tile) for lane_group.
  static_assert(gemm::float_tile(Isa::avx2).vector_width == simd::Lanes<xsimd::fma3<xsimd::avx2>>::width);
  float_depthwise_row_simd<xsimd::fma3<xsimd::avx2>>(row);
}

}  // namespace octet::conv
