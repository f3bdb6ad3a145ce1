// The vector quantized add of kernels/elementwise/quantized_add.h, 16 lanes per zmm: each lane's value
// multiplies as int32 x int32 -> int64 in the even and odd halves of the register (vpmuldq), is rounded and
// shifted in 64 bits, and comes back to its 32-bit lane. Compiled with AVX-512 flags.

#include <immintrin.h>

#include "kernels/elementwise/quantized_add.h"

namespace octet::elementwise {

namespace {

// One fixed-point step, per-tensor constants, with `offset` (a zero point) added to the result.
struct FusedStep {
  __m512i m0, round, correction, threshold;
  __m128i shift;

  FusedStep(FixedMultiplier m, int32_t offset) {
    const int s = m.right_shift;
    m0 = _mm512_set1_epi64(m.multiplier);
    const int64_t half_up = s >= 1 ? int64_t{1} << (30 + s) : 0;
    round = _mm512_set1_epi64((int64_t{1} << 30) + half_up + (static_cast<int64_t>(offset) << (31 + s)));
    correction = _mm512_set1_epi64(s >= 1 ? int64_t{1} << 31 : 0);
    threshold = _mm512_set1_epi64(-(int64_t{1} << 30));
    shift = _mm_cvtsi32_si128(31 + s);
  }

  // 8 values in the low dwords of the qwords of x (sign taken from there by vpmuldq).
  __m512i half(__m512i x) const {
    const __m512i product = _mm512_mul_epi32(x, m0);
    const __mmask8 negative = _mm512_cmpgt_epi64_mask(threshold, product);
    __m512i sum = _mm512_add_epi64(product, round);
    sum = _mm512_mask_sub_epi64(sum, negative, sum, correction);
    return _mm512_sra_epi64(sum, shift);
  }

  __m512i operator()(__m512i x) const {
    const __m512i even = half(x), odd = half(_mm512_srli_epi64(x, 32));
    return _mm512_mask_blend_epi32(__mmask16(0xAAAA), even, _mm512_slli_epi64(odd, 32));
  }
};

}  // namespace

void add_rows_avx512(const ref::AddConstants& k, Clamp clamp, const uint8_t* a, const uint8_t* b,
                     uint8_t* out, int64_t n) {
  const FusedStep step_a(k.a, 0), step_b(k.b, 0), step_out(k.out, k.zo);
  const __m512i za = _mm512_set1_epi32(k.za), zb = _mm512_set1_epi32(k.zb);
  const __m512i lo = _mm512_set1_epi32(clamp.min), hi = _mm512_set1_epi32(clamp.max);
  auto sixteen = [&](__m128i va, __m128i vb) {
    const __m512i x = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_cvtepu8_epi32(va), za), ref::kAddLeftShift);
    const __m512i y = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_cvtepu8_epi32(vb), zb), ref::kAddLeftShift);
    const __m512i sum = _mm512_add_epi32(step_a(x), step_b(y));
    return _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(step_out(sum), lo), hi));
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     sixteen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)),
                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i))));
  if (i < n) {
    const auto keep = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm_mask_storeu_epi8(out + i, keep,
                         sixteen(_mm_maskz_loadu_epi8(keep, a + i), _mm_maskz_loadu_epi8(keep, b + i)));
  }
}

}  // namespace octet::elementwise
