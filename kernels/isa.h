#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace octet {

// The instruction sets octet has kernels for, best last within each architecture. `scalar` is the
// portable reference path. `avx512amx` is avx512vnni plus Intel AMX's int8 tiles (Sapphire Rapids and
// later) for the convolutions' GEMMs (docs/kernels.md, "AMX"); every other kernel runs its avx512vnni form
// (vector_isa). On aarch64 (docs/arm.md): `neon` is baseline ARMv8-A Advanced SIMD (every
// 64-bit ARM core), `neon_dotprod` adds the ARMv8.2 dot product (SDOT / UDOT: Cortex-A55 / A76 and
// later, Neoverse N1, Apple M1), `neon_i8mm` adds the ARMv8.6 int8 matrix multiply (mixed-sign SUDOT /
// USMMLA: Cortex-A510 / A710 / X2, Neoverse V1 / N2, Graviton 3).
enum class Isa { scalar, avx2, avx512vnni, avx512amx, neon, neon_dotprod, neon_i8mm };

std::string_view name_of(Isa isa);

// The instruction set of the vector kernels `isa` runs: avx512amx's are avx512vnni's (AMX only multiplies
// tiles); every other ISA is its own.
constexpr Isa vector_isa(Isa isa) {
  return isa == Isa::avx512amx ? Isa::avx512vnni : isa;
}

// Whether this CPU (and OS) can run kernels for `isa`. avx512amx: avx512vnni, and amx_support().usable
// (kernels/x86/amx_support.h: the CPU's AMX-TILE and AMX-INT8, the OS's tile state, Linux's permission).
bool cpu_supports(Isa isa);

// Whether kernels for `isa` may also use AVX-512 VBMI on this CPU: `isa`'s vector kernels are avx512vnni's
// and the CPU has VBMI, which VNNI does not imply (Cascade Lake has one without the other).
bool vbmi_usable(Isa isa);

// Every ISA this CPU can run, scalar first.
std::vector<Isa> supported_isas();

// The ISA kernels dispatch to: the best the CPU supports, or the one named by the environment variable
// OCTET_ISA (scalar | avx2 | avx512vnni | avx512amx | neon | neon_dotprod | neon_i8mm), which must be
// supported. Read once, on first use; throws octet::Error for an unknown or unsupported name.
// avx512amx is taken only when named (OCTET_ISA, SessionOptions::isa, --isa): its kernels have been tested
// against the scalar model of the tile instructions, never timed on AMX hardware (docs/kernels.md, "AMX").
Isa active_isa();

// What active_isa() takes when nothing names an ISA: the best supported one, avx512amx left out.
Isa auto_selected_isa();

// Parses an ISA name; throws octet::Error naming the valid ones.
Isa parse_isa(std::string_view name);

}  // namespace octet
