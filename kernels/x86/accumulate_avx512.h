#pragma once

// VNNI multiply-accumulate into a register that stays put. GCC 12 compiles _mm512_dpbusd_epi32 and
// _mm512_dpwssd_epi32 on register tiles into copies of the accumulator around every instruction (and
// spills under register pressure), which halved the microkernels' speed; the same instruction in a
// one-line asm statement with the accumulator as an in-out operand accumulates in place.
// Include only from files compiled with AVX-512 VNNI flags.

#include <immintrin.h>

namespace octet::x86 {

// acc += sum of the 4 products u8(a) * s8(w) in each 32-bit lane.
inline __m512i dpbusd(__m512i acc, __m512i a, __m512i w) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
  return acc;
}

// acc += sum of the 2 products s16(a) * s16(w) in each 32-bit lane.
inline __m512i dpwssd(__m512i acc, __m512i a, __m512i w) {
  __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
  return acc;
}

}  // namespace octet::x86
