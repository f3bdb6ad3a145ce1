#pragma once

// The float lane primitives every float kernel and reference builds on, one overload for float and one for
// xsimd::batch<float, A> each, so that a definition written once on T gives the same bits in a scalar
// register and in every SIMD lane (kernels/reference/float_math.h, float_elementwise_ops.h) and the vector
// kernels (kernels/simd/float_lanes.h) compute what their references compute.
//
// xsimd 8.1 is not that everywhere, so these replace it where it differs:
//  - fma rounds once, as std::fma: xsimd::fma is x * y + z (two roundings, and -ffp-contract=off keeps
//    them) on its plain avx2 and avx512 archs, so the FMA instruction is called directly; an arch without
//    an overload below does not compile instead of silently rounding twice;
//  - division and square root are the IEEE operations: xsimd 8.1 computes both on NEON from reciprocal
//    estimates and Newton steps; NEON uses FDIV / FSQRT;
//  - is_nan is !(x == x): xsimd's batch != is an ordered compare on x86 (false for NaN);
//  - neg flips the sign bit: xsimd's AVX-512 negation is 0 - x, which loses the sign of zero.
//
// Calls between these functions are qualified (simd::select): unqualified, argument-dependent lookup would
// also find xsimd's own functions of the same names for batches, and prefer them.
//
// The scalar overloads are for the portable translation units: a per-ISA translation unit (compiled with
// its ISA's flags) instantiates only batch forms, templates on the arch, so that no inline function it
// compiles can stand in for the portable build's copy at link time. Its scalar steps go through
// simd::Lanes<Arch> (float_lanes.h), whose members are its own.

#include <xsimd/xsimd.hpp>

#include <bit>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <type_traits>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__FMA__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace octet::simd {

// Bit patterns and comparison masks of T.
template <class T>
struct LaneTypes;
template <>
struct LaneTypes<float> {
  using Bits = uint32_t;
  using Mask = bool;
};
template <class A>
struct LaneTypes<xsimd::batch<float, A>> {
  using Bits = xsimd::batch<uint32_t, A>;
  using Mask = xsimd::batch_bool<float, A>;
};
template <class T>
using Bits = typename LaneTypes<T>::Bits;
template <class T>
using Mask = typename LaneTypes<T>::Mask;

template <class T>
inline constexpr bool kIsBatch = !std::is_same_v<T, float>;

// Scalar forms.
inline float fma(float a, float b, float c) {
  return std::fma(a, b, c);
}
inline float div(float a, float b) {
  return a / b;
}
inline float sqrt(float a) {
  return std::sqrt(a);
}
inline float select(bool m, float a, float b) {
  return m ? a : b;
}
inline uint32_t bits(float x) {
  return std::bit_cast<uint32_t>(x);
}
inline float from_bits(uint32_t b) {
  return std::bit_cast<float>(b);
}
inline bool any(bool m) {
  return m;
}

// Batch forms.
template <class A>
inline xsimd::batch<float, A> select(const xsimd::batch_bool<float, A>& m, const xsimd::batch<float, A>& a,
                                     const xsimd::batch<float, A>& b) {
  return xsimd::select(m, a, b);
}
template <class A>
inline xsimd::batch<uint32_t, A> bits(const xsimd::batch<float, A>& x) {
  return xsimd::bitwise_cast<xsimd::batch<uint32_t, A>>(x);
}
template <class A>
inline xsimd::batch<float, A> from_bits(const xsimd::batch<uint32_t, A>& b) {
  return xsimd::bitwise_cast<xsimd::batch<float, A>>(b);
}
template <class A>
inline bool any(const xsimd::batch_bool<float, A>& m) {
  return xsimd::any(m);
}

#if defined(__AVX512F__)
template <class A>
requires std::derived_from<A, xsimd::avx512f>
inline xsimd::batch<float, A> fma(const xsimd::batch<float, A>& a, const xsimd::batch<float, A>& b,
                                  const xsimd::batch<float, A>& c) {
  return _mm512_fmadd_ps(a, b, c);
}
#endif
#if defined(__FMA__)
template <class A>
requires std::derived_from<A, xsimd::avx>
inline xsimd::batch<float, A> fma(const xsimd::batch<float, A>& a, const xsimd::batch<float, A>& b,
                                  const xsimd::batch<float, A>& c) {
  return _mm256_fmadd_ps(a, b, c);
}
#endif
// x < lo ? lo : x, NaN staying NaN (the lower half of clamp): one MAXPS on x86, whose result is its second
// operand where either is NaN or both are zeros, so the same bits as the select. (NEON's FMAX orders -0
// below +0 and quiets NaNs: the select there.)
inline float at_least(float x, float lo) {
  return x < lo ? lo : x;
}
#if defined(__AVX512F__)
template <class A>
requires std::derived_from<A, xsimd::avx512f>
inline xsimd::batch<float, A> at_least(const xsimd::batch<float, A>& x, const xsimd::batch<float, A>& lo) {
  return _mm512_max_ps(lo, x);
}
#endif
#if defined(__AVX2__)
template <class A>
requires std::derived_from<A, xsimd::avx2>
inline xsimd::batch<float, A> at_least(const xsimd::batch<float, A>& x, const xsimd::batch<float, A>& lo) {
  return _mm256_max_ps(lo, x);
}
#endif
#if defined(__aarch64__)
template <class A>
requires std::derived_from<A, xsimd::neon64>
inline xsimd::batch<float, A> at_least(const xsimd::batch<float, A>& x, const xsimd::batch<float, A>& lo) {
  return xsimd::select(x < lo, lo, x);
}
#endif

