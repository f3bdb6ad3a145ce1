// Float elementwise operators: the shared float math (kernels/reference/float_math.h) against the C
// library's double functions in ulps; every reference operator against float64 math written out here; and
// every fast kernel against the reference, bit for bit, on each ISA this CPU runs with 1 and 3 threads.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/elementwise/float_elementwise.h"
#include "kernels/error.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/float_math.h"
#include "test_util.h"

namespace octet {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kMax = std::numeric_limits<float>::max();
constexpr float kMinNormal = std::numeric_limits<float>::min();
constexpr float kMinSubnormal = std::numeric_limits<float>::denorm_min();

// The spacing of floats at |v| (v exact, in double): 2^(e-23) for |v| in [2^e, 2^(e+1)), 2^-149 among the
// subnormals, and the spacing at FLT_MAX beyond it.
double float_ulp(double v) {
  const double a = std::min(std::fabs(v), static_cast<double>(kMax));
  if (a < 0x1p-126) return 0x1p-149;
  int e = 0;
  std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1)
  return std::ldexp(1.0, e - 24);
}

// How far `got` is from the exact value, in ulps of the exact value: 0 for matching NaN / infinity classes
// (an exact value that rounds to infinity included), infinite for a wrong class. Otherwise an infinite
// result counts as 2^128, the next float after FLT_MAX.
double ulp_error(float got, double exact) {
  const double huge = std::numeric_limits<double>::infinity();
  if (std::isnan(exact) || std::isnan(got)) return std::isnan(exact) && std::isnan(got) ? 0.0 : huge;
  if (std::isinf(exact)) return static_cast<double>(got) == exact ? 0.0 : huge;
  // Beyond FLT_MAX + half an ulp the correctly rounded result is infinite.
  if (std::fabs(exact) >= 0x1.ffffffp127)
    return std::isinf(got) && std::signbit(got) == std::signbit(exact) ? 0.0 : huge;
  const double g = std::isinf(got) ? std::copysign(0x1p128, static_cast<double>(got)) : got;
  return std::fabs(g - exact) / float_ulp(exact);
}

