// The neon peak: 16 independent SMULL(2) + SADALP accumulator chains on registers only (8 MACs each).
#include <arm_neon.h>

#include "kernels/arm/peak_chains.h"
#include "kernels/peak.h"

namespace octet {

double peak_loop_neon(long iterations) {
  return arm::peak_chains(iterations, vdupq_n_s8(3), vdupq_n_s8(1), 16 * 8,
                          [](int32x4_t(&acc)[16], int8x16_t x, int8x16_t y) {
                            for (int j = 0; j < 16; j += 2) {
                              acc[j] = vpadalq_s16(acc[j], vmull_s8(vget_low_s8(x), vget_low_s8(y)));
                              acc[j + 1] = vpadalq_s16(acc[j + 1], vmull_high_s8(x, y));
                            }
                          });
}

}  // namespace octet
