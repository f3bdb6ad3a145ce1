// The float elementwise operators on AArch64 Advanced SIMD (baseline: every aarch64 ISA uses it). Division,
// square root and fma are the IEEE instructions (FDIV, FSQRT, FMLA) through kernels/simd/float_primitives.h.
#include "kernels/elementwise/float_elementwise_simd.h"

namespace octet::elementwise {

void float_unary_neon(const UnaryParams& p, const float* x, float* y, int64_t n) {
  simd::float_unary<xsimd::neon64>(p, x, y, n);
}

void float_binary_neon(::octet::BinaryOp op, const float* a, int64_t a_step, const float* b, int64_t b_step,
                       void* out, const BinarySegment* segments, int64_t count) {
  simd::float_binary<xsimd::neon64>(op, a, a_step, b, b_step, out, segments, count);
}

}  // namespace octet::elementwise
