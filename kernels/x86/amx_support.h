#pragma once

// Whether this CPU and OS let octet use Intel AMX's int8 tiles (AMX-TILE + AMX-INT8: Sapphire Rapids and
// later). Checked once per process: CPUID.(EAX=7,ECX=0):EDX bits 24 (AMX-TILE) and 25 (AMX-INT8), the
// OS's XSAVE support (CPUID.1:ECX.OSXSAVE) and its tile state in XCR0 (bits 17 XTILECFG and 18 XTILEDATA),
// and Linux's per-process permission, arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), which a process
// must ask for before its first tile instruction (Linux 5.16 and later; without it the first one faults).
//
// What cpu_supports(Isa::avx512amx) requires beside avx512vnni (kernels/isa.h), and what `octet info` and
// `octet peak` report. Compiled on every architecture without AMX flags; elsewhere than x86-64 it says "not
// an x86 CPU".

#include <string>

namespace octet {

struct AmxSupport {
  bool usable = false;
  std::string reason;  // why not, when !usable: "CPU has no AMX-INT8", ...; empty when usable
};

// The checks above, done on first call (thread-safe); the permission request is made at most once.
const AmxSupport& amx_support();

// "usable" or "not usable: <reason>", for the one line the tools print after "AMX: ".
std::string describe_amx_support();

}  // namespace octet
