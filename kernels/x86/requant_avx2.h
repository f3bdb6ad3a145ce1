#pragma once

// The fixed-point requantization of 8 int32 accumulators in AVX2 registers, shared by the AVX2 kernels.
// Include only from files compiled with AVX2 flags.

#include <immintrin.h>

#include <cstdint>

#include "kernels/quantization/channel_requant.h"

namespace octet::x86 {

// The high-half form of ChannelRequant::fused_* (kernels/quantization/channel_requant.h proves it; the
// AVX-512 twin is fused_high_half in requant_avx512.h) on the 8 lanes of x: the even lanes' M0 and rounding
// constant in the low dword / the qword of each 64-bit element of m0_even and round_even, the odd lanes' in
// m0_odd and round_odd. One 64-bit multiply and add per lane; the high halves of both parities come together
// in one blend, then one 32-bit shift; the tie correction (a compare, a sign test and an add of the -1 mask)
// only when `corrects`.
[[gnu::always_inline]] inline __m256i fused_high_half(__m256i x, __m256i m0_even, __m256i m0_odd,
                                                      __m256i round_even, __m256i round_odd, __m256i shift,
                                                      bool corrects, __m256i threshold) {
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, m0_even), round_even);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), m0_odd), round_odd);
  __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0b10101010);
  if (corrects) {
    const __m256i low = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0b10101010);
    // -1 where x < threshold and the low half is below 2^31 (its top bit clear): the borrow.
    const __m256i borrow = _mm256_andnot_si256(_mm256_srai_epi32(low, 31), _mm256_cmpgt_epi32(threshold, x));
    high = _mm256_add_epi32(high, borrow);
  }
  return _mm256_srav_epi32(high, shift);
}

// Channels [n, n + 8), bit-exact with requantize(): clamp(z + rdbpot(srdhm(sat_shl(acc, left), M0), right)).
// Per-channel constants are loaded once and reused for every row.
// In float mode (ChannelRequant::float_mode) bit-exact with requantize_float() instead: convert, multiply by
// the float32 scale, clamp, round half to even (the default MXCSR mode), add the zero point.
struct Requant8 {
  __m256i bias, zw, m0_even, m0_odd, left_even, left_odd, right, mask, half, lo_clamp, hi_clamp, zp;
  __m256 scale, lo_float, hi_float;
  bool shifts_left, has_zw, float_mode;

  [[gnu::always_inline]] Requant8(const ChannelRequant& w, int64_t n, bool with_row_sums) {
    auto load = [](const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
    float_mode = w.float_mode();
    scale = float_mode ? _mm256_loadu_ps(w.scale.data() + n) : _mm256_setzero_ps();
    lo_float = _mm256_set1_ps(static_cast<float>(w.clamp.min - w.output_zero_point));
    hi_float = _mm256_set1_ps(static_cast<float>(w.clamp.max - w.output_zero_point));
    bias = load(w.bias.data() + n);
    has_zw = with_row_sums;
    zw = has_zw ? load(w.weight_zero_point.data() + n) : _mm256_setzero_si256();
    const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFF);
    const __m256i m0 = load(w.multiplier.data() + n), left = load(w.left_shift.data() + n);
    m0_even = _mm256_and_si256(m0, low32);
    m0_odd = _mm256_srli_epi64(m0, 32);
    left_even = _mm256_and_si256(left, low32);
    left_odd = _mm256_srli_epi64(left, 32);
    shifts_left = !_mm256_testz_si256(left, left);
    right = load(w.right_shift.data() + n);
    const __m256i one = _mm256_set1_epi32(1);
    mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    half = _mm256_srli_epi32(mask, 1);
    lo_clamp = _mm256_set1_epi32(w.clamp.min - w.output_zero_point);
    hi_clamp = _mm256_set1_epi32(w.clamp.max - w.output_zero_point);
    zp = _mm256_set1_epi32(w.output_zero_point);
  }

  // 4 lanes, sign-extended to 64 bits: saturating left shift, then the rounding doubling high multiply.
  // AVX2 has no 64-bit arithmetic shift, but the result fits int32, so bits 31..62 of the sum, taken by
  // a logical shift, are the two's-complement answer (in the low half of each qword).
  [[gnu::always_inline]] __m256i high_mul(__m256i x, __m256i m, __m256i left) const {
    if (shifts_left) {
      const __m256i int_min = _mm256_set1_epi64x(INT32_MIN), int_max = _mm256_set1_epi64x(INT32_MAX);
      x = _mm256_sllv_epi64(x, left);
      x = _mm256_blendv_epi8(x, int_max, _mm256_cmpgt_epi64(x, int_max));
      x = _mm256_blendv_epi8(x, int_min, _mm256_cmpgt_epi64(int_min, x));
    }
    const __m256i product = _mm256_mul_epi32(x, m);
    return _mm256_srli_epi64(_mm256_add_epi64(product, _mm256_set1_epi64x(int64_t{1} << 30)), 31);
  }

