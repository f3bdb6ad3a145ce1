#include "kernels/x86/amx_support.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#endif

namespace octet {

namespace {

#if defined(__x86_64__) && defined(__linux__)

// XCR0 without -mxsave: the instruction only, OSXSAVE having been checked first (xgetbv faults without it).
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

AmxSupport check() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return {false, "CPU has no AMX-INT8"};
  const bool tile = (edx >> 24) & 1, int8 = (edx >> 25) & 1;
  if (!int8) return {false, "CPU has no AMX-INT8"};
  if (!tile) return {false, "CPU has no AMX-TILE"};
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1))
    return {false, "OS does not enable tile state (XCR0): no OSXSAVE"};
  // The kernel sets XCR0's tile bits at boot when it supports AMX (Linux 5.16+); they do not change with the
  // permission request below, so a kernel without AMX support is named as such rather than by the refusal.
  constexpr uint64_t kTileState = (uint64_t{1} << 17) | (uint64_t{1} << 18);  // XTILECFG, XTILEDATA
  if ((read_xcr0() & kTileState) != kTileState) return {false, "OS does not enable tile state (XCR0)"};
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    const int error = errno;
    return {false, std::string("arch_prctl(ARCH_REQ_XCOMP_PERM) refused: ") + std::strerror(error)};
  }
  return {true, ""};
}

#elif defined(__x86_64__)

AmxSupport check() {
  return {false, "not checked on this OS (the tile permission request is Linux's arch_prctl)"};
}

#else

AmxSupport check() {
  return {false, "not an x86 CPU"};
}

#endif

}  // namespace

const AmxSupport& amx_support() {
  static const AmxSupport support = check();
  return support;
}

std::string describe_amx_support() {
  const AmxSupport& s = amx_support();
  return s.usable ? "usable (no kernel dispatches to it yet)" : "not usable: " + s.reason;
}

}  // namespace octet
