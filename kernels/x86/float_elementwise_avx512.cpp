// The float elementwise operators for AVX-512; compiled with AVX-512 flags, only called after the CPU check.
#include "kernels/elementwise/float_elementwise_simd.h"

namespace octet::elementwise {

void float_unary_avx512(const UnaryParams& p, const float* x, float* y, int64_t n) {
  simd::float_unary<xsimd::avx512bw>(p, x, y, n);
}

void float_binary_avx512(::octet::BinaryOp op, const float* a, int64_t a_step, const float* b, int64_t b_step,
                         void* out, const BinarySegment* segments, int64_t count) {
  simd::float_binary<xsimd::avx512bw>(op, a, a_step, b, b_step, out, segments, count);
}

}  // namespace octet::elementwise
