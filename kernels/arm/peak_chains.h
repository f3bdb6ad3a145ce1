#pragma once

// The loop shared by the NEON peak measurements: 16 independent accumulator chains on registers only,
// each iteration one `step` per chain, and their sum folded into a value the compiler must keep. Each
// peak file instantiates it with its own instruction and compile flags. Include only from those files.

#include <arm_neon.h>

#include <cstdint>

namespace octet::arm {

// Runs `iterations` of step(acc, x, y) (which updates all 16 accumulators) and returns the MACs done.
template <class X, class Y, class Step>
double peak_chains(long iterations, X x, Y y, double macs_per_iteration, Step step) {
  int32x4_t acc[16];
  for (auto& a : acc)
    a = vdupq_n_s32(0);
  for (long i = 0; i < iterations; ++i) {
    step(acc, x, y);
    __asm__ volatile("" : "+w"(x));  // keeps the loop from being folded away
  }
  uint32_t sink = 0;  // unsigned: the sums wrap, which signed ints may not
  for (const auto& a : acc)
    sink += static_cast<uint32_t>(vaddvq_s32(a));
  __asm__ volatile("" : : "r"(sink));
  return static_cast<double>(iterations) * macs_per_iteration;
}

}  // namespace octet::arm
