#pragma once

// The transcendental functions of octet's float kernels: one implementation, templated on T = float or
// xsimd::batch<float, A> (or a simd::Group of batches, kernels/simd/float_group.h), that gives the same bits
// in a scalar register and in every SIMD lane.
//
// Why octet has its own math: every float kernel must produce the same bytes as its scalar reference on
// every ISA and thread count (docs/kernels.md). std::exp and friends come from the C library, whose results
// differ between libm versions and architectures (glibc x86-64 vs aarch64, musl, ...), and xsimd's vector
// math is yet another algorithm, with per-arch differences. So each function here is one fixed sequence of
// IEEE-754 float32 operations: + - * / and sqrt (correctly rounded everywhere), fused multiply-adds,
// comparisons, selects and integer bit manipulation, through the primitives of
// kernels/simd/float_primitives.h (which also say where xsimd 8.1 itself is not that). The same sequence
// rounds the same way wherever it runs.
//
// Method: range reduction (Cody-Waite with fma, exact where the comments say so), then minimax polynomials
// (Remez fits with float32 coefficients, degrees chosen so the approximation error is well below the
// rounding error; exp: a table of 2^(j/8) and a short Taylor polynomial), then reconstruction. Special values
// follow the C library: exp(-inf) = 0, exp(large) = inf, log(0) = -inf, log(x < 0) = NaN, NaN in -> NaN out,
// subnormal inputs and results handled. Accuracy against the correctly rounded result
// (tests/kernels/float_elementwise_test.cpp measures it over millions of points): exp, expm1, log, log1p,
// tanh, sigmoid within 2 ulp (mostly within 1), erf within 2 ulp or 1e-7 absolute, sin / cos within 2 ulp,
// pow within 2 ulp for |y ln x| up to ~90 (the error grows with it, see pow()).
//
// Every call between these functions is qualified (simd::fma, fmath::exp): unqualified, argument-dependent
// lookup would also find xsimd's own exp, abs, ... for batches, and prefer them.
//
// Scalar instantiations run in the reference translation units (no ISA flags); the per-ISA translation
// units instantiate only the batch overloads, so no inline scalar function compiled with AVX flags can be
// picked by the linker for the portable path.

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels/simd/float_group.h"  // declared before the functions below: their qualified calls find it
#include "kernels/simd/float_primitives.h"