bool same_bits(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

float from_bits(uint32_t bits) {
  return std::bit_cast<float>(bits);
}

// Floats around each of `points`: the point and its `radius` neighbours on either side.
std::vector<float> around(std::initializer_list<float> points, int radius = 40) {
  std::vector<float> out;
  for (float p : points) {
    float down = p, up = p;
    out.push_back(p);
    for (int i = 0; i < radius; ++i) {
      down = std::nextafter(down, -kInf);
      up = std::nextafter(up, kInf);
      out.push_back(down);
      out.push_back(up);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The shared float math against the C library's double functions.

struct MathCase {
  const char* name;
  std::function<float(float)> f;
  std::function<double(double)> exact;
  double max_ulps;
  double max_abs;  // an absolute error this small also passes (erf's 1e-7); 0 for none
  std::vector<float> boundaries;
};

std::vector<MathCase> math_cases() {
  const float pi = std::numbers::pi_v<float>;
  return {
      {"exp", [](float x) { return fmath::exp(x); }, [](double x) { return std::exp(x); }, 1.0, 0.0,
       // The last lines: where the table-driven exp leaves its fast path (n = 1023.5, -1008.5 eighths of ln
       // 2) and where the table index steps next to 0 and at a power of 2.
       around({0.0f, 88.7228394f, 89.0f, -87.3365479f, -103.972076f, -104.0f, 0.34657359f, -0.34657359f,
               44.0f, -44.0f, 88.6795174f, -87.3798664f, 0.0433217f, -0.0433217f, 0.6498255f, -0.6498255f})},
      {"expm1", [](float x) { return fmath::expm1(x); }, [](double x) { return std::expm1(x); }, 1.5, 0.0,
       around({0.0f, 0x1p-25f, -0x1p-25f, 88.7228394f, -17.4f, -30.0f, 0.34657359f, -0.34657359f, 17.0f})},
      {"log", [](float x) { return fmath::log(x); }, [](double x) { return std::log(x); }, 1.0, 0.0,
       around({1.0f, 0x1.8ace54p-1f, 0x1.8ace54p+0f, 0x1.d5818ep-1f, 0x1.172b84p+0f, 0x1.4bfdaep+0f,
               kMinNormal, kMax, 2.0f, 0.5f})},
      {"log1p", [](float x) { return fmath::log1p(x); }, [](double x) { return std::log1p(x); }, 1.0, 0.0,
       around({0.0f, -1.0f, 1.0f, -0.5f, 0x1p-24f, -0x1p-24f, kMax})},
      {"tanh", [](float x) { return fmath::tanh(x); }, [](double x) { return std::tanh(x); }, 2.0, 0.0,
       around({0.0f, 0.625f, -0.625f, 9.01f, 10.0f, -10.0f, 0x1p-12f})},
      {"sigmoid", [](float x) { return fmath::sigmoid(x); },
       [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, 2.0, 0.0,
       around({0.0f, 16.6f, 17.0f, -87.0f, -88.8f, -103.0f, -104.0f})},
      {"erf", [](float x) { return fmath::erf(x); }, [](double x) { return std::erf(x); }, 2.0, 1e-7,
       around({0.0f, 1.25f, -1.25f, 3.92f, 4.0f, -4.0f, 0x1p-20f})},
      {"sin", [](float x) { return fmath::sin(x); }, [](double x) { return std::sin(x); }, 2.0, 0.0,
       around({0.0f, pi / 4, pi / 2, pi, 3 * pi / 2, 0x1p17f, -0x1p17f, 1e20f, kMax, 0x1.921fb6p+22f})},
      {"cos", [](float x) { return fmath::cos(x); }, [](double x) { return std::cos(x); }, 2.0, 0.0,
       around({0.0f, pi / 4, pi / 2, pi, 3 * pi / 2, 0x1p17f, -0x1p17f, 1e20f, kMax, 0x1.921fb6p+22f})},
  };
}

// Every 2039th bit pattern (2.1 million floats of every exponent, both signs, NaNs included; sparser under a
// sanitizer, test::bit_pattern_step) and the neighbourhoods of each function's range boundaries: the worst
// error stays within the stated bound.
TEST(FloatMath, UlpErrorAgainstDouble) {
  for (const MathCase& c : math_cases()) {
    SCOPED_TRACE(c.name);
    double worst = 0.0;
    float worst_x = 0.0f;
    const auto check = [&](float x) {
      const float y = c.f(x);
      const double exact = c.exact(x);
      double err = ulp_error(y, exact);
      if (c.max_abs > 0.0 && std::isfinite(exact) && std::fabs(y - exact) <= c.max_abs) err = 0.0;
      if (err > worst) worst = err, worst_x = x;
    };
    for (uint64_t b = 0; b <= 0xffffffffu; b += test::bit_pattern_step(2039))
      check(from_bits(static_cast<uint32_t>(b)));
    for (float x : c.boundaries) {
      check(x);
      check(-x);
    }
    EXPECT_LE(worst, c.max_ulps) << "worst at x = " << std::hexfloat << worst_x << " (" << std::defaultfloat
                                 << worst_x << ")";
  }
}

TEST(FloatMath, SpecialValues) {
  // Exact results, signs of zero included.
  struct Special {
    const char* name;
    float got, want;
  };
  const Special cases[] = {
      {"exp(-inf)", fmath::exp(-kInf), 0.0f},
      {"exp(inf)", fmath::exp(kInf), kInf},
      {"exp(-0)", fmath::exp(-0.0f), 1.0f},
      {"exp(1000)", fmath::exp(1000.0f), kInf},
      {"exp(-1000)", fmath::exp(-1000.0f), 0.0f},
      {"exp(nan)", fmath::exp(kNan), kNan},
      {"expm1(-0)", fmath::expm1(-0.0f), -0.0f},
      {"expm1(-inf)", fmath::expm1(-kInf), -1.0f},
      {"expm1(inf)", fmath::expm1(kInf), kInf},
      {"expm1(min)", fmath::expm1(kMinSubnormal), kMinSubnormal},
      {"log(0)", fmath::log(0.0f), -kInf},
      {"log(-0)", fmath::log(-0.0f), -kInf},
      {"log(-1)", fmath::log(-1.0f), kNan},
      {"log(-inf)", fmath::log(-kInf), kNan},
      {"log(inf)", fmath::log(kInf), kInf},
      {"log(1)", fmath::log(1.0f), 0.0f},
      {"log(nan)", fmath::log(kNan), kNan},
      {"log1p(-1)", fmath::log1p(-1.0f), -kInf},
      {"log1p(-2)", fmath::log1p(-2.0f), kNan},
      {"log1p(-0)", fmath::log1p(-0.0f), -0.0f},
      {"log1p(inf)", fmath::log1p(kInf), kInf},
      {"tanh(-0)", fmath::tanh(-0.0f), -0.0f},
      {"tanh(inf)", fmath::tanh(kInf), 1.0f},
      {"tanh(-inf)", fmath::tanh(-kInf), -1.0f},
      {"tanh(nan)", fmath::tanh(kNan), kNan},
      {"sigmoid(inf)", fmath::sigmoid(kInf), 1.0f},
      {"sigmoid(-inf)", fmath::sigmoid(-kInf), 0.0f},
      {"sigmoid(0)", fmath::sigmoid(0.0f), 0.5f},
      {"sigmoid(nan)", fmath::sigmoid(kNan), kNan},
      {"erf(-0)", fmath::erf(-0.0f), -0.0f},
      {"erf(inf)", fmath::erf(kInf), 1.0f},
      {"erf(-inf)", fmath::erf(-kInf), -1.0f},
      {"erf(nan)", fmath::erf(kNan), kNan},
      {"sin(-0)", fmath::sin(-0.0f), -0.0f},
      {"sin(inf)", fmath::sin(kInf), kNan},
      {"cos(-inf)", fmath::cos(-kInf), kNan},
      {"cos(0)", fmath::cos(0.0f), 1.0f},
      {"sin(nan)", fmath::sin(kNan), kNan},
      {"floor(-0.5)", fmath::floor(-0.5f), -1.0f},
      {"floor(-0)", fmath::floor(-0.0f), -0.0f},
      {"ceil(-0.5)", fmath::ceil(-0.5f), -0.0f},
      {"ceil(-0.7)", fmath::ceil(-0.7f), -0.0f},
      {"round(2.5)", fmath::round_half_even(2.5f), 2.0f},
      {"round(-0.5)", fmath::round_half_even(-0.5f), -0.0f},
      {"round(3.5)", fmath::round_half_even(3.5f), 4.0f},
      {"round(-inf)", fmath::round_half_even(-kInf), -kInf},
  };
  for (const Special& s : cases)
    EXPECT_TRUE(same_bits(s.got, s.want) || (std::isnan(s.got) && std::isnan(s.want)))
        << s.name << " = " << s.got << ", want " << s.want;
}

// sigmoid's exp(-|x|) leaves out the steps that cannot matter for a non-positive argument: it must give
// exp's bits for every x, on 4 million floats and the values at its branch points (NaN of both signs,
// zeros, infinities, subnormals, the clamp at -104, the scaling's fast path ending at n = -1008 eighths).
TEST(FloatMath, SigmoidExpOfMinusAbsIsExpsBits) {
  auto check = [](float x) {
    const float want = fmath::exp(simd::neg(simd::abs(x)));
    ASSERT_TRUE(same_bits(fmath::detail::exp_of_minus_abs(x), want))
        << x << " (bits " << std::hex << std::bit_cast<uint32_t>(x) << ")";
  };
  for (uint64_t b = 0; b <= 0xffffffffu; b += test::bit_pattern_step(1021))
    check(from_bits(static_cast<uint32_t>(b)));
  const float specials[] = {kNan,
                            -kNan,
                            from_bits(0x7fc00001u),
                            from_bits(0xffbfffffu),
                            0.0f,
                            -0.0f,
                            kInf,
                            -kInf,
                            kMinSubnormal,
                            -kMinSubnormal,
                            1e-40f,
                            86.5f,
                            -86.7f,
                            87.0f,
                            -87.4f,
                            88.0f,
                            103.9f,
                            -104.0f,
                            104.1f,
                            -200.f,
                            1e30f,
                            -1e30f};
  for (const float x : specials)
    check(x);
}

// floor, ceil and round are exact: equal to the C library's, signs of zero included, on 4 million floats.
TEST(FloatMath, RoundingIsExact) {
  for (uint64_t b = 0; b <= 0xffffffffu; b += test::bit_pattern_step(1021)) {
    const float x = from_bits(static_cast<uint32_t>(b));
    ASSERT_TRUE(same_bits(fmath::floor(x), std::floor(x))) << x;
    ASSERT_TRUE(same_bits(fmath::ceil(x), std::ceil(x))) << x;
    ASSERT_TRUE(same_bits(fmath::round_half_even(x), std::nearbyint(x))) << x;
  }
}

// pow against double pow on 4 million random pairs spread over the finite range of the result (|y ln x| up
// to 90, where the double-float logarithm matters), and every special case against the C library's powf.
TEST(FloatMath, Pow) {
  test::Random rng(11);
  double worst = 0.0;
  float worst_x = 0.0f, worst_y = 0.0f;
  for (int i = 0; i < 4000000; ++i) {
    float x = 0.0f, y = 0.0f;
    switch (i % 4) {
      case 0:  // moderate both
        x = static_cast<float>(std::exp(rng.real(-20.0, 20.0)));
        y = static_cast<float>(rng.real(-5.0, 5.0));
        break;
      case 1:  // x near 1, large y
        x = static_cast<float>(rng.real(0.5, 2.0));
        y = static_cast<float>(rng.real(-200.0, 200.0));
        break;
      case 2:  // the whole exponent range
        x = static_cast<float>(std::exp(rng.real(-103.0, 88.0)));
        y = static_cast<float>(rng.real(-1.5, 1.5));
        break;
      default:  // negative x, integral y
        x = static_cast<float>(-rng.real(0.0, 10.0));
        y = static_cast<float>(rng.integer(-30, 30));
    }
    const double exact = std::pow(static_cast<double>(x), static_cast<double>(y));
    const double err = ulp_error(fmath::pow(x, y), exact);
    if (err > worst) worst = err, worst_x = x, worst_y = y;
  }
  EXPECT_LE(worst, 1.0) << "at x = " << std::hexfloat << worst_x << ", y = " << worst_y;

  const float specials[] = {0.0f,  -0.0f,           1.0f,    -1.0f, 2.0f, -2.0f,  0.5f,    -0.5f,
                            3.0f,  -3.0f,           kInf,    -kInf, kNan, 1e-40f, -1e-40f, 2.5f,
                            1e30f, 0x1.000002p+23f, 0x1p24f, 127.0f};
  // Special results (NaN, infinities, zeros and their signs, 1) exactly as powf has them, the others within
  // the same 1 ulp.
  for (float x : specials)
    for (float y : specials) {
      const float want = std::pow(x, y), got = fmath::pow(x, y);
      if (std::isnan(want) || std::isinf(want) || want == 0.0f || want == 1.0f)
        EXPECT_TRUE(same_bits(got, want)) << "pow(" << x << ", " << y << ") = " << got << ", powf " << want;
      else
        EXPECT_LE(ulp_error(got, std::pow(static_cast<double>(x), static_cast<double>(y))), 1.0)
            << "pow(" << x << ", " << y << ")";
    }
  // Exact powers come out exact.
  for (int b = -20; b <= 20; ++b)
    for (int e = -3; e <= 12; ++e) {
      const double exact = std::pow(static_cast<double>(b), e);
      if (std::fabs(exact) > 0x1p24 || exact != static_cast<float>(exact)) continue;
      EXPECT_EQ(fmath::pow(static_cast<float>(b), static_cast<float>(e)), static_cast<float>(exact))
          << b << "^" << e;
    }
}

// ---------------------------------------------------------------------------------------------------------
// The reference operators against float64 math.

// Values every elementwise test includes: zeros, infinities, NaN, subnormals, the range ends, ties for
// rounding, integers around 2^23, and the boundaries of the math functions' pieces (the last three: where
// exp's fast path ends, n = 1023.5 and -1008.5 eighths of ln 2, and a subnormal result inside it).
std::vector<float> edge_values() {
  return {0.0f,    -0.0f,      kInf,        -kInf, kNan,        kMinSubnormal, -kMinSubnormal, 1e-40f,
          -3e-39f, kMinNormal, -kMinNormal, kMax,  -kMax,       1.0f,          -1.0f,          0.5f,
          -0.5f,   1.5f,       2.5f,        -2.5f, 3.5f,        8388607.5f,    8388608.0f,     8388609.0f,
          1e20f,   -1e20f,     131072.5f,   3e38f, 88.72f,      -87.3f,        -103.9f,        9.0f,
          20.0f,   -20.0f,     0.625f,      1.25f, 3.92f,       4.0f,          -4.0f,          -6.0f,
          -3.0f,   3.0f,       0.7f,        -0.7f, 88.6795174f, -87.3798664f,  -87.3600006f};
}

// n values: the edge values, then half uniform on [lo, hi], half of random sign and magnitude 2^-30..2^30.
std::vector<float> random_values(test::Random& rng, size_t n, double lo, double hi) {
  std::vector<float> v = edge_values();
  while (v.size() < n) {
    if (rng.coin())
      v.push_back(static_cast<float>(rng.real(lo, hi)));
    else
      v.push_back(static_cast<float>((rng.coin() ? 1.0 : -1.0) * std::exp2(rng.real(-30.0, 30.0))));
  }
  v.resize(n);
  return v;
}

struct UnaryCase {
  UnaryParams params;
  std::function<double(double)> exact;  // the operator in float64, from its ONNX definition
  // Tolerance: ulps of the exact value plus abs_scale * |x| * 2^-24, for operators whose float form rounds
  // an intermediate whose error is absolute (an argument sum, 1 + erf, 1 + tanh).
  double ulps;
  double abs_scale = 0.0;
  double lo = -8.0, hi = 8.0;  // where most random inputs fall
  // Plus underflow_scale * |x| * 2^-149, for a product whose other factor may be subnormal (its rounding
  // error is then absolute, half the subnormal spacing).
  double underflow_scale = 0.0;
};

double clamp_unit(double v) {
  return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}
double softplus(double x) {
  return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

std::vector<UnaryCase> unary_cases() {
  const auto u = [](UnaryOp op, float alpha = 0.0f, float beta = 0.0f, float gamma = 0.0f) {
    return UnaryParams{op, alpha, beta, gamma};
  };
  const double a = 0.1f, sa = 1.67326319f, sg = 1.05070102f, ca = 0.8f, ta = 0.7f, lambd = 0.5f, bias = 0.25f;
  std::vector<UnaryCase> cases{
      // Exact operators.
      {u(UnaryOp::identity), [](double x) { return x; }, 0.0},
      {u(UnaryOp::relu), [](double x) { return x < 0.0 ? 0.0 : x; }, 0.0},
      {u(UnaryOp::clip, -1.5f, 2.25f), [](double x) { return x < -1.5 ? -1.5 : (x > 2.25 ? 2.25 : x); }, 0.0},
      {u(UnaryOp::clip, 3.0f, 1.0f), [](double x) { return std::isnan(x) ? x : 1.0; },
       0.0},  // min > max: max
      {u(UnaryOp::clip, -kInf, 0.5f), [](double x) { return x > 0.5 ? 0.5 : x; }, 0.0},
      {u(UnaryOp::neg), [](double x) { return -x; }, 0.0},
      {u(UnaryOp::abs), [](double x) { return std::fabs(x); }, 0.0},
      {u(UnaryOp::floor), [](double x) { return std::floor(x); }, 0.0},
      {u(UnaryOp::ceil), [](double x) { return std::ceil(x); }, 0.0},
      {u(UnaryOp::round), [](double x) { return std::nearbyint(x); }, 0.0},
      {u(UnaryOp::sign), [](double x) { return x > 0.0 ? 1.0
                                                       : (x < 0.0    ? -1.0
                                                          : x == 0.0 ? 0.0
                                                                     : x); }, 0.0},
      {u(UnaryOp::thresholded_relu, 0.7f), [ta](double x) { return x > ta ? x : 0.0; }, 0.0},
      // One rounding (correctly rounded in float).
      {u(UnaryOp::leaky_relu, 0.1f), [a](double x) { return x < 0.0 ? a * x : x; }, 0.5},
      {u(UnaryOp::sqrt), [](double x) { return std::sqrt(x); }, 0.5, 0.0, 0.0, 100.0},
      {u(UnaryOp::reciprocal), [](double x) { return 1.0 / x; }, 0.5},
      {u(UnaryOp::shrink, 0.5f, 0.25f),
       [=](double x) { return x < -lambd ? x + bias : (x > lambd ? x - bias : 0.0); }, 0.5},
      {u(UnaryOp::hard_sigmoid, 0.2f, 0.5f), [](double x) { return clamp_unit(double{0.2f} * x + 0.5); },
       0.5},
      {u(UnaryOp::pow_constant, 2.0f), [](double x) { return x * x; }, 0.5},
      {u(UnaryOp::pow_constant, 0.5f), [](double x) { return std::pow(x, 0.5); }, 0.5, 0.0, 0.0, 100.0},
      {u(UnaryOp::pow_constant, -1.0f), [](double x) { return 1.0 / x; }, 0.5},
      {u(UnaryOp::pow_constant, 1.0f), [](double x) { return x; }, 0.0},
      // The math functions (bounds of the FloatMath tests).
      {u(UnaryOp::exp), [](double x) { return std::exp(x); }, 1.0, 0.0, -90.0, 90.0},
      {u(UnaryOp::log), [](double x) { return std::log(x); }, 1.0, 0.0, 0.0, 1000.0},
      {u(UnaryOp::tanh), [](double x) { return std::tanh(x); }, 2.0},
      {u(UnaryOp::sigmoid), [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, 2.0, 0.0, -30.0, 30.0},
      {u(UnaryOp::erf), [](double x) { return std::erf(x); }, 2.0, 2.0},  // or 1e-7 absolute: 2 * |x| 2^-24
      {u(UnaryOp::sin), [](double x) { return std::sin(x); }, 2.0, 0.0, -1e4, 1e4},
      {u(UnaryOp::cos), [](double x) { return std::cos(x); }, 2.0, 0.0, -1e4, 1e4},
      {u(UnaryOp::pow_constant, 3.0f), [](double x) { return std::pow(x, 3.0); }, 1.0},
      {u(UnaryOp::pow_constant, -0.5f), [](double x) { return std::pow(x, -0.5); }, 1.0, 0.0, 0.0, 100.0},
      {u(UnaryOp::pow_constant, 2.5f), [](double x) { return std::pow(x, 2.5); }, 1.0, 0.0, 0.0, 100.0},
      {u(UnaryOp::pow_constant, 0.0f), [](double x) { return std::pow(x, 0.0); }, 0.0},
      // Compositions: the bound adds the pieces' errors (ulps) and, where an intermediate sum rounds in
      // absolute terms, that error carried by the factor x (abs_scale).
      {u(UnaryOp::hard_swish), [](double x) { return x * clamp_unit(x / 6.0 + 0.5); }, 1.0, 1.0},
      // sigmoid's 2 ulp and the product's rounding; where sigmoid is subnormal (x < -87), its absolute
      // error of up to 2 subnormal steps, times x.
      {u(UnaryOp::silu), [](double x) { return x / (1.0 + std::exp(-x)); }, 2.5, 0.0, -30.0, 30.0, 2.0},
      {u(UnaryOp::softsign), [](double x) { return x / (1.0 + std::fabs(x)); }, 1.5},
      {u(UnaryOp::softplus), softplus, 2.5, 0.0, -30.0, 30.0},
      {u(UnaryOp::elu, 1.3f), [](double x) { return x < 0.0 ? double{1.3f} * std::expm1(x) : x; }, 2.0},
      {u(UnaryOp::selu, 1.67326319f, 0.0f, 1.05070102f),
       [=](double x) { return x <= 0.0 ? sg * (sa * std::expm1(x)) : sg * x; }, 2.5},  // alpha e^x - alpha
      {u(UnaryOp::celu, 0.8f),
       [=](double x) { return (x < 0.0 ? 0.0 : x) + std::min(0.0, ca * std::expm1(x / ca)); }, 3.0},
      {u(UnaryOp::mish), [](double x) { return x * std::tanh(softplus(x)); }, 4.0, 0.0, -20.0, 20.0, 1.0},
      // 0.5 x (1 + erf): erf's absolute error (2 ulp of values near 1) and its argument's rounding, times x.
      {u(UnaryOp::gelu), [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }, 2.0, 3.0},
      {u(UnaryOp::gelu_tanh),
       [](double x) {
         return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
       },
       2.0, 4.0},
  };
  // GELU written out, in each order of its products, dividing by sqrt 2 or multiplying by its inverse: the
  // same bound as gelu's plus the one rounding more of a product by x.
  const auto gelu = [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); };
  // (x * e) * 0.5 overflows where x * e does, near the largest floats, as the operators do.
  const auto gelu_product_first = [](double x) {
    const double product = x * (1.0 + std::erf(x / std::sqrt(2.0)));
    const auto rounded = static_cast<float>(product);
    return std::isinf(rounded) ? double{rounded} : 0.5 * product;
  };
  for (int order = 0; order < 3; ++order) {
    const std::function<double(double)> exact =
        order == 0 ? std::function<double(double)>(gelu_product_first) : std::function<double(double)>(gelu);
    cases.push_back(
        {u(UnaryOp::gelu_written_out, 1.41421354f, 1.0f, static_cast<float>(order)), exact, 2.5, 3.0});
    cases.push_back(
        {u(UnaryOp::gelu_written_out, 0.707106769f, 0.0f, static_cast<float>(order)), exact, 2.5, 3.0});
  }
  return cases;
}

// UnaryOp::gelu_written_out gives, bit for bit, what its operators give one after another (Div or Mul by the
// constant, Erf, Add 1, the two products in the chain's order): the importer replaces them by it.
TEST(FloatElementwiseReference, WrittenOutGeluIsItsOperators) {
  test::Random rng(8);
  std::vector<float> x = random_values(rng, 20000, -12.0, 12.0);
  for (float special :
       {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e30f, -1e30f, 1e-40f, -3.5f, 1.25f * 1.41421354f})
    x.push_back(special);
  for (const bool divides : {true, false})
    for (int order = 0; order < 3; ++order) {
      const float scale = divides ? 1.41421354f : 0.707106769f;
      const UnaryParams p{UnaryOp::gelu_written_out, scale, divides ? 1.0f : 0.0f, static_cast<float>(order)};
      for (const float v : x) {
        const float t = ref::binary_value(divides ? BinaryOp::div : BinaryOp::mul, v, scale);
        const float e = ref::binary_value(BinaryOp::add, ref::unary_value({UnaryOp::erf}, t), 1.0f);
        const float y =
            order == 0   ? ref::binary_value(BinaryOp::mul, ref::binary_value(BinaryOp::mul, v, e), 0.5f)
            : order == 1 ? ref::binary_value(BinaryOp::mul, v, ref::binary_value(BinaryOp::mul, e, 0.5f))
                         : ref::binary_value(BinaryOp::mul, ref::binary_value(BinaryOp::mul, v, 0.5f), e);
        ASSERT_TRUE(same_bits(ref::unary_value(p, v), y))
            << "divides " << divides << " order " << order << " x = " << std::hexfloat << v;
      }
    }
}

TEST(FloatElementwiseReference, EveryUnaryOperatorAgainstFloat64) {
  test::Random rng(3);
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(std::string(name_of(c.params.op)) + " alpha " + std::to_string(c.params.alpha));
    const std::vector<float> x = random_values(rng, 20000, c.lo, c.hi);
    std::vector<float> y(x.size());
    ref::float_unary(c.params, x.data(), y.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      const double exact = c.exact(x[i]);
      ASSERT_TRUE(same_bits(y[i], ref::unary_value(c.params, x[i])));
      const double scaled = (c.abs_scale * 0x1p-24 + c.underflow_scale * 0x1p-149) * std::fabs(x[i]);
      const double allowed = c.ulps + (std::isfinite(scaled) ? scaled / float_ulp(exact) : 0.0);
      ASSERT_LE(ulp_error(y[i], exact), allowed)
          << "x = " << std::hexfloat << x[i] << ": " << y[i] << ", exact " << exact;
    }
  }
}

// The test's own broadcasting: the flat index of `shape` (right-aligned to out's rank, size-1 dimensions
// repeated) for each output index, in row-major order.
std::vector<int64_t> broadcast_indices(const Shape& shape, const Shape& out) {
  const size_t rank = out.size();
  const int64_t total = element_count(out, "test");
  std::vector<int64_t> result;
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rest = flat, index = 0, stride = 1;
    for (size_t d = rank; d-- > 0;) {
      const int64_t coordinate = rest % out[d];
      rest /= out[d];
      const size_t k = d + shape.size();  // the input's dimension, if any
      if (k >= rank) {
        const int64_t extent = shape[k - rank];
        index += (extent == 1 ? 0 : coordinate) * stride;
        stride *= extent;
      }
    }
    result.push_back(index);
  }
  return result;
}

// float64 definitions of the binary operators (comparisons and logical ones as 0 / 1).
double exact_binary(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::add:
      return a + b;
    case BinaryOp::sub:
      return a - b;
    case BinaryOp::mul:
      return a * b;
    case BinaryOp::div:
      return a / b;
    case BinaryOp::pow:
      return std::pow(a, b);
    case BinaryOp::min:
      return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    case BinaryOp::max:
      return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case BinaryOp::prelu:
      return a >= 0.0 ? a : a * b;
    case BinaryOp::mod: {  // Python's float %
      const double r = std::fmod(a, b);
      if (r == 0.0) return std::copysign(0.0, b);
      return (r < 0.0) != (b < 0.0) ? r + b : r;
    }
    case BinaryOp::fmod:
      return std::fmod(a, b);
    case BinaryOp::equal:
      return a == b;
    case BinaryOp::less:
      return a < b;
    case BinaryOp::less_equal:
      return a <= b;
    case BinaryOp::greater:
      return a > b;
    case BinaryOp::greater_equal:
      return a >= b;
    case BinaryOp::logical_and:
      return a != 0.0 && b != 0.0;
    case BinaryOp::logical_or:
      return a != 0.0 || b != 0.0;
    case BinaryOp::logical_xor:
      return (a != 0.0) != (b != 0.0);
  }
  return NAN;
}

const std::vector<BinaryOp>& all_binary_ops() {
  static const std::vector<BinaryOp> ops = {
      BinaryOp::add,        BinaryOp::sub,        BinaryOp::mul,           BinaryOp::div,
      BinaryOp::pow,        BinaryOp::min,        BinaryOp::max,           BinaryOp::prelu,
      BinaryOp::mod,        BinaryOp::fmod,       BinaryOp::equal,         BinaryOp::less,
      BinaryOp::less_equal, BinaryOp::greater,    BinaryOp::greater_equal, BinaryOp::logical_and,
      BinaryOp::logical_or, BinaryOp::logical_xor};
  return ops;
}

// Shape pairs covering every kind of broadcast run: equal shapes, one side a scalar or a [1], size-1
// dimensions on either side and both, leading dimensions added, and zero-size dimensions.
std::vector<std::pair<Shape, Shape>> broadcast_shapes() {
  return {{{2, 3, 4}, {3, 1}},   {{1}, {5}},        {{}, {2, 2}},
          {{2, 2}, {}},          {{}, {}},          {{7}, {7}},
          {{4, 1, 3}, {5, 1}},   {{3, 1}, {1, 17}}, {{2, 1, 5, 1}, {3, 1, 4}},
          {{0, 3}, {3}},         {{2, 0}, {1}},     {{3}, {0, 1}},
          {{1, 33}, {33, 1}},    {{65}, {1}},       {{1}, {65}},
          {{2, 3, 4}, {2, 3, 4}}};
}

// Binary operands: floats from the edge values and random ones, or (logical operators) bools.
std::vector<float> binary_operand(test::Random& rng, int64_t n, bool bools) {
  std::vector<float> v(static_cast<size_t>(n));
  const std::vector<float> edges = edge_values();
  for (auto& x : v) {
    if (bools)
      x = static_cast<float>(rng.integer(0, 1));
    else if (rng.integer(0, 4) == 0)
      x = edges[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(edges.size()) - 1))];
    else
      x = static_cast<float>(rng.coin() ? rng.real(-6.0, 6.0) : std::round(rng.real(-4.0, 4.0)));
  }
  return v;
}

std::vector<uint8_t> as_bools(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = v[i] != 0.0f ? 1 : 0;
  return out;
}

TEST(FloatElementwiseReference, EveryBinaryOperatorAgainstFloat64) {
  test::Random rng(4);
  for (BinaryOp op : all_binary_ops())
    for (const auto& [sa, sb] : broadcast_shapes()) {
      SCOPED_TRACE(std::string(name_of(op)) + " " + to_string(sa) + " x " + to_string(sb));
      const Shape so = broadcast_shape("test", sa, sb);
      const bool bools = takes_bool(op);
      const std::vector<float> a = binary_operand(rng, element_count(sa, "a"), bools);
      const std::vector<float> b = binary_operand(rng, element_count(sb, "b"), bools);
      const std::vector<uint8_t> a8 = as_bools(a), b8 = as_bools(b);
      const int64_t n = element_count(so, "out");
      std::vector<float> out_f(static_cast<size_t>(n));
      std::vector<uint8_t> out_b(static_cast<size_t>(n));
      void* out = produces_bool(op) ? static_cast<void*>(out_b.data()) : static_cast<void*>(out_f.data());
      ref::float_binary(op, bools ? static_cast<const void*>(a8.data()) : a.data(), sa,
                        bools ? static_cast<const void*>(b8.data()) : b.data(), sb, out);
      const std::vector<int64_t> ia = broadcast_indices(sa, so), ib = broadcast_indices(sb, so);
      for (int64_t i = 0; i < n; ++i) {
        const float va = a[static_cast<size_t>(ia[static_cast<size_t>(i)])];
        const float vb = b[static_cast<size_t>(ib[static_cast<size_t>(i)])];
        const double exact = exact_binary(op, va, vb);
        if (produces_bool(op)) {
          ASSERT_EQ(out_b[static_cast<size_t>(i)], exact != 0.0 ? 1 : 0) << va << ", " << vb;
        } else {
          // + - * / and the exact operators round once from float64 (53 >= 2 * 24 + 2 bits: the double
          // result rounded to float is the correctly rounded float result); pow within its 1 ulp.
          const float got = out_f[static_cast<size_t>(i)];
          const double allowed = op == BinaryOp::pow ? 1.0 : 0.5;
          ASSERT_LE(ulp_error(got, exact), allowed) << std::hexfloat << va << ", " << vb << ": " << got;
          if (exact == 0.0 && op != BinaryOp::pow) {
            ASSERT_EQ(std::signbit(got), std::signbit(exact)) << va << ", " << vb;
          }
        }
      }
    }
}

TEST(FloatElementwiseReference, BinaryValueSpecialCases) {
  EXPECT_TRUE(std::isnan(ref::binary_value(BinaryOp::min, kNan, 1.0f)));
  EXPECT_TRUE(std::isnan(ref::binary_value(BinaryOp::min, 1.0f, kNan)));
  EXPECT_TRUE(std::isnan(ref::binary_value(BinaryOp::max, 1.0f, kNan)));
  EXPECT_EQ(ref::binary_value(BinaryOp::mod, -1.0f, 3.0f), 2.0f);
  EXPECT_EQ(ref::binary_value(BinaryOp::mod, 1.0f, -3.0f), -2.0f);
  EXPECT_TRUE(same_bits(ref::binary_value(BinaryOp::mod, 3.0f, -3.0f), -0.0f));
  EXPECT_EQ(ref::binary_value(BinaryOp::fmod, -1.0f, 3.0f), -1.0f);
  EXPECT_TRUE(std::isnan(ref::binary_value(BinaryOp::mod, 1.0f, 0.0f)));
  EXPECT_EQ(ref::binary_value(BinaryOp::pow, -2.0f, 3.0f), -8.0f);
  EXPECT_EQ(ref::binary_value(BinaryOp::pow, 0.0f, 0.0f), 1.0f);
  EXPECT_EQ(ref::binary_value(BinaryOp::pow, kNan, 0.0f), 1.0f);
  EXPECT_TRUE(std::isnan(ref::binary_value(BinaryOp::pow, -2.0f, 0.5f)));
  EXPECT_EQ(ref::binary_value(BinaryOp::prelu, -2.0f, 0.25f), -0.5f);
  EXPECT_EQ(ref::binary_value(BinaryOp::equal, kNan, kNan), 0.0f);
  EXPECT_EQ(ref::unary_value({UnaryOp::sign, 0, 0, 0}, -0.0f), 0.0f);
  EXPECT_TRUE(std::isnan(ref::unary_value({UnaryOp::sign, 0, 0, 0}, kNan)));
  EXPECT_EQ(ref::unary_value({UnaryOp::round, 0, 0, 0}, -2.5f), -2.0f);
  EXPECT_TRUE(same_bits(ref::unary_value({UnaryOp::pow_constant, 0.5f, 0, 0}, -0.0f), 0.0f));
  EXPECT_EQ(ref::unary_value({UnaryOp::pow_constant, 0.5f, 0, 0}, -kInf), kInf);
}

// Where and Not against the test's own broadcasting, for element sizes 1, 2, 4, 8 and an odd 3.
TEST(FloatElementwiseReference, Where) {
  test::Random rng(5);
  const std::vector<std::tuple<Shape, Shape, Shape>> shapes = {
      {{2, 3}, {2, 3}, {2, 3}}, {{3}, {2, 1}, {}}, {{}, {4}, {4}},       {{2, 1, 3}, {1, 5, 1}, {3}},
      {{0, 2}, {2}, {1}},       {{1}, {1}, {1}},   {{5, 1}, {1}, {1, 7}}};
  for (size_t size : {1, 2, 3, 4, 8})
    for (const auto& [sc, sx, sy] : shapes) {
      SCOPED_TRACE(to_string(sc) + " " + to_string(sx) + " " + to_string(sy) + " size " +
                   std::to_string(size));
      const Shape so = broadcast_shape("t", broadcast_shape("t", sc, sx), sy);
      const std::vector<uint8_t> c = rng.values<uint8_t>(element_count(sc, "c"), 0, 2);  // nonzero is true
      const std::vector<uint8_t> x =
          rng.values<uint8_t>(element_count(sx, "x") * static_cast<int64_t>(size), 0, 255);
      const std::vector<uint8_t> y =
          rng.values<uint8_t>(element_count(sy, "y") * static_cast<int64_t>(size), 0, 255);
      const int64_t n = element_count(so, "out");
      std::vector<uint8_t> out(static_cast<size_t>(n) * size);
      ref::where(c.data(), sc, x.data(), sx, y.data(), sy, size, out.data());
      const std::vector<int64_t> ic = broadcast_indices(sc, so), ix = broadcast_indices(sx, so),
                                 iy = broadcast_indices(sy, so);
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        const uint8_t* from = c[static_cast<size_t>(ic[i])] != 0
                                  ? x.data() + ix[i] * static_cast<int64_t>(size)
                                  : y.data() + iy[i] * static_cast<int64_t>(size);
        ASSERT_EQ(std::memcmp(out.data() + i * size, from, size), 0) << i;
      }
    }
}

