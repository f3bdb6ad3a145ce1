// The exact AVX2 path's peak: 16 independent vpmaddwd + vpaddd chains on registers only (16 MACs each).
#include <immintrin.h>

#include "kernels/peak.h"

namespace octet {

double peak_loop_avx2(long iterations) {
  __m256i acc[16];
  for (auto& a : acc)
    a = _mm256_setzero_si256();
  __m256i x = _mm256_set1_epi32(0x00010002);
  const __m256i y = _mm256_set1_epi32(0x00030004);
  for (long i = 0; i < iterations; ++i) {
    for (auto& a : acc)
      a = _mm256_add_epi32(a, _mm256_madd_epi16(x, y));
    __asm__ volatile("" : "+x"(x));
  }
  int sink = 0;
  for (auto& a : acc)
    sink += _mm256_extract_epi32(a, 0);
  __asm__ volatile("" : : "r"(sink));
  return static_cast<double>(iterations) * 16 * 16;
}

}  // namespace octet
