// neon_i8mm GEMM (ARMv8.6 int8 matrix multiply extension): USMMLA multiplies a 2 x 8 matrix of unsigned
// bytes by the transpose of a 2 x 8 matrix of signed bytes and adds the 2 x 2 int32 product to an
// accumulator register: 32 MACs per instruction, twice SDOT's. The activations are used as they are (no
// EOR, no bias compensation: USMMLA is mixed-sign).
//
// Operands: pack() lays the weights out as [n/16][k/8][16][8] (gemm::PackedWeights), so one 16-byte
// register holds channels (c, c + 1) x 8 k. The kernel loads 16 bytes (16 k) of two rows and ZIP1 / ZIP2
// on 64-bit lanes give the row pair's k 0..7 and k 8..15 registers. An accumulator then holds
// [r0 c0, r0 c1, r1 c0, r1 c1]; ZIP1 / ZIP2 of two of them give a row's 4 channels in the epilogue.
//
// Register blocking: 8 rows x 8 channels = 4 row pairs x 4 channel pairs = 16 accumulators, 8 activation
// registers (4 pairs x 2 k halves), 4 weight registers, 2 row loads in flight: 30 of 32. Per 16 k:
// 8 row loads, 8 ZIPs, 8 weight loads, 32 USMMLA (1024 MACs) (docs/arm.md).
// Compiled with -march=armv8.2-a+dotprod+i8mm; only called after the CPU check.

#include <arm_neon.h>

#include <algorithm>

#include "kernels/arm/gemm_driver.h"
#include "kernels/arm/requant_neon.h"

namespace octet::gemm {

namespace {

inline uint8x16_t zip_lo(uint8x16_t a, uint8x16_t b) {
  return vreinterpretq_u8_u64(vzip1q_u64(vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b)));
}
inline uint8x16_t zip_hi(uint8x16_t a, uint8x16_t b) {
  return vreinterpretq_u8_u64(vzip2q_u64(vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b)));
}
inline int32x4_t zip_lo(int32x4_t a, int32x4_t b) {
  return vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(a), vreinterpretq_s64_s32(b)));
}
inline int32x4_t zip_hi(int32x4_t a, int32x4_t b) {
  return vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(a), vreinterpretq_s64_s32(b)));
}

struct MmlaKernel {
  static constexpr int kRows = 8;

  template <int MR>
  static void tile(const arm::GemmArgs& g, const uint8_t* a, const int32_t* row_sums, int64_t n, uint8_t* c) {
    constexpr int P = (MR + 1) / 2;  // row pairs; with an odd MR the last row pairs with itself
    const int64_t k8 = g.w.k_padded / 8;
    const int8_t* b = arm::slice_weights(g.w, n);
    const uint8_t* row[2 * P];
    for (int i = 0; i < 2 * P; ++i)
      row[i] = a + std::min(i, MR - 1) * g.a_stride;
    int32x4_t acc[P][4];
    for (int p = 0; p < P; ++p)
      for (int j = 0; j < 4; ++j)
        acc[p][j] = vdupq_n_s32(0);

    // One k group of 8: the slice's 4 channel pairs (64 consecutive bytes) times every row pair.
    auto group = [&](const int8_t* wq, const uint8x16_t* pairs) {
      int8x16_t w[4];
      for (int j = 0; j < 4; ++j)
        w[j] = vld1q_s8(wq + 16 * j);
      for (int p = 0; p < P; ++p)
        for (int j = 0; j < 4; ++j)
          acc[p][j] = vusmmlaq_s32(acc[p][j], pairs[p], w[j]);
    };
    int64_t q = 0;
    for (; q + 2 <= k8; q += 2) {
      uint8x16_t lo[P], hi[P];
      for (int p = 0; p < P; ++p) {
        const uint8x16_t r0 = vld1q_u8(row[2 * p] + q * 8), r1 = vld1q_u8(row[2 * p + 1] + q * 8);
        lo[p] = zip_lo(r0, r1);
        hi[p] = zip_hi(r0, r1);
      }
      group(b + q * 128, lo);
      group(b + (q + 1) * 128, hi);
    }
    if (q < k8) {  // k_padded % 16 == 8: 8 bytes of each row (16 could run past the end of the rows)
      uint8x16_t lo[P];
      for (int p = 0; p < P; ++p)
        lo[p] = vcombine_u8(vld1_u8(row[2 * p] + q * 8), vld1_u8(row[2 * p + 1] + q * 8));
      group(b + q * 128, lo);
    }

    const arm::RequantOutput out(g.w.requant);
    const bool zw = row_sums != nullptr;
    const arm::Requant4 lo(g.w.requant, n, zw), hi(g.w.requant, n + 4, zw);
    const int64_t valid = std::min<int64_t>(arm::kSlice, g.n_end - n);
    auto store = [&](int r, int32x4_t c03, int32x4_t c47) {
      const int32_t s = zw ? row_sums[r] : 0;
      arm::store8(c + r * g.c_stride + n, arm::narrow8(lo(c03, s, out), hi(c47, s, out)), valid);
    };
    for (int p = 0; p < P; ++p) {
      store(2 * p, zip_lo(acc[p][0], acc[p][1]), zip_lo(acc[p][2], acc[p][3]));
      if (2 * p + 1 < MR) store(2 * p + 1, zip_hi(acc[p][0], acc[p][1]), zip_hi(acc[p][2], acc[p][3]));
    }
  }
};

}  // namespace

void compute_neon_i8mm(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                       int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  arm::run_gemm<MmlaKernel>(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
}

}  // namespace octet::gemm
