// Float reductions, softmax and normalizations for AVX-512 (xsimd); compiled with AVX-512 flags, only called
// after the CPU check.
#include <immintrin.h>

#include "kernels/reduce/float_reduce_simd.h"

namespace octet::reduce {

namespace {

// u8_affine_rows (u8_affine_simd.h) in AVX-512's own instructions, about half of the generic loop's per
// vector: bytes widened by the load and narrowed by the store, the NaN case by one fixup, and the rounding
// in the conversion. The same results, step by step, as the generic loop, for a positive finite out_scale
// (FloatReduceKernels::u8_affine_rows):
//  - quotient t = v / out_scale, NaN exactly where v is NaN;
//  - generic: clamp(round(t) + zp, 0, 255), NaN -> zp. Here: a NaN t becomes +0 (so the byte is zp), t is
//    clamped to [-zp, 255 - zp], rounded half to even into int32, and zp added. The bounds are integers,
//    so clamping before rounding gives what clamping after does; a t too large for int32 is clamped first.
template <bool kClamps>
void u8_affine_rows_clamped(const uint8_t* x, int64_t rows, int64_t channels, const float* scale,
                            const float* shift, FloatClamp clamp, float in_scale, int32_t in_zero_point,
                            float out_scale, int32_t out_zero_point, uint8_t* y) {
  using L = simd::Lanes<xsimd::avx512bw>;
  using B = L::V;
  const __m512i in_zp = _mm512_set1_epi32(in_zero_point), out_zp = _mm512_set1_epi32(out_zero_point);
  const __m512 in_s = _mm512_set1_ps(in_scale), out_s = _mm512_set1_ps(out_scale);
  const __m512 t_lo = _mm512_set1_ps(static_cast<float>(-out_zero_point)),
               t_hi = _mm512_set1_ps(static_cast<float>(255 - out_zero_point));
  // vfixupimmps' response per input class, 4 bits each from class 0: QNaN and SNaN -> +0 (8), every other
  // class (zero, one, infinities, negative, positive) -> the input itself (1).
  const __m512i nan_to_zero = _mm512_set1_epi32(0x11111188);
  const B lo(clamp.lo), hi(clamp.hi);
  auto step = [&](const uint8_t* in, const float* s, const float* b, uint8_t* out, __mmask16 mask) {
    const __m512i q = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, in));
    const __m512 dequantized = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, in_zp)), in_s);
    __m512 v = _mm512_fmadd_ps(dequantized, _mm512_maskz_loadu_ps(mask, s), _mm512_maskz_loadu_ps(mask, b));
    if constexpr (kClamps) v = L::clamp(B(v), lo, hi);
    __m512 t = _mm512_div_ps(v, out_s);
    t = _mm512_fixupimm_ps(t, t, nan_to_zero, 0);
    t = _mm512_min_ps(_mm512_max_ps(t, t_lo), t_hi);
    const __m512i rounded = _mm512_cvt_roundps_epi32(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm512_mask_cvtepi32_storeu_epi8(out, mask, _mm512_add_epi32(rounded, out_zp));
  };
  const int64_t full = channels / 16 * 16;
  const auto tail = static_cast<__mmask16>((1u << (channels - full)) - 1);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* in = x + r * channels;
    uint8_t* out = y + r * channels;
    for (int64_t c = 0; c < full; c += 16)
      step(in + c, scale + c, shift + c, out + c, 0xFFFF);
    if (tail != 0) step(in + full, scale + full, shift + full, out + full, tail);
  }
}

void u8_affine_rows_avx512(const uint8_t* x, int64_t rows, int64_t channels, const float* scale,
                           const float* shift, FloatClamp clamp, float in_scale, int32_t in_zero_point,
                           float out_scale, int32_t out_zero_point, uint8_t* y) {
  if (simd::Lanes<xsimd::avx512bw>::is_identity(clamp))
    u8_affine_rows_clamped<false>(x, rows, channels, scale, shift, clamp, in_scale, in_zero_point, out_scale,
                                  out_zero_point, y);
  else
    u8_affine_rows_clamped<true>(x, rows, channels, scale, shift, clamp, in_scale, in_zero_point, out_scale,
                                 out_zero_point, y);
}

}  // namespace

const FloatReduceKernels& float_reduce_kernels_avx512() {
  static constexpr FloatReduceKernels kernels = [] {
    FloatReduceKernels k = make_float_reduce_kernels<xsimd::avx512bw>();
    k.u8_affine_rows = &u8_affine_rows_avx512;
    return k;
  }();
  return kernels;
}

}  // namespace octet::reduce
