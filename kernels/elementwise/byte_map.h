#pragma once

// out[i] = table[in[i]] for a 256-entry byte table: what concat (requantizing an input to the output's
// params), requantize and every LUT activation reduce to. AVX-512 VBMI looks up 64 bytes with two
// two-register byte permutes and a blend on each index's top bit; other CPUs (and OCTET_ISA below
// avx512vnni) take the scalar loop. The same bytes either way.

#include <array>
#include <cstdint>

namespace octet::elementwise {

using ByteTable = std::array<uint8_t, 256>;

void map_bytes(const ByteTable& table, const uint8_t* in, uint8_t* out, int64_t n);

// The VBMI kernel (kernels/x86/byte_map_avx512vbmi.cpp); only called after the CPU check.
void map_bytes_avx512vbmi(const ByteTable& table, const uint8_t* in, uint8_t* out, int64_t n);

}  // namespace octet::elementwise
