// The fixed-point requantization against exact integer arithmetic (__int128): bit-exact with its
// documented definition everywhere, and within 1 of round(acc * M).

#include "kernels/quantization/fixed_point.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "kernels/error.h"
#include "kernels/quantization/channel_requant.h"

namespace octet {
namespace {

__extension__ typedef __int128 i128;  // exact reference arithmetic; GCC and Clang have it
constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

i128 floor_div(i128 a, i128 b) {  // b > 0
  const i128 q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

int32_t saturate(i128 v) {
  return static_cast<int32_t>(v < kMin ? kMin : v > kMax ? kMax : v);
}

// The definitions written independently of the implementation, in exact wide arithmetic.
int32_t exact_high_mul(int32_t a, int32_t b) {
  return saturate(floor_div(static_cast<i128>(a) * b + (i128{1} << 30), i128{1} << 31));
}
int32_t exact_divide_by_pot(int32_t x, int e) {
  if (e == 0) return x;
  const i128 mag = x < 0 ? -static_cast<i128>(x) : static_cast<i128>(x);
  const i128 rounded = (mag + (i128{1} << (e - 1))) >> e;  // half away from zero
  return static_cast<int32_t>(x < 0 ? -rounded : rounded);
}
int32_t exact_multiply(int32_t acc, FixedMultiplier m) {
  const int left = std::max(0, -m.right_shift), right = std::max(0, m.right_shift);
  return exact_divide_by_pot(exact_high_mul(saturate(static_cast<i128>(acc) << left), m.multiplier), right);
}

TEST(FixedPoint, HighMulEdges) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);
  const int32_t edges[] = {kMin, kMin + 1, -(1 << 30), -3, -1, 0, 1, 2, 3, 1 << 30, kMax - 1, kMax};
  for (int32_t a : edges)
    for (int32_t b : edges)
      EXPECT_EQ(saturating_rounding_doubling_high_mul(a, b), exact_high_mul(a, b)) << a << " " << b;
  // Ties round upwards: +0.5 -> 1 and -0.5 -> 0.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1), 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-(1 << 30), 1), 0);
}

TEST(FixedPoint, DivideByPotEdges) {
  for (int e = 0; e <= 31; ++e)
    for (int32_t x : {kMin, kMin + 1, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, kMax - 1, kMax})
      EXPECT_EQ(rounding_divide_by_pot(x, e), exact_divide_by_pot(x, e)) << x << " >> " << e;
  EXPECT_EQ(rounding_divide_by_pot(3, 1), 2);    // 1.5 -> 2
  EXPECT_EQ(rounding_divide_by_pot(-3, 1), -2);  // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_pot(kMin, 31), -1);
}

TEST(FixedPoint, RandomAgainstExactDefinition) {
  std::mt19937_64 rng(1234);
  std::uniform_int_distribution<int32_t> any(kMin, kMax);
  std::uniform_int_distribution<int> shift(0, 31);
  for (int i = 0; i < 2'000'000; ++i) {
    const int32_t a = any(rng), b = any(rng);
    ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), exact_high_mul(a, b)) << a << " " << b;
    const int e = shift(rng);
    ASSERT_EQ(rounding_divide_by_pot(a, e), exact_divide_by_pot(a, e)) << a << " >> " << e;
  }
}

TEST(QuantizeMultiplier, NormalizedAndAccurate) {
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> log2m(-31.0, 30.0);
  for (int i = 0; i < 200'000; ++i) {
    const double m = std::exp2(log2m(rng));
    const FixedMultiplier f = quantize_multiplier(m);
    ASSERT_GE(f.multiplier, 1 << 30) << m;
    ASSERT_LE(f.right_shift, 31);
    ASSERT_GE(f.right_shift, -30);
    const double rebuilt = std::ldexp(static_cast<double>(f.multiplier), -31 - f.right_shift);
    ASSERT_NEAR(rebuilt / m, 1.0, std::ldexp(1.0, -30)) << m;
  }
}

