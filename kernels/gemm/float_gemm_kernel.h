#pragma once

// The single-threaded float GEMM block that every float GEMM and convolution runs, per ISA, and the
// register tile each ISA uses. Callers split the work into blocks (tiles of rows x columns) and run them in
// parallel; a block computes each of its outputs as one accumulator that starts at the bias (or 0.0f) and
// takes its k terms in order through fma, then the clamp, so the split never changes a value.

#include <cstdint>

#include "kernels/isa.h"
#include "kernels/reference/float_elementwise.h"

namespace octet::gemm {

// The register tile of an ISA's microkernel: `rows` rows of A times `vectors` vectors of `vector_width`
// floats of B. A packed B is stored in panels of panel_width() columns (the last one narrower: its
// columns rounded up to the vector width, zero-padded), each panel K rows of its width.
// Where the columns left are one vector (a narrow group's GEMM, the last vector of a wide one), tiles take
// up to `narrow_rows` rows: each accumulator is a chain of dependent fmas, and with one vector per row a
// 6-row tile keeps too few chains in flight to hide the fma's latency (ResNeXt's 16-channel groups on 14x14
// ran at 5 rows per tile).
struct FloatTile {
  int64_t rows = 1;
  int64_t vector_width = 1;
  int64_t vectors = 1;
  int64_t narrow_rows = 1;
  constexpr int64_t panel_width() const { return vector_width * vectors; }
};

constexpr FloatTile float_tile(Isa isa) {
  switch (vector_isa(isa)) {
    case Isa::avx512vnni:
      return {6, 16, 4, 16};  // 24 zmm accumulators, 4 for B; A broadcast from memory
    case Isa::avx2:
      return {6, 8, 2, 12};  // 12 ymm accumulators, 2 for B, 1 for the A broadcast
    case Isa::neon:
    case Isa::neon_dotprod:
    case Isa::neon_i8mm:
      return {6, 4, 4, 6};  // 24 of the 32 q registers (narrow tiles: not timed on ARM hardware)
    default:
      return {4, 1, 8, 4};
  }
}

// A run of K: `length` consecutive rows of B from `b_row` on, multiplied by A's columns from `a_column`
// on. A block's k order is its runs' in order; a convolution whose taps skip some B rows (transposed
// convolutions at the border) lists only the taps it takes, and one that reads its input in place
// (float_conv.cpp: a run per kernel row, or per tap where a row's taps are not contiguous) gives each run
// where its input starts.
struct KRun {
  int64_t b_row = 0;
  int64_t length = 0;
  int64_t a_column = 0;
};

// out[r, j] = clamp(bias[j] + sum over the runs of a[r, kk] * b[b_row + i, j] + addend[j] + residual[r, j])
// for r < rows, j < cols: the sum one accumulator from the bias on, then the addend and the residual each as
// one more rounding (an Add after the product, as the Add computes it).
//
// A caller may split K into blocks, so that a block of B is reused from the cache by many rows (B larger
// than the cache: float_gemm_panels in kernels/gemm/float_gemm.h): every block but the first `resumes` from
// the sums out holds, which the previous block stored as they were (not `finishes`), so each output is still
// one fma chain over the k terms in order, whatever the blocking.
struct FloatGemmBlock {
  const float* a = nullptr;  // row r at a + r * lda; a run's i-th k at column a_column + i
  int64_t lda = 0;
  int64_t rows = 0;
  const KRun* runs = nullptr;
  int64_t run_count = 0;
  const float* b =
      nullptr;  // row k at b + k * ldb; columns readable up to cols rounded up to the vector width
  int64_t ldb = 0;
  int64_t cols = 0;
  const float* bias = nullptr;      // [cols], or null for 0.0f
  const float* addend = nullptr;    // [cols], or null for none
  const float* residual = nullptr;  // row r at residual + r * ldr, or null for none
  int64_t ldr = 0;
  FloatClamp clamp;
  float* out = nullptr;  // row r at out + r * ldo
  int64_t ldo = 0;
  bool resumes = false;  // the accumulators start from out's values, not from the bias
  bool finishes = true;  // the addend, residual and clamp applied; else the sums stored as they are
  // Floats from `prefetch` on to bring into L2 while this block multiplies (float_gemm_panels: the B of the
  // block it runs next, which would otherwise come from memory at the pace of one tile), or null.
  const float* prefetch = nullptr;
  int64_t prefetch_floats = 0;
};

// A block on each ISA's microkernel (kernels/float_kernels.h chooses).
void float_gemm_block_scalar(const FloatGemmBlock& block);
void float_gemm_block_avx2(const FloatGemmBlock& block);
void float_gemm_block_avx512(const FloatGemmBlock& block);
void float_gemm_block_neon(const FloatGemmBlock& block);

}  // namespace octet::gemm
