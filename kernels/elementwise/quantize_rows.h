#pragma once

#include <cstdint>

#include "kernels/isa.h"

namespace octet::elementwise {

// QuantizeLinear of n floats into uint8 on the kernels of `isa`; bit-exact with quantize_value().
void quantize_row(Isa isa, const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out);

void quantize_row_avx2(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out);
void quantize_row_avx512(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out);
void quantize_row_neon(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* out);

}  // namespace octet::elementwise
