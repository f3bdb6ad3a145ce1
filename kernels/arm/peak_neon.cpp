// The neon peak: 16 independent SMULL(2) + SADALP accumulator chains on registers only (8 MACs each).
#include <arm_neon.h>

#include "kernels/arm/peak_sink.h"
#include "kernels/peak.h"

namespace octet {

double peak_loop_neon(long iterations) {
  int32x4_t acc[16];
  for (auto& a : acc)
    a = vdupq_n_s32(0);
  int8x16_t x = vdupq_n_s8(3);
  const int8x16_t y = vdupq_n_s8(1);
  for (long i = 0; i < iterations; ++i) {
    for (int j = 0; j < 16; j += 2) {
      acc[j] = vpadalq_s16(acc[j], vmull_s8(vget_low_s8(x), vget_low_s8(y)));
      acc[j + 1] = vpadalq_s16(acc[j + 1], vmull_high_s8(x, y));
    }
    __asm__ volatile("" : "+w"(x));  // keeps the loop from being folded away
  }
  const int32_t s = arm::peak_sink(acc);
  __asm__ volatile("" : : "r"(s));
  return static_cast<double>(iterations) * 16 * 8;
}

}  // namespace octet
