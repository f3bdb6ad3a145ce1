#include "kernels/elementwise/quantize_rows.h"

#include "kernels/quantization/quantize.h"

namespace octet::elementwise {

void quantize_row(Isa isa, const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out) {
  switch (vector_isa(isa)) {
#if defined(__x86_64__)
    case Isa::avx512vnni:
      return quantize_row_avx512(x, n, scale, zero_point, out);
    case Isa::avx2:
      return quantize_row_avx2(x, n, scale, zero_point, out);
#endif
#if defined(__aarch64__)
    case Isa::neon:
    case Isa::neon_dotprod:
    case Isa::neon_i8mm:
      return quantize_row_neon(x, n, scale, zero_point, out);
#endif
    default: {
      const IntRange u8 = range_of(ElementType::u8);
      for (int64_t i = 0; i < n; ++i)
        out[i] = static_cast<uint8_t>(quantize_value(x[i], scale, zero_point, u8));
    }
  }
}

void dequantize_row(const uint8_t* x, int64_t n, float scale, int32_t zero_point, float* out) {
  // int32 rather than dequantize_value's int64, which keeps the loop vectorisable; the same exact value.
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(static_cast<int32_t>(x[i]) - zero_point) * scale;
}

void dequantize_row(Isa isa, const uint8_t* x, int64_t n, float scale, int32_t zero_point, float* out) {
  switch (vector_isa(isa)) {
#if defined(__x86_64__)
    case Isa::avx512vnni:
      return dequantize_row_avx512(x, n, scale, zero_point, out);
    case Isa::avx2:
      return dequantize_row_avx2(x, n, scale, zero_point, out);
#endif
    default:  // (aarch64's baseline has Advanced SIMD: the plain loop is already vectorised)
      return dequantize_row(x, n, scale, zero_point, out);
  }
}

}  // namespace octet::elementwise
