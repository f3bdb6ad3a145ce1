#!/usr/bin/env bash
# Cross-compiles octet for aarch64 (cmake/toolchain-aarch64.cmake) and runs the test suite under
# qemu-aarch64 (QEMU_CPU=max: dotprod and i8mm, so the scalar, neon, neon_dotprod and neon_i8mm kernels),
# checks the dispatch on an ARMv8.0 CPU without dotprod (QEMU_CPU=cortex-a53: scalar and neon only),
# then, given a host (x86) build, requires every test model's outputs on aarch64 to be byte-identical to the
# host's (session_isa_test's digests of them, on each side after it required all of that side's ISAs and
# thread counts to agree).
#
#   scripts/run-aarch64-tests.sh [--compare HOST_BUILD_DIR]        (build dir: build-aarch64)
#
# Installs only what is missing, all from Debian's packages through apt-get: the cross compiler,
# qemu-user, and the arm64 builds of oneTBB, GoogleTest and protobuf (dpkg --add-architecture arm64).
# libonnx-dev:arm64 cannot be co-installed with the host's (both libonnxifi packages ship
# /usr/lib/libonnxifi.so), so its .debs are fetched with `apt-get download` and unpacked into the build
# directory, where CMake finds them through ONNX_DIR. xsimd is header-only and shared with the host.
set -euo pipefail
cd "$(dirname "$0")/.."

host_build=""
case "${1:-}" in
  "") ;;
  --compare) host_build="${2:?--compare needs the host build directory, e.g. build}" ;;
  *)
    echo "usage: scripts/run-aarch64-tests.sh [--compare HOST_BUILD_DIR]" >&2
    exit 2
    ;;
esac
# The host build's session_isa_test writes the x86 side of the comparison: checked before the long steps.
host_test="$host_build/tests/runtime/session_isa_test"
if [[ -n "$host_build" && ! -x "$host_test" ]]; then
  echo "FAIL: $host_test is not built (--compare needs the host build's test programs)"
  exit 1
fi
build_dir=${OCTET_AARCH64_BUILD_DIR:-build-aarch64}
jobs=${JOBS:-$(nproc)}

source scripts/apt-install.sh

apt_install_missing run-aarch64-tests build-essential cmake protobuf-compiler libxsimd-dev xtl-dev g++-aarch64-linux-gnu qemu-user
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "${apt_sudo[@]}" dpkg --add-architecture arm64
  apt_lists_stale  # the arm64 lists are not there yet
fi
apt_install_missing run-aarch64-tests libtbb-dev:arm64 libgtest-dev:arm64 libprotobuf-dev:arm64

onnx_root="$(realpath -m "$build_dir")/deps/onnx-arm64"  # an absolute OCTET_AARCH64_BUILD_DIR too
onnx_dir="$onnx_root/usr/lib/aarch64-linux-gnu/cmake/ONNX"
if [[ ! -f "$onnx_dir/ONNXConfig.cmake" ]]; then
  echo "run-aarch64-tests: unpacking libonnx-dev:arm64 into $onnx_root"
  apt_update_once
  debs=$(mktemp -d)
  chmod 777 "$debs"  # apt-get download runs as the _apt user where it can
  (cd "$debs" && apt-get download -q libonnx-dev:arm64 libonnx1:arm64 libonnxifi:arm64)
  mkdir -p "$onnx_root"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$onnx_root"; done
  rm -rf "$debs"
fi

# Without the test programs whose code under test is the same portable C++ on every architecture, with no
# per-ISA kernel (the references and quantization arithmetic against float64, constant decoding:
# OCTET_BUILD_PORTABLE_TESTS in tests/CMakeLists.txt), which the x86 builds run.
cmake -S . -B "$build_dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-aarch64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DOCTET_BUILD_BENCHMARKS=OFF -DOCTET_BUILD_PORTABLE_TESTS=OFF \
  -DONNX_DIR="$onnx_dir"
build_start=$SECONDS
cmake --build "$build_dir" -j "$jobs"
echo "run-aarch64-tests: built $build_dir in $((SECONDS - build_start)) s"

# The ISA instances each CPU model runs, from the kernel tests' own list. Instances are named
# <isa>_<requant mode> (neon_fixed_point, neon_float): the fixed_point ones name each ISA once.
isas_under() {
  QEMU_CPU=$1 qemu-aarch64 "$build_dir/tests/kernels/fast_kernel_tests" --gtest_list_tests |
    sed -n 's/^ *RandomShapesBitExact\/\([a-z0-9_]*\)_fixed_point\( .*\)\{0,1\}$/\1/p' | sort -u | tr '\n' ' '
}
expect_isas() {  # cpu, expected list
  local got
  got=$(isas_under "$1")
  if [[ "$got" != "$2" ]]; then
    echo "FAIL: under QEMU_CPU=$1 the kernel tests cover [$got], expected [$2]"
    exit 1
  fi
  echo "QEMU_CPU=$1: ISAs [$got]"
}

# On the CPU with every extension, the whole suite: all four aarch64 ISAs, `neon` (SMULL + SADALP)
# included. Each test executable runs as a few shards (tests/CMakeLists.txt, OCTET_CTEST_GRANULARITY=shard,
# the default): qemu translates a program afresh at each start, so one process per
# test case would cost most of the step. On the ARMv8.0 CPU without dotprod, the dispatch: the kernel
# tests must find exactly scalar and neon there (the neon code is the code that ran under -cpu max, and
# qemu executes those instructions the same way on both CPU models).
expect_isas cortex-a53 "neon scalar "
expect_isas max "neon neon_dotprod neon_i8mm scalar "
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== ctest under qemu-aarch64, QEMU_CPU=max =="
# session_isa_test writes a digest of every test model's outputs (both requantization modes, float and
# quantized outputs) to OCTET_OUTPUT_DIGESTS, after requiring every aarch64 ISA on 1 to 4 threads to give
# the same bytes: the comparison with x86 below needs no run of its own under qemu.
OCTET_OUTPUT_DIGESTS="$out/aarch64.txt" QEMU_CPU=max ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"

if [[ -z "$host_build" ]]; then
  echo "run-aarch64-tests: no --compare HOST_BUILD_DIR, skipping the comparison with x86 outputs"
  exit 0
fi

echo "== Test model outputs: aarch64 (qemu, every ISA) against $host_build =="
# The host build's session_isa_test writes the same digests (after the same check on the host's ISAs).
OCTET_OUTPUT_DIGESTS="$out/host.txt" "$host_test" --gtest_brief=1 \
  --gtest_filter=SessionIsa.EveryIsaGivesTheDefaultIsasBytes
for side in aarch64 host; do
  if [[ ! -s "$out/$side.txt" ]]; then
    echo "FAIL: session_isa_test wrote no output digests on $side"
    exit 1
  fi
done
if ! diff "$out/host.txt" "$out/aarch64.txt"; then
  echo "FAIL: the test models' outputs differ between $host_build (<) and aarch64 (>), lines above"
  exit 1
fi
models=$(cut -d' ' -f1 "$out/host.txt" | sort -u | wc -l)
echo "aarch64 vs x86: $models models, $(wc -l < "$out/host.txt") outputs (both requantization modes, float" \
  "and quantized), byte-identical (each side's suite checked that all of its ISAs give the same bytes)"
