// The float GEMM and depthwise kernels on AArch64 Advanced SIMD (every aarch64 ISA uses them).
#include "kernels/conv/float_depthwise_simd.h"
#include "kernels/gemm/float_gemm_simd.h"

namespace octet::gemm {

void float_gemm_block_neon(const FloatGemmBlock& block) {
  using Arch = xsimd::neon64;
  constexpr FloatTile tile = float_tile(Isa::neon);
  float_gemm_block_simd<Arch, tile>(block);
}

}  // namespace octet::gemm

namespace octet::conv {

void float_depthwise_row_neon(const FloatDepthwiseRow& row) {
  // Its vectors are the GEMM's, whose width prepare_float_conv2d reads (float_tile) for lane_group.
  static_assert(gemm::float_tile(Isa::neon).vector_width == simd::Lanes<xsimd::neon64>::width);
  float_depthwise_row_simd<xsimd::neon64>(row);
}

}  // namespace octet::conv
