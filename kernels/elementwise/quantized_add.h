#pragma once

// Quantized add of two same-shape uint8 tensors, vectorised, bit-exact with ref::add. Each of the three
// fixed-point steps (rescale a, rescale b, requantize the sum) runs in the single-rounding form of
// ChannelRequant::fused_* (kernels/quantization/channel_requant.h): one 64-bit multiply-add per lane and
// a 32-bit shift of the high halves, with the "ties away from zero" correction of negative values where
// it can change the result. The output zero point is folded in as z * 2^(31+s). Used where every step
// shifts right by at most kMaxAddShift, which is what real models have; the table kernel
// (binary_table.h) covers the rest.

#include <cstdint>

#include "kernels/isa.h"
#include "kernels/quantization/clamp.h"
#include "kernels/reference/elementwise.h"

namespace octet::elementwise {

// Keeps |x * M0| + the rounding terms + 255 * 2^(31+s) below 2^63.
constexpr int kMaxAddShift = 22;

// Whether add_rows can compute these constants on `isa`.
bool add_rows_supported(Isa isa, const ref::AddConstants& k);

// out[i] = ref::add(a[i], b[i]) for n elements, on `isa` (when add_rows_supported).
void add_rows(Isa isa, const ref::AddConstants& k, Clamp clamp, const uint8_t* a, const uint8_t* b,
              uint8_t* out, int64_t n);

// out[i] = ref::add(a[i], b[i]) for n elements (AVX-512, kernels/x86/add_avx512.cpp; only called after
// the CPU check and when add_rows_supported).
void add_rows_avx512(const ref::AddConstants& k, Clamp clamp, const uint8_t* a, const uint8_t* b,
                     uint8_t* out, int64_t n);

}  // namespace octet::elementwise
