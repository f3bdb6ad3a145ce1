// neon GEMM for cores without the dot product (Cortex-A53 / A57 / A72: Raspberry Pi 3 and 4). Baseline
// ARMv8-A Advanced SIMD. Activations are flipped to int8 (a - 128, compensated in the bias by pack(),
// gemm::offsets_activations) so that SMULL / SMULL2 multiply 8 byte pairs into int16 exactly (|product|
// <= 128 * 128), and SADALP adds adjacent int16 pairs into the int32 accumulators at once, before two
// products could overflow an int16. A packed register (4 channels x 4 k) times the row's 4 bytes
// broadcast gives [c0 k0..3 | c1 k0..3] and [c2 | c3] products; after SADALP each accumulator holds two
// channels x two partial sums, and ADDP folds the pairs in the epilogue.
//
// Register blocking: 4 rows x 8 channels = 16 accumulators, 2 weight registers, 4 activation registers.
// Per k group of 4 and row: 4 SMULL(2) + 4 SADALP for 32 MACs (docs/arm.md).

#include <arm_neon.h>

#include <algorithm>

#include "kernels/arm/gemm_driver.h"
#include "kernels/arm/requant_neon.h"

namespace octet::gemm {

namespace {

struct WideningKernel {
  static constexpr int kRows = 4;

  template <int MR>
  static void tile(const arm::GemmArgs& g, const uint8_t* a, const int32_t* row_sums, int64_t n, uint8_t* c) {
    const int64_t k4 = g.w.k_padded / 4;
    const int8_t* b = arm::slice_weights(g.w, n);
    int32x4_t acc[MR][4];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < 4; ++j)
        acc[r][j] = vdupq_n_s32(0);
    for (int64_t q = 0; q < k4; ++q) {
      const int8x16_t w0 = vld1q_s8(b + q * 64), w1 = vld1q_s8(b + q * 64 + 16);
      for (int r = 0; r < MR; ++r) {
        const int8x16_t av =
            vreinterpretq_s8_u32(vdupq_n_u32(arm::load_u32(a + r * g.a_stride + q * 4) ^ 0x80808080u));
        acc[r][0] = vpadalq_s16(acc[r][0], vmull_s8(vget_low_s8(w0), vget_low_s8(av)));
        acc[r][1] = vpadalq_s16(acc[r][1], vmull_high_s8(w0, av));
        acc[r][2] = vpadalq_s16(acc[r][2], vmull_s8(vget_low_s8(w1), vget_low_s8(av)));
        acc[r][3] = vpadalq_s16(acc[r][3], vmull_high_s8(w1, av));
      }
    }
    const arm::RequantOutput out(g.w.requant);
    const bool zw = row_sums != nullptr;
    const arm::Requant4 lo(g.w.requant, n, zw), hi(g.w.requant, n + 4, zw);
    const int64_t valid = std::min<int64_t>(arm::kSlice, g.n_end - n);
    for (int r = 0; r < MR; ++r) {
      const int32_t s = zw ? row_sums[r] : 0;
      const int32x4_t c03 = vpaddq_s32(acc[r][0], acc[r][1]), c47 = vpaddq_s32(acc[r][2], acc[r][3]);
      arm::store8(c + r * g.c_stride + n, arm::narrow8(lo(c03, s, out), hi(c47, s, out)), valid);
    }
  }
};

}  // namespace

void compute_neon(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
                  int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  arm::run_gemm<WideningKernel>(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
}

}  // namespace octet::gemm
