#pragma once

// The loops around the aarch64 GEMM microkernels, shared by every variant: output channels in slices of
// 8 (half a packed block of 16), and for each slice the rows in tiles of the microkernel's height, the
// last partial tile by a shorter instantiation of the same microkernel. The slice's weights (K x 8 bytes)
// stay in L1 while the rows stream past them.

#include <cstdint>
#include <cstring>

#include "kernels/gemm/packed_gemm.h"

namespace octet::arm {

// Output channels per microkernel call.
constexpr int64_t kSlice = 8;

// Everything a microkernel call needs besides its rows.
struct GemmArgs {
  const gemm::PackedWeights& w;
  int64_t a_stride;
  int64_t c_stride;
  int64_t n_end;
};

// Calls Kernel::template tile<R>(args, a, row_sums, n, c) for R == left (1 <= left < Kernel::kRows).
template <class Kernel, int R = Kernel::kRows - 1>
void partial_tile(int64_t left, const GemmArgs& g, const uint8_t* a, const int32_t* row_sums, int64_t n,
                  uint8_t* c) {
  if constexpr (R >= 1) {
    if (left == R) return Kernel::template tile<R>(g, a, row_sums, n, c);
    partial_tile<Kernel, R - 1>(left, g, a, row_sums, n, c);
  }
}

template <class Kernel>
void run_gemm(const gemm::PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
              int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  const auto* x = static_cast<const uint8_t*>(a);
  const int32_t* sums = w.needs_row_sums ? row_sums : nullptr;
  const GemmArgs g{w, a_stride, c_stride, n_end};
  constexpr int kRows = Kernel::kRows;
  for (int64_t n = n_begin; n < n_end; n += kSlice) {
    int64_t r = 0;
    for (; r + kRows <= m; r += kRows)
      Kernel::template tile<kRows>(g, x + r * a_stride, sums ? sums + r : nullptr, n, c + r * c_stride);
    if (r < m)
      partial_tile<Kernel>(m - r, g, x + r * a_stride, sums ? sums + r : nullptr, n, c + r * c_stride);
  }
}

// The start of channel n's weights in the packed layout [n_padded / 16][k_padded / g][16][g], g =
// k_group(isa): the g-byte groups of channels n .. n + 7 (n a multiple of 8) then lie 16 * g bytes apart,
// one per k group.
inline const int8_t* slice_weights(const gemm::PackedWeights& w, int64_t n) {
  const int64_t group = gemm::k_group(w.isa), groups = w.k_padded / group;
  return w.data.data() + (n / gemm::kChannelBlock) * groups * gemm::kChannelBlock * group +
         (n % gemm::kChannelBlock) * group;
}

// 4 bytes of an activation row (rows have no alignment).
inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace octet::arm
