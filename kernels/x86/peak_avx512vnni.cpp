// The VNNI peak: 16 independent vpdpbusd accumulator chains on registers only (64 MACs each), through
// x86::dpbusd: with the intrinsic GCC 12 copied every accumulator around its instruction and stored some
// to the stack, and the loop measured about two thirds of what the convolutions reach.
#include <immintrin.h>

#include <cstdint>

#include "kernels/peak.h"
#include "kernels/x86/accumulate_avx512.h"

namespace octet {

double peak_loop_avx512vnni(long iterations) {
  __m512i acc[16];
  for (auto& a : acc)
    a = _mm512_setzero_si512();
  __m512i x = _mm512_set1_epi32(0x01020304);
  const __m512i y = _mm512_set1_epi32(0x01010101);
  for (long i = 0; i < iterations; ++i) {
    for (auto& a : acc)
      a = x86::dpbusd(a, x, y);
    __asm__ volatile("" : "+v"(x));  // keeps the loop from being folded away
  }
  uint32_t sink = 0;  // unsigned: the sums wrap, which signed ints may not
  for (auto& a : acc)
    sink += static_cast<uint32_t>(_mm512_reduce_add_epi32(a));
  __asm__ volatile("" : : "r"(sink));
  return static_cast<double>(iterations) * 16 * 64;
}

}  // namespace octet
