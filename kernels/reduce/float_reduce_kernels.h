#pragma once

// The per-ISA vector kernels behind kernels/reduce/float_reduce.h: plain loops over raw pointers, compiled
// once per instruction set (kernels/x86/float_reduce_avx2.cpp, float_reduce_avx512.cpp,
// kernels/arm/float_reduce_neon.cpp) from the templates of float_reduce_simd.h. Each output is computed
// exactly as its reference computes it (kernels/reference/float_reduce_order.h); the dispatchers split the
// work between threads and finish the outputs.

#include <cstdint>

#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/float_reduce_order.h"

namespace octet::reduce {

struct FloatReduceKernels {
  // y[r] = the ordered accumulation (no finishing) of row r, the `count` elements at x + r * count;
  // shift: one value per row, or null for 0.
  void (*accumulate_rows)(ref::Accumulate k, const float* x, int64_t rows, int64_t count, const float* shift,
                          float* y);
  // y[l] = the ordered accumulation of x[i * stride + l], i < count, for each lane l < lanes; shift: one
  // value per lane, or null.
  void (*accumulate_columns)(ref::Accumulate k, const float* x, int64_t count, int64_t stride, int64_t lanes,
                             const float* shift, float* y);
  // Softmax / log-softmax of each of `rows` rows of `count` elements.
  void (*softmax_rows)(const float* x, int64_t rows, int64_t count, bool log, float* y);
  // Softmax / log-softmax down each of `lanes` columns x[i * stride + l], i < count.
  void (*softmax_columns)(const float* x, int64_t count, int64_t stride, int64_t lanes, bool log, float* y);
  // y = clamp.apply(fma(x, scale[c], shift[c])) over `rows` rows of `channels` elements, the rows of x
  // `ldx` apart and those of y `ldy` apart.
  void (*affine_rows)(const float* x, int64_t ldx, int64_t rows, int64_t channels, const float* scale,
                      const float* shift, FloatClamp clamp, float* y, int64_t ldy);
  // y = clamp.apply(fma(x, scale, shift)) over `count` elements.
  void (*affine_plane)(const float* x, int64_t count, float scale, float shift, FloatClamp clamp, float* y);
  // Normalizes each of `rows` rows of `count` elements by its own mean and variance, then
  // * scale + bias: per element of the row (per_row_params false; bias may be null: none added) or one
  // scale[r] and bias[r] per row (per_row_params true).
  void (*normalize_rows)(const float* x, int64_t rows, int64_t count, const float* scale, const float* bias,
                         bool per_row_params, float epsilon, float* y);
  // The same down each of `lanes` columns x[i * stride + l], i < count, with scale[l] and bias[l].
  void (*normalize_columns)(const float* x, int64_t count, int64_t stride, int64_t lanes, const float* scale,
                            const float* bias, float epsilon, float* y);
  // On uint8, channels last (rows of `channels` bytes, dense): y = QuantizeLinear(clamp.apply(fma(
  // DequantizeLinear(x), scale[c], shift[c]))) with per-tensor params, in one pass; the bytes of
  // dequantize_row, affine_rows and quantize_row one after the other (u8_affine_simd.h), for a positive
  // finite out_scale.
  void (*u8_affine_rows)(const uint8_t* x, int64_t rows, int64_t channels, const float* scale,
                         const float* shift, FloatClamp clamp, float in_scale, int32_t in_zero_point,
                         float out_scale, int32_t out_zero_point, uint8_t* y);
};

// Each ISA's kernels (kernels/float_kernels.h chooses).

const FloatReduceKernels& float_reduce_kernels_avx2();
const FloatReduceKernels& float_reduce_kernels_avx512();
const FloatReduceKernels& float_reduce_kernels_neon();

}  // namespace octet::reduce
