#include "kernels/quantization/quant_params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernels/error.h"
#include "kernels/quantization/clamp.h"
#include "kernels/quantization/quantize.h"

namespace octet {
namespace {

TEST(ChooseQparams, ZeroIsExactlyRepresentable) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-50.0, 50.0);
  for (int i = 0; i < 10000; ++i) {
    double lo = u(rng), hi = u(rng);
    if (lo > hi) std::swap(lo, hi);
    for (ElementType t : {ElementType::u8, ElementType::s8})
      for (bool symmetric : {false, true}) {
        const QuantParams q = choose_qparams(lo, hi, t, symmetric);
        ASSERT_GT(q.scale(), 0.0f);
        const IntRange r = range_of(t);
        ASSERT_GE(q.zero_point(), r.min);
        ASSERT_LE(q.zero_point(), r.max);
        EXPECT_EQ(
            dequantize_value(quantize_value(0.0f, q.scale(), q.zero_point(), r), q.scale(), q.zero_point()),
            0.0f);
        // The (widened) range is covered to within half a step at each end.
        const double step = q.scale();
        const double qlo = (r.min - q.zero_point()) * step, qhi = (r.max - q.zero_point()) * step;
        EXPECT_LE(qlo, std::min(lo, 0.0) + step) << lo << " " << hi;
        EXPECT_GE(qhi, std::max(hi, 0.0) - step) << lo << " " << hi;
        if (symmetric && t == ElementType::s8) {
          EXPECT_EQ(q.zero_point(), 0);
        }
      }
  }
}

TEST(ChooseQparams, DegenerateRangesGetUsableScale) {
  for (ElementType t : {ElementType::u8, ElementType::s8})
    for (bool symmetric : {false, true}) {
      const QuantParams zero = choose_qparams(0.0, 0.0, t, symmetric);
      EXPECT_TRUE(std::isfinite(zero.scale()) && zero.scale() > 0.0f);
      const QuantParams constant = choose_qparams(3.0, 3.0, t, symmetric);  // widened to [0, 3]
      EXPECT_GT(constant.scale(), 0.0f);
      EXPECT_EQ(quantize_value(3.0f, constant.scale(), constant.zero_point(), range_of(t)),
                symmetric && t == ElementType::s8 ? 127 : range_of(t).max);
      const QuantParams tiny = choose_qparams(-1e-35, 1e-35, t, symmetric);
      EXPECT_TRUE(std::isfinite(tiny.scale()) && tiny.scale() > 0.0f);
    }
}

TEST(ChooseQparams, RejectsBadRanges) {
  EXPECT_THROW(choose_qparams(1.0, -1.0, ElementType::u8, false), Error);
  EXPECT_THROW(choose_qparams(std::nan(""), 1.0, ElementType::u8, false), Error);
  EXPECT_THROW(choose_qparams(0.0, INFINITY, ElementType::s8, true), Error);
  EXPECT_THROW(choose_qparams(0.0, 1.0, ElementType::s32, true), Error);
}

// Returns the message of the octet::Error that `f` throws (fails the test if it throws none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no octet::Error thrown";
  return {};
}

TEST(ValidateParams, NamesTheProblem) {
  const Shape shape{4, 3, 3, 2};
  EXPECT_NO_THROW(validate(QuantParams::per_tensor(0.1f, 7), ElementType::u8, shape, "x"));
  auto msg =
      error_of([&] { validate(QuantParams::per_tensor(0.0f, 0), ElementType::u8, shape, "conv1.input"); });
  EXPECT_NE(msg.find("conv1.input"), std::string::npos) << msg;
  EXPECT_NE(msg.find("scale"), std::string::npos) << msg;
  for (float bad : {-1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()})
    EXPECT_THROW(validate(QuantParams::per_tensor(bad, 0), ElementType::u8, shape, "x"), Error);
  msg = error_of([&] { validate(QuantParams::per_tensor(0.1f, 256), ElementType::u8, shape, "y"); });
  EXPECT_NE(msg.find("zero point"), std::string::npos) << msg;
  EXPECT_THROW(validate(QuantParams::per_tensor(0.1f, -129), ElementType::s8, shape, "w"), Error);
  EXPECT_THROW(validate(QuantParams::per_tensor(0.1f, 128), ElementType::s8, shape, "w"), Error);
  EXPECT_NO_THROW(
      validate(QuantParams::per_axis({1, 1, 1, 1}, {0, 0, 0, 0}, 0), ElementType::s8, shape, "w"));
  msg = error_of([&] {
    validate(QuantParams::per_axis({1, 1, 1}, {0, 0, 0}, 0), ElementType::s8, shape, "w");
  });
  EXPECT_NE(msg.find("needs 4 scales"), std::string::npos) << msg;
  EXPECT_THROW(validate(QuantParams::per_axis({1, 1}, {0, 0}, 4), ElementType::s8, shape, "w"), Error);
  EXPECT_THROW(validate(QuantParams::per_axis({1, 1}, {0}, 3), ElementType::s8, shape, "w"), Error);
  EXPECT_THROW(validate(QuantParams{}, ElementType::u8, shape, "w"), Error);
}

TEST(ActivationClamp, QuantizesTheBounds) {
  const QuantParams out = QuantParams::per_tensor(0.05f, 20);
  EXPECT_EQ(activation_clamp(Activation::none, out), (Clamp{0, 255}));
  EXPECT_EQ(activation_clamp(Activation::relu, out), (Clamp{20, 255}));
  EXPECT_EQ(activation_clamp(Activation::relu6, out), (Clamp{20, 140}));
  EXPECT_EQ(activation_clamp(Activation::clip, out, -0.5f, 1.0f), (Clamp{10, 40}));
  EXPECT_THROW(activation_clamp(Activation::clip, out, 1.0f, -1.0f), Error);
}

}  // namespace
}  // namespace octet
