#pragma once

// Folds a peak loop's 16 accumulator registers into one value the compiler must keep, so that the loop
// is not optimised away. Include only from the NEON peak files.

#include <arm_neon.h>

#include <cstdint>

namespace octet::arm {

inline int32_t peak_sink(const int32x4_t (&acc)[16]) {
  uint32_t s = 0;  // unsigned: the sums wrap, which signed ints may not
  for (const auto& a : acc)
    s += static_cast<uint32_t>(vaddvq_s32(a));
  return static_cast<int32_t>(s);
}

}  // namespace octet::arm
