// xsimd QuantizeLinear rows for AVX2; compiled with AVX2 flags, only called after the CPU check.
#include "kernels/elementwise/quantize_rows.h"
#include "kernels/elementwise/quantize_simd.h"

namespace octet::elementwise {

void quantize_row_avx2(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out) {
  quantize_row_simd<xsimd::avx2>(x, n, scale, zero_point, out);
}

}  // namespace octet::elementwise
