#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace octet {

// The instruction sets octet has kernels for, best last. `scalar` is the portable reference path.
enum class Isa { scalar, avx2, avx512vnni };

std::string_view name_of(Isa isa);

// Whether this CPU (and OS) can run kernels for `isa`.
bool cpu_supports(Isa isa);

// Every ISA this CPU can run, scalar first.
std::vector<Isa> supported_isas();

// The ISA kernels dispatch to: the best the CPU supports, or the one named by the environment variable
// OCTET_ISA (scalar | avx2 | avx512vnni), which must be supported. Read once, on first use; throws
// octet::Error for an unknown or unsupported name.
Isa active_isa();

// Parses an ISA name; throws octet::Error naming the valid ones.
Isa parse_isa(std::string_view name);

}  // namespace octet
