#include "kernels/reference/float_elementwise.h"

#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/float_elementwise_ops.h"

namespace octet {

std::string_view name_of(UnaryOp op) {
  switch (op) {
    case UnaryOp::identity:
      return "identity";
    case UnaryOp::relu:
      return "relu";
    case UnaryOp::leaky_relu:
      return "leaky_relu";
    case UnaryOp::clip:
      return "clip";
    case UnaryOp::sigmoid:
      return "sigmoid";
    case UnaryOp::hard_sigmoid:
      return "hard_sigmoid";
    case UnaryOp::hard_swish:
      return "hard_swish";
    case UnaryOp::silu:
      return "silu";
    case UnaryOp::tanh:
      return "tanh";
    case UnaryOp::exp:
      return "exp";
    case UnaryOp::log:
      return "log";
    case UnaryOp::sqrt:
      return "sqrt";
    case UnaryOp::neg:
      return "neg";
    case UnaryOp::abs:
      return "abs";
    case UnaryOp::reciprocal:
      return "reciprocal";
    case UnaryOp::floor:
      return "floor";
    case UnaryOp::ceil:
      return "ceil";
    case UnaryOp::round:
      return "round";
    case UnaryOp::sign:
      return "sign";
    case UnaryOp::erf:
      return "erf";
    case UnaryOp::gelu:
      return "gelu";
    case UnaryOp::gelu_tanh:
      return "gelu_tanh";
    case UnaryOp::gelu_written_out:
      return "gelu_written_out";
    case UnaryOp::softplus:
      return "softplus";
    case UnaryOp::softsign:
      return "softsign";
    case UnaryOp::elu:
      return "elu";
    case UnaryOp::selu:
      return "selu";
    case UnaryOp::celu:
      return "celu";
    case UnaryOp::mish:
      return "mish";
    case UnaryOp::thresholded_relu:
      return "thresholded_relu";
    case UnaryOp::shrink:
      return "shrink";
    case UnaryOp::sin:
      return "sin";
    case UnaryOp::cos:
      return "cos";
    case UnaryOp::pow_constant:
      return "pow_constant";
  }
  return "unknown";
}

std::string_view name_of(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
      return "add";
    case BinaryOp::sub:
      return "sub";
    case BinaryOp::mul:
      return "mul";
    case BinaryOp::div:
      return "div";
    case BinaryOp::pow:
      return "pow";
    case BinaryOp::min:
      return "min";
    case BinaryOp::max:
      return "max";
    case BinaryOp::prelu:
      return "prelu";
    case BinaryOp::mod:
      return "mod";
    case BinaryOp::fmod:
      return "fmod";
    case BinaryOp::equal:
      return "equal";
    case BinaryOp::less:
      return "less";
    case BinaryOp::less_equal:
      return "less_equal";
    case BinaryOp::greater:
      return "greater";
    case BinaryOp::greater_equal:
      return "greater_equal";
    case BinaryOp::logical_and:
      return "logical_and";
    case BinaryOp::logical_or:
      return "logical_or";
    case BinaryOp::logical_xor:
      return "logical_xor";
  }
  return "unknown";
}

bool produces_bool(BinaryOp op) {
  return float_ops::is_comparison(op) || takes_bool(op);
}

bool takes_bool(BinaryOp op) {
  return op == BinaryOp::logical_and || op == BinaryOp::logical_or || op == BinaryOp::logical_xor;
}

namespace float_ops {

void throw_unsupported(std::string_view dispatcher, int op) {
  throw Error(std::string(dispatcher) + ": unknown or unsupported operator " + std::to_string(op));
}

}  // namespace float_ops

}  // namespace octet

