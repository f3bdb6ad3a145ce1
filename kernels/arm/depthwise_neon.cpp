// Depthwise convolution on baseline NEON, 8 channels per step, used by every aarch64 ISA (the dot product
// sums 4 bytes of one channel's k, but depthwise has one k per channel and lane). The packed weights are
// int16 tap pairs [tap_pairs][channels_padded][2]; LD2 de-interleaves a pair into one register per tap.
// Activations are zero-extended to int16 and SMLAL / SMLAL2 accumulate a (<= 255) x (w - z_w, within
// +-255) into int32 exactly.

#include <arm_neon.h>

#include <algorithm>

#include "kernels/arm/requant_neon.h"
#include "kernels/conv/depthwise_conv2d.h"

namespace octet::conv {

namespace {

// The activations of channels [cb, cb + valid) as int16 (valid < 8 only at the last step of a row's
// channels: a full 8-byte load could then read past the end of the input).
inline int16x8_t load8(const uint8_t* p, int64_t valid) {
  if (valid >= 8) return vreinterpretq_s16_u16(vmovl_u8(vld1_u8(p)));
  uint8_t tmp[8] = {};
  std::copy(p, p + valid, tmp);
  return vreinterpretq_s16_u16(vmovl_u8(vld1_u8(tmp)));
}

inline void mac(int32x4_t& lo, int32x4_t& hi, int16x8_t a, int16x8_t w) {
  lo = vmlal_s16(lo, vget_low_s16(a), vget_low_s16(w));
  hi = vmlal_high_s16(hi, a, w);
}

}  // namespace

void depthwise_row_neon(const DepthwiseConv2d& d, const uint8_t* const* taps, int64_t width, uint8_t* out) {
  const int64_t c = d.channels, tap_count = d.kernel_h * d.kernel_w;
  const arm::RequantOutput output(d.requant);
  for (int64_t cb = 0; cb < c; cb += 8) {
    const int64_t valid = std::min<int64_t>(8, c - cb);
    const arm::Requant4 lo(d.requant, cb, false), hi(d.requant, cb + 4, false);
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t* const* t = taps + x * tap_count;
      int32x4_t acc_lo = vdupq_n_s32(0), acc_hi = vdupq_n_s32(0);
      for (int64_t pair = 0; pair < d.tap_pairs; ++pair) {
        const int16x8x2_t w = vld2q_s16(d.weights.data() + (pair * d.channels_padded + cb) * 2);
        mac(acc_lo, acc_hi, load8(t[2 * pair] + cb, valid), w.val[0]);
        if (2 * pair + 1 < tap_count) mac(acc_lo, acc_hi, load8(t[2 * pair + 1] + cb, valid), w.val[1]);
      }
      arm::store8(out + x * c + cb, arm::narrow8(lo(acc_lo, 0, output), hi(acc_hi, 0, output)), valid);
    }
  }
}

}  // namespace octet::conv
