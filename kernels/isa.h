#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace octet {

// The instruction sets octet has kernels for, best last within each architecture. `scalar` is the
// portable reference path. On aarch64 (docs/arm.md): `neon` is baseline ARMv8-A Advanced SIMD (every
// 64-bit ARM core), `neon_dotprod` adds the ARMv8.2 dot product (SDOT / UDOT: Cortex-A55 / A76 and
// later, Neoverse N1, Apple M1), `neon_i8mm` adds the ARMv8.6 int8 matrix multiply (mixed-sign SUDOT /
// USMMLA: Cortex-A510 / A710 / X2, Neoverse V1 / N2, Graviton 3).
enum class Isa { scalar, avx2, avx512vnni, neon, neon_dotprod, neon_i8mm };

std::string_view name_of(Isa isa);

// Whether this CPU (and OS) can run kernels for `isa`.
bool cpu_supports(Isa isa);

// Whether kernels for `isa` may also use AVX-512 VBMI on this CPU: `isa` is avx512vnni and the CPU has VBMI,
// which VNNI does not imply (Cascade Lake has one without the other).
bool vbmi_usable(Isa isa);

// Every ISA this CPU can run, scalar first.
std::vector<Isa> supported_isas();

// The ISA kernels dispatch to: the best the CPU supports, or the one named by the environment variable
// OCTET_ISA (scalar | avx2 | avx512vnni | neon | neon_dotprod | neon_i8mm), which must be supported. Read
// once, on first use; throws octet::Error for an unknown or unsupported name.
Isa active_isa();

// Parses an ISA name; throws octet::Error naming the valid ones.
Isa parse_isa(std::string_view name);

}  // namespace octet
