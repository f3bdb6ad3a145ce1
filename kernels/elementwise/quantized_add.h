#pragma once

// Quantized add of uint8 rows, vectorised, bit-exact with ref::add (kernels/reference/elementwise.h).
// x86 (AVX-512, AVX2): each of the three fixed-point steps (rescale a, rescale b, requantize the sum) runs in
// the single-rounding form of kernels/elementwise/fused_multiplier.h: one 64-bit multiply-add per lane and a
// 32-bit shift of the high halves, with the "ties away from zero" correction of negative values where it
// can change the result; the output zero point is folded into the rounding constant. That form needs every
// step's shift in range (add_rows_supported), which real models have; the table kernel (binary_table.h)
// covers the rest. NEON: the gemmlowp steps as single instructions (kernels/arm/requant_neon.h), any
// constants.

#include <cstdint>
#include <memory>

#include "kernels/elementwise/binary_rows.h"
#include "kernels/isa.h"
#include "kernels/quantization/clamp.h"
#include "kernels/reference/elementwise.h"

namespace octet::elementwise {

// Whether `isa` has a vector add kernel for these constants.
bool add_rows_supported(Isa isa, const ref::AddConstants& k);

// The add row kernel of `isa` (add_rows_supported; throws otherwise).
std::unique_ptr<const BinaryRows> make_add_rows(Isa isa, const ref::AddConstants& k, Clamp clamp);

// The per-ISA kernels (kernels/x86/quantized_binary_*.cpp, kernels/arm/quantized_binary_neon.cpp), only
// made after the CPU check and, on x86, when add_rows_supported.
std::unique_ptr<const BinaryRows> make_add_rows_avx512(const ref::AddConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_add_rows_avx2(const ref::AddConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_add_rows_neon(const ref::AddConstants& k, Clamp clamp);

// The float requantization mode (ref::float_add_value, ONNX Runtime's arithmetic): a vector kernel where
// `isa` has one (AVX-512, AVX2, NEON), else nullptr (the caller takes the table).
std::unique_ptr<const BinaryRows> make_float_add_rows(Isa isa, const ref::FloatAddConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_float_add_rows_avx512(const ref::FloatAddConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_float_add_rows_avx2(const ref::FloatAddConstants& k, Clamp clamp);
std::unique_ptr<const BinaryRows> make_float_add_rows_neon(const ref::FloatAddConstants& k, Clamp clamp);

}  // namespace octet::elementwise
