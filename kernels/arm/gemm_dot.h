#pragma once

// The dot-product GEMM microkernel of neon_dotprod (SDOT), written over an instruction policy so that
// another by-element dot product (i8mm's mixed-sign SUDOT) can reuse it. Include only from files
// compiled with the extension.
//
// A packed k group holds 4 channels x 4 k bytes in one 16-byte register, which is exactly the vector
// operand of the by-element dot product: `sdot acc.4s, w.16b, a.4b[j]` adds, for each of 4 channels,
// the 4 products of its weights with the 4 activation bytes in 32-bit lane j of `a`. A 16-byte load of
// one row thus feeds 4 k groups (lanes 0..3), and each weight register is used by every row of the tile.
//
// Register blocking: 8 rows x 8 channels = 16 accumulators, 8 activation registers (16 k of each row),
// 2 weight registers; 26 of the 32 vector registers. Per 16 k: 8 row loads + 8 weight loads and
// 64 dot products (1024 MACs), plus 8 EORs for SDOT (docs/arm.md).

#include <arm_neon.h>

#include <algorithm>

#include "kernels/arm/gemm_driver.h"
#include "kernels/arm/requant_neon.h"

namespace octet::arm {

// Dot is the instruction policy: Dot::Act (the activation register type), Dot::load16 / Dot::load4
// (16 or 4 activation bytes of a row, the latter in lane 0) and Dot::dot<lane>(acc, weights, act).
template <class Dot>
struct DotKernel {
  static constexpr int kRows = 8;

  template <int MR>
  static void tile(const GemmArgs& g, const uint8_t* a, const int32_t* row_sums, int64_t n, uint8_t* c) {
    using Act = typename Dot::Act;
    const int64_t k4 = g.w.k_padded / 4;
    const int8_t* b = slice_weights(g.w, n);
    int32x4_t acc[MR][2];
    for (int r = 0; r < MR; ++r)
      acc[r][0] = acc[r][1] = vdupq_n_s32(0);

    // One k group: channels 0..3 and 4..7 of this slice, times lane `lane` of every row's register.
    auto group = [&]<int lane>(const int8_t* wq, const Act* av) {
      const int8x16_t w0 = vld1q_s8(wq), w1 = vld1q_s8(wq + 16);
      for (int r = 0; r < MR; ++r) {
        acc[r][0] = Dot::template dot<lane>(acc[r][0], w0, av[r]);
        acc[r][1] = Dot::template dot<lane>(acc[r][1], w1, av[r]);
      }
    };
    int64_t q = 0;
    for (; q + 4 <= k4; q += 4) {
      Act av[MR];
      for (int r = 0; r < MR; ++r)
        av[r] = Dot::load16(a + r * g.a_stride + q * 4);
      const int8_t* wq = b + q * 64;
      group.template operator()<0>(wq, av);
      group.template operator()<1>(wq + 64, av);
      group.template operator()<2>(wq + 128, av);
      group.template operator()<3>(wq + 192, av);
    }
    // k_padded % 16: the last 1..3 groups, 4 bytes of each row at a time (a 16-byte load could run past
    // the end of the rows).
    for (; q < k4; ++q) {
      Act av[MR];
      for (int r = 0; r < MR; ++r)
        av[r] = Dot::load4(a + r * g.a_stride + q * 4);
      group.template operator()<0>(b + q * 64, av);
    }

    const RequantOutput out(g.w.requant);
    const bool zw = row_sums != nullptr;
    const Requant4 lo(g.w.requant, n, zw), hi(g.w.requant, n + 4, zw);
    const int64_t valid = std::min<int64_t>(kSlice, g.n_end - n);
    for (int r = 0; r < MR; ++r) {
      const int32_t s = zw ? row_sums[r] : 0;
      store8(c + r * g.c_stride + n, narrow8(lo(acc[r][0], s, out), hi(acc[r][1], s, out)), valid);
    }
  }
};

}  // namespace octet::arm
