#pragma once

// Fixed-point requantization: the integer arithmetic that maps an int32 accumulator back to an 8-bit value.
// The semantics are gemmlowp's / TFLite's (docs/quantization.md derives them); every kernel of every ISA
// must reproduce these functions bit for bit, so they are the single definition.

#include <algorithm>
#include <cstdint>
#include <limits>

namespace octet {

// floor((a * b + 2^30) / 2^31): a * b / 2^31 rounded to nearest, ties upwards, saturated: the only
// overflowing input pair, INT32_MIN * INT32_MIN, returns INT32_MAX.
constexpr int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t product = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = product >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // Division truncates towards zero; with the sign-dependent nudge that equals floor((a * b + 2^30) / 2^31).
  return static_cast<int32_t>((product + nudge) / (int64_t{1} << 31));
}

// round(x / 2^exponent), ties away from zero, for exponent in [0, 31].
constexpr int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * 2^shift saturated to int32, for shift in [0, 31].
constexpr int32_t saturating_left_shift(int32_t x, int shift) {
  const int64_t wide = static_cast<int64_t>(x) * (int64_t{1} << shift);
  return static_cast<int32_t>(
      std::clamp<int64_t>(wide, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

// A real multiplier M > 0 as M ~= multiplier * 2^-31 * 2^-right_shift, with multiplier in [2^30, 2^31)
// (Q31 in [0.5, 1)), or multiplier == 0 when M is too small to move any int32 off zero.
// right_shift < 0 means a left shift, for M >= 1.
struct FixedMultiplier {
  int32_t multiplier = 0;
  int right_shift = 0;

  friend bool operator==(const FixedMultiplier&, const FixedMultiplier&) = default;
};

// Decomposes M (finite, > 0, < 2^31) into a FixedMultiplier; throws octet::Error otherwise.
FixedMultiplier quantize_multiplier(double real_multiplier);

// acc * M in the documented fixed-point arithmetic, without offset or clamp. It rounds twice (the high
// multiply, then the shift), as TFLite does, so it can differ from round(acc * M) by 1 when acc * M lies
// within about 2^-(31 - right_shift) of a rounding boundary; callers that need more precision pre-shift acc.
constexpr int32_t multiply_by_fixed(int32_t acc, FixedMultiplier m) {
  const int left = m.right_shift < 0 ? -m.right_shift : 0;
  const int right = m.right_shift > 0 ? m.right_shift : 0;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(saturating_left_shift(acc, left), m.multiplier), right);
}

// For M >= 1 the accumulator is shifted left (saturating) before the multiply, as TFLite does; a saturated
// value is then far outside any 8-bit clamp, so the clamped result is still within 1 of round(acc * M).
// The requantization every int8 kernel ends with:
//   clamp(zp_out + RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc << left, M0), right), qmin,
//   qmax)
constexpr int32_t requantize(int32_t acc, FixedMultiplier m, int32_t zp_out, int32_t qmin, int32_t qmax) {
  // The offset is added in 64 bits: a saturated product plus a zero point must clamp, not wrap.
  const int64_t shifted = static_cast<int64_t>(multiply_by_fixed(acc, m)) + zp_out;
  return static_cast<int32_t>(std::clamp<int64_t>(shifted, qmin, qmax));
}

}  // namespace octet
