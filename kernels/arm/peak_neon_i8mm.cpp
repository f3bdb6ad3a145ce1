// The neon_i8mm peak: 16 independent USMMLA accumulator chains on registers only (32 MACs each).
// Compiled with -march=armv8.2-a+dotprod+i8mm; only called after the CPU check.
#include <arm_neon.h>

#include "kernels/arm/peak_chains.h"
#include "kernels/peak.h"

namespace octet {

double peak_loop_neon_i8mm(long iterations) {
  return arm::peak_chains(iterations, vdupq_n_u8(3), vdupq_n_s8(1), 16 * 32,
                          [](int32x4_t(&acc)[16], uint8x16_t x, int8x16_t y) {
                            for (auto& a : acc)
                              a = vusmmlaq_s32(a, x, y);
                          });
}

}  // namespace octet
