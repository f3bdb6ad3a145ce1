#pragma once

// ONNX DynamicQuantizeLinear (uint8), the quantization ONNX Runtime's quantize_dynamic puts before each
// ConvInteger / MatMulInteger: its params come from the tensor itself at run time.

#include <cstdint>

namespace octet {

struct DynamicQuantization {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// ONNX Runtime's arithmetic: the range [min(0, min x), max(0, max x)] (NaN left out), scale =
// (max - min) / 255 in float32, or 1 when the range is empty (x all zeros); zero point =
// round_half_to_even(clamp(0 - min / scale, 0, 255)). The quantized values are then quantize_value(x, scale,
// zero point) (kernels/quantization/quantize.h).
DynamicQuantization dynamic_quantization(const float* x, int64_t count);

// quantize_value(x[i], q.scale, q.zero_point) - q.zero_point as floats, for i in [0, count): the operand
// ConvInteger and MatMulInteger multiply once they subtract the zero point.
void dynamic_quantize_centered(const float* x, int64_t count, const DynamicQuantization& q, float* centered);

}  // namespace octet
