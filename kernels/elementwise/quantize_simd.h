#pragma once

// Vectorised QuantizeLinear of a float row into uint8 with xsimd, bit-exact with quantize_value(): the
// same float32 division, round half to even (nearbyint in the default mode), saturation in float, and NaN
// to the zero point. Instantiated per ISA in kernels/x86/quantize_*.cpp, which are compiled with that
// ISA's flags.

#include <xsimd/xsimd.hpp>

#include <cstdint>

#include "kernels/quantization/quantize.h"

namespace octet::elementwise {

template <class Arch>
void quantize_row_simd(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out) {
  using Batch = xsimd::batch<float, Arch>;
  constexpr int64_t kWidth = static_cast<int64_t>(Batch::size);
  // Blocks of int32 results, narrowed to bytes by a plain loop over the whole block, which the compiler
  // vectorises (a per-vector narrowing loop compiled to one extract and store per byte).
  constexpr int64_t kBlock = 256;
  static_assert(kBlock % kWidth == 0);
  const Batch vscale(scale), vzp(static_cast<float>(zero_point)), lo(0.0f), hi(255.0f);
  alignas(64) int32_t ints[kBlock];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (int64_t j = 0; j < kBlock; j += kWidth) {
      const Batch v = Batch::load_unaligned(x + i + j);
      Batch q = xsimd::nearbyint(v / vscale) + vzp;
      q = xsimd::min(xsimd::max(q, lo), hi);  // integral values in [0, 255] after this: conversion is exact
      q = xsimd::select(xsimd::isnan(v), vzp, q);
      xsimd::to_int(q).store_aligned(ints + j);
    }
    for (int64_t j = 0; j < kBlock; ++j)
      out[i + j] = static_cast<uint8_t>(ints[j]);
  }
  const IntRange u8 = range_of(ElementType::u8);
  for (; i < n; ++i)
    out[i] = static_cast<uint8_t>(quantize_value(x[i], scale, zero_point, u8));
}

}  // namespace octet::elementwise
