#pragma once

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::ref {

// NumPy / ONNX multidirectional broadcasting of two shapes; throws naming `op` if they are incompatible.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

// Quantized a + b with broadcasting; a, b and the output each have their own per-tensor params.
// fixed_point: each input is first rescaled to a common intermediate scale (2 * max(s_a, s_b), with 20 extra
// fractional bits so that this step loses nothing visible), the two are added in int32, and the sum is
// requantized to the output: within 1 LSB of the exact result.
// float_scale: ONNX Runtime's QLinearAdd (FloatAddConstants below).
TensorU8 add(const TensorU8& a, const TensorU8& b, const QuantParams& output, Clamp clamp = {},
             RequantMode mode = RequantMode::fixed_point);

// The fixed-point constants of add, shared with the vector kernels so that they compute the same thing:
//   out = clamp(z_out + m_out(m_a((a - z_a) << kAddLeftShift) + m_b((b - z_b) << kAddLeftShift)))
// where m(x) is multiply_by_fixed.
constexpr int kAddLeftShift = 20;
struct AddConstants {
  FixedMultiplier a, b, out;
  int32_t za = 0, zb = 0, zo = 0;
};
AddConstants add_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output);

// Quantized a * b with broadcasting: out = z_out + requantize((a - z_a) * (b - z_b), m) with the multiplier
// m = s_a * s_b / s_out; in float_scale mode ONNX Runtime's QLinearMul (FloatMulConstants below).
TensorU8 mul(const TensorU8& a, const TensorU8& b, const QuantParams& output, Clamp clamp = {},
             RequantMode mode = RequantMode::fixed_point);

// The constants of mul, shared with the vector kernels.
struct MulConstants {
  FixedMultiplier m;
  int32_t za = 0, zb = 0, zo = 0;
};
MulConstants mul_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output);

// The float requantization mode of add, as ONNX Runtime's x86 QLinearAdd computes it (found by running it
// on every pair of bytes for many scales: 0 differences in 2.6 million outputs), in float32 with fused
// multiply-adds:
//   ratio_a = s_a / s_out, ratio_b = s_b / s_out, offset = z_out - fma(ratio_a, z_a, ratio_b * z_b)
//   out = clamp(round_half_even(fma(a, ratio_a, fma(b, ratio_b, offset))), 0, 255)
// and, when `a` is the operand that repeats along the innermost run (ONNX Runtime then swaps the operands and
// folds the repeated one into the offset first), everything swapped, the zero-point term included:
//   offset = z_out - fma(ratio_b, z_b, ratio_a * z_a)
//   out = clamp(round_half_even(fma(b, ratio_b, fma(a, ratio_a, offset))), 0, 255)
// (tests/kernels/ort_float_requant_test.cpp holds vectors that tell these apart). out is then clamped to the
// node's clamp.
struct FloatAddConstants {
  float ratio_a = 0.0f, ratio_b = 0.0f, offset = 0.0f;
  bool a_first = false;
};
FloatAddConstants float_add_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output,
                                      bool a_first);
int32_t float_add_value(const FloatAddConstants& k, int32_t a, int32_t b);
// Whether ONNX Runtime folds `a` first: it repeats (broadcasts) and `b` does not.
bool float_add_a_first(const Shape& a, const Shape& b);

// The float requantization mode of mul (ONNX Runtime's QLinearMul):
//   ratio = (s_a * s_b) / s_out in float32, out = clamp(round_half_even(float((a - z_a) * (b - z_b)) * ratio
//   + float(z_out)), 0, 255), the zero point added in float32 before rounding.
struct FloatMulConstants {
  float ratio = 0.0f;
  int32_t za = 0, zb = 0, zo = 0;
};
FloatMulConstants float_mul_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output);
int32_t float_mul_value(const FloatMulConstants& k, int32_t a, int32_t b);

}  // namespace octet::ref
