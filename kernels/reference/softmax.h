#pragma once

#include <array>
#include <cstdint>

#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::ref {

// Softmax over the last axis of a uint8 tensor.
// exp(s * (q - max_q)) depends only on the integer difference d = max_q - q in [0, 255], so it is a 256-entry
// table of fixed-point values (kSoftmaxExpBits fractional bits); the row sum is exact int64 arithmetic and
// each output is one double division, so every kernel can reproduce the reference bit for bit.
constexpr int kSoftmaxExpBits = 24;

// The tables of the two modes, built once per input scale (ONNX Runtime's also per row length) and shared by
// the reference and the fast kernel (kernels/reduce/u8_softmax.h):
//   softmax_exp_table          t[d] = llround(exp(-s_in * d) * 2^kSoftmaxExpBits), d = max_q - q;
//   onnxruntime_softmax_table  t[i] = float(exp((i - 255 + shift) * s_in)), looked up at 255 - max_q + q.
std::array<int64_t, 256> softmax_exp_table(float input_scale);
std::array<float, 256> onnxruntime_softmax_table(float input_scale, int64_t width);
// In ONNX Runtime's arithmetic, a quotient t * floor(1 / s_out) / sum that is not below this (infinity, for
// rows of one element) gives the output zero point, or saturates (SoftmaxOverflow below).
constexpr float kOnnxRuntimeSoftmaxLimit = 0x1p31f;

TensorF32 softmax_float(const TensorU8& input);

// As softmax_float, then quantized to `output` (typically scale 1/256, zero point 0).
// In float_scale mode, ONNX Runtime's QLinearSoftmax instead, step for step: a float32 table
// exp((i - 255 + shift) * s_in) with shift = max(0, log(FLT_MAX / D) - 5) / s_in (D the row length;
// FLT_MAX / D and its logarithm in float32, the rest in double), the row sum accumulated in float32 in order,
// out = min(255, round_half_even(t * floor(1 / s_out) / sum) + z_out).
// Its floor(1 / s_out) makes the largest probability 254 rather than 255 with s_out = 1/255: that is
// ONNX Runtime's result, and this mode's promise is ONNX Runtime's bytes.
// A quotient at or past kOnnxRuntimeSoftmaxLimit (float_scale only): ONNX Runtime's uint8 kernel (and the
// QDQ form, uint8 or int8) gives the output zero point; its int8 QLinearSoftmax kernel saturates instead: to 127 where the
// int8 zero point is negative, to -128 otherwise (measured, ONNX Runtime 1.30 on x86-64: the float's
// conversion to int32 gives INT32_MIN, the zero point is added in wrapping int32, and the result is capped
// at 255 and clamped to int8).
enum class SoftmaxOverflow { zero_point, int8_saturation };
// The byte (octet's uint8 form: int8 + 128) an overflowing quotient gives with output zero point `zp`.
constexpr uint8_t softmax_overflow_byte(SoftmaxOverflow overflow, int32_t zp) {
  if (overflow == SoftmaxOverflow::zero_point) return static_cast<uint8_t>(zp);
  return zp - 128 < 0 ? 255 : 0;
}
TensorU8 softmax_u8(const TensorU8& input, const QuantParams& output,
                    RequantMode mode = RequantMode::fixed_point,
                    SoftmaxOverflow overflow = SoftmaxOverflow::zero_point);

}  // namespace octet::ref
