#pragma once

// One element of each float elementwise operator, as a functor templated on T = float,
// xsimd::batch<float, A> or simd::Group of them (kernels/simd/float_group.h). The reference
// (kernels/reference/float_elementwise.cpp) instantiates these with float and the vector kernels
// (kernels/elementwise/float_elementwise_simd.h) with batches: one definition, the same IEEE operations in
// the same order, hence the same bits. Parameters are broadcast into T at each use; the compiler hoists them
// out of the loops.

#include <string_view>

#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/float_math.h"
#include "kernels/simd/float_primitives.h"

namespace octet::float_ops {

using simd::Mask;

// Calls are qualified throughout (simd::select): argument-dependent lookup would also find xsimd's
// functions of the same names for batches.

// Throws octet::Error for an operator the dispatcher was given but does not cover. Out of line (in
// float_elementwise.cpp), so that the per-ISA translation units that instantiate the dispatchers compile
// no exception code of their own.
[[noreturn]] void throw_unsupported(std::string_view dispatcher, int op);

// max(0, min(1, v)) with NaN passing through, as max / min do in ONNX.
template <class T>
T clamp_unit(T v) {
  v = simd::select(v > T(1.0f), T(1.0f), v);
  return simd::select(v < T(0.0f), T(0.0f), v);
}

struct Identity {
  template <class T>
  T operator()(T x) const {
    return x;
  }
};
struct Relu {  // x < 0 ? 0 : x, as FloatClamp{0, inf}: NaN passes, -0 stays
  template <class T>
  T operator()(T x) const {
    return simd::select(x < T(0.0f), T(0.0f), x);
  }
};
struct LeakyRelu {
  float alpha;
  template <class T>
  T operator()(T x) const {
    return simd::select(x < T(0.0f), x * T(alpha), x);
  }
};
// min(max(x, lo), hi): with lo > hi everything becomes hi, as ONNX Clip says.
struct Clip {
  float lo, hi;
  template <class T>
  T operator()(T x) const {
    x = simd::select(x < T(lo), T(lo), x);
    return simd::select(x > T(hi), T(hi), x);
  }
};
struct Sigmoid {
  template <class T>
  T operator()(T x) const {
    return fmath::sigmoid(x);
  }
};
// max(0, min(1, alpha x + beta)), alpha x + beta fused.
struct HardSigmoid {
  float alpha, beta;
  template <class T>
  T operator()(T x) const {
    return float_ops::clamp_unit(simd::fma(x, T(alpha), T(beta)));
  }
};
// x hard_sigmoid(x) with ONNX's alpha = 1/6, beta = 1/2.
struct HardSwish {
  template <class T>
  T operator()(T x) const {
    return x * HardSigmoid{1.0f / 6.0f, 0.5f}(x);
  }
};
// x sigmoid(x): the two roundings of Mul(x, Sigmoid(x)), so the fused operator gives that pair's bits.
struct Silu {
  template <class T>
  T operator()(T x) const {
    return x * fmath::sigmoid(x);
  }
};
struct Tanh {
  template <class T>
  T operator()(T x) const {
    return fmath::tanh(x);
  }
};
struct Exp {
  template <class T>
  T operator()(T x) const {
    return fmath::exp(x);
  }
};
struct Log {
  template <class T>
  T operator()(T x) const {
    return fmath::log(x);
  }
};
struct Sqrt {
  template <class T>
  T operator()(T x) const {
    return simd::sqrt(x);
  }
};
struct Neg {
  template <class T>
  T operator()(T x) const {
    return simd::neg(x);
  }
};
struct Abs {
  template <class T>
  T operator()(T x) const {
    return simd::abs(x);
  }
};
struct Reciprocal {
  template <class T>
  T operator()(T x) const {
    return simd::div(T(1.0f), x);
  }
};
struct Floor {
  template <class T>
  T operator()(T x) const {
    return fmath::floor(x);
  }
};
struct Ceil {
  template <class T>
  T operator()(T x) const {
    return fmath::ceil(x);
  }
};
struct Round {
  template <class T>
  T operator()(T x) const {
    return fmath::round_half_even(x);
  }
};
// 1, -1, 0 for +-0 (NumPy's sign), NaN for NaN.
struct Sign {
  template <class T>
  T operator()(T x) const {
    return simd::select(x > T(0.0f), T(1.0f),
                        simd::select(x < T(0.0f), T(-1.0f), simd::select(x == T(0.0f), T(0.0f), x)));
  }
};
struct Erf {
  template <class T>
  T operator()(T x) const {
    return fmath::erf(x);
  }
};
// 0.5 x (1 + erf(x / sqrt 2)), x / sqrt 2 as x * float(1 / sqrt 2).
struct Gelu {
  template <class T>
  T operator()(T x) const {
    return (T(0.5f) * x) * (T(1.0f) + fmath::erf(x * T(0x1.6a09e6p-1f)));
  }
};
// UnaryOp::gelu_written_out: the operators of GELU written out, each rounding as Div / Mul / Erf / Add do.
struct GeluWrittenOut {
  float scale;
  bool divides;
  int order;
  template <class T>
  T operator()(T x) const {
    const T e = fmath::erf(divides ? simd::div(x, T(scale)) : x * T(scale)) + T(1.0f);
    if (order == 0) return (x * e) * T(0.5f);
    if (order == 1) return x * (e * T(0.5f));
    return (x * T(0.5f)) * e;
  }
};
// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), the inner sum fused.
struct GeluTanh {
  template <class T>
  T operator()(T x) const {
    const T inner = simd::fma(T(0.044715f), (x * x) * x, x) * T(0x1.988454p-1f);
    return (T(0.5f) * x) * (T(1.0f) + fmath::tanh(inner));
  }
};
// ln(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, accurate for large negative x.
struct Softplus {
  template <class T>
  T operator()(T x) const {
    return simd::select(x > T(0.0f), x, T(0.0f)) + fmath::log1p(fmath::exp(simd::neg(simd::abs(x))));
  }
};
struct Softsign {
  template <class T>
  T operator()(T x) const {
    return simd::div(x, T(1.0f) + simd::abs(x));
  }
};
// alpha (e^x - 1) below 0, as alpha expm1(x).
struct Elu {
  float alpha;
  template <class T>
  T operator()(T x) const {
    return simd::select(x < T(0.0f), T(alpha) * fmath::expm1(x), x);
  }
};
// gamma (alpha e^x - alpha) for x <= 0, gamma x above.
struct Selu {
  float alpha, gamma;
  template <class T>
  T operator()(T x) const {
    return simd::select(x <= T(0.0f), T(gamma) * (T(alpha) * fmath::expm1(x)), T(gamma) * x);
  }
};
// max(0, x) + min(0, alpha (e^(x / alpha) - 1)), both NaN-propagating.
struct Celu {
  float alpha;
  template <class T>
  T operator()(T x) const {
    const T positive = simd::select(x < T(0.0f), T(0.0f), x);
    const T negative = T(alpha) * fmath::expm1(simd::div(x, T(alpha)));
    return positive + simd::select(negative > T(0.0f), T(0.0f), negative);
  }
};
struct Mish {
  template <class T>
  T operator()(T x) const {
    return x * fmath::tanh(Softplus{}(x));
  }
};
struct ThresholdedRelu {
  float alpha;
  template <class T>
  T operator()(T x) const {
    return simd::select(x > T(alpha), x, T(0.0f));
  }
};
struct Shrink {
  float lambd, bias;
  template <class T>
  T operator()(T x) const {
    return simd::select(x < T(-lambd), x + T(bias), simd::select(x > T(lambd), x - T(bias), T(0.0f)));
  }
};
struct Sin {
  template <class T>
  T operator()(T x) const {
    return fmath::sin(x);
  }
};
struct Cos {
  template <class T>
  T operator()(T x) const {
    return fmath::cos(x);
  }
};
// x^alpha. The common exponents have exact forms that agree with pow's special cases: x * x, 1 / x, and
// sqrt for 1/2 (made +0 for -0 and +inf for -inf, as pow has them); the others go through fmath::pow.
struct PowGeneral {
  float alpha;
  template <class T>
  T operator()(T x) const {
    return fmath::pow(x, T(alpha));
  }
};
struct PowSquare {
  template <class T>
  T operator()(T x) const {
    return x * x;
  }
};
struct PowSqrt {
  template <class T>
  T operator()(T x) const {
    const T root = simd::sqrt(x) + T(0.0f);
    return simd::select(x == T(-INFINITY), T(INFINITY), root);
  }
};

// Calls f(op) with the functor of p.op; returns what f returns.
template <class F>
decltype(auto) with_unary_op(const UnaryParams& p, F&& f) {
  switch (p.op) {
    case UnaryOp::identity:
      return f(Identity{});
    case UnaryOp::relu:
      return f(Relu{});
    case UnaryOp::leaky_relu:
      return f(LeakyRelu{p.alpha});
    case UnaryOp::clip:
      return f(Clip{p.alpha, p.beta});
    case UnaryOp::sigmoid:
      return f(Sigmoid{});
    case UnaryOp::hard_sigmoid:
      return f(HardSigmoid{p.alpha, p.beta});
    case UnaryOp::hard_swish:
      return f(HardSwish{});
    case UnaryOp::silu:
      return f(Silu{});
    case UnaryOp::tanh:
      return f(Tanh{});
    case UnaryOp::exp:
      return f(Exp{});
    case UnaryOp::log:
      return f(Log{});
    case UnaryOp::sqrt:
      return f(Sqrt{});
    case UnaryOp::neg:
      return f(Neg{});
    case UnaryOp::abs:
      return f(Abs{});
    case UnaryOp::reciprocal:
      return f(Reciprocal{});
    case UnaryOp::floor:
      return f(Floor{});
    case UnaryOp::ceil:
      return f(Ceil{});
    case UnaryOp::round:
      return f(Round{});
    case UnaryOp::sign:
      return f(Sign{});
    case UnaryOp::erf:
      return f(Erf{});
    case UnaryOp::gelu:
      return f(Gelu{});
    case UnaryOp::gelu_tanh:
      return f(GeluTanh{});
    case UnaryOp::gelu_written_out:
      return f(GeluWrittenOut{p.alpha, p.beta != 0.0f, static_cast<int>(p.gamma)});
    case UnaryOp::softplus:
      return f(Softplus{});
    case UnaryOp::softsign:
      return f(Softsign{});
    case UnaryOp::elu:
      return f(Elu{p.alpha});
    case UnaryOp::selu:
      return f(Selu{p.alpha, p.gamma});
    case UnaryOp::celu:
      return f(Celu{p.alpha});
    case UnaryOp::mish:
      return f(Mish{});
    case UnaryOp::thresholded_relu:
      return f(ThresholdedRelu{p.alpha});
    case UnaryOp::shrink:
      return f(Shrink{p.alpha, p.beta});
    case UnaryOp::sin:
      return f(Sin{});
    case UnaryOp::cos:
      return f(Cos{});
    case UnaryOp::pow_constant:
      if (p.alpha == 1.0f) return f(Identity{});
      if (p.alpha == 2.0f) return f(PowSquare{});
      if (p.alpha == 0.5f) return f(PowSqrt{});
      if (p.alpha == -1.0f) return f(Reciprocal{});
      return f(PowGeneral{p.alpha});
  }
  throw_unsupported("float unary operator", static_cast<int>(p.op));
}

// Arithmetic binary operators (float operands and result).
struct Add {
  template <class T>
  T operator()(T a, T b) const {
    return a + b;
  }
};
struct Sub {
  template <class T>
  T operator()(T a, T b) const {
    return a - b;
  }
};
struct Mul {
  template <class T>
  T operator()(T a, T b) const {
    return a * b;
  }
};
struct Div {
  template <class T>
  T operator()(T a, T b) const {
    return simd::div(a, b);
  }
};
struct Pow {
  template <class T>
  T operator()(T a, T b) const {
    return fmath::pow(a, b);
  }
};
// numpy.minimum / maximum: NaN if either is NaN, else the smaller / larger (a when equal, where the
// reductions' simd::max_propagating_nan keeps b).
struct Min {
  template <class T>
  T operator()(T a, T b) const {
    return simd::select((a <= b) || simd::is_nan(a), a, b);
  }
};
struct Max {
  template <class T>
  T operator()(T a, T b) const {
    return simd::select((a >= b) || simd::is_nan(a), a, b);
  }
};
struct Prelu {
  template <class T>
  T operator()(T a, T b) const {
    return simd::select(a >= T(0.0f), a, a * b);
  }
};

// Comparisons: a mask (bool for float, batch_bool for batches). IEEE: false whenever a NaN is involved.
struct Equal {
  template <class T>
  Mask<T> operator()(T a, T b) const {
    return a == b;
  }
};
struct Less {
  template <class T>
  Mask<T> operator()(T a, T b) const {
    return a < b;
  }
};
struct LessEqual {
  template <class T>
  Mask<T> operator()(T a, T b) const {
    return a <= b;
  }
};
struct Greater {
  template <class T>
  Mask<T> operator()(T a, T b) const {
    return a > b;
  }
};
struct GreaterEqual {
  template <class T>
  Mask<T> operator()(T a, T b) const {
    return a >= b;
  }
};

// Whether op is one of the arithmetic functors above / a comparison.
inline bool is_arithmetic(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
    case BinaryOp::sub:
    case BinaryOp::mul:
    case BinaryOp::div:
    case BinaryOp::pow:
    case BinaryOp::min:
    case BinaryOp::max:
    case BinaryOp::prelu:
      return true;
    default:
      return false;
  }
}
inline bool is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::equal:
    case BinaryOp::less:
    case BinaryOp::less_equal:
    case BinaryOp::greater:
    case BinaryOp::greater_equal:
      return true;
    default:
      return false;
  }
}

// Calls f(functor) for an arithmetic operator (is_arithmetic(op)).
template <class F>
decltype(auto) with_arithmetic_op(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::add:
      return f(Add{});
    case BinaryOp::sub:
      return f(Sub{});
    case BinaryOp::mul:
      return f(Mul{});
    case BinaryOp::div:
      return f(Div{});
    case BinaryOp::pow:
      return f(Pow{});
    case BinaryOp::min:
      return f(Min{});
    case BinaryOp::max:
      return f(Max{});
    case BinaryOp::prelu:
      return f(Prelu{});
    default:
      throw_unsupported("float arithmetic operator", static_cast<int>(op));
  }
}

// Calls f(functor) for a comparison (is_comparison(op)).
template <class F>
decltype(auto) with_comparison(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::equal:
      return f(Equal{});
    case BinaryOp::less:
      return f(Less{});
    case BinaryOp::less_equal:
      return f(LessEqual{});
    case BinaryOp::greater:
      return f(Greater{});
    case BinaryOp::greater_equal:
      return f(GreaterEqual{});
    default:
      throw_unsupported("float comparison", static_cast<int>(op));
  }
}

}  // namespace octet::float_ops
