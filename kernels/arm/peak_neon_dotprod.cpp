// The neon_dotprod peak: 16 independent SDOT accumulator chains on registers only (16 MACs each).
// Compiled with -march=armv8.2-a+dotprod; only called after the CPU check.
#include <arm_neon.h>

#include "kernels/arm/peak_chains.h"
#include "kernels/peak.h"

namespace octet {

double peak_loop_neon_dotprod(long iterations) {
  return arm::peak_chains(iterations, vdupq_n_s8(3), vdupq_n_s8(1), 16 * 16,
                          [](int32x4_t(&acc)[16], int8x16_t x, int8x16_t y) {
                            for (auto& a : acc)
                              a = vdotq_laneq_s32(a, x, y, 0);
                          });
}

}  // namespace octet