TEST(FloatElementwiseReference, BadArgumentsThrow) {
  const float x[4] = {};
  float y[4];
  EXPECT_THROW(ref::float_unary({UnaryOp::relu, 0, 0, 0}, x, y, -1), Error);
  EXPECT_THROW(ref::float_unary({static_cast<UnaryOp>(200), 0, 0, 0}, x, y, 4), Error);
  EXPECT_THROW(ref::float_binary(BinaryOp::add, x, {2}, x, {3}, y), Error);
  EXPECT_THROW(ref::float_binary(static_cast<BinaryOp>(200), x, {2}, x, {2}, y), Error);
  const uint8_t c[4] = {};
  EXPECT_THROW(ref::where(c, {2}, x, {3}, x, {2}, 4, y), Error);
  EXPECT_THROW(ref::where(c, {2}, x, {2}, x, {2}, 0, y), Error);
  for (Isa isa : supported_isas()) {
    EXPECT_THROW(elementwise::float_unary(isa, {UnaryOp::relu, 0, 0, 0}, x, y, -1), Error);
    EXPECT_THROW(elementwise::float_unary(isa, {static_cast<UnaryOp>(200), 0, 0, 0}, x, y, 4), Error);
    EXPECT_THROW(elementwise::float_binary(isa, BinaryOp::mul, x, {2, 2}, x, {3}, y), Error);
    EXPECT_THROW(elementwise::float_binary(isa, static_cast<BinaryOp>(200), x, {2}, x, {2}, y), Error);
    EXPECT_THROW(elementwise::where(isa, c, {2}, x, {3}, x, {2}, 4, y), Error);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The fast kernels against the reference, bit for bit, per ISA and thread count.

class FloatElementwiseKernels : public ::testing::TestWithParam<std::tuple<Isa, int>> {
 protected:
  Isa isa() const { return std::get<0>(GetParam()); }
  // Runs f in an arena of the parameter's thread count.
  template <class F>
  void with_threads(F&& f) const {
    tbb::task_arena arena(std::get<1>(GetParam()));
    arena.execute(f);
  }
};

std::vector<UnaryParams> kernel_unary_params() {
  std::vector<UnaryParams> params;
  for (const UnaryCase& c : unary_cases())
    params.push_back(c.params);
  params.push_back({UnaryOp::hard_sigmoid, -0.3f, 0.1f, 0.0f});
  params.push_back({UnaryOp::pow_constant, -2.0f, 0.0f, 0.0f});
  params.push_back({UnaryOp::pow_constant, 0.33f, 0.0f, 0.0f});
  return params;
}

TEST_P(FloatElementwiseKernels, UnaryBitExactWithReference) {
  test::Random rng(6);
  // Lengths around the vector widths, the group widths (kernels/simd/float_group.h: 64 floats on AVX-512,
  // 16 on AVX2) and the parallel block (16384 elements).
  const int64_t lengths[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 129, 1000, 16384, 40001};
  for (const UnaryParams& p : kernel_unary_params())
    for (int64_t n : lengths) {
      SCOPED_TRACE(std::string(name_of(p.op)) + " alpha " + std::to_string(p.alpha) + " n " +
                   std::to_string(n));
      std::vector<float> x = random_values(rng, static_cast<size_t>(n) + 64, -30.0, 30.0);
      // Shuffle the edge values through the vector lanes.
      for (size_t i = 0; i + 1 < x.size(); ++i)
        std::swap(
            x[i],
            x[static_cast<size_t>(rng.integer(static_cast<int64_t>(i), static_cast<int64_t>(x.size()) - 1))]);
      x.resize(static_cast<size_t>(n));
      std::vector<float> want(x.size()), got(x.size(), 12345.0f);
      ref::float_unary(p, x.data(), want.data(), n);
      with_threads([&] { elementwise::float_unary(isa(), p, x.data(), got.data(), n); });
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_TRUE(same_bits(got[i], want[i]))
            << "x = " << std::hexfloat << x[i] << ": " << got[i] << ", reference " << want[i];
    }
}

// exp and the operators built on it, over floats of every exponent and both signs (every 4093rd bit pattern,
// NaNs included): the vector forms of exp's table lookup and scaling (VSCALEFPS on AVX-512, the exponent
// built from bits or two steps elsewhere) give the reference's bits in every range, subnormal results
// and overflow included.
TEST_P(FloatElementwiseKernels, ExpFamilyBitExactOverEveryExponent) {
  std::vector<float> x;
  for (uint64_t b = 0; b <= 0xffffffffu; b += test::bit_pattern_step(4093))
    x.push_back(from_bits(static_cast<uint32_t>(b)));
  for (const UnaryOp op : {UnaryOp::exp, UnaryOp::sigmoid, UnaryOp::silu, UnaryOp::tanh}) {
    SCOPED_TRACE(name_of(op));
    const UnaryParams p{op, 0.0f, 0.0f, 0.0f};
    const auto n = static_cast<int64_t>(x.size());
    std::vector<float> want(x.size()), got(x.size());
    ref::float_unary(p, x.data(), want.data(), n);
    with_threads([&] { elementwise::float_unary(isa(), p, x.data(), got.data(), n); });
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_TRUE(same_bits(got[i], want[i]))
          << "x = " << std::hexfloat << x[i] << ": " << got[i] << ", reference " << want[i];
  }
}

TEST_P(FloatElementwiseKernels, BinaryBitExactWithReference) {
  test::Random rng(7);
  std::vector<std::pair<Shape, Shape>> shapes = broadcast_shapes();
  // Larger ones: several parallel blocks, long runs with either operand repeated, many short runs.
  const std::vector<std::pair<Shape, Shape>> large = {{{40001}, {40001}},       {{40001}, {1}},
                                                      {{1}, {40001}},           {{3, 20000}, {20000}},
                                                      {{20000, 3}, {20000, 1}}, {{2, 1, 5000}, {1, 7, 1}},
                                                      {{5000, 7}, {7}}};
  shapes.insert(shapes.end(), large.begin(), large.end());
  for (BinaryOp op : all_binary_ops())
    for (const auto& [sa, sb] : shapes) {
      SCOPED_TRACE(std::string(name_of(op)) + " " + to_string(sa) + " x " + to_string(sb));
      const Shape so = broadcast_shape("test", sa, sb);
      const bool bools = takes_bool(op);
      const std::vector<float> a = binary_operand(rng, element_count(sa, "a"), bools);
      const std::vector<float> b = binary_operand(rng, element_count(sb, "b"), bools);
      const std::vector<uint8_t> a8 = as_bools(a), b8 = as_bools(b);
      const void* pa = bools ? static_cast<const void*>(a8.data()) : a.data();
      const void* pb = bools ? static_cast<const void*>(b8.data()) : b.data();
      const size_t n = static_cast<size_t>(element_count(so, "out"));
      const size_t bytes = n * (produces_bool(op) ? 1 : sizeof(float));
      std::vector<uint8_t> want(bytes), got(bytes, 0xAB);
      ref::float_binary(op, pa, sa, pb, sb, want.data());
      // (Structured bindings are not captured by lambdas in clang 14: the shapes by name.)
      const Shape& shape_a = sa;
      const Shape& shape_b = sb;
      with_threads([&] { elementwise::float_binary(isa(), op, pa, shape_a, pb, shape_b, got.data()); });
      if (produces_bool(op)) {
        ASSERT_EQ(got, want);
      } else {
        for (size_t i = 0; i < n; ++i) {
          float g = 0.0f, w = 0.0f;
          std::memcpy(&g, got.data() + i * 4, 4);
          std::memcpy(&w, want.data() + i * 4, 4);
          ASSERT_TRUE(same_bits(g, w))
              << "element " << i << ": " << std::hexfloat << g << ", reference " << w;
        }
      }
    }
}

TEST_P(FloatElementwiseKernels, WhereMatchesReference) {
  test::Random rng(8);
  const std::vector<std::tuple<Shape, Shape, Shape>> shapes = {
      {{40001}, {40001}, {40001}}, {{1}, {40001}, {1}},         {{3, 1}, {3, 20000}, {20000}},
      {{20000, 1}, {1}, {1, 3}},   {{2, 1, 3}, {1, 5, 1}, {3}}, {{}, {}, {}},
      {{0, 4}, {4}, {1}},          {{7, 1}, {1}, {7, 9}}};
  for (size_t size : {1, 2, 3, 4, 8, 16})
    for (const auto& [sc, sx, sy] : shapes) {
      SCOPED_TRACE(to_string(sc) + " " + to_string(sx) + " " + to_string(sy) + " size " +
                   std::to_string(size));
      const Shape so = broadcast_shape("t", broadcast_shape("t", sc, sx), sy);
      const std::vector<uint8_t> c = rng.values<uint8_t>(element_count(sc, "c"), 0, 1);
      const std::vector<uint8_t> x =
          rng.values<uint8_t>(element_count(sx, "x") * static_cast<int64_t>(size), 0, 255);
      const std::vector<uint8_t> y =
          rng.values<uint8_t>(element_count(sy, "y") * static_cast<int64_t>(size), 0, 255);
      const size_t bytes = static_cast<size_t>(element_count(so, "out")) * size;
      std::vector<uint8_t> want(bytes), got(bytes, 0xAB);
      ref::where(c.data(), sc, x.data(), sx, y.data(), sy, size, want.data());
      // (Structured bindings are not captured by lambdas in clang 14: the shapes by name.)
      const Shape &shape_c = sc, &shape_x = sx, &shape_y = sy;
      with_threads([&] {
        elementwise::where(isa(), c.data(), shape_c, x.data(), shape_x, y.data(), shape_y, size, got.data());
      });
      ASSERT_EQ(got, want);
    }
}

INSTANTIATE_TEST_SUITE_P(IsasAndThreads, FloatElementwiseKernels,
                         ::testing::Combine(::testing::ValuesIn(test::float_kernel_isas()),
                                            ::testing::Values(1, 3)),
                         [](const auto& info) {
                           return std::string(name_of(std::get<0>(info.param))) + "_" +
                                  std::to_string(std::get<1>(info.param)) + "_threads";
                         });

}  // namespace
}  // namespace octet
