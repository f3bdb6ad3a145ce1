#pragma once

// out[i] = table[in[i]] for a 256-entry byte table: what concat (requantizing an input to the output's
// params), requantize and every LUT activation reduce to. AVX-512 VBMI looks up 64 bytes with two
// two-register byte permutes and a blend on each index's top bit; other CPUs (and an `isa` below
// avx512vnni) take the scalar loop. The same bytes either way.

#include <array>
#include <cstdint>

#include "kernels/isa.h"

namespace octet::elementwise {

using ByteTable = std::array<uint8_t, 256>;

void map_bytes(Isa isa, const ByteTable& table, const uint8_t* in, uint8_t* out, int64_t n);

// `rows` rows of `width` bytes, `in_stride` and `out_stride` bytes apart, mapped through `table`, or
// copied when it is null: concatenation along channels, whose rows are often a few dozen bytes, where a
// call per row would cost more than its bytes.
void map_rows(Isa isa, const ByteTable* table, const uint8_t* in, int64_t in_stride, uint8_t* out,
              int64_t out_stride, int64_t width, int64_t rows);

// The VBMI kernels (kernels/x86/byte_map_avx512vbmi.cpp); only called after the CPU check.
void map_bytes_avx512vbmi(const ByteTable& table, const uint8_t* in, uint8_t* out, int64_t n);
void map_rows_avx512vbmi(const ByteTable* table, const uint8_t* in, int64_t in_stride, uint8_t* out,
                         int64_t out_stride, int64_t width, int64_t rows);

}  // namespace octet::elementwise
