#!/usr/bin/env bash
# Installs what is missing, builds octet and runs the whole test suite through ctest.
#
#   scripts/run-tests.sh                                   Release build in build/
#   scripts/run-tests.sh --sanitize address,undefined      instrumented build in build-sanitize/
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
if [[ "${1:-}" == "--sanitize" ]]; then
  sanitize="${2:?--sanitize needs a list, e.g. address,undefined}"
fi

scripts/install-deps.sh

if [[ -n "$sanitize" ]]; then
  build_dir=build-sanitize
  # RelWithDebInfo keeps the tests quick while the reports still have line numbers.
  options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DOCTET_SANITIZE="$sanitize" -DOCTET_BUILD_BENCHMARKS=OFF)
  if [[ "$sanitize" == "address,undefined" ]]; then
    # With clang, the same build also holds the libFuzzer targets (-DOCTET_FUZZ=ON): scripts/run-fuzz.sh
    # reuses it (OCTET_FUZZ_BUILD_DIR=build-sanitize) instead of building the libraries a second time. Its
    # fuzzers take coverage from the loader and the runtime, not the kernels (tests/fuzz/CMakeLists.txt:
    # the kernels' comparison hooks made this suite 1.4x slower).
    source scripts/apt-install.sh
    apt_install_missing run-tests clang libclang-rt-14-dev
    # C too (c_api_test has a C part): one compiler's sanitizer instrumentation and runtime for every object.
    options+=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DOCTET_FUZZ=ON
              "-DOCTET_FUZZ_COVERAGE=octet_graph;octet_runtime;octet_npy")
  fi
  cmake -S . -B "$build_dir" "${options[@]}"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  build_dir=build
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build_dir" -j "$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
