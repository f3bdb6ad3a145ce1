#pragma once

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/tensor.h"

namespace octet::ref {

// NumPy / ONNX multidirectional broadcasting of two shapes; throws naming `op` if they are incompatible.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

// Quantized a + b with broadcasting; a, b and the output each have their own per-tensor params.
// Each input is first rescaled to a common intermediate scale (2 * max(s_a, s_b), with 20 extra fractional
// bits so that this step loses nothing visible), the two are added in int32, and the sum is requantized to
// the output: within 1 LSB of the exact result.
TensorU8 add(const TensorU8& a, const TensorU8& b, const QuantParams& output, Clamp clamp = {});

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
// m = s_a * s_b / s_out.
TensorU8 mul(const TensorU8& a, const TensorU8& b, const QuantParams& output, Clamp clamp = {});

// The constants of mul, shared with the vector kernels.
struct MulConstants {
  FixedMultiplier m;
  int32_t za = 0, zb = 0, zo = 0;
};
MulConstants mul_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output);

}  // namespace octet::ref
