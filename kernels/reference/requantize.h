#pragma once

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/tensor.h"

namespace octet::ref {

// How one uint8 value moves from params (s_in, z_in) to (s_out, z_out):
//   out = clamp(z_out + round((q - z_in) * s_in / s_out)).
// The difference is pre-shifted by 20 bits so that the fixed-point multiplier keeps full precision even
// for ratios far from 1.
struct Rescale {
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  FixedMultiplier multiplier;  // s_in / (s_out * 2^20)

  static constexpr int kLeftShift = 20;

  Rescale(const QuantParams& from, const QuantParams& to);
  int32_t operator()(int32_t q, Clamp clamp = {}) const {
    return requantize((q - input_zero_point) * (1 << kLeftShift), multiplier, output_zero_point, clamp.min,
                      clamp.max);
  }
};

// Requantizes a uint8 tensor to new per-tensor params (identity when they are equal).
TensorU8 requantize_tensor(const TensorU8& input, const QuantParams& output, Clamp clamp = {});

// Clamps a uint8 tensor into [clamp.min, clamp.max], keeping its params (ReLU, ReLU6 and Clip on their own).
TensorU8 clamp(const TensorU8& input, Clamp clamp);

}  // namespace octet::ref
