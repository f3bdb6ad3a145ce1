// The neon_i8mm peak: 16 independent USMMLA accumulator chains on registers only (32 MACs each).
// Compiled with -march=armv8.2-a+dotprod+i8mm; only called after the CPU check.
#include <arm_neon.h>

#include "kernels/arm/peak_sink.h"
#include "kernels/peak.h"

namespace octet {

double peak_loop_neon_i8mm(long iterations) {
  int32x4_t acc[16];
  for (auto& a : acc)
    a = vdupq_n_s32(0);
  uint8x16_t x = vdupq_n_u8(3);
  const int8x16_t y = vdupq_n_s8(1);
  for (long i = 0; i < iterations; ++i) {
    for (auto& a : acc)
      a = vusmmlaq_s32(a, x, y);
    __asm__ volatile("" : "+w"(x));
  }
  const int32_t s = arm::peak_sink(acc);
  __asm__ volatile("" : : "r"(s));
  return static_cast<double>(iterations) * 16 * 32;
}

}  // namespace octet
