// The vector quantized add of kernels/elementwise/quantized_add.h, 16 lanes per zmm: each lane's value
// multiplies as int32 x int32 -> int64 in the even and odd halves of the register (vpmuldq) with the
// rounding constant added, and the high halves come back to 32-bit lanes for the shift. Compiled with
// AVX-512 flags.

#include <immintrin.h>

#include "kernels/elementwise/quantized_add.h"
#include "kernels/quantization/channel_requant.h"

namespace octet::elementwise {

namespace {

// One fixed-point step, per-tensor constants, with `offset` (a zero point) added to the result: the
// high-half form of ChannelRequant::fused_* (kernels/quantization/channel_requant.h). `corrects`: whether
// the tie correction can change a result (see FusedRequant16). A step with s = 0 (the larger input's
// multiplier, 1/2, has it) has no correction and divides by 2^31, not 2^32: its x is doubled first, which
// cannot overflow (|x| < 2^29 in every step of an add).
struct FusedStep {
  __m512i m0, round, threshold;
  __m128i shift;
  bool corrects, doubles;

  FusedStep(FixedMultiplier m, int32_t offset, bool with_correction) {
    const int s = m.right_shift;
    doubles = s == 0;
    m0 = _mm512_set1_epi64(m.multiplier);
    round = _mm512_set1_epi64(doubles ? (int64_t{1} << 31) + (static_cast<int64_t>(offset) << 32)
                                      : (int64_t{1} << 30) + (int64_t{1} << (30 + s)) +
                                            (static_cast<int64_t>(offset) << (31 + s)));
    threshold = _mm512_set1_epi32(fused_tie_threshold(m.multiplier));
    shift = _mm_cvtsi32_si128(doubles ? 0 : s - 1);
    corrects = with_correction && !doubles;
  }

  __m512i operator()(__m512i x) const {
    if (doubles) x = _mm512_add_epi32(x, x);
    const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, m0), round);
    const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), m0), round);
    const __m512i high_index = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    __m512i high = _mm512_permutex2var_epi32(even, high_index, odd);
    if (corrects) {
      const __m512i low_index = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
      const __m512i low = _mm512_permutex2var_epi32(even, low_index, odd);
      const __mmask16 borrow = _mm512_mask_testn_epi32_mask(_mm512_cmplt_epi32_mask(x, threshold), low,
                                                            _mm512_set1_epi32(INT32_MIN));
      high = _mm512_mask_sub_epi32(high, borrow, high, _mm512_set1_epi32(1));
    }
    return _mm512_sra_epi32(high, shift);
  }
};

}  // namespace

void add_rows_avx512(const ref::AddConstants& k, Clamp clamp, const uint8_t* a, const uint8_t* b,
                     uint8_t* out, int64_t n) {
  // The input steps see negative values; the output step's correction only matters below the clamp.
  const FusedStep step_a(k.a, 0, true), step_b(k.b, 0, true), step_out(k.out, k.zo, clamp.min < k.zo);
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
