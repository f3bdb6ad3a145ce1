#include "kernels/isa.h"

#include <cstdlib>
#include <string>

#include "kernels/error.h"
#include "kernels/x86/amx_support.h"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace octet {

std::string_view name_of(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512vnni:
      return "avx512vnni";
    case Isa::avx512amx:
      return "avx512amx";
    case Isa::neon:
      return "neon";
    case Isa::neon_dotprod:
      return "neon_dotprod";
    case Isa::neon_i8mm:
      return "neon_i8mm";
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
    case Isa::avx512amx:
      return cpu_supports(Isa::avx512vnni) && amx_support().usable;
#elif defined(__aarch64__) && defined(__linux__)
    // The kernel reports what both the core and the kernel itself support (AT_HWCAP / AT_HWCAP2).
    // Advanced SIMD is mandatory on AArch64 Linux; the dotprod and i8mm kernels need their extensions.
    case Isa::neon:
      return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
    case Isa::neon_dotprod:
      return cpu_supports(Isa::neon) && (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
    case Isa::neon_i8mm:
      // The i8mm kernel is compiled for ARMv8.2 + dotprod + i8mm, so it needs both bits.
      return cpu_supports(Isa::neon_dotprod) && (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0;
#endif
    default:  // another architecture's instruction set
      return false;
  }
  return false;
}

bool vbmi_usable(Isa isa) {
#if defined(__x86_64__)
  return vector_isa(isa) == Isa::avx512vnni && __builtin_cpu_supports("avx512vbmi");
#else
  (void)isa;
  return false;
#endif
}

namespace {

constexpr Isa kAllIsas[] = {Isa::scalar, Isa::avx2,         Isa::avx512vnni, Isa::avx512amx,
                            Isa::neon,   Isa::neon_dotprod, Isa::neon_i8mm};

}  // namespace

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : kAllIsas)
    if (cpu_supports(isa)) out.push_back(isa);
  return out;
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : kAllIsas)
    if (name == name_of(isa)) return isa;
  throw Error("unknown instruction set '" + std::string(name) +
              "' (scalar, avx2, avx512vnni, avx512amx, neon, neon_dotprod, neon_i8mm)");
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
    return auto_selected_isa();
  }();
  return isa;
}

Isa auto_selected_isa() {
  Isa best = Isa::scalar;
  for (Isa isa : supported_isas())
    if (isa != Isa::avx512amx) best = isa;
  return best;
}

}  // namespace octet
