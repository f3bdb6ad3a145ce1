// The float elementwise operators for AVX2 + FMA; compiled with those flags, only called after the CPU check.
#include "kernels/elementwise/float_elementwise_simd.h"

namespace octet::elementwise {

void float_unary_avx2(const UnaryParams& p, const float* x, float* y, int64_t n) {
  simd::float_unary<xsimd::avx2>(p, x, y, n);
}

void float_binary_avx2(::octet::BinaryOp op, const float* a, int64_t a_step, const float* b, int64_t b_step,
                       void* out, const BinarySegment* segments, int64_t count) {
  simd::float_binary<xsimd::avx2>(op, a, a_step, b, b_step, out, segments, count);
}

}  // namespace octet::elementwise