namespace octet::ref {

namespace {

// Python's a % b on floats (ONNX Mod with fmod = 0): the C remainder moved to the sign of b; a zero result
// takes b's sign too (as NumPy's remainder).
float python_mod(float a, float b) {
  const float r = std::fmod(a, b);
  if (r == 0.0f) return std::copysign(0.0f, b);
  return (r < 0.0f) != (b < 0.0f) ? r + b : r;
}

}  // namespace

float unary_value(const UnaryParams& p, float x) {
  return float_ops::with_unary_op(p, [x](const auto& op) { return op(x); });
}

float binary_value(BinaryOp op, float a, float b) {
  if (float_ops::is_arithmetic(op))
    return float_ops::with_arithmetic_op(op, [a, b](const auto& f) { return f(a, b); });
  if (float_ops::is_comparison(op))
    return float_ops::with_comparison(op, [a, b](const auto& f) { return f(a, b) ? 1.0f : 0.0f; });
  switch (op) {
    case BinaryOp::mod:
      return python_mod(a, b);
    case BinaryOp::fmod:
      return std::fmod(a, b);
    case BinaryOp::logical_and:
      return (a != 0.0f) && (b != 0.0f) ? 1.0f : 0.0f;
    case BinaryOp::logical_or:
      return (a != 0.0f) || (b != 0.0f) ? 1.0f : 0.0f;
    case BinaryOp::logical_xor:
      return (a != 0.0f) != (b != 0.0f) ? 1.0f : 0.0f;
    default:
      float_ops::throw_unsupported("float binary operator", static_cast<int>(op));
  }
}

void float_unary(const UnaryParams& p, const float* x, float* y, int64_t n) {
  if (n < 0) throw Error("float " + std::string(name_of(p.op)) + ": negative element count");
  float_ops::with_unary_op(p, [&](const auto& op) {
    for (int64_t i = 0; i < n; ++i)
      y[i] = op(x[i]);
  });
}

void float_binary(BinaryOp op, const void* a, const Shape& sa, const void* b, const Shape& sb, void* out) {
  const std::string name = "float " + std::string(name_of(op));
  const BroadcastRuns<2> runs(name, broadcast_shape(name, sa, sb), {sa, sb});
  const int64_t inner = runs.inner(), step_a = runs.step(0), step_b = runs.step(1);
  // Each element through binary_value, its operands read as floats or (logical operators) bools.
  const bool bool_in = takes_bool(op), bool_out = produces_bool(op);
  const auto* fa = static_cast<const float*>(a);
  const auto* fb = static_cast<const float*>(b);
  const auto* ba = static_cast<const uint8_t*>(a);
  const auto* bb = static_cast<const uint8_t*>(b);
  runs.for_runs(0, runs.outer(), [&](int64_t o, const std::array<int64_t, 2>& in) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t ia = in[0] + i * step_a, ib = in[1] + i * step_b;
      const float va = bool_in ? static_cast<float>(ba[ia] != 0) : fa[ia];
      const float vb = bool_in ? static_cast<float>(bb[ib] != 0) : fb[ib];
      const float v = binary_value(op, va, vb);
      if (bool_out)
        static_cast<uint8_t*>(out)[o + i] = v != 0.0f ? 1 : 0;
      else
        static_cast<float*>(out)[o + i] = v;
    }
  });
}

void where(const uint8_t* cond, const Shape& sc, const void* x, const Shape& sx, const void* y,
           const Shape& sy, size_t element_size, void* out) {
  if (element_size == 0) throw Error("where: element size 0");
  const Shape so = broadcast_shape("where", broadcast_shape("where", sc, sx), sy);
  const BroadcastRuns<3> runs("where", so, {sc, sx, sy});
  const int64_t inner = runs.inner();
  const auto* bx = static_cast<const std::byte*>(x);
  const auto* by = static_cast<const std::byte*>(y);
  auto* bo = static_cast<std::byte*>(out);
  runs.for_runs(0, runs.outer(), [&](int64_t o, const std::array<int64_t, 3>& in) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t ic = in[0] + i * runs.step(0), ix = in[1] + i * runs.step(1),
                    iy = in[2] + i * runs.step(2);
      const std::byte* from = cond[ic] != 0 ? bx + ix * element_size : by + iy * element_size;
      std::memcpy(bo + (o + i) * element_size, from, element_size);
    }
  });
}

}  // namespace octet::ref
