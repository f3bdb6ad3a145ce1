// The float requantization mode (RequantMode::float_scale) against its definition in float64 arithmetic:
// one float32 rounding of the accumulator, one of the product, then round half to even and the clamp,
// written here without the floating-point environment (no nearbyint), and within the float32 error bound
// of the exact product acc * scale.

#include "kernels/quantization/float_requant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "kernels/error.h"
#include "kernels/quantization/channel_requant.h"
#include "kernels/quantization/conv_requant.h"
#include "kernels/quantization/requant_mode.h"

namespace octet {
namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

// x rounded to the nearest integer, ties to the even one, by comparing the fraction (exact in double for
// any float32 x, whose fraction has at most 24 significant bits).
double round_half_even(double x) {
  const double down = std::floor(x);
  const double fraction = x - down;
  if (fraction > 0.5) return down + 1.0;
  if (fraction < 0.5) return down;
  return std::fmod(down, 2.0) == 0.0 ? down : down + 1.0;
}

// The float32 product float(acc) * scale, each step done in double and narrowed: int32 -> double is exact,
// double -> float rounds to nearest even as int32 -> float does, and the product of two floats (24-bit
// significands) is exact in double, so narrowing it rounds once, as a float32 multiply does.
float float32_product(int32_t acc, float scale) {
  const auto acc_f = static_cast<float>(static_cast<double>(acc));
  return static_cast<float>(static_cast<double>(acc_f) * static_cast<double>(scale));
}

// The definition: clamp(round_half_even(float(acc) * scale), qmin - zp, qmax - zp) + zp, in double. The
// implementation clamps before rounding, in float32; the same for bounds that are integers float32 holds.
int32_t expected_requant(int32_t acc, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  const double rounded = round_half_even(static_cast<double>(float32_product(acc, scale)));
  const double lo = qmin - zp, hi = qmax - zp;
  return static_cast<int32_t>(std::clamp(rounded, lo, hi)) + zp;
}

TEST(FloatRequant, ExactTiesRoundHalfToEven) {
  // Wide clamp, zero point 0: acc * 0.5 lands exactly on .5 for every odd acc.
  constexpr int32_t lo = -1000, hi = 1000;
  EXPECT_EQ(requantize_float(1, 0.5f, 0, lo, hi), 0);    // 0.5 -> 0
  EXPECT_EQ(requantize_float(3, 0.5f, 0, lo, hi), 2);    // 1.5 -> 2
  EXPECT_EQ(requantize_float(5, 0.5f, 0, lo, hi), 2);    // 2.5 -> 2
  EXPECT_EQ(requantize_float(7, 0.5f, 0, lo, hi), 4);    // 3.5 -> 4
  EXPECT_EQ(requantize_float(-1, 0.5f, 0, lo, hi), 0);   // -0.5 -> 0
  EXPECT_EQ(requantize_float(-3, 0.5f, 0, lo, hi), -2);  // -1.5 -> -2
  EXPECT_EQ(requantize_float(-5, 0.5f, 0, lo, hi), -2);  // -2.5 -> -2
  EXPECT_EQ(requantize_float(-7, 0.5f, 0, lo, hi), -4);  // -3.5 -> -4
  // Off the ties, nearest.
  EXPECT_EQ(requantize_float(3, 0.25f, 0, lo, hi), 1);    // 0.75
  EXPECT_EQ(requantize_float(-3, 0.25f, 0, lo, hi), -1);  // -0.75
  EXPECT_EQ(requantize_float(5, 0.25f, 0, lo, hi), 1);    // 1.25
  EXPECT_EQ(requantize_float(0, 0.5f, 0, lo, hi), 0);
  // Fixed point rounds a tie in its rounding shift away from zero instead (M = 0.25: M0 = 2^30, shift 1):
  // 2.5 -> 3 where the float mode gives 2.
  EXPECT_EQ(requantize(10, quantize_multiplier(0.25), 0, lo, hi), 3);
  EXPECT_EQ(requantize_float(10, 0.25f, 0, lo, hi), 2);
}

TEST(FloatRequant, ZeroPointAndClamp) {
  // The zero point is added after the rounding, so ties still go to the even integer before the offset.
  EXPECT_EQ(requantize_float(1, 0.5f, 128, 0, 255), 128);   // 0.5 -> 0
  EXPECT_EQ(requantize_float(3, 0.5f, 128, 0, 255), 130);   // 1.5 -> 2
  EXPECT_EQ(requantize_float(5, 0.5f, 128, 0, 255), 130);   // 2.5 -> 2
  EXPECT_EQ(requantize_float(-1, 0.5f, 128, 0, 255), 128);  // -0.5 -> 0
  EXPECT_EQ(requantize_float(-3, 0.5f, 128, 0, 255), 126);  // -1.5 -> -2
  EXPECT_EQ(requantize_float(-5, 0.5f, 128, 0, 255), 126);  // -2.5 -> -2
  // At the ends of the range and past them.
  EXPECT_EQ(requantize_float(253, 0.5f, 128, 0, 255), 254);  // 126.5 -> 126
  EXPECT_EQ(requantize_float(254, 0.5f, 128, 0, 255), 255);  // 127
  EXPECT_EQ(requantize_float(255, 0.5f, 128, 0, 255), 255);  // 127.5 -> 128, clamped
  EXPECT_EQ(requantize_float(1000, 0.5f, 128, 0, 255), 255);
  EXPECT_EQ(requantize_float(-255, 0.5f, 128, 0, 255), 0);  // -127.5 -> -128
  EXPECT_EQ(requantize_float(-256, 0.5f, 128, 0, 255), 0);
  EXPECT_EQ(requantize_float(-1000, 0.5f, 128, 0, 255), 0);
  EXPECT_EQ(requantize_float(kMax, 10.0f, 128, 0, 255), 255);
  EXPECT_EQ(requantize_float(kMin, 10.0f, 128, 0, 255), 0);
  // A narrower clamp (a fused ReLU6, say) and the ends of the zero point range.
  EXPECT_EQ(requantize_float(-40, 0.5f, 128, 128, 200), 128);
  EXPECT_EQ(requantize_float(200, 0.5f, 128, 128, 200), 200);
  EXPECT_EQ(requantize_float(-7, 0.5f, 0, 0, 255), 0);
  EXPECT_EQ(requantize_float(7, 0.5f, 0, 0, 255), 4);
  EXPECT_EQ(requantize_float(7, 0.5f, 255, 0, 255), 255);
  EXPECT_EQ(requantize_float(-7, 0.5f, 255, 0, 255), 251);
}

TEST(FloatRequant, Int32EndsAndFloatConversion) {
  // int32 -> float32 rounds: 2^31 - 1 becomes 2^31, and 2^24 + 1 becomes 2^24 (a tie, to even).
  EXPECT_EQ(requantize_float(kMax, std::ldexp(1.0f, -31), 0, -1000, 1000), 1);
  EXPECT_EQ(requantize_float(kMin, std::ldexp(1.0f, -31), 0, -1000, 1000), -1);
  EXPECT_EQ(requantize_float((1 << 24) + 1, 1.0f, 0, kMin, kMax), 1 << 24);
  EXPECT_EQ(requantize_float((1 << 24) + 3, 1.0f, 0, kMin, kMax), (1 << 24) + 4);  // also a tie, to even
  for (const int32_t acc : {kMin, kMin + 1, -(1 << 24) - 1, -1, 0, 1, (1 << 24) + 1, kMax - 1, kMax})
    for (const float scale : {1e-9f, 4.656613e-10f, 1e-6f, 0.5f, 1.0f, 10.0f})
      for (const int32_t zp : {0, 128, 255}) {
        EXPECT_EQ(requantize_float(acc, scale, zp, 0, 255), expected_requant(acc, scale, zp, 0, 255))
            << acc << " * " << scale << " + " << zp;
        EXPECT_EQ(requantize_float(acc, scale, 0, -100000, 100000),
                  expected_requant(acc, scale, 0, -100000, 100000))
            << acc << " * " << scale;
      }
}

TEST(FloatRequant, RandomAgainstFloat64Definition) {
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<int32_t> any(kMin, kMax);
  std::uniform_real_distribution<double> log_scale(std::log(1e-9), std::log(10.0));
  std::uniform_int_distribution<int32_t> byte(0, 255);
  int64_t unclamped = 0;
  for (int i = 0; i < 2'000'000; ++i) {
    // Half the accumulators from the full range, half from +-2^20 (the common case), a few at the ends.
    int32_t acc = (i % 2) ? any(rng) : any(rng) >> 11;
    if (i % 1000 == 0) acc = i % 2000 == 0 ? kMin : kMax;
    const auto scale = static_cast<float>(std::exp(log_scale(rng)));
    const int32_t zp = byte(rng);
    // The byte range; a narrower clamp around the zero point (a fused activation); or a clamp wide enough
    // to see the raw rounding of products up to 2^23 (bounds whose difference with zp float32 holds).
    int32_t qmin = 0, qmax = 255;
    if (i % 3 == 1) {
      qmin = std::min(zp, byte(rng));
      qmax = std::max(zp, byte(rng));
    } else if (i % 3 == 2) {
      qmin = -(1 << 23);
      qmax = 1 << 23;
    }
    const int32_t got = requantize_float(acc, scale, zp, qmin, qmax);
    ASSERT_EQ(got, expected_requant(acc, scale, zp, qmin, qmax))
        << acc << " * " << scale << " + " << zp << " in [" << qmin << ", " << qmax << "]";
    // Where the result is not clamped it is within 1/2 of the float32 product, which is within 2^-23
    // relative of the exact one: float(acc) and the multiply round once each.
    if (got > qmin && got < qmax) {
      const double exact = static_cast<double>(acc) * static_cast<double>(scale);
      ASSERT_LE(std::abs((got - zp) - exact), 0.5 + 1e-6 * std::abs(exact)) << acc << " * " << scale;
      ++unclamped;
    }
  }
  EXPECT_GT(unclamped, 500'000);
}

// Power-of-two scales make acc * scale exact, so every tie is a real .5 and nothing but the tie rule
// decides: it must be to even, for accumulators of either sign and any magnitude.
TEST(FloatRequant, PowerOfTwoScalesTieToEven) {
  std::mt19937_64 rng(5);
  for (int e = 1; e <= 30; ++e) {
    const float scale = std::ldexp(1.0f, -e);
    // acc = (2m + 1) * 2^(e-1), so acc * 2^-e = m + 0.5 exactly: 2m + 1 below 2^24 keeps float(acc) exact,
    // and |acc| below 2^30 keeps it an int32.
    const int64_t bound = std::min(int64_t{1} << 22, int64_t{1} << (30 - e));
    std::uniform_int_distribution<int64_t> half(-bound, bound - 1);
    for (int k = 0; k < 2000; ++k) {
      const int64_t m = half(rng);
      const int64_t acc = (2 * m + 1) * (int64_t{1} << (e - 1));
      const int64_t even = m % 2 == 0 ? m : m + 1;  // m or m + 1, whichever is even
      ASSERT_EQ(requantize_float(static_cast<int32_t>(acc), scale, 0, kMin, kMax), even)
          << acc << " * 2^-" << e;
    }
  }
}

TEST(FloatRequantScale, MultipliesFirstThenDividesInFloat32) {
  static_assert(float_requant_scale(1.0f, 1.0f, 4.0f) == 0.25f);
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> log_scale(std::log(1e-6), std::log(10.0));
  const auto draw = [&] { return static_cast<float>(std::exp(log_scale(rng))); };
  int other_order_differs = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const float s_in = draw(), s_w = draw(), s_out = draw();
    // Each float32 operation as a double one narrowed: exact for the product, and for the quotient too
    // (double's 53 bits are more than 2 x 24 + 2, so rounding twice gives the once-rounded float32 quotient).
    const auto product = static_cast<float>(static_cast<double>(s_in) * static_cast<double>(s_w));
    const auto want = static_cast<float>(static_cast<double>(product) / static_cast<double>(s_out));
    const float got = float_requant_scale(s_in, s_w, s_out);
    ASSERT_EQ(got, want) << s_in << " * " << s_w << " / " << s_out;
    // The order matters (ONNX Runtime multiplies first): the other one rounds differently now and then,
    // which is what makes this test able to tell them apart.
    const auto quotient = static_cast<float>(static_cast<double>(s_w) / static_cast<double>(s_out));
    other_order_differs +=
        static_cast<float>(static_cast<double>(s_in) * static_cast<double>(quotient)) != got;
  }
  EXPECT_GT(other_order_differs, 1000);
}

// prepare_conv_requant in the float mode keeps one float_requant_scale per output channel and requantizes
// with requantize_float; a scale that is no positive float32 is refused there (fixed point needs none).
TEST(FloatRequantScale, ConvRequantUsesIt) {
  const TensorU8 input({1, 1, 1, 2}, std::vector<uint8_t>{0, 0}, QuantParams::per_tensor(0.02f, 3));
  const TensorS8 weights({3, 2}, std::vector<int8_t>(6, 1),
                         QuantParams::per_axis({0.001f, 0.0037f, 0.5f}, {0, 0, 0}, 0));
  const QuantParams output = QuantParams::per_tensor(0.07f, 100);
  const ConvRequant rq =
      prepare_conv_requant("test", input, weights, nullptr, output, Clamp{}, 3, 2, RequantMode::float_scale);
  EXPECT_EQ(rq.mode, RequantMode::float_scale);
  ASSERT_EQ(rq.scales.size(), 3u);
  for (int64_t c = 0; c < 3; ++c) {
    const float scale = float_requant_scale(0.02f, weights.quant.scale(c), 0.07f);
    EXPECT_EQ(rq.scales[static_cast<size_t>(c)], scale);
    for (const int32_t acc : {kMin, -12345, -7, 0, 7, 12345, kMax})
      EXPECT_EQ(rq.requantize(acc, c), requantize_float(acc, scale, 100, 0, 255)) << acc << " channel " << c;
  }
  // The default stays fixed point.
  const ConvRequant fixed = prepare_conv_requant("test", input, weights, nullptr, output, Clamp{}, 3, 2);
  EXPECT_EQ(fixed.mode, RequantMode::fixed_point);
  EXPECT_EQ(fixed.requantize(12345, 1), requantize(12345, fixed.multipliers[1], 100, 0, 255));

  // 1e-25 * 1e-25 underflows float32 to 0.
  const TensorU8 tiny_input({1, 1, 1, 2}, std::vector<uint8_t>{0, 0}, QuantParams::per_tensor(1e-25f, 0));
  const TensorS8 tiny_weights({1, 2}, std::vector<int8_t>(2, 1), QuantParams::per_tensor(1e-25f, 0));
  EXPECT_THROW(prepare_conv_requant("test", tiny_input, tiny_weights, nullptr, output, Clamp{}, 1, 2,
                                    RequantMode::float_scale),
               Error);
  EXPECT_NO_THROW(prepare_conv_requant("test", tiny_input, tiny_weights, nullptr, output, Clamp{}, 1, 2,
                                       RequantMode::fixed_point));
}

// The bound on |acc * scale| that lets packing epilogues skip the float clamp (ChannelRequant::
// float_fits_int32): the overflow guard's worst case times each channel's scale.
TEST(FloatRequantScale, BoundOnScaledAccumulators) {
  // Worst case per channel: 2 taps * 255 (input zero point 0) * |w - z_w| + |bias|.
  const TensorU8 input({1, 1, 1, 2}, std::vector<uint8_t>{0, 0}, QuantParams::per_tensor(1.0f, 0));
  const TensorS8 weights({2, 2}, std::vector<int8_t>{127, -3, 5, 1},
                         QuantParams::per_axis({1.0f, 2.0f}, {0, 0}, 0));
  TensorS32 bias({2}, std::vector<int32_t>{-1000, 10}, QuantParams::per_axis({1.0f, 2.0f}, {0, 0}, 0));
  for (const float out_scale : {1.0f, 1e-7f}) {
    const ConvRequant rq =
        prepare_conv_requant("test", input, weights, &bias, QuantParams::per_tensor(out_scale, 0), Clamp{}, 2,
                             2, RequantMode::float_scale);
    const double want =
        std::max((2.0 * 255 * 127 + 1000) * rq.scales[0], (2.0 * 255 * 5 + 10) * rq.scales[1]);
    EXPECT_DOUBLE_EQ(rq.max_float_magnitude, want);
    EXPECT_EQ(make_channel_requant(rq, 16).float_fits_int32, want < 0x1p30) << out_scale;
  }
  EXPECT_TRUE(make_channel_requant(
                  prepare_conv_requant("test", input, weights, &bias, QuantParams::per_tensor(1.0f, 0),
                                       Clamp{}, 2, 2, RequantMode::float_scale),
                  16)
                  .float_fits_int32);
  // Unknown bound (a hand-made ConvRequant): the clamp stays.
  ConvRequant unknown;
  unknown.mode = RequantMode::float_scale;
  unknown.scales = {1.0f};
  unknown.multipliers = {quantize_multiplier(1.0)};
  unknown.weight_zero_points = {0};
  EXPECT_FALSE(make_channel_requant(unknown, 16).float_fits_int32);
}

TEST(RequantModeName, ParsesAndPrints) {
  EXPECT_EQ(name_of(RequantMode::fixed_point), "fixed_point");
  EXPECT_EQ(name_of(RequantMode::float_scale), "float");
  EXPECT_EQ(parse_requant_mode("fixed_point"), RequantMode::fixed_point);
  EXPECT_EQ(parse_requant_mode("fixed"), RequantMode::fixed_point);
  EXPECT_EQ(parse_requant_mode("float"), RequantMode::float_scale);
  EXPECT_FALSE(parse_requant_mode("float_scale").has_value());
  EXPECT_FALSE(parse_requant_mode("").has_value());
}

}  // namespace
}  // namespace octet
