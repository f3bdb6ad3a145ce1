#pragma once

// Quantized multiply of uint8 rows, vectorised, bit-exact with ref::mul (kernels/reference/elementwise.h):
//   out = clamp(z_out + multiply_by_fixed((a - z_a) * (b - z_b), M)),  M = s_a * s_b / s_out.
// |(a - z_a) * (b - z_b)| <= 255 * 255 < 2^16, so the product is exact in int32 (x86: one vpmaddwd of
// 16-bit differences) and the one fixed-point step runs in the single-rounding form of
// kernels/elementwise/fused_multiplier.h, the output zero point folded in, with the tie correction only
// where the clamp does not make it moot. That form needs M's shift in range (mul_rows_supported: M between
// about 2^-23 and 2^14); the table kernel (binary_table.h) covers the rest. NEON: the gemmlowp steps as
// single instructions (kernels/arm/requant_neon.h), any M.

#include <cstdint>
#include <memory>

#include "kernels/elementwise/binary_rows.h"
#include "kernels/isa.h"
#include "kernels/quantization/clamp.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/quant_params.h"
#include "kernels/reference/elementwise.h"

namespace octet::elementwise {

// Whether `isa` has a vector mul kernel for these constants.
bool mul_rows_supported(Isa isa, const ref::MulConstants& k);

// The mul row kernel of `isa` (mul_rows_supported; throws otherwise).
std::unique_ptr<const BinaryRows> make_mul_rows(Isa isa, const ref::MulConstants& k, Clamp clamp);

// The per-ISA kernels (kernels/x86/quantized_binary_*.cpp, kernels/arm/quantized_binary_neon.cpp), only
// made after the CPU check and, on x86, when mul_rows_supported.
std::unique_ptr<const BinaryRows> make_mul_rows_avx512(const ref::MulConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_mul_rows_avx2(const ref::MulConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_mul_rows_neon(const ref::MulConstants& k, Clamp clamp);

// The float requantization mode (ref::float_mul_value, ONNX Runtime's arithmetic): a vector kernel where
// `isa` has one (AVX-512, AVX2, NEON) and the ratio is finite, else nullptr (the caller takes the table).
std::unique_ptr<const BinaryRows> make_float_mul_rows(Isa isa, const ref::FloatMulConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_float_mul_rows_avx512(const ref::FloatMulConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_float_mul_rows_avx2(const ref::FloatMulConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_float_mul_rows_neon(const ref::FloatMulConstants& k, Clamp clamp);

}  // namespace octet::elementwise
