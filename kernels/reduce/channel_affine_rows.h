#pragma once

// Rows of a channels-last affine map (y = fma(x, scale[c], shift[c]), clamped, then activated) as
// reduce::float_channel_affine computes them. Shared by it and the uint8 form (u8_channel_affine.h), whose
// bytes must equal Dequantize -> this -> Quantize run one by one: one function, so one arithmetic.

#include <cstdint>

#include "kernels/elementwise/float_elementwise.h"
#include "kernels/reduce/float_reduce_kernels.h"
#include "kernels/reference/float_normalization.h"

namespace octet::reduce {

// `kernels`: the ISA's float reduce kernels, null for the reference. May run in place (x == y).
inline void channel_affine_rows(Isa isa, const FloatReduceKernels* kernels, const float* x, int64_t rows,
                                int64_t channels, const float* scale, const float* shift, FloatClamp clamp,
                                const UnaryParams& activation, float* y) {
  if (kernels == nullptr) {
    ref::float_channel_affine(x, rows, channels, 1, scale, shift, y);
    elementwise::clamp_and_activate(isa, clamp, activation, y, rows * channels);
    return;
  }
  // The clamp in the affine's own pass; the activation over the rows right after, from cache.
  kernels->affine_rows(x, channels, rows, channels, scale, shift, clamp, y, channels);
  elementwise::clamp_and_activate(isa, {}, activation, y, rows * channels);
}

}  // namespace octet::reduce
