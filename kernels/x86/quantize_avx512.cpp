// QuantizeLinear (xsimd) and DequantizeLinear rows for AVX-512; compiled with AVX-512 flags, only called
// after the CPU check.
#include "kernels/elementwise/quantize_rows.h"
#include "kernels/elementwise/quantize_simd.h"

namespace octet::elementwise {

void quantize_row_avx512(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out) {
  quantize_row_simd<xsimd::avx512bw>(x, n, scale, zero_point, out);
}

// elementwise::dequantize_row's loop, vectorised with AVX-512 (here rather than in a shared inline function,
// which the linker could merge with the baseline copy).
void dequantize_row_avx512(const uint8_t* x, int64_t n, float scale, int32_t zero_point, float* out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(static_cast<int32_t>(x[i]) - zero_point) * scale;
}

}  // namespace octet::elementwise
