#pragma once

#include <cstdint>
#include <vector>

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/conv_requant.h"

namespace octet {

// Per-output-channel requantization constants as SIMD epilogues load them: arrays padded with zeros to
// `padded` channels so that a kernel may always load whole vectors. `bias` is the kernel's own (each
// kernel folds different zero-point terms into it).
struct ChannelRequant {
  std::vector<int32_t> bias;
  std::vector<int32_t> multiplier;         // Q31
  std::vector<int32_t> left_shift;         // >= 0
  std::vector<int32_t> right_shift;        // >= 0
  std::vector<int32_t> weight_zero_point;  // as the kernel stores the weights
  int32_t output_zero_point = 0;
  Clamp clamp;
  // RequantMode::float_scale: one float32 scale per channel (kernels/quantization/float_requant.h), and
  // the fixed-point arrays above are not used. Empty in fixed point.
  std::vector<float> scale;
  bool float_mode() const { return !scale.empty(); }
  // Float mode: every |acc * scale| stays below 2^30 (ConvRequant::max_float_magnitude), so the scaled
  // value converts to int32 without the float clamp, and kernels that narrow through saturating packs
  // (x86::PackRows) may clamp the integers instead. Same bytes: rounding half to even is monotone and keeps
  // the integer clamp bounds, so round(clamp(v)) = clamp(round(v)).
  bool float_fits_int32 = false;

  // The single-rounding form of the same arithmetic (kernels/x86/requant_avx512.h), for blocks of
  // kFusedBlock channels whose multipliers allow it (fused_ok, one flag per block: no left shift and a right
  // shift s in [1, kMaxFusedRightShift]). With P = acc * M0 and Y = P + fused_round (64-bit, stored per
  // block in even-odd order: channels n, n+2, ..., n+14, then n+1, n+3, ..., n+15, as vpmuldq produces
  // them), the result with the zero point added is
  //   floor((floor(Y / 2^32) - [acc < fused_threshold and (Y mod 2^32) < 2^31]) / 2^fused_shift),
  // the middle term being the tie correction for P < -2^30. fused_threshold and fused_shift are per channel
  // in channel order. fused_skip_correction: the clamp's lower end is at or above the zero point, so every
  // accumulator with P < -2^30 clamps to it with or without the correction, which can be left out.
  static constexpr int64_t kFusedBlock = 16;
  std::vector<int64_t> fused_round;
  std::vector<int32_t> fused_threshold, fused_shift;
  bool fused_skip_correction = false;
  std::vector<uint8_t> fused_ok;
};

// The largest right shift the fused form takes: it keeps |acc * M0| + round (with the output zero point
// times 2^shift in it) below 2^63.
constexpr int32_t kMaxFusedRightShift = 22;

// The tie-correction threshold of the fused form: acc * multiplier < -2^30 exactly when acc < the result
// (multiplier >= 0; INT32_MIN, never, for a zero multiplier).
int32_t fused_tie_threshold(int32_t multiplier);

// Multipliers (or, in float mode, scales), shifts, weight zero points (minus `weight_offset`), output zero
// point and clamp from `rq`; bias zero. The fused form only in fixed point.
ChannelRequant make_channel_requant(const ConvRequant& rq, int64_t padded, int32_t weight_offset = 0);

}  // namespace octet
