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
};

// Multipliers, shifts, weight zero points (minus `weight_offset`), output zero point and clamp from `rq`;
// bias zero.
ChannelRequant make_channel_requant(const ConvRequant& rq, int64_t padded, int32_t weight_offset = 0);

}  // namespace octet
