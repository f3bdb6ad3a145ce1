// The neon_dotprod peak: 16 independent SDOT accumulator chains on registers only (16 MACs each).
// Compiled with -march=armv8.2-a+dotprod; only called after the CPU check.
#include <arm_neon.h>

#include "kernels/arm/peak_sink.h"
#include "kernels/peak.h"

namespace octet {

double peak_loop_neon_dotprod(long iterations) {
  int32x4_t acc[16];
  for (auto& a : acc)
    a = vdupq_n_s32(0);
  int8x16_t x = vdupq_n_s8(3);
  const int8x16_t y = vdupq_n_s8(1);
  for (long i = 0; i < iterations; ++i) {
    for (auto& a : acc)
      a = vdotq_laneq_s32(a, x, y, 0);
    __asm__ volatile("" : "+w"(x));
  }
  const int32_t s = arm::peak_sink(acc);
  __asm__ volatile("" : : "r"(s));
  return static_cast<double>(iterations) * 16 * 16;
}

}  // namespace octet
