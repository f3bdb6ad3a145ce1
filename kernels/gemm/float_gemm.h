#pragma once

// Float GEMM on the active ISA (xsimd), bit-exact with kernels/reference/float_matmul.h: each output keeps
// one accumulator that takes its k terms in ascending order through fma, so the vector width, the blocking
// and the thread count change nothing. Parallel over row and column blocks (oneTBB).

#include <tbb/cache_aligned_allocator.h>

#include <memory>
#include <vector>

#include "kernels/gemm/float_gemm_kernel.h"
#include "kernels/isa.h"
#include "kernels/reference/float_matmul.h"

namespace octet::gemm {

// A constant right-hand matrix B [K, N] (given as [K, N], or as [N, K] when `transposed`), packed once for
// `isa`'s kernel.
struct PackedFloatB {
  Isa isa = Isa::scalar;
  int64_t k = 0, n = 0;
  // Layout chosen by the kernel, from a cache line's start: a panel's rows are whole vectors, so that no
  // vector load of B straddles two lines (std::vector's allocations are only 16-byte aligned).
  std::vector<float, tbb::cache_aligned_allocator<float>> data;
};
PackedFloatB pack_float_b(Isa isa, const float* b, int64_t k, int64_t n, bool transposed);

// out[m, n] = clamp(bias[n] + sum_k a[m, k] B[k, n] + addend[n]) for m < rows; a's rows are `lda` floats
// apart and out's `ldo` apart; bias may be null (acc then starts at 0.0f, else at bias[n]); addend, added
// to the finished sum as one more rounding (an Add after the product: its bytes), may be null.
void float_gemm(const float* a, int64_t rows, int64_t lda, const PackedFloatB& b, const float* bias,
                FloatClamp clamp, float* out, int64_t ldo, const float* addend = nullptr);

// Panels [p0, p1) of a packed B times `rows` rows of A, on this thread: for every output,
// out[r, j] = clamp(bias[j] + sum over the runs of a[r, kk] * B[kk, j] + addend[j] + residual[r, j]) (one fma
// chain in the runs' k order, then each addition as one more rounding). Where a panel of B is larger than the
// cache holds beside A (float_gemm_k_block), K is multiplied in blocks, each block of every panel read
// once by all the rows; the outputs keep their fma chains through out (FloatGemmBlock::resumes), so the
// bytes do not depend on it.
struct FloatGemmPanels {
  const PackedFloatB* b = nullptr;
  int64_t p0 = 0, p1 = 0;    // panels of float_tile(b->isa).panel_width() columns
  const float* a = nullptr;  // row r at a + r * lda
  int64_t lda = 0;
  int64_t rows = 0;
  const KRun* runs = nullptr;  // B's rows and A's columns, in k order (their lengths sum to K, <= B's)
  int64_t run_count = 0;
  const float* bias = nullptr;      // [N], or null for 0.0f
  const float* addend = nullptr;    // [N], or null
  const float* residual = nullptr;  // row r at residual + r * ldo, or null
  FloatClamp clamp;
  float* out = nullptr;  // row r at out + r * ldo; column 0 is B's column 0
  int64_t ldo = 0;
};
void float_gemm_panels(const FloatGemmPanels& job);

// The k terms float_gemm_panels multiplies at a time for K = k and N = n on `isa`'s kernel: k itself where
// a panel of B (k x its columns) is within 256 KiB, else about 1024.
int64_t float_gemm_k_block(Isa isa, int64_t k, int64_t n);

// NumPy matmul of two runtime operands (as ref::float_matmul).
void float_matmul(Isa isa, const float* a, const Shape& sa, const float* b, const Shape& sb, float* out);

}  // namespace octet::gemm
