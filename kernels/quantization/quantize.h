#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/quantization/element_type.h"
#include "kernels/tensor.h"

namespace octet {

// ONNX QuantizeLinear for one value: saturate(round_half_to_even(x / scale) + zero_point), with the
// division done in float32 as the ONNX reference and ONNX Runtime do, so results match them bit for bit.
// NaN maps to the zero point; +-infinity saturate to the range ends.
inline int32_t quantize_value(float x, float scale, int32_t zero_point, IntRange range) {
  if (std::isnan(x)) return zero_point;
  const float scaled = x / scale;
  // nearbyint honours the default rounding mode, round-half-to-even. Clamping in float first keeps the
  // conversion to integer defined for huge values and infinities.
  const float rounded = std::nearbyint(scaled);
  const float shifted = rounded + static_cast<float>(zero_point);
  if (!(shifted > static_cast<float>(range.min))) return range.min;
  if (!(shifted < static_cast<float>(range.max))) return range.max;
  return static_cast<int32_t>(shifted);
}

// ONNX DequantizeLinear for one value, in float32: (q - zero_point) * scale.
inline float dequantize_value(int32_t q, float scale, int32_t zero_point) {
  return static_cast<float>(static_cast<int64_t>(q) - zero_point) * scale;
}

// Quantizes a float tensor with `params` (per-tensor or per-axis) into T (uint8 or int8).
template <class T>
Tensor<T> quantize(const TensorF32& input, const QuantParams& params);

// Dequantizes a uint8 / int8 / int32 tensor with its own params into float32.
template <class T>
TensorF32 dequantize(const Tensor<T>& input);

// For per-axis params: the index along the quantized axis of each flat element position uses this stride
// and length (inner = product of the dimensions after the axis).
struct AxisWalk {
  int64_t inner = 1;
  int64_t length = 1;
  int64_t index_of(int64_t flat) const { return (flat / inner) % length; }
};
AxisWalk axis_walk(const Shape& shape, const QuantParams& params);

}  // namespace octet
