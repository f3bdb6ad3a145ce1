#pragma once

// Float matrix products, the scalar references. Every output element is acc = 0.0f followed by one
// std::fma per k in ascending order; Gemm then applies alpha and beta * C as stated below.

#include "kernels/reference/float_elementwise.h"
#include "kernels/tensor.h"

namespace octet::ref {

// NumPy matmul of rank >= 2 operands: a [..., M, K], b [..., K, N] with the batch dimensions broadcast,
// out [..., M, N]. (ONNX's rank-1 operands are reshaped to rank 2 by the caller.)
void float_matmul(const float* a, const Shape& sa, const float* b, const Shape& sb, float* out);

// float_matmul's output shape: the broadcast batch dimensions, then [M, N]. Throws octet::Error for an
// operand of rank < 2, a K mismatch or batch dimensions that do not broadcast.
Shape float_matmul_shape(const Shape& sa, const Shape& sb);

// y[m, n] = clamp(alpha * acc[m, n] + beta * c[...]), acc = sum_k A[m, k] B[k, n] with A = a or a^T and
// B = b or b^T; c is null or broadcasts to [M, N] (shape sc). alpha == 1 skips its multiply, beta == 1 its.
void float_gemm(const float* a, int64_t m, int64_t k, bool transpose_a, const float* b, int64_t n,
                bool transpose_b, const float* c, const Shape& sc, float alpha, float beta, FloatClamp clamp,
                float* y);

}  // namespace octet::ref
