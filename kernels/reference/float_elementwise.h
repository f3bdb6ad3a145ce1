#pragma once

// Float elementwise operators, the scalar reference. Every float kernel in octet is bit-exact with its
// reference on every ISA and thread count (docs/kernels.md, "Float kernels"): each output element is the
// same sequence of IEEE float32 operations (fused multiply-adds where a kernel uses them, in scalar code
// through std::fma), and the transcendental functions come from one implementation
// (kernels/reference/float_math.h) instantiated for both scalars and xsimd batches.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernels/tensor.h"

namespace octet {

// The output range of a float operator with a fused Relu / Clip: y = x < lo ? lo : (x > hi ? hi : x)
// (NaN passes through).
struct FloatClamp {
  float lo = -INFINITY;
  float hi = INFINITY;
  float apply(float x) const { return x < lo ? lo : (x > hi ? hi : x); }
  bool is_identity() const { return lo == -INFINITY && hi == INFINITY; }
};

// Unary operators. The meaning of the parameters (UnaryParams) per operator is given beside it; ONNX's
// definitions throughout.
enum class UnaryOp : uint8_t {
  identity,
  relu,
  leaky_relu,  // alpha: slope below 0
  clip,        // alpha: min, beta: max (either may be -inf / +inf)
  sigmoid,
  hard_sigmoid,  // max(0, min(1, alpha * x + beta))
  hard_swish,    // x * max(0, min(1, x / 6 + 0.5))
  silu,          // x * sigmoid(x) (Swish; torch's SiLU, exported as Sigmoid and Mul)
  tanh,
  exp,
  log,
  sqrt,
  neg,
  abs,
  reciprocal,
  floor,
  ceil,
  round,  // half to even
  sign,
  erf,
  gelu,       // 0.5 x (1 + erf(x / sqrt 2))
  gelu_tanh,  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
  // GELU as exporters write it out before opset 20, with its operators' roundings: e = erf(x / alpha)
  // (beta 1; x * alpha for beta 0) + 1, then gamma 0: (x * e) * 0.5, 1: x * (e * 0.5), 2: (x * 0.5) * e.
  gelu_written_out,
  softplus,          // log(1 + exp(x))
  softsign,          // x / (1 + |x|)
  elu,               // alpha
  selu,              // alpha, gamma
  celu,              // alpha
  mish,              // x tanh(softplus(x))
  thresholded_relu,  // alpha: x if x > alpha else 0
  shrink,            // alpha: lambd, beta: bias
  sin,
  cos,
  pow_constant,  // x ^ alpha (Pow with a scalar constant exponent)
};
std::string_view name_of(UnaryOp op);

struct UnaryParams {
  UnaryOp op = UnaryOp::identity;
  float alpha = 0.0f;
  float beta = 0.0f;
  float gamma = 0.0f;
};

// Binary operators with NumPy broadcasting. Comparisons and logical operators produce bool (one byte, 0 or
// 1); logical operators also take bool operands. min / max propagate NaN (ONNX: as numpy.minimum).
enum class BinaryOp : uint8_t {
  add,
  sub,
  mul,
  div,
  pow,
  min,
  max,
  prelu,  // a if a >= 0 else a * b (b: the slope, broadcast)
  mod,    // fmod == 1: C fmod (sign of a); fmod == 0: Python's % (sign of b), as ONNX Mod
  fmod,
  equal,
  less,
  less_equal,
  greater,
  greater_equal,
  logical_and,
  logical_or,
  logical_xor,
};
std::string_view name_of(BinaryOp op);
bool produces_bool(BinaryOp op);  // comparisons and logical operators
bool takes_bool(BinaryOp op);     // logical operators

}  // namespace octet

namespace octet::ref {

// One element of a unary / binary operator: the definition every kernel reproduces.
float unary_value(const UnaryParams& p, float x);
float binary_value(BinaryOp op, float a, float b);

void float_unary(const UnaryParams& p, const float* x, float* y, int64_t n);

// out = a op b; a has shape sa, b has shape sb, out has broadcast_shape(sa, sb). Float operands and
// output, except that comparisons write bool and logical operators read and write bool (uint8 0 / 1).
void float_binary(BinaryOp op, const void* a, const Shape& sa, const void* b, const Shape& sb, void* out);

// out = cond ? x : y with broadcasting of all three; cond is bool, x / y / out have `element_size`-byte
// elements (Where moves values: any type).
void where(const uint8_t* cond, const Shape& sc, const void* x, const Shape& sx, const void* y,
           const Shape& sy, size_t element_size, void* out);

}  // namespace octet::ref
