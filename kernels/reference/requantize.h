#pragma once

#include <algorithm>

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/quantize.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::ref {

// How one uint8 value moves from params (s_in, z_in) to (s_out, z_out), in either requantization mode:
//   fixed_point  out = clamp(z_out + round((q - z_in) * s_in / s_out)), the ratio a fixed-point multiplier of
//                the difference pre-shifted by 20 bits (full precision even for ratios far from 1), ties away
//                from zero;
//   float_scale  DequantizeLinear then QuantizeLinear in float32, as ONNX Runtime runs the pair (and its
//                QLinearConcat's tables): quantize_value(dequantize_value(q)), rounding the real value once
//                in float32 and its quotient by s_out half to even.
struct Rescale {
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  FixedMultiplier multiplier;  // s_in / (s_out * 2^20)
  RequantMode mode = RequantMode::fixed_point;
  float input_scale = 1.0f, output_scale = 1.0f;

  static constexpr int kLeftShift = 20;

  Rescale(const QuantParams& from, const QuantParams& to, RequantMode mode);
  int32_t operator()(int32_t q, Clamp clamp = {}) const {
    if (mode == RequantMode::float_scale) {
      const int32_t v = quantize_value(dequantize_value(q, input_scale, input_zero_point), output_scale,
                                       output_zero_point, range_of(ElementType::u8));
      return std::clamp(v, clamp.min, clamp.max);
    }
    return requantize((q - input_zero_point) * (1 << kLeftShift), multiplier, output_zero_point, clamp.min,
                      clamp.max);
  }
};

// Requantizes a uint8 tensor to new per-tensor params (identity when they are equal) in `mode`.
TensorU8 requantize_tensor(const TensorU8& input, const QuantParams& output, Clamp clamp, RequantMode mode);

// Clamps a uint8 tensor into [clamp.min, clamp.max], keeping its params (ReLU, ReLU6 and Clip on their own).
TensorU8 clamp(const TensorU8& input, Clamp clamp);

}  // namespace octet::ref