// m 2^floor(y) rounded once, in one instruction where the ISA has one (AVX-512's VSCALEFPS; kHasScalef);
// exp computes the same correctly rounded product in steps elsewhere, so the same bits.
template <class T>
inline constexpr bool kHasScalef = false;
template <class T>
T scalef(const T& m, const T& y);  // defined only where kHasScalef<T>
#if defined(__AVX512F__)
template <class A>
requires std::derived_from<A, xsimd::avx512f>
inline constexpr bool kHasScalef<xsimd::batch<float, A>> = true;
template <class A>
requires std::derived_from<A, xsimd::avx512f>
inline xsimd::batch<float, A> scalef(const xsimd::batch<float, A>& m, const xsimd::batch<float, A>& y) {
  return _mm512_scalef_ps(m, y);
}
#endif

// table[index mod 8] in each lane, for a table of 8 floats stored twice over (16 floats):
// one permute on AVX2 and on AVX-512 (whose 16-lane permute reads index bit 3 too, hence the second copy),
// one two-register byte table lookup on NEON. Every form reads the same entry, so the same bits.
inline float lookup8(const float (&table)[16], uint32_t index) {
  return table[index & 7u];
}
#if defined(__AVX512F__)
template <class A>
requires std::derived_from<A, xsimd::avx512f>
inline xsimd::batch<float, A> lookup8(const float (&table)[16], const xsimd::batch<uint32_t, A>& index) {
  return _mm512_permutexvar_ps(index, _mm512_loadu_ps(table));
}
#endif
#if defined(__AVX2__)
template <class A>
requires std::derived_from<A, xsimd::avx2>
inline xsimd::batch<float, A> lookup8(const float (&table)[16], const xsimd::batch<uint32_t, A>& index) {
  return _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), index);
}
#endif
#if defined(__aarch64__)
template <class A>
requires std::derived_from<A, xsimd::neon64>
inline xsimd::batch<float, A> lookup8(const float (&table)[16], const xsimd::batch<uint32_t, A>& index) {
  // Byte indices 4i, 4i + 1, 4i + 2, 4i + 3 of entry i, into the 32 bytes of the table's first copy.
  const uint32x4_t entry = vandq_u32(index, vdupq_n_u32(7u));
  const uint8x16_t bytes =
      vreinterpretq_u8_u32(vmlaq_u32(vdupq_n_u32(0x03020100u), entry, vdupq_n_u32(0x04040404u)));
  const uint8x16x2_t values = {vld1q_u8(reinterpret_cast<const uint8_t*>(table)),
                               vld1q_u8(reinterpret_cast<const uint8_t*>(table + 4))};
  return vreinterpretq_f32_u8(vqtbl2q_u8(values, bytes));
}
#endif

#if defined(__x86_64__)
template <class A>
inline xsimd::batch<float, A> div(const xsimd::batch<float, A>& a, const xsimd::batch<float, A>& b) {
  return a / b;  // DIVPS
}
template <class A>
inline xsimd::batch<float, A> sqrt(const xsimd::batch<float, A>& a) {
  return xsimd::sqrt(a);  // SQRTPS
}
#endif
#if defined(__aarch64__)
template <class A>
requires std::derived_from<A, xsimd::neon64>
inline xsimd::batch<float, A> fma(const xsimd::batch<float, A>& a, const xsimd::batch<float, A>& b,
                                  const xsimd::batch<float, A>& c) {
  return vfmaq_f32(c, a, b);
}
template <class A>
requires std::derived_from<A, xsimd::neon64>
inline xsimd::batch<float, A> div(const xsimd::batch<float, A>& a, const xsimd::batch<float, A>& b) {
  return vdivq_f32(a, b);
}
template <class A>
requires std::derived_from<A, xsimd::neon64>
inline xsimd::batch<float, A> sqrt(const xsimd::batch<float, A>& a) {
  return vsqrtq_f32(a);
}
#endif

// Written once on T.

inline constexpr uint32_t kSignBit = 0x80000000u;

template <class T>
inline Mask<T> is_nan(T x) {
  return !(x == x);
}
template <class T>
inline T neg(T x) {
  return simd::from_bits(simd::bits(x) ^ Bits<T>(kSignBit));
}
template <class T>
inline T abs(T x) {
  return simd::from_bits(simd::bits(x) & Bits<T>(~kSignBit));
}
// |y| with the sign of x.
template <class T>
inline T copy_sign(T y, T x) {
  return simd::from_bits((simd::bits(y) & Bits<T>(~kSignBit)) | (simd::bits(x) & Bits<T>(kSignBit)));
}
// FloatClamp::apply: x < lo ? lo : (x > hi ? hi : x); NaN stays NaN.
template <class T>
inline T clamp(T x, T lo, T hi) {
  return simd::select(x < lo, lo, simd::select(x > hi, hi, x));
}
// The max / min of the reductions and pooling: a NaN wins (the first of two), otherwise the larger
// (smaller); of two equal values (+0 and -0 included) the second.
template <class T>
inline T max_propagating_nan(T a, T b) {
  return simd::select((a > b) || simd::is_nan(a), a, b);
}
template <class T>
inline T min_propagating_nan(T a, T b) {
  return simd::select((a < b) || simd::is_nan(a), a, b);
}

}  // namespace octet::simd
