#pragma once

// Float elementwise operators on the active ISA: xsimd kernels bit-exact with the references of
// kernels/reference/float_elementwise.h, parallel over independent ranges (oneTBB), the same bytes for any
// thread count. `Isa::scalar` runs the references.

#include "kernels/isa.h"
#include "kernels/reference/float_elementwise.h"

namespace octet::elementwise {

void float_unary(Isa isa, const UnaryParams& p, const float* x, float* y, int64_t n);

// The output steps a float operator fuses, on `n` elements it has just written, in place and on the
// calling thread (the block is still in cache): the clamp of a fused Relu / Clip, then `activation`
// (identity: none). The unary kernels of the separate operators, so the same bits as running them.
void clamp_and_activate(Isa isa, FloatClamp clamp, const UnaryParams& activation, float* y, int64_t n);

// (octet::BinaryOp, not the quantized tables' elementwise::BinaryOp of binary_table.h.)
void float_binary(Isa isa, ::octet::BinaryOp op, const void* a, const Shape& sa, const void* b,
                  const Shape& sb, void* out);

void where(Isa isa, const uint8_t* cond, const Shape& sc, const void* x, const Shape& sx, const void* y,
           const Shape& sy, size_t element_size, void* out);

}  // namespace octet::elementwise