namespace octet::fmath {

namespace detail {

using simd::Bits;
using simd::kIsBatch;
using simd::kSignBit;
using simd::Mask;

// c[0] + x (c[1] + x (c[2] + ...)) with fused multiply-adds.
template <class T, size_t N>
inline T horner(T x, const float (&c)[N]) {
  T acc(c[N - 1]);
  for (size_t k = N - 1; k-- > 0;)
    acc = simd::fma(acc, x, T(c[k]));
  return acc;
}

// Adding 1.5 * 2^23 rounds any |v| < 2^22 to the nearest integer (ties to even), which then sits in the low
// mantissa bits; subtracting it again gives that integer as a float.
inline constexpr float kRoundMagic = 0x1.8p23f;

// round(x * k) as a float, x * k rounded once (fused).
template <class T>
inline T nearest_integer_of_product(T x, float k) {
  return simd::fma(x, T(k), T(kRoundMagic)) - T(kRoundMagic);
}

// 2^k for an integral float k in [-126, 127]: k + 127 lands in the low mantissa bits of k + 1.5 * 2^23 + 127
// and is shifted into the exponent field (the magic's own bits shift out).
template <class T>
inline T pow2i(T k) {
  return simd::from_bits(simd::bits(k + T(kRoundMagic + 127.0f)) << 23);
}

// p * 2^n for an integral float n in [-150, 128], in two steps so each power is a normal float: the first
// product is exact, the second rounds once (to a subnormal, or to inf, where the result is one).
template <class T>
inline T scale_by_pow2(T p, T n) {
  // Where every n is in [-125, 127] and p in [1/2, 2) (pow's 1 + hi + tail is within [0.70, 1.42], exp's
  // 2^(j/8) e^r within [0.95, 1.92]), 2^n is normal and p 2^n is exact, as both steps below are: one
  // multiply gives the same bits. A batch takes the two steps when any lane needs them (a NaN n too).
  if (!simd::any(!(n >= T(-125.0f) && n <= T(127.0f)))) return p * detail::pow2i(n);
  const T n1 = (n * T(0.5f) + T(kRoundMagic)) - T(kRoundMagic);
  const T n2 = n - n1;
  return (p * detail::pow2i(n1)) * detail::pow2i(n2);
}

// ln 2 split for exp's reduction: kLn2Hi is float(ln 2); x - n * kLn2Hi is exact under fma for the n exp
// needs (|n| <= 150: the difference is a multiple of 2^-24 below 0.5 in magnitude).
inline constexpr float kLn2Hi = 0x1.62e430p-1f;
inline constexpr float kLn2Lo = -0x1.05c610p-29f;
inline constexpr float kLog2e = 0x1.715476p+0f;

// expm1(r) = r + r^2 h(r) on |r| <= ln(2) / 2 (with margin); h is a degree-5 minimax fit, weighted
// relative error 2^-28.
inline constexpr float kExpm1H[] = {0x1.000000p-1f, 0x1.55552cp-3f,  0x1.555502p-5f,
                                    0x1.1155a8p-7f, 0x1.6d2e4ap-10f, 0x1.3b8acep-13f};

// x = n ln 2 + hi + lo with |hi + lo| <= ln(2) / 2, hi = x - n kLn2Hi exact and lo small (the rest of
// n ln 2, plus `extra`), and tail = lo + r^2 h(r) (r = hi + lo), so that e^x = 2^n (1 + hi + tail). Keeping
// hi apart from the rounded sum saves exp and expm1 most of a rounding.
template <class T>
struct ExpParts {
  T n, hi, tail;
};
template <class T>
inline ExpParts<T> exp_parts(T x, T extra) {
  const T n = detail::nearest_integer_of_product(x, kLog2e);
  const T hi = simd::fma(n, T(-kLn2Hi), x);  // exact
  const T lo = simd::fma(n, T(-kLn2Lo), extra);
  const T r = hi + lo;
  return {n, hi, simd::fma(r * r, detail::horner(r, kExpm1H), lo)};
}

// 1 + hi + tail, the sum 1 + hi kept exact (Fast2Sum: |hi| < 1).
template <class T>
inline T one_plus(T hi, T tail) {
  const T sum = T(1.0f) + hi;
  const T error = (T(1.0f) - sum) + hi;
  return sum + (error + tail);
}

// ln x = hi + lo for finite x > 0 (normal or subnormal), plus `extra` (a small correction term, see log1p),
// to about 2^-31 relative, so pow can multiply it by a large y. x = 2^e m with m in [2^-3/8, 2^5/8), then
// m = c (m / c) with c = 2^(j/4) nearest to m (j in -1..2; c = 1 exactly near 1, so ln stays accurate
// there), and ln(m / c) = 2 atanh(s) = 2s + s^3 T(s^2) with s = (m - c) / (m + c), |s| <= 0.0433, s kept as
// s_hi + s_lo. Then ln x = k ln(2)/4 + (ln c - j ln(2)/4) + 2s + s^3 T(s^2) with k = 4e + j. Garbage
// (never UB) for other x: callers select the special values.
inline constexpr float kLn2QuarterHi = 0x1.62ep-3f;  // 13 significant bits: k kLn2QuarterHi is exact
inline constexpr float kLn2QuarterLo = 0x1.0bfbe8p-17f;
inline constexpr uint32_t kTwoPowMinus3Over8Bits = 0x3f45672au;
// T(z) = (2 atanh(s) - 2s) / s^3, z = s^2: degree-2 minimax fit, weighted relative error 2^-39.
inline constexpr float kAtanhT[] = {0x1.555556p-1f, 0x1.99909ep-2f, 0x1.325450p-2f};

template <class T>
struct LogParts {
  T hi, lo;
};
template <class T>
inline LogParts<T> log_parts(T x, T extra) {
  using B = Bits<T>;
  // Subnormals are scaled into the normal range; the exponent is corrected by 23 below.
  const Mask<T> tiny = x < T(0x1p-126f);
  const T xs = simd::select(tiny, x * T(0x1p23f), x);
  // Offsetting the bits by those of 1 - 2^-3/8 moves the exponent boundary to 2^-3/8.
  const B ib = simd::bits(xs) + B(0x3f800000u - kTwoPowMinus3Over8Bits);
  // The biased exponent (<= 255) as a float, exactly, through the low mantissa bits of 2^23.
  T e = simd::from_bits((ib >> 23) | B(0x4b000000u)) - T(0x1p23f + 127.0f);
  e = simd::select(tiny, e - T(23.0f), e);
  const T m = simd::from_bits((ib & B(0x007fffffu)) + B(kTwoPowMinus3Over8Bits));
  // The nearest c = 2^(j/4) (boundaries 2^-1/8, 2^1/8, 2^3/8), and delta = ln(float c) - j ln(2)/4.
  const Mask<T> j_low = m < T(0x1.d5818ep-1f), j_high = m >= T(0x1.172b84p+0f),
                j_top = m >= T(0x1.4bfdaep+0f);
  const T c =
      simd::select(j_low, T(0x1.ae89fap-1f),
                   simd::select(j_top, T(0x1.6a09e6p+0f), simd::select(j_high, T(0x1.306fe0p+0f), T(1.0f))));
  const T j =
      simd::select(j_low, T(-1.0f), simd::select(j_top, T(2.0f), simd::select(j_high, T(1.0f), T(0.0f))));
  const T delta = simd::select(
      j_low, T(0x1.f9c306p-27f),
      simd::select(j_top, T(-0x1.26055cp-26f), simd::select(j_high, T(-0x1.125002p-25f), T(0.0f))));
  const T k = simd::fma(e, T(4.0f), j);  // exact
  const T f = m - c;                     // exact (Sterbenz)
  // m + c = d_hi + d_lo exactly (TwoSum).
  const T d_hi = m + c;
  const T c_part = d_hi - m;
  const T d_lo = (m - (d_hi - c_part)) + (c - c_part);
  const T s_hi = simd::div(f, d_hi);
  T rem = simd::fma(simd::neg(s_hi), d_hi, f);  // exact remainder of the division
  rem = simd::fma(simd::neg(s_hi), d_lo, rem);
  const T s_lo = simd::div(rem, d_hi);
  const T z = s_hi * s_hi;
  const T tail = (s_hi * z) * detail::horner(z, kAtanhT);
  // k ln(2)/4 + 2 s_hi with its rounding error (Fast2Sum: |k kLn2QuarterHi| >= 0.17 > |2 s_hi| unless
  // k = 0).
  const T a = k * T(kLn2QuarterHi);  // exact
  const T b = s_hi + s_hi;
  const T h = a + b;
  const T err = b - (h - a);
  const T l = err + ((s_lo + s_lo) + simd::fma(k, T(kLn2QuarterLo), (tail + delta) + extra));
  const T hi = h + l;
  return {hi, l - (hi - h)};
}

// The argument reduction of sin / cos: |x| = n pi/2 + r with |r| <= pi/4 (slightly more near 2^17), and
// the quadrant n mod 4 in the low bits of `quadrant`. Below 2^17 a three-part Cody-Waite reduction with fma
// (the first step exact); above, an exact Payne-Hanek reduction (reduce_pi_over_2_large), scalar and out of
// line: such arguments are rare, and one function serving both the reference and every vector lane keeps
// them bit-identical.
inline constexpr float kTwoOverPi = 0x1.45f306p-1f;
inline constexpr float kPiOver2Hi = 0x1.921fb6p+0f;
inline constexpr float kPiOver2Mid = -0x1.777a5cp-25f;
inline constexpr float kPiOver2Lo = -0x1.ee59dap-50f;
inline constexpr float kTrigLargeArgument = 0x1p17f;

// r and quadrant for a finite a >= kTrigLargeArgument (defined in float_math.cpp).
void reduce_pi_over_2_large(float a, float& r, uint32_t& quadrant);

template <class T>
struct TrigReduction {
  T r;
  Bits<T> quadrant;
};
template <class T>
inline TrigReduction<T> reduce_pi_over_2(T a) {
  const T t = simd::fma(a, T(kTwoOverPi), T(kRoundMagic));
  const T n = t - T(kRoundMagic);
  T r = simd::fma(n, T(-kPiOver2Hi), a);  // exact
  r = simd::fma(n, T(-kPiOver2Mid), r);
  r = simd::fma(n, T(-kPiOver2Lo), r);
  Bits<T> quadrant = simd::bits(t);
  const Mask<T> large = (a >= T(kTrigLargeArgument)) && (a <= T(std::numeric_limits<float>::max()));
  if (simd::any(large)) {
    if constexpr (kIsBatch<T>) {
      constexpr size_t kWidth = T::size;
      alignas(64) float av[kWidth], rv[kWidth];
      alignas(64) uint32_t qv[kWidth];
      a.store_aligned(av);
      r.store_aligned(rv);
      quadrant.store_aligned(qv);
      for (size_t i = 0; i < kWidth; ++i)
        if (av[i] >= kTrigLargeArgument && av[i] <= std::numeric_limits<float>::max())
          detail::reduce_pi_over_2_large(av[i], rv[i], qv[i]);
      r = T::load_aligned(rv);
      quadrant = Bits<T>::load_aligned(qv);
    } else {
      detail::reduce_pi_over_2_large(a, r, quadrant);
    }
  }
  return {r, quadrant};
}

// sin r = r + r^3 S(r^2), cos r = 1 + r^2 C(r^2) on |r| <= 1.01 pi/4: degree-3 minimax fits, weighted
// relative errors 2^-32.
inline constexpr float kSinS[] = {-0x1.555556p-3f, 0x1.111172p-7f, -0x1.a056a2p-13f, 0x1.7b587ap-19f};
inline constexpr float kCosC[] = {-0x1.000000p-1f, 0x1.55554ap-5f, -0x1.6c0c14p-10f, 0x1.99de6ap-16f};

template <class T, bool kCosine>
inline T sin_or_cos(T x) {
  using B = Bits<T>;
  auto [r, quadrant] = detail::reduce_pi_over_2(simd::abs(x));
  if constexpr (kCosine) quadrant = quadrant + B(1u);  // cos x = sin(x + pi/2)
  const T z = r * r;
  const T s = simd::fma(r, z * detail::horner(z, kSinS), r);
  const T c = simd::fma(z, detail::horner(z, kCosC), T(1.0f));
  // Odd quadrants take the other function (a float 2.0 where the quadrant is odd), quadrants 2 and 3 negate.
  const T y = simd::select(simd::from_bits((quadrant & B(1u)) << 30) > T(0.0f), c, s);
  B sign = (quadrant & B(2u)) << 30;
  if constexpr (!kCosine) sign = sign ^ (simd::bits(x) & B(kSignBit));  // sin is odd
  return simd::from_bits(simd::bits(y) ^ sign);
}

// tanh x = x + x^3 P(x^2) on |x| < 0.625: degree-5 minimax fit, weighted relative error 2^-32.
inline constexpr float kTanhP[] = {-0x1.555554p-2f, 0x1.11107ap-3f,  -0x1.b9f188p-5f,
                                   0x1.63a550p-6f,  -0x1.0c5ed0p-7f, 0x1.1a2816p-9f};
inline constexpr float kTanhPolynomialBelow = 0.625f;

// erf x = x + x P(x^2) on |x| < 1.25 (degree-8 minimax fit, relative error 2^-30); above, erf x =
// 1 - exp(Q(x - 2)) with Q ~ ln erfc on [1.25, 4] (degree-7 fit, error in erf 2^-30); erf rounds to 1
// beyond 3.92. The split keeps erfc below 0.08 in the second form, where Q's rounding is scaled by it.
inline constexpr float kErfSmallP[] = {0x1.06eba8p-3f,  -0x1.812742p-2f,  0x1.ce2e40p-4f,
                                       -0x1.b81c70p-6f, 0x1.55c194p-8f,   -0x1.b9d4bap-11f,
                                       0x1.d24a16p-14f, -0x1.64cc50p-17f, 0x1.17349ep-21f};
inline constexpr float kErfcLogQ[] = {-0x1.575b32p+2f, -0x1.1ac324p+2f,  -0x1.d8f682p-1f, -0x1.0e0706p-6f,
                                      0x1.d42936p-9f,  -0x1.6b59e2p-11f, 0x1.4d45d8p-13f, -0x1.e3f648p-16f};
inline constexpr float kErfPolynomialBelow = 1.25f;
inline constexpr float kErfcLogCenter = 2.0f;

// exp's reduction to eighths of an octave: x = n ln(2)/8 + r with n = 8k + j (j in 0..7, k = floor(n / 8))
// and |r| <= ln(2)/16 (slightly more: n comes from a rounded product), so e^x = 2^k 2^(j/8) e^r. 2^(j/8) is
// a table entry kept as hi + lo (48 bits), and e^r - 1 = r + r^2 (1/2 + r/6 + r^2/24), whose truncation
// error (r^5/120 < 1.4e-9) is 0.02 ulp. Against the ln(2)/2 reduction with a degree-5 fit this is about
// a quarter fewer vector instructions (no Fast2Sum around 1 + hi), and at most 0.6 ulp before scaling.
//
// The rounding magic carries 127 * 8: t = x 8/ln2 + 1.5 * 2^23 + 1016 keeps n + 1016 in its low mantissa
// bits, whose low 3 bits are j (1016 is a multiple of 8) and whose bits 3..11 are k + 127 (mod 512), the
// biased exponent of 2^k where 2^k is normal (the fast path below). x - n ln(2)/8 with the float nearest
// ln(2)/8 is exact under fma: for n != 0 (|x| > 1/32) both terms are multiples of 2^-28 and the difference is
// below 2^-4 in magnitude, 24 bits at most.
inline constexpr float kExpEighthsMagic = kRoundMagic + 1016.0f;
inline constexpr float kEightOverLn2 = 0x1.715476p+3f;
inline constexpr float kLn2EighthHi = 0x1.62e430p-4f;
inline constexpr float kLn2EighthLo = -0x1.05c610p-32f;
inline constexpr float kExpEighthsP[] = {0x1p-1f, 0x1.555556p-3f, 0x1.555556p-5f};  // 1/2, 1/6, 1/24
// 2^(j/8) = kTwoPowEighthsHi[j] + kTwoPowEighthsLo[j], each table stored twice (simd::lookup8).
alignas(64) inline constexpr float kTwoPowEighthsHi[16] = {
    0x1p+0f,        0x1.172b84p+0f, 0x1.306fe0p+0f, 0x1.4bfdaep+0f, 0x1.6a09e6p+0f, 0x1.8ace54p+0f,
    0x1.ae89fap+0f, 0x1.d5818ep+0f, 0x1p+0f,        0x1.172b84p+0f, 0x1.306fe0p+0f, 0x1.4bfdaep+0f,
    0x1.6a09e6p+0f, 0x1.8ace54p+0f, 0x1.ae89fap+0f, 0x1.d5818ep+0f};
// clang-format off
alignas(64) inline constexpr float kTwoPowEighthsLo[16] = {
    0.0f,             -0x1.c15742p-27f, 0x1.4636e2p-25f,  -0x1.593abcp-25f,
    0x1.9fcef4p-26f,  0x1.15506ep-27f,  -0x1.a94b14p-26f, -0x1.822dbcp-27f,
    0.0f,             -0x1.c15742p-27f, 0x1.4636e2p-25f,  -0x1.593abcp-25f,
    0x1.9fcef4p-26f,  0x1.15506ep-27f,  -0x1.a94b14p-26f, -0x1.822dbcp-27f};
// clang-format on

// e^x for x in [-104, 89] (or NaN) as above. kNonPositive: the caller's x is at most 0, so only the lower
// end of the fast path needs checking (the same bits, one comparison fewer).
template <class T, bool kNonPositive = false>
inline T exp_in_range(T x) {
  using B = Bits<T>;
  const T t = simd::fma(x, T(kEightOverLn2), T(kExpEighthsMagic));
  const T n = t - T(kExpEighthsMagic);
  const T r = simd::fma(n, T(-kLn2EighthLo), simd::fma(n, T(-kLn2EighthHi), x));
  const T p = simd::fma(r * r, detail::horner(r, kExpEighthsP), r);  // e^r - 1
  const B index = simd::bits(t);
  const T entry = simd::lookup8(kTwoPowEighthsHi, index);
  const T m = entry + simd::fma(entry, p, simd::lookup8(kTwoPowEighthsLo, index));  // 2^(j/8) e^r
  // m 2^k rounded once (an exact product unless it overflows or underflows), in one instruction where the
  // ISA has one (n / 8 is exact; scalef takes its floor), else in the steps below, which round it once too.
  if constexpr (simd::kHasScalef<T>) return simd::scalef(m, n * T(0.125f));
  // n in [-1008, 1023] is k in [-126, 127]: 2^k is a normal float, built from t's bits, and m 2^k (m < 2)
  // cannot overflow; it is exact but where k = -126 and m < 1, a subnormal rounded once, as scale_by_pow2
  // rounds it. A batch with any other lane (or NaN) scales as scale_by_pow2 does.
  Mask<T> in_range;
  if constexpr (kNonPositive)
    in_range = n >= T(-1008.0f);
  else
    in_range = n >= T(-1008.0f) && n <= T(1023.0f);
  if (!simd::any(!in_range)) return m * simd::from_bits((index >> 3) << 23);
  // floor(n / 8) = round(n / 8 - 7/16): n / 8 - 7/16 is within 7/16 of it, and both steps are exact.
  const T k = detail::nearest_integer_of_product(n - T(3.5f), 0.125f);
  return detail::scale_by_pow2(m, k);
}

}  // namespace detail

// e^x.
template <class T>
T exp(T x) {
  // Beyond [-104, 89] exp is 0 / inf in float; clamping keeps k in range and scale_by_pow2 rounds to 0 / inf
  // by itself. NaN passes every comparison and stays NaN.
  return detail::exp_in_range(simd::clamp(x, T(-104.0f), T(89.0f)));
}

namespace detail {

// exp(-|x|), as fmath::exp computes it, with the steps that cannot matter for a non-positive argument left
// out: the sign set in one operation, no upper clamp, one bound checked before scaling. The same bits.
template <class T>
inline T exp_of_minus_abs(T x) {
  const T t = simd::from_bits(simd::bits(x) | Bits<T>(kSignBit));
  return detail::exp_in_range<T, true>(simd::at_least(t, T(-104.0f)));
}

}  // namespace detail

// e^x - 1, accurate near 0.
template <class T>
T expm1(T x) {
  using namespace detail;  // types and constants; every call stays qualified
  // expm1 is -1 in float below -17.4; the clamp keeps n in the range below.
  const ExpParts<T> e = detail::exp_parts(simd::clamp(x, T(-30.0f), T(89.0f)), T(0.0f));
  // 2^n (1 + hi + tail) - 1 = 2 ((s - 1/2) + s hi + s tail) with s = 2^(n-1), a normal float for n in
  // [-44, 128]. s - 1/2 is exact for n in [-25, 24] (its rounding is negligible outside), s hi and s tail
  // are exact, and the first sum is kept exact (Fast2Sum: |s - 1/2| >= |s hi| whenever s - 1/2 != 0); the
  // doubling is exact below overflow.
  const T s = detail::pow2i(e.n - T(1.0f));
  const T big = s - T(0.5f);
  const T small = s * e.hi;
  const T sum = big + small;
  const T error = small - (sum - big);
  const T y = T(2.0f) * (sum + (error + s * e.tail));
  // Below 2^-25 expm1 x rounds to x (this keeps -0 and the subnormals exact).
  return simd::select(simd::abs(x) < T(0x1p-25f), x, y);
}

// Natural logarithm.
template <class T>
T log(T x) {
  using namespace detail;  // types and constants; every call stays qualified
  T y = detail::log_parts(x, T(0.0f)).hi;
  y = simd::select(x == T(0.0f), T(-INFINITY), y);
  y = simd::select(x < T(0.0f), T(NAN), y);
  y = simd::select(x == T(INFINITY), x, y);
  return simd::select(simd::is_nan(x), x, y);
}

// ln(1 + x), accurate near 0.
template <class T>
T log1p(T x) {
  using namespace detail;  // types and constants; every call stays qualified
  const T u = T(1.0f) + x;
  // 1 + x = u + c exactly (Fast2Sum with the larger operand first), and ln(u + c) = ln u + c / u.
  const T c = simd::select(x > T(1.0f), T(1.0f) - (u - x), x - (u - T(1.0f)));
  T y = detail::log_parts(u, simd::div(c, u)).hi;
  y = simd::select(x == T(-1.0f), T(-INFINITY), y);
  y = simd::select(x < T(-1.0f), T(NAN), y);
  y = simd::select(x == T(INFINITY), x, y);
  y = simd::select(x == T(0.0f), x, y);  // keeps -0
  return simd::select(simd::is_nan(x), x, y);
}

// Hyperbolic tangent: the odd polynomial near 0, 1 - 2 / (e^{2|x|} + 1) elsewhere (no cancellation there:
// the subtracted term is below 0.45, and it is the quotient by e + 1 kept exact, corrected by its
// remainder), the sign of x.
template <class T>
T tanh(T x) {
  using namespace detail;  // types and constants; every call stays qualified
  const T a = simd::abs(x);
  const T z = a * a;
  const T near_zero = simd::fma(a, z * detail::horner(z, kTanhP), a);
  // tanh is 1 in float beyond 9.01; the clamp keeps e finite.
  const T a_clamped = simd::select(a > T(10.0f), T(10.0f), a);
  const T e = fmath::exp(a_clamped + a_clamped);
  const T d_hi = e + T(1.0f);
  const T d_lo = T(1.0f) - (d_hi - e);  // Fast2Sum: e >= 1
  const T w0 = simd::div(T(2.0f), d_hi);
  // 2 - w0 (d_hi + d_lo), the first fma exact; w0 / 2 ~ 1 / d_hi scales it into the correction of w0.
  const T remainder = simd::fma(simd::neg(w0), d_lo, simd::fma(simd::neg(w0), d_hi, T(2.0f)));
  const T far = T(1.0f) - simd::fma(remainder, w0 * T(0.5f), w0);
  return simd::copy_sign(simd::select(a < T(kTanhPolynomialBelow), near_zero, far), x);
}

// 1 / (1 + e^-x), with e = e^-|x| <= 1 so nothing overflows: 1 / (1 + e) for x >= 0, e / (1 + e) for
// x < 0. The quotient by 1 + e kept exact is corrected by its remainder, times 1.5 - d / 2, within 13% of
// 1 / d on [1, 2], which is plenty for a correction below one ulp: one rounding is left.
template <class T>
T sigmoid(T x) {
  using namespace detail;  // types and constants; every call stays qualified
  const T e = detail::exp_of_minus_abs(x);
  const T d_hi = T(1.0f) + e;
  const T d_lo = e - (d_hi - T(1.0f));  // Fast2Sum: e <= 1
  const T numerator = simd::select(x < T(0.0f), e, T(1.0f));
  const T q = simd::div(numerator, d_hi);
  // numerator - q (d_hi + d_lo), the first fma exact.
  const T remainder = simd::fma(simd::neg(q), d_lo, simd::fma(simd::neg(q), d_hi, numerator));
  return simd::fma(remainder, simd::fma(d_hi, T(-0.5f), T(1.5f)), q);
}

// The error function.
template <class T>
T erf(T x) {
  using namespace detail;  // types and constants; every call stays qualified
  const T a = simd::abs(x);
  const T near_zero = simd::fma(a, detail::horner(a * a, kErfSmallP), a);
  const auto small = a < T(kErfPolynomialBelow);
  // Where every lane is in the polynomial's range (most of GELU's inputs), the other form, which the select
  // below would not pick, is not computed: the same bits, without its exp.
  if (!simd::any(!small)) return simd::copy_sign(near_zero, x);
  const T a_clamped = simd::select(a > T(4.0f), T(4.0f), a);  // erf rounds to 1 beyond 3.92
  const T far = T(1.0f) - fmath::exp(detail::horner(a_clamped - T(kErfcLogCenter), kErfcLogQ));
  return simd::copy_sign(simd::select(small, near_zero, far), x);
}

// Rounding to integral values, exact: adding and removing 2^23 rounds |x| < 2^23 to an integer (ties to
// even); larger floats, infinities and NaN are their own result. Signs (including of zero) as in std::.
template <class T>
T round_half_even(T x) {
  const T a = simd::abs(x);
  return simd::copy_sign(simd::select(a < T(0x1p23f), (a + T(0x1p23f)) - T(0x1p23f), a), x);
}

template <class T>
T floor(T x) {
  const T r = fmath::round_half_even(x);
  return simd::select(r > x, r - T(1.0f), r);
}

template <class T>
T ceil(T x) {
  const T r = fmath::round_half_even(x);
  return simd::copy_sign(simd::select(r < x, r + T(1.0f), r), x);  // -0 for x in (-1, 0)
}

template <class T>
T sin(T x) {
  return detail::sin_or_cos<T, false>(x);
}

template <class T>
T cos(T x) {
  return detail::sin_or_cos<T, true>(x);
}

// x^y with the C library's special cases (ONNX Pow and NumPy follow them): x^0 = 1 and 1^y = 1 even for
// NaN, (-1)^(+-inf) = 1, a negative finite x with a non-integral y gives NaN, an odd integral y keeps the
// sign of x (including -0 and -inf), 0^negative = inf. Otherwise e^(y ln|x|) with ln|x| as a double-float
// (about 2^-31 relative) and y ln|x| as one too, so the error stays below 1 ulp even where the result nears
// overflow or underflow (|y ln x| ~ 90). Exact results such as 2^10 or 3^2 come out exact.
template <class T>
T pow(T x, T y) {
  using namespace detail;  // types and constants; every call stays qualified
  using B = Bits<T>;
  const T ax = simd::abs(x);
  const LogParts<T> ln = detail::log_parts(ax, T(0.0f));
  // y ln|x| = ph + pl.
  const T ph = y * ln.hi;
  T pl = simd::fma(y, ln.lo, simd::fma(y, ln.hi, simd::neg(ph)));
  // Outside [-104, 89] the result is 0 / inf; the clamped exponent gives that, and the low part (NaN for an
  // infinite product) is dropped.
  const T ph_clamped = simd::clamp(ph, T(-104.0f), T(89.0f));
  pl = simd::select(ph_clamped == ph, pl, T(0.0f));
  const ExpParts<T> e = detail::exp_parts(ph_clamped, pl);
  T magnitude = detail::scale_by_pow2(detail::one_plus(e.hi, e.tail), e.n);

  // Integral y (infinities count) and its parity: below 2^23 the integer lands in the low mantissa bits of
  // |y| + 2^23, in [2^23, 2^24) it is |y|'s own last bit, beyond that y is even.
  const T ay = simd::abs(y);
  const Mask<T> y_integral = (ay >= T(0x1p23f)) || ((ay + T(0x1p23f)) - T(0x1p23f) == ay);
  const T parity_source = simd::select(
      y_integral, simd::select(ay < T(0x1p23f), ay + T(0x1p23f), simd::select(ay < T(0x1p24f), ay, T(0.0f))),
      T(0.0f));
  // The sign bit where y is an odd integer and x's sign bit is set.
  const B negate = (simd::bits(parity_source) << 31) & simd::bits(x);

  const T inf(INFINITY), zero(0.0f);
  magnitude = simd::select(ax == zero, simd::select(y < zero, inf, zero), magnitude);
  magnitude = simd::select(ax == inf, simd::select(y < zero, zero, inf), magnitude);
  const Mask<T> grows = ((ax > T(1.0f)) && (y > zero)) || ((ax < T(1.0f)) && (y < zero));
  magnitude = simd::select(ay == inf, simd::select(grows, inf, zero), magnitude);
  T result = simd::from_bits(simd::bits(magnitude) ^ negate);

  const Mask<T> nan = simd::is_nan(x) || simd::is_nan(y) || ((x < zero) && (x > T(-INFINITY)) && !y_integral);
  result = simd::select(nan, T(NAN), result);
  const Mask<T> one = (y == zero) || (x == T(1.0f)) || ((x == T(-1.0f)) && (ay == inf));
  return simd::select(one, T(1.0f), result);
}

}  // namespace octet::fmath
