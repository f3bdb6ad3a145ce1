#include "kernels/pooling/max_pool.h"

#include "kernels/pooling/max_pool_simd.h"

namespace octet::pooling {

void max_pool2d(Isa isa, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
                const ref::Pool2dParams& p, uint8_t zero_point, uint8_t* output) {
  // The widest vector that a pixel's channels fill: narrower channel runs would take the byte loop of a
  // wider one. (GoogLeNet's 13 pools, 64-832 channels, on Zen 5: SSE2's 16 bytes -> AVX-512's 64.)
#if defined(__x86_64__)
  switch (vector_isa(isa)) {
    case Isa::avx512vnni:
      if (c >= 64) return max_pool2d_avx512(input, n, ih, iw, c, p, zero_point, output);
      [[fallthrough]];
    case Isa::avx2:
      if (c >= 32) return max_pool2d_avx2(input, n, ih, iw, c, p, zero_point, output);
      break;
    default:
      break;
  }
#else
  (void)isa;
#endif
  max_pool2d_simd<xsimd::default_arch>(input, n, ih, iw, c, p, zero_point, output);
}

}  // namespace octet::pooling
