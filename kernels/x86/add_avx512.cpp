// The vector quantized add of kernels/elementwise/quantized_add.h, 16 lanes per zmm: each lane's value
// multiplies as int32 x int32 -> int64 in the even and odd halves of the register (vpmuldq) with the
// rounding constant added, and the high halves come back to 32-bit lanes for the shift. Compiled with
// AVX-512 flags.

#include <immintrin.h>

#include "kernels/elementwise/quantized_add.h"
#include "kernels/quantization/channel_requant.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::elementwise {

namespace {

// One fixed-point step, per-tensor constants, with `offset` (a zero point) added to the result, through
// x86::fused_high_half (the constants of ChannelRequant::fused_*, broadcast). `corrects`: whether the tie
// correction can change a result. A step with s = 0 (the larger input's multiplier, 1/2, has it) has no
// correction and divides by 2^31, not 2^32: its x is doubled first, which cannot overflow (|x| < 2^29 in
// every step of an add).
struct FusedStep {
  __m512i m0, round, threshold, shift;
  bool corrects, doubles;

  FusedStep(FixedMultiplier m, int32_t offset, bool with_correction) {
    const int s = m.right_shift;
    doubles = s == 0;
    m0 = _mm512_set1_epi64(m.multiplier);
    round = _mm512_set1_epi64(doubles ? (int64_t{1} << 31) + (static_cast<int64_t>(offset) << 32)
                                      : (int64_t{1} << 30) + (int64_t{1} << (30 + s)) +
                                            (static_cast<int64_t>(offset) << (31 + s)));
    threshold = _mm512_set1_epi32(fused_tie_threshold(m.multiplier));
    shift = _mm512_set1_epi32(doubles ? 0 : s - 1);
    corrects = with_correction && !doubles;
  }

  __m512i operator()(__m512i x) const {
    if (doubles) x = _mm512_add_epi32(x, x);
    return x86::fused_high_half(x, m0, m0, round, round, shift, corrects, threshold);
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
