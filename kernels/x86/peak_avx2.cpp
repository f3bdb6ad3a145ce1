// The exact AVX2 path's peak: independent vpmaddwd + vpaddd chains on registers only (16 MACs each).
// Each chain multiplies its own accumulator, so no two vpmaddwd have the same operands (the compiler would
// compute a shared product once). AVX2 has 16 ymm registers: 12 chains leave room for the multiplier and
// the product, and one asm statement per iteration keeps every accumulator in its register (with 16
// chains written in intrinsics GCC spilled them to the stack, and the loop measured two thirds of what
// the GEMM reaches).
#include <immintrin.h>

#include <cstdint>

#include "kernels/peak.h"

namespace octet {

double peak_loop_avx2(long iterations) {
  // Twelve chains in twelve named registers, one asm statement per iteration.
  __m256i a0 = _mm256_set1_epi32(1), a1 = _mm256_set1_epi32(2), a2 = _mm256_set1_epi32(3),
          a3 = _mm256_set1_epi32(4), a4 = _mm256_set1_epi32(5), a5 = _mm256_set1_epi32(6),
          a6 = _mm256_set1_epi32(7), a7 = _mm256_set1_epi32(8), a8 = _mm256_set1_epi32(9),
          a9 = _mm256_set1_epi32(10), a10 = _mm256_set1_epi32(11), a11 = _mm256_set1_epi32(12);
  const __m256i y = _mm256_set1_epi32(0x00030004);
  for (long i = 0; i < iterations; ++i) {
    __m256i product;
    __asm__(
        "vpmaddwd %[y], %[a0], %[p]\n\tvpaddd %[p], %[a0], %[a0]\n\t"
        "vpmaddwd %[y], %[a1], %[p]\n\tvpaddd %[p], %[a1], %[a1]\n\t"
        "vpmaddwd %[y], %[a2], %[p]\n\tvpaddd %[p], %[a2], %[a2]\n\t"
        "vpmaddwd %[y], %[a3], %[p]\n\tvpaddd %[p], %[a3], %[a3]\n\t"
        "vpmaddwd %[y], %[a4], %[p]\n\tvpaddd %[p], %[a4], %[a4]\n\t"
        "vpmaddwd %[y], %[a5], %[p]\n\tvpaddd %[p], %[a5], %[a5]\n\t"
        "vpmaddwd %[y], %[a6], %[p]\n\tvpaddd %[p], %[a6], %[a6]\n\t"
        "vpmaddwd %[y], %[a7], %[p]\n\tvpaddd %[p], %[a7], %[a7]\n\t"
        "vpmaddwd %[y], %[a8], %[p]\n\tvpaddd %[p], %[a8], %[a8]\n\t"
        "vpmaddwd %[y], %[a9], %[p]\n\tvpaddd %[p], %[a9], %[a9]\n\t"
        "vpmaddwd %[y], %[a10], %[p]\n\tvpaddd %[p], %[a10], %[a10]\n\t"
        "vpmaddwd %[y], %[a11], %[p]\n\tvpaddd %[p], %[a11], %[a11]\n\t"
        : [a0] "+x"(a0), [a1] "+x"(a1), [a2] "+x"(a2), [a3] "+x"(a3), [a4] "+x"(a4), [a5] "+x"(a5),
          [a6] "+x"(a6), [a7] "+x"(a7), [a8] "+x"(a8), [a9] "+x"(a9), [a10] "+x"(a10), [a11] "+x"(a11),
          [p] "=&x"(product)
        : [y] "x"(y));
  }
  uint32_t sink = 0;  // unsigned: the sums wrap, which signed ints may not
  for (const __m256i a : {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11})
    sink += static_cast<uint32_t>(_mm256_extract_epi32(a, 0));
  __asm__ volatile("" : : "r"(sink));
  return static_cast<double>(iterations) * 12 * 16;
}

}  // namespace octet
