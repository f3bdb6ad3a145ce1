#pragma once

// The fixed-point requantization of int32 accumulators in NEON registers, 4 output channels per
// register, shared by the aarch64 kernels. Bit-exact with requantize() (docs/quantization.md, 6.3):
//
//   clamp(z + rdbpot(srdhm(sat_shl(acc, left), M0), right))
//
// AArch64 has the gemmlowp primitives as single instructions: SQSHL is the saturating left shift,
// SQRDMULH is exactly srdhm (ties toward +infinity, saturating only INT32_MIN * INT32_MIN), and SRSHL by
// a negative amount is a rounding right shift with ties toward +infinity, which a -1 on negative inputs
// turns into rdbpot's ties away from zero. Baseline Advanced SIMD only: every ARM kernel includes it.

#include <arm_neon.h>

#include <cstdint>

#include "kernels/quantization/channel_requant.h"

namespace octet::arm {

// The constants of one layer's output: clamp bounds relative to the zero point, and the zero point.
struct RequantOutput {
  int32x4_t lo, hi, zp;
  float32x4_t lo_float, hi_float;  // the float mode's clamp

  explicit RequantOutput(const ChannelRequant& r)
      : lo(vdupq_n_s32(r.clamp.min - r.output_zero_point)),
        hi(vdupq_n_s32(r.clamp.max - r.output_zero_point)),
        zp(vdupq_n_s32(r.output_zero_point)),
        lo_float(vcvtq_f32_s32(lo)),
        hi_float(vcvtq_f32_s32(hi)) {}
};

// Output channels [n, n + 4): their per-channel constants, loaded once per tile and used for every row.
// In float mode (ChannelRequant::float_mode) bit-exact with requantize_float() instead: SCVTF, FMUL by the
// float32 scale, FMAX / FMIN, FCVTNS (round to nearest, ties to even), add the zero point.
struct Requant4 {
  int32x4_t bias, zw, m0, left, neg_right;
  float32x4_t scale;
  bool has_zw, float_mode;

  Requant4(const ChannelRequant& r, int64_t n, bool with_row_sums)
      : bias(vld1q_s32(r.bias.data() + n)),
        zw(with_row_sums ? vld1q_s32(r.weight_zero_point.data() + n) : vdupq_n_s32(0)),
        m0(vld1q_s32(r.multiplier.data() + n)),
        left(vld1q_s32(r.left_shift.data() + n)),
        neg_right(vnegq_s32(vld1q_s32(r.right_shift.data() + n))),
        scale(r.float_mode() ? vld1q_f32(r.scale.data() + n) : vdupq_n_f32(0.0f)),
        has_zw(with_row_sums),
        float_mode(r.float_mode()) {}

  // The requantized values in [clamp.min, clamp.max], still int32. Arithmetic before the multiply wraps
  // modulo 2^32, like the scalar kernel's (kernels/gemm/packed_gemm.h says why that is exact).
  int32x4_t operator()(int32x4_t acc, int32_t row_sum, const RequantOutput& out) const {
    acc = vaddq_s32(acc, bias);
    if (has_zw) acc = vmlsq_n_s32(acc, zw, row_sum);
    if (float_mode) {
      float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), scale);
      v = vminq_f32(vmaxq_f32(v, out.lo_float), out.hi_float);
      return vaddq_s32(vcvtnq_s32_f32(v), out.zp);
    }
    const int32x4_t x = vqrdmulhq_s32(vqshlq_s32(acc, left), m0);
    // x & -right has the sign bit exactly when x < 0 and right > 0: then subtract 1 before the rounding
    // shift, so that a negative tie rounds away from zero. The saturating add only matters at INT32_MIN,
    // a multiple of 2^right, where it leaves the result unchanged.
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, neg_right), 31);
    const int32x4_t q = vrshlq_s32(vqaddq_s32(x, fixup), neg_right);
    // Clamp before adding the zero point so that the addition cannot overflow.
    return vaddq_s32(vminq_s32(vmaxq_s32(q, out.lo), out.hi), out.zp);
  }
};

// Eight requantized int32 values in [0, 255] (two registers) as 8 bytes.
inline uint8x8_t narrow8(int32x4_t lo, int32x4_t hi) {
  return vqmovun_s16(vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi)));
}

// Stores the first `valid` (1..8) of 8 bytes.
inline void store8(uint8_t* dst, uint8x8_t bytes, int64_t valid) {
  if (valid >= 8) {
    vst1_u8(dst, bytes);
    return;
  }
  uint8_t tmp[8];
  vst1_u8(tmp, bytes);
  for (int64_t i = 0; i < valid; ++i)
    dst[i] = tmp[i];
}

}  // namespace octet::arm
