#!/usr/bin/env python3
"""Tests scripts/check-isa-symbols.py on a small program built here with the build's own compiler.

    check_isa_symbols_test.py CXX NM OBJDUMP

Two files include one header whose inline function and destructor use the vector extension when the file
is compiled with it (AVX2 on x86-64, the dot product on aarch64): the pattern the check exists for. The
check must fail and name both functions (one of them with hidden visibility), one copy of which the linker
keeps for all callers. With the header's contents in an unnamed namespace (each file its own copy), it must
pass.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = r"""
#include <cstdint>
#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>
#endif
#ifdef INTERNAL
namespace {
#endif
// Inlined into both functions below, so each holds the vector code itself.
__attribute__((always_inline)) inline int32_t dot16_body(const uint8_t* a, const uint8_t* b) {
#if defined(__AVX2__)
  const __m256i products = _mm256_madd_epi16(
      _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
      _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b))));
  const __m128i halves = _mm_add_epi32(_mm256_castsi256_si128(products), _mm256_extracti128_si256(products, 1));
  return _mm_cvtsi128_si32(_mm_hadd_epi32(_mm_hadd_epi32(halves, halves), halves));
#elif defined(__ARM_FEATURE_DOTPROD)
  return static_cast<int32_t>(vaddvq_u32(vdotq_u32(vdupq_n_u32(0), vld1q_u8(a), vld1q_u8(b))));
#else
  int32_t sum = 0;
  for (int i = 0; i < 16; ++i) sum += a[i] * b[i];
  return sum;
#endif
}
// noinline: emitted out of line in both files, as larger inline functions and template instances are.
// Hidden, as clang's own helpers are (__clang_call_terminate): objdump then names its visibility.
__attribute__((noinline, visibility("hidden"))) inline int32_t dot16(const uint8_t* a, const uint8_t* b) {
  return dot16_body(a, b);
}
// A destructor: g++ emits its complete-object form as an alias of the base-object form, in one section.
struct Scratch {
  uint8_t values[16];
  int32_t* sink;
  __attribute__((noinline)) ~Scratch() { *sink = dot16_body(values, values); }
};
#ifdef INTERNAL
}  // namespace
#endif
"""

SOURCE = r"""
#include "shared.h"
int32_t NAME(const uint8_t* a, int32_t* sink) {
  { Scratch scratch{{}, sink}; for (int i = 0; i < 16; ++i) scratch.values[i] = a[i]; }
  return dot16(a, a);
}
"""


def build(directory: Path, cxx: str, vector_flag: str, defines: list[str]) -> None:
    (directory / "shared.h").write_text(HEADER)
    commands = []
    for name, flags in (("plain", []), ("vector", [vector_flag])):
        (directory / f"{name}.cpp").write_text(SOURCE.replace("NAME", name))
        arguments = [cxx, "-std=c++20", "-O2", *flags, *defines, "-c", f"{name}.cpp", "-o", f"{name}.o"]
        subprocess.run(arguments, cwd=directory, check=True)
        commands.append({"directory": str(directory), "file": f"{name}.cpp", "arguments": arguments})
    (directory / "compile_commands.json").write_text(json.dumps(commands))


def check(script: Path, directory: Path) -> tuple[int, str]:
    result = subprocess.run([sys.executable, str(script), str(directory)], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    cxx, nm, objdump = sys.argv[1], sys.argv[2] or "nm", sys.argv[3] or "objdump"
    script = Path(__file__).resolve().parents[2] / "scripts" / "check-isa-symbols.py"
    machine = subprocess.run([cxx, "-dumpmachine"], check=True, capture_output=True, text=True).stdout
    vector_flag = "-march=armv8.2-a+dotprod" if machine.startswith("aarch64") else "-mavx2"
    failures = []
    with tempfile.TemporaryDirectory() as temporary:
        for case, defines, expect_failure in (("shared", [], True), ("internal", ["-DINTERNAL"], False)):
            directory = Path(temporary) / case
            directory.mkdir()
            build(directory, cxx, vector_flag, defines)
            (directory / "CMakeCache.txt").write_text(f"CMAKE_NM:FILEPATH={nm}\nCMAKE_OBJDUMP:FILEPATH={objdump}\n")
            returncode, output = check(script, directory)
            if expect_failure:
                named = all(f"FAIL: {name}" in output for name in ("dot16(", "Scratch::~Scratch()"))
                if returncode != 1 or not named or "found no code" in output:
                    failures.append(f"{case}: expected a failure naming dot16 and ~Scratch, read in full; got "
                                    f"exit {returncode}:\n{output}")
            elif returncode != 0:
                failures.append(f"{case}: expected a pass; got exit {returncode}:\n{output}")
    for failure in failures:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
