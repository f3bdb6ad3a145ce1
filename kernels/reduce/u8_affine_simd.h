#pragma once

// reduce::u8_channel_affine's loop in one pass per ISA (FloatReduceKernels::u8_affine_rows): each vector of
// bytes is dequantized, mapped, clamped and quantized in registers. Every step is the operation that the
// three separate kernels apply to that element, in their order: dequantize_row's float(q - zero point) *
// scale, affine_rows' Lanes::fma and Lanes::clamp, and quantize_row_simd's division, round half to even,
// zero point, saturation in float and NaN to the zero point; so the bytes equal theirs (and
// quantize_value's, which quantize_row_simd equals) without the float values ever being stored.

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstdint>

#include "kernels/reference/float_elementwise.h"
#include "kernels/simd/float_lanes.h"

namespace octet::reduce {

template <class Arch, bool kClamps>
void u8_affine_rows_clamped(const uint8_t* x, int64_t rows, int64_t channels, const float* scale,
                            const float* shift, FloatClamp clamp, float in_scale, int32_t in_zero_point,
                            float out_scale, int32_t out_zero_point, uint8_t* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  using I = xsimd::batch<int32_t, Arch>;
  constexpr int64_t kWidth = L::width;
  // Chunks of a row widened to int32 and narrowed back by plain loops over the chunk, which the compiler
  // vectorises (per vector, a widening or narrowing of bytes compiles to a lane at a time).
  constexpr int64_t kChunk = 256;
  static_assert(kChunk % kWidth == 0);
  alignas(64) int32_t ints[kChunk];
  const I in_zp(in_zero_point);
  const B in_s(in_scale), out_s(out_scale), out_zp(static_cast<float>(out_zero_point)), lo(clamp.lo),
      hi(clamp.hi), byte_lo(0.0f), byte_hi(255.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row_in = x + r * channels;
    uint8_t* row_out = y + r * channels;
    for (int64_t c0 = 0; c0 < channels; c0 += kChunk) {
      const int64_t m = std::min(kChunk, channels - c0);
      for (int64_t j = 0; j < m; ++j)
        ints[j] = row_in[c0 + j];
      // A partial last vector's unused lanes: computed from zeros (partial loads of the params give zeros
      // too) and never narrowed.
      std::fill(ints + m, ints + std::min(kChunk, (m + kWidth - 1) / kWidth * kWidth), 0);
      for (int64_t j = 0; j < m; j += kWidth) {
        const int64_t n = L::lanes_from(j, m);
        const B dequantized = xsimd::to_float(I::load_aligned(ints + j) - in_zp) * in_s;
        B v = L::fma(dequantized, L::load_n(scale + c0 + j, n), L::load_n(shift + c0 + j, n));
        if constexpr (kClamps) v = L::clamp(v, lo, hi);
        B q = xsimd::nearbyint(v / out_s) + out_zp;
        q = xsimd::min(xsimd::max(q, byte_lo), byte_hi);  // integral values in [0, 255]: converts exactly
        q = xsimd::select(xsimd::isnan(v), out_zp, q);
        xsimd::to_int(q).store_aligned(ints + j);
      }
      for (int64_t j = 0; j < m; ++j)
        row_out[c0 + j] = static_cast<uint8_t>(ints[j]);
    }
  }
}

template <class Arch>
void u8_affine_rows(const uint8_t* x, int64_t rows, int64_t channels, const float* scale, const float* shift,
                    FloatClamp clamp, float in_scale, int32_t in_zero_point, float out_scale,
                    int32_t out_zero_point, uint8_t* y) {
  if (simd::Lanes<Arch>::is_identity(clamp))
    u8_affine_rows_clamped<Arch, false>(x, rows, channels, scale, shift, clamp, in_scale, in_zero_point,
                                        out_scale, out_zero_point, y);
  else
    u8_affine_rows_clamped<Arch, true>(x, rows, channels, scale, shift, clamp, in_scale, in_zero_point,
                                       out_scale, out_zero_point, y);
}

}  // namespace octet::reduce
