// The uint8 max pool at AVX-512 width (kernels/pooling/max_pool_simd.h); compiled with AVX-512 flags, only
// called after the CPU check.
#include "kernels/pooling/max_pool_simd.h"

namespace octet::pooling {

void max_pool2d_avx512(const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
                       const ref::Pool2dParams& p, uint8_t zero_point, uint8_t* output) {
  max_pool2d_simd<xsimd::avx512bw>(input, n, ih, iw, c, p, zero_point, output);
}

}  // namespace octet::pooling
