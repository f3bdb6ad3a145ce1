// The uint8 average pool (kernels/pooling/average_pool_rows.h) at AVX2 width: the window sums vectorised by
// the compiler, each pixel's requantization 8 channels at a time, the fixed-point mode through the fused
// step of the quantized add and mul (x86::FusedStep8), the float mode as the convolution epilogue's
// (convert, multiply, clamp, round half to even, zero point). Compiled with AVX2 flags; only called after
// the CPU check.

#include <immintrin.h>

#include "kernels/pooling/average_pool_rows.h"
#include "kernels/x86/fused_step_avx2.h"

namespace octet::pooling {

void average_pool_avx2(const AveragePool& a, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
                       int64_t c, uint8_t* output) {
  const __m256i lo = _mm256_set1_epi32(a.clamp.min), hi = _mm256_set1_epi32(a.clamp.max);
  const __m256 float_lo = _mm256_set1_ps(static_cast<float>(a.clamp.min - a.output_zero_point));
  const __m256 float_hi = _mm256_set1_ps(static_cast<float>(a.clamp.max - a.output_zero_point));
  const __m256i zero_point = _mm256_set1_epi32(a.output_zero_point);
  const __m128i shift = _mm_cvtsi32_si128(a.shift);
  const bool float_mode = !a.float_scales.empty(), fused = !a.fused.empty();
  average_pool_rows(
      a, input, n, ih, iw, c, output,
      [&](size_t entry, const int32_t* sums, int32_t offset, int64_t channels, uint8_t* out) {
        const __m256i minus = _mm256_set1_epi32(offset);
        int64_t ch = 0;
        // Clamped to [0, 255] or narrower: the truncating narrowing keeps every value.
        auto store = [&](__m256i q) {
          const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
          _mm_storel_epi64(reinterpret_cast<__m128i*>(out + ch), _mm_packus_epi16(words, words));
        };
        auto load = [&] {
          return _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums + ch)), minus);
        };
        if (float_mode) {
          const __m256 scale = _mm256_set1_ps(a.float_scales[entry]);
          for (; ch + 8 <= channels; ch += 8) {
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(load()), scale);
            v = _mm256_min_ps(_mm256_max_ps(v, float_lo), float_hi);
            store(_mm256_add_epi32(_mm256_cvtps_epi32(v), zero_point));
          }
        } else if (fused) {
          const x86::FusedStep8<x86::StepForm::any> step(a.fused[entry]);
          for (; ch + 8 <= channels; ch += 8) {
            const __m256i q = step(_mm256_sll_epi32(load(), shift));
            store(_mm256_min_epi32(_mm256_max_epi32(q, lo), hi));
          }
        }
        requantize_sums(a, entry, sums + ch, offset, channels - ch, out + ch);
      });
}

}  // namespace octet::pooling
