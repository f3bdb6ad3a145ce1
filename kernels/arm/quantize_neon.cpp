// QuantizeLinear rows on AArch64 Advanced SIMD (baseline: every aarch64 ISA uses it), bit-exact with
// quantize_value(). Intrinsics rather than xsimd (kernels/elementwise/quantize_simd.h): xsimd 8.1 has no
// NEON nearbyint for float and its generic fallback rounds some ties the other way. FRINTN rounds to
// nearest with ties to even whatever the rounding mode, which is what nearbyint does in the default mode.

#include <arm_neon.h>

#include "kernels/elementwise/quantize_rows.h"
#include "kernels/quantization/quantize.h"

namespace octet::elementwise {

namespace {

// 4 floats -> 4 integral floats in [0, 255], as quantize_value: a true float32 division (FDIV), rounding
// and the zero point in float, saturation in float before any conversion, NaN to the zero point.
inline float32x4_t quantize4(float32x4_t x, float32x4_t scale, float32x4_t zp) {
  float32x4_t q = vaddq_f32(vrndnq_f32(vdivq_f32(x, scale)), zp);
  q = vminq_f32(vmaxq_f32(q, vdupq_n_f32(0.0f)), vdupq_n_f32(255.0f));
  return vbslq_f32(vceqq_f32(x, x), q, zp);  // x != x only for NaN
}

}  // namespace

void quantize_row_neon(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out) {
  const float32x4_t vscale = vdupq_n_f32(scale), vzp = vdupq_n_f32(static_cast<float>(zero_point));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // Integral values in [0, 255]: the truncating conversion and the narrowing are exact.
    const uint32x4_t lo = vcvtq_u32_f32(quantize4(vld1q_f32(x + i), vscale, vzp));
    const uint32x4_t hi = vcvtq_u32_f32(quantize4(vld1q_f32(x + i + 4), vscale, vzp));
    vst1_u8(out + i, vmovn_u16(vcombine_u16(vmovn_u32(lo), vmovn_u32(hi))));
  }
  const IntRange u8 = range_of(ElementType::u8);
  for (; i < n; ++i)
    out[i] = static_cast<uint8_t>(quantize_value(x[i], scale, zero_point, u8));
}

}  // namespace octet::elementwise
