// The uint8 average pool (kernels/pooling/average_pool_rows.h) at AVX-512 width: the window sums vectorised
// by the compiler, each pixel's requantization 16 channels at a time, the fixed-point mode through the fused
// step of the quantized add and mul (x86::FusedStep16), the float mode as the convolution epilogue's
// (convert, multiply, clamp, round half to even, zero point). Compiled with AVX-512 flags; only called after
// the CPU check.

#include <immintrin.h>

#include "kernels/pooling/average_pool_rows.h"
#include "kernels/x86/fused_step_avx512.h"

namespace octet::pooling {

void average_pool_avx512(const AveragePool& a, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
                         int64_t c, uint8_t* output) {
  const __m512i lo = _mm512_set1_epi32(a.clamp.min), hi = _mm512_set1_epi32(a.clamp.max);
  const __m512 float_lo = _mm512_set1_ps(static_cast<float>(a.clamp.min - a.output_zero_point));
  const __m512 float_hi = _mm512_set1_ps(static_cast<float>(a.clamp.max - a.output_zero_point));
  const __m512i zero_point = _mm512_set1_epi32(a.output_zero_point);
  const __m128i shift = _mm_cvtsi32_si128(a.shift);
  const bool float_mode = !a.float_scales.empty(), fused = !a.fused.empty();
  average_pool_rows(a, input, n, ih, iw, c, output,
                    [&](size_t entry, const int32_t* sums, int32_t offset, int64_t channels, uint8_t* out) {
                      const __m512i minus = _mm512_set1_epi32(offset);
                      int64_t ch = 0;
                      // Clamped to [0, 255] or narrower: the truncating narrowing keeps every value.
                      auto store = [&](__m512i q) {
                        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + ch), _mm512_cvtepi32_epi8(q));
                      };
                      auto load = [&] { return _mm512_sub_epi32(_mm512_loadu_si512(sums + ch), minus); };
                      if (float_mode) {
                        const __m512 scale = _mm512_set1_ps(a.float_scales[entry]);
                        for (; ch + 16 <= channels; ch += 16) {
                          __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(load()), scale);
                          v = _mm512_min_ps(_mm512_max_ps(v, float_lo), float_hi);
                          store(_mm512_add_epi32(_mm512_cvtps_epi32(v), zero_point));
                        }
                      } else if (fused) {
                        const x86::FusedStep16<x86::StepForm::any> step(a.fused[entry]);
                        for (; ch + 16 <= channels; ch += 16) {
                          const __m512i q = step(_mm512_sll_epi32(load(), shift));
                          store(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi));
                        }
                      }
                      requantize_sums(a, entry, sums + ch, offset, channels - ch, out + ch);
                    });
}

}  // namespace octet::pooling