TEST(QuantizeMultiplier, Edges) {
  EXPECT_EQ(quantize_multiplier(0.5), (FixedMultiplier{1 << 30, 0}));
  EXPECT_EQ(quantize_multiplier(1.0), (FixedMultiplier{1 << 30, -1}));
  EXPECT_EQ(quantize_multiplier(0.25), (FixedMultiplier{1 << 30, 1}));
  // Just below 1: q rounds up to 1.0 in Q31 and must renormalize rather than overflow.
  const FixedMultiplier below_one = quantize_multiplier(std::nextafter(1.0, 0.0));
  EXPECT_EQ(below_one, (FixedMultiplier{1 << 30, -1}));
  // Below 2^-32 the multiplier absorbs the excess shift; below 2^-63 it is zero.
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)).right_shift, 31);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)).multiplier, 1 << 22);
  EXPECT_EQ(quantize_multiplier(1e-300).multiplier, 0);
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity(), std::ldexp(1.0, 31)})
    EXPECT_THROW(quantize_multiplier(bad), Error) << bad;
}

// Multipliers that exercise every path: tiny, around the normalization boundaries, >= 1, huge.
std::vector<double> interesting_multipliers() {
  std::vector<double> ms = {1e-12,
                            std::ldexp(1.0, -40),
                            std::ldexp(1.0, -32),
                            std::ldexp(1.0, -31),
                            std::ldexp(1.5, -31),
                            1e-6,
                            0.0001234,
                            0.25,
                            0.5,
                            std::nextafter(0.5, 0.0),
                            std::nextafter(1.0, 0.0),
                            1.0,
                            1.5,
                            std::nextafter(2.0, 0.0),
                            1000.0,
                            std::ldexp(1.0, 20),
                            std::ldexp(1.999, 30)};
  return ms;
}

TEST(Requantize, EdgesAgainstExactDefinition) {
  const int32_t accs[] = {kMin, kMin + 1, -(1 << 24), -65536,  -256,     -1,  0,
                          1,    255,      65536,      1 << 24, kMax - 1, kMax};
  for (double m : interesting_multipliers()) {
    const FixedMultiplier f = quantize_multiplier(m);
    for (int32_t acc : accs) {
      EXPECT_EQ(multiply_by_fixed(acc, f), exact_multiply(acc, f)) << acc << " * " << m;
      for (int32_t zp : {0, 128, 255})
        EXPECT_EQ(requantize(acc, f, zp, 0, 255),
                  std::clamp<int64_t>(int64_t{exact_multiply(acc, f)} + zp, 0, 255));
    }
  }
}

TEST(Requantize, RandomWithinOneOfRealProduct) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int32_t> any(kMin, kMax);
  std::uniform_real_distribution<double> log2m(-40.0, 30.0);
  std::uniform_int_distribution<int32_t> zp(0, 255);
  for (int i = 0; i < 1'000'000; ++i) {
    const double m = std::exp2(log2m(rng));
    const FixedMultiplier f = quantize_multiplier(m);
    // Small accumulators are the common case; draw half of them from the full range and half from +-2^20.
    const int32_t acc = (i % 2) ? any(rng) : any(rng) >> 11;
    const int32_t raw = multiply_by_fixed(acc, f);
    ASSERT_EQ(raw, exact_multiply(acc, f)) << acc << " * " << m;
    const long double exact = static_cast<long double>(acc) * static_cast<long double>(m);
    // In the raw int32 domain the bound needs no saturation: neither of the product nor of the left shift
    // that multipliers >= 1 apply to the accumulator first.
    const long double shifted = static_cast<long double>(acc) * std::ldexp(1.0L, std::max(0, -f.right_shift));
    if (std::fabs(exact) < 2147483000.0L && std::fabs(shifted) < 2147483000.0L) {
      ASSERT_LE(std::fabs(static_cast<long double>(raw) - std::nearbyint(exact)), 1.0L) << acc << " * " << m;
    }
    // In the 8-bit output domain the bound holds everywhere, saturation included.
    const int32_t z = zp(rng);
    const long double expected = std::clamp(std::nearbyint(exact) + z, 0.0L, 255.0L);
    ASSERT_LE(std::fabs(requantize(acc, f, z, 0, 255) - expected), 1.0L) << acc << " * " << m << " + " << z;
  }
}

