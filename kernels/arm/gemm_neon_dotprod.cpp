// neon_dotprod GEMM (ARMv8.2 dot product): SDOT multiplies signed bytes only, so each activation byte has
// its top bit flipped on load (a ^ 0x80 == a - 128 as int8) and pack() adds 128 * sum_k W to the bias
// (gemm::offsets_activations). Compiled with -march=armv8.2-a+dotprod; only called after the CPU check.

#include "kernels/arm/gemm_dot.h"

namespace octet::gemm {

namespace {

struct Sdot {
  using Act = int8x16_t;
  static Act load16(const uint8_t* p) { return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p), vdupq_n_u8(0x80))); }
  static Act load4(const uint8_t* p) {
    return vreinterpretq_s8_u32(vdupq_n_u32(arm::load_u32(p) ^ 0x80808080u));
  }
  template <int lane>
  static int32x4_t dot(int32x4_t acc, int8x16_t w, Act a) {
    return vdotq_laneq_s32(acc, w, a, lane);
  }
};

}  // namespace

void compute_neon_dotprod(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                          int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  arm::run_gemm<arm::DotKernel<Sdot>>(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
}

}  // namespace octet::gemm
