#pragma once

#include <cstdint>
#include <string_view>

#include "kernels/quantization/quant_params.h"

namespace octet {

// The output clamp of a quantized operator, in the output's integer domain. Fused activations (ReLU, ReLU6,
// Clip) become a narrower clamp, so they cost nothing at run time.
struct Clamp {
  int32_t min = 0;
  int32_t max = 255;

  friend bool operator==(const Clamp&, const Clamp&) = default;
};

enum class Activation { none, relu, relu6, clip };

// The clamp that applies `activation` (clip uses [clip_min, clip_max] in real units) to a uint8 output
// quantized with `output` (per-tensor). The real bounds are quantized with the output's rounding, so a
// bound that is exactly representable (0.0 always is) is exact.
Clamp activation_clamp(Activation activation, const QuantParams& output, float clip_min = 0.0f,
                       float clip_max = 0.0f);

// Throws unless min <= max and both lie in the uint8 range.
void validate(const Clamp& clamp, std::string_view what);

}  // namespace octet
