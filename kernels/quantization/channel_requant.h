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

  // The single-rounding form of the same arithmetic (kernels/x86/requant_avx512.h), for blocks of
  // kFusedBlock channels whose multipliers allow it (fused_ok, one flag per block): per channel, the 64-bit
  // constants of floor((acc * M0 + round - [acc * M0 < -2^30] * correction) / 2^shift), stored per block in
  // even-odd order (channels n, n+2, ..., n+14, then n+1, n+3, ..., n+15) as vpmuldq produces them.
  static constexpr int64_t kFusedBlock = 16;
  std::vector<int64_t> fused_round, fused_correction, fused_shift;
  std::vector<uint8_t> fused_ok;
};

// The largest right shift the fused form takes: it keeps |acc * M0| + round (with the output zero point
// times 2^shift in it) below 2^63.
constexpr int32_t kMaxFusedRightShift = 22;

// Multipliers, shifts, weight zero points (minus `weight_offset`), output zero point and clamp from `rq`;
// bias zero.
ChannelRequant make_channel_requant(const ConvRequant& rq, int64_t padded, int32_t weight_offset = 0);

}  // namespace octet
