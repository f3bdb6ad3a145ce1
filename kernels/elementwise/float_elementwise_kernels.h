#pragma once

// The per-ISA halves of the float elementwise operators: one thread's share of the work, instantiated from
// kernels/elementwise/float_elementwise_simd.h in kernels/x86/float_elementwise_avx2.cpp,
// kernels/x86/float_elementwise_avx512.cpp and kernels/arm/float_elementwise_neon.cpp, each compiled for
// its ISA and only called after the CPU check. kernels/elementwise/float_elementwise.cpp splits the work
// over threads and calls them.

#include <cstdint>

#include "kernels/reference/float_elementwise.h"

namespace octet::elementwise {

// ::octet::BinaryOp throughout: elementwise::BinaryOp (binary_table.h) is the quantized tables' own.

// A stretch of a broadcast binary operator's output: `length` elements from output element `out`, with
// operand a from element `a` (advancing with the output, or repeating one element, as the operator's a_step
// of 1 or 0 says) and b likewise.
struct BinarySegment {
  int64_t out, a, b, length;
};

// y[i] = p.op(x[i]) for i < n.
using FloatUnaryKernel = void (*)(const UnaryParams& p, const float* x, float* y, int64_t n);

// The segments of an arithmetic operator (float_ops::is_arithmetic: float out) or a comparison
// (float_ops::is_comparison: bool out, one byte 0 / 1).
using FloatBinaryKernel = void (*)(::octet::BinaryOp op, const float* a, int64_t a_step, const float* b,
                                   int64_t b_step, void* out, const BinarySegment* segments, int64_t count);

void float_unary_avx2(const UnaryParams& p, const float* x, float* y, int64_t n);
void float_unary_avx512(const UnaryParams& p, const float* x, float* y, int64_t n);
void float_unary_neon(const UnaryParams& p, const float* x, float* y, int64_t n);

void float_binary_avx2(::octet::BinaryOp op, const float* a, int64_t a_step, const float* b, int64_t b_step,
                       void* out, const BinarySegment* segments, int64_t count);
void float_binary_avx512(::octet::BinaryOp op, const float* a, int64_t a_step, const float* b, int64_t b_step,
                         void* out, const BinarySegment* segments, int64_t count);
void float_binary_neon(::octet::BinaryOp op, const float* a, int64_t a_step, const float* b, int64_t b_step,
                       void* out, const BinarySegment* segments, int64_t count);

}  // namespace octet::elementwise
