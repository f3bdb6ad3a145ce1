// The exact AVX2 path's peak: 16 independent vpmaddwd + vpaddd chains on registers only (16 MACs each).
// Each chain multiplies its own accumulator, so no two vpmaddwd have the same operands (the compiler would
// compute a shared product once).
#include <immintrin.h>

#include <cstdint>

#include "kernels/peak.h"

namespace octet {

double peak_loop_avx2(long iterations) {
  __m256i acc[16];
  for (int i = 0; i < 16; ++i)
    acc[i] = _mm256_set1_epi32(i + 1);
  const __m256i y = _mm256_set1_epi32(0x00030004);
  for (long i = 0; i < iterations; ++i) {
    for (auto& a : acc)
      a = _mm256_add_epi32(a, _mm256_madd_epi16(a, y));
  }
  uint32_t sink = 0;  // unsigned: the sums wrap, which signed ints may not
  for (auto& a : acc)
    sink += static_cast<uint32_t>(_mm256_extract_epi32(a, 0));
  __asm__ volatile("" : : "r"(sink));
  return static_cast<double>(iterations) * 16 * 16;
}

}  // namespace octet
