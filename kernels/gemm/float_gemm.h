#pragma once

// Float GEMM on the active ISA (xsimd), bit-exact with kernels/reference/float_matmul.h: each output keeps
// one accumulator that takes its k terms in ascending order through fma, so the vector width, the blocking
// and the thread count change nothing. Parallel over row and column blocks (oneTBB).

#include <memory>
#include <vector>

#include "kernels/isa.h"
#include "kernels/reference/float_matmul.h"

namespace octet::gemm {

// A constant right-hand matrix B [K, N] (given as [K, N], or as [N, K] when `transposed`), packed once for
// `isa`'s kernel.
struct PackedFloatB {
  Isa isa = Isa::scalar;
  int64_t k = 0, n = 0;
  std::vector<float> data;  // layout chosen by the kernel
};
PackedFloatB pack_float_b(Isa isa, const float* b, int64_t k, int64_t n, bool transposed);

// out[m, n] = clamp(bias[n] + sum_k a[m, k] B[k, n] + addend[n]) for m < rows; a's rows are `lda` floats
// apart and out's `ldo` apart; bias may be null (acc then starts at 0.0f, else at bias[n]); addend, added
// to the finished sum as one more rounding (an Add after the product: its bytes), may be null.
void float_gemm(const float* a, int64_t rows, int64_t lda, const PackedFloatB& b, const float* bias,
                FloatClamp clamp, float* out, int64_t ldo, const float* addend = nullptr);

// NumPy matmul of two runtime operands (as ref::float_matmul).
void float_matmul(Isa isa, const float* a, const Shape& sa, const float* b, const Shape& sb, float* out);

}  // namespace octet::gemm