// The single-rounding constants the AVX-512 epilogues use (ChannelRequant::fused_*), evaluated in plain
// 64-bit arithmetic, against requantize(): every shift the form accepts, accumulators at and around the
// rounding ties and the int32 ends, every zero point corner and clamp.
TEST(FusedRequant, SameAsRequantizeForEveryAcceptedShift) {
  std::mt19937_64 rng(11);
  int checked_blocks = 0;
  int64_t uncorrected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    ConvRequant rq;
    rq.output_zero_point = trial % 3 == 0 ? (trial % 2 ? 0 : 255) : static_cast<int32_t>(rng() % 256);
    rq.clamp = trial % 4 == 0 ? Clamp{static_cast<int32_t>(rng() % 100), 200} : Clamp{};
    for (int c = 0; c < 16; ++c) {
      // log-uniform multipliers from 2^-24 to 2: shifts 0..23 (23 is past the limit) and a left shift.
      const double m = std::exp2(-24.0 + 25.0 * std::uniform_real_distribution<double>(0, 1)(rng));
      rq.multipliers.push_back(quantize_multiplier(std::min(m, 1.9)));
      rq.weight_zero_points.push_back(0);
    }
    const ChannelRequant cr = make_channel_requant(rq, 16);
    if (!cr.fused_ok[0]) continue;
    ++checked_blocks;
    for (int c = 0; c < 16; ++c) {
      const auto slot = static_cast<size_t>(c / 2 + (c % 2) * 8);
      const FixedMultiplier m = rq.multipliers[static_cast<size_t>(c)];
      const int s = m.right_shift;
      std::vector<int32_t> accs = {0, 1, -1, kMin, kMax, kMin + 1, kMax - 1};
      for (int k = 0; k < 2000; ++k)
        accs.push_back(static_cast<int32_t>(rng()));
      // Values whose product lands next to a rounding step of the shift: the ties.
      for (int k = -3; k <= 3; ++k)
        for (int64_t q : {int64_t{1}, int64_t{-1}, int64_t{5}, int64_t{-5}, int64_t{1000}, int64_t{-1000}}) {
          const i128 target = (static_cast<i128>(2 * q + 1) << (30 + s));  // (q + 1/2) * 2^(31+s)
          const i128 acc = target / m.multiplier + k;
          if (acc >= kMin && acc <= kMax) accs.push_back(static_cast<int32_t>(acc));
        }
      for (const int32_t acc : accs) {
        // As the kernel computes it: the high half of Y, less the borrow of the tie correction, shifted.
        const int64_t y = static_cast<int64_t>(acc) * m.multiplier + cr.fused_round[slot];
        const int64_t high = y >> 32, low = y & 0xFFFFFFFF;
        const bool borrow = acc < cr.fused_threshold[static_cast<size_t>(c)] && low < (int64_t{1} << 31);
        const int64_t shift = cr.fused_shift[static_cast<size_t>(c)];
        const int32_t want = requantize(acc, m, rq.output_zero_point, rq.clamp.min, rq.clamp.max);
        const int64_t fused =
            std::clamp<int64_t>((high - (borrow ? 1 : 0)) >> shift, rq.clamp.min, rq.clamp.max);
        ASSERT_EQ(fused, want) << "acc " << acc << " M0 " << m.multiplier << " shift " << s << " zp "
                               << rq.output_zero_point;
        // Where the clamp makes the correction moot, the kernels leave it out.
        if (cr.fused_skip_correction) {
          ASSERT_EQ(std::clamp<int64_t>(high >> shift, rq.clamp.min, rq.clamp.max), want)
              << "uncorrected, acc " << acc << " M0 " << m.multiplier << " shift " << s;
          ++uncorrected;
        }
      }
    }
  }
  EXPECT_GT(checked_blocks, 5);
  EXPECT_GT(uncorrected, 1000);
}

}  // namespace
}  // namespace octet
