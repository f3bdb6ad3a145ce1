#include "kernels/isa.h"

#include <cstdlib>
#include <string>

#include "kernels/error.h"

namespace octet {

std::string_view name_of(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512vnni:
      return "avx512vnni";
  }
  return "?";
}

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return true;
#if defined(__x86_64__)
    // GCC's and Clang's CPU model checks include the OS's XSAVE support for the AVX register state.
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx512vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vnni");
#else
    default:
      return false;
#endif
  }
  return false;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512vnni})
    if (cpu_supports(isa)) out.push_back(isa);
  return out;
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512vnni})
    if (name == name_of(isa)) return isa;
  throw Error("unknown instruction set '" + std::string(name) + "' (scalar, avx2, avx512vnni)");
}

Isa active_isa() {
  static const Isa isa = [] {
    if (const char* forced = std::getenv("OCTET_ISA"); forced && *forced) {
      const Isa wanted = parse_isa(forced);
      if (!cpu_supports(wanted))
        throw Error("OCTET_ISA=" + std::string(forced) +
                    " asks for an instruction set this CPU does not have");
      return wanted;
    }
    return supported_isas().back();
  }();
  return isa;
}

}  // namespace octet