  // Returns the 8 uint8 results in the low 8 bytes.
  [[gnu::always_inline]] __m128i operator()(__m256i acc, int32_t row_sum) const {
    acc = _mm256_add_epi32(acc, bias);
    if (has_zw) acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(zw, _mm256_set1_epi32(row_sum)));
    if (float_mode) {
      __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
      v = _mm256_min_ps(_mm256_max_ps(v, lo_float), hi_float);
      return pack(_mm256_add_epi32(_mm256_cvtps_epi32(v), zp));
    }
    if (!shifts_left) {
      // vpmuldq reads the signed low dword of each qword: no sign extension needed without a shift.
      const __m256i round = _mm256_set1_epi64x(int64_t{1} << 30);
      const __m256i lo = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(acc, m0_even), round), 31);
      const __m256i hi = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), m0_odd), round);
      return finish(_mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 1), 0b10101010));
    }
    const __m256i sign = _mm256_srai_epi32(acc, 31);
    const __m256i even =
        _mm256_blend_epi32(acc, _mm256_shuffle_epi32(sign, _MM_SHUFFLE(2, 2, 0, 0)), 0b10101010);
    const __m256i odd = _mm256_blend_epi32(_mm256_srli_epi64(acc, 32),
                                           _mm256_shuffle_epi32(sign, _MM_SHUFFLE(3, 3, 1, 1)), 0b10101010);
    const __m256i lo = high_mul(even, m0_even, left_even);
    const __m256i hi = high_mul(odd, m0_odd, left_odd);
    return finish(_mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0b10101010));
  }

  // The rounding shift, clamp and zero point of the high-multiplied x; 8 uint8 in the low 8 bytes.
  [[gnu::always_inline]] __m128i finish(__m256i x) const {
    // Rounding divide by 2^right, ties away from zero.
    const __m256i remainder = _mm256_and_si256(x, mask);
    const __m256i threshold = _mm256_add_epi32(half, _mm256_srli_epi32(x, 31));
    __m256i q = _mm256_srav_epi32(x, right);
    q = _mm256_sub_epi32(q, _mm256_cmpgt_epi32(remainder, threshold));  // the compare gives -1 where true
    q = _mm256_min_epi32(_mm256_max_epi32(q, lo_clamp), hi_clamp);
    return pack(_mm256_add_epi32(q, zp));
  }

  // 8 values in [0, 255]: pack to 16-bit, then 8-bit; in the low 8 bytes.
  [[gnu::always_inline]] static __m128i pack(__m256i q) {
    const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    return _mm_packus_epi16(words, words);
  }
};

// Requant8's fixed-point results through fused_high_half (ChannelRequant::fused_*; FusedRequant16 is the
// AVX-512 twin), for channels [n, n + 8) of a 16-channel block with the fused form (usable()), without row
// sums. Nine constants and about 13 instructions per vector where Requant8 keeps twelve and takes about 20:
// in depthwise layers the epilogue is most of the work. kMayCorrect false (FusedRequant8Uncorrected): the
// tie correction left out at compile time, for ChannelRequant::fused_skip_correction only (no branch on
// `corrects` per vector).
template <bool kMayCorrect>
struct FusedRequantOf8 {
  __m256i bias, m0, m0_odd, round_even, round_odd, shift, threshold, lo, hi;
  bool corrects;

  [[gnu::always_inline]] FusedRequantOf8(const ChannelRequant& w, int64_t n) {
    auto load = [](const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); };
    bias = load(w.bias.data() + n);
    m0 = load(w.multiplier.data() + n);
    m0_odd = _mm256_srli_epi64(m0, 32);
    // fused_round holds a block's even channels n0, n0 + 2, ..., n0 + 14 first, then its odd ones: this
    // half's four of each start half-way into them when n is the block's second half.
    const int64_t in_block = n % ChannelRequant::kFusedBlock;
    const int64_t* rounds = w.fused_round.data() + (n - in_block) + in_block / 2;
    round_even = load(rounds);
    round_odd = load(rounds + ChannelRequant::kFusedBlock / 2);
    shift = load(w.fused_shift.data() + n);
    threshold = load(w.fused_threshold.data() + n);
    lo = _mm256_set1_epi32(w.clamp.min);
    hi = _mm256_set1_epi32(w.clamp.max);
    corrects = kMayCorrect && !w.fused_skip_correction;
  }

  // Whether channels [n, n + 8) (n a multiple of 8) have the fused form.
  [[gnu::always_inline]] static bool usable(const ChannelRequant& w, int64_t n) {
    return !w.fused_ok.empty() && w.fused_ok[static_cast<size_t>(n / ChannelRequant::kFusedBlock)] != 0;
  }

  // Returns the 8 uint8 results in the low 8 bytes.
  [[gnu::always_inline]] __m128i operator()(__m256i acc, int32_t) const {
    const __m256i v = fused_high_half(_mm256_add_epi32(acc, bias), m0, m0_odd, round_even, round_odd, shift,
                                      kMayCorrect && corrects, threshold);
    return Requant8::pack(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi));
  }
};

using FusedRequant8 = FusedRequantOf8<true>;
using FusedRequant8Uncorrected = FusedRequantOf8<false>;

}  // namespace octet::x86
