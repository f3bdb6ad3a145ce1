#pragma once

#include "kernels/isa.h"

namespace octet {

// This machine's int8 multiply-accumulate rate for `isa`, measured: `threads` threads each run a
// register-only loop of the ISA's dot-product instruction (VNNI vpdpbusd, AVX2 vpmaddwd + vpaddd, scalar
// multiply-adds) for about `seconds`. GMAC/s. The yardstick for the profile's "% of peak" columns.
double measure_peak_gmacs(Isa isa, int threads, double seconds = 0.2);

// avx512amx's: AMX's TDPBUSD (4 accumulator tiles, 16 x 16 x 64 MACs each); throws octet::Error unless
// amx_support().usable.
double measure_amx_peak_gmacs(int threads, double seconds = 0.2);

// One thread's loop, `iterations` long; returns the MACs done. Per ISA (kernels/x86/peak_*.cpp).
double peak_loop_avx512vnni(long iterations);
// AMX (kernels/x86/amx_gemm_intrinsics.cpp, beside the walk's tile backend): configures the tiles on the
// calling thread and releases them.
double peak_loop_amx(long iterations);
double peak_loop_avx2(long iterations);
// aarch64 (kernels/arm/peak_neon*.cpp): SMULL + SADALP, SDOT, USMMLA.
double peak_loop_neon(long iterations);
double peak_loop_neon_dotprod(long iterations);
double peak_loop_neon_i8mm(long iterations);

}  // namespace octet
