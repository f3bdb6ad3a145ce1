#pragma once

#include <cstdint>

#include "kernels/isa.h"

namespace octet::elementwise {

// QuantizeLinear of n floats into uint8 on the kernels of `isa`; bit-exact with quantize_value().
void quantize_row(Isa isa, const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out);

// DequantizeLinear of n uint8 values into floats; bit-exact with dequantize_value() (the difference is an
// exact integer, one float32 multiply). A plain loop that the compiler vectorises at the baseline ISA: the
// conversion is memory-bound, so no ISA-specific version would gain.
void dequantize_row(const uint8_t* x, int64_t n, float scale, int32_t zero_point, float* out);
// The same loop compiled for `isa`: where the bytes are in L1 (reduce::u8_channel_affine's blocks) the
// conversion is compute-bound, and AVX-512 widens 16 bytes per instruction where SSE2 needs four.
void dequantize_row(Isa isa, const uint8_t* x, int64_t n, float scale, int32_t zero_point, float* out);

void quantize_row_avx2(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out);
void quantize_row_avx512(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out);
void dequantize_row_avx2(const uint8_t* x, int64_t n, float scale, int32_t zero_point, float* out);
void dequantize_row_avx512(const uint8_t* x, int64_t n, float scale, int32_t zero_point, float* out);
void quantize_row_neon(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out);

}  // namespace octet::elementwise
