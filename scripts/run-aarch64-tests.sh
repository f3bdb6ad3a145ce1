#!/usr/bin/env bash
# Cross-compiles octet for aarch64 (cmake/toolchain-aarch64.cmake) and runs the test suite under
# qemu-aarch64 on two emulated CPUs:
#   QEMU_CPU=max         dotprod and i8mm: the scalar, neon, neon_dotprod and neon_i8mm kernels
#   QEMU_CPU=cortex-a53  ARMv8.0 without dotprod: the scalar and neon (SMULL + SADALP) kernels
# then, given a host (x86) build, requires the aarch64 `octet run` outputs of every test model on every
# aarch64 ISA to be byte-identical to the host's.
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
source scripts/model-inputs.sh

host_build=""
if [[ "${1:-}" == "--compare" ]]; then
  host_build="${2:?--compare needs the host build directory, e.g. build}"
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

onnx_root="$PWD/$build_dir/deps/onnx-arm64"
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

cmake -S . -B "$build_dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-aarch64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DOCTET_BUILD_BENCHMARKS=OFF -DONNX_DIR="$onnx_dir"
cmake --build "$build_dir" -j "$jobs"

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

# On the CPU with every extension, the whole suite but ONNX's node tests (half of the suite's time under
# qemu, mostly process start-up; they check operator semantics, which do not depend on the architecture,
# and the float kernels they reach are checked against their references by the per-ISA suites). On the one
# without dotprod, the tests that exercise the integer kernels of the ISA it selects (`neon`: SMULL +
# SADALP): the per-ISA kernel suites (Isas/, IsasAndThreads/) and the model tests (Onnx/); the float
# kernels need only baseline Advanced SIMD and ran under -cpu max already.
for cpu in max cortex-a53; do
  echo "== ctest under qemu-aarch64, QEMU_CPU=$cpu =="
  selection=(-E "^Onnx112/OnnxNode")
  if [[ $cpu == max ]]; then
    expect_isas max "neon neon_dotprod neon_i8mm scalar "
  else
    expect_isas cortex-a53 "neon scalar "
    selection=(-R "^(Isas|IsasAndThreads|Onnx)/")
  fi
  # ctest lists each binary's tests (DISCOVERY_MODE PRE_TEST) under this CPU; drop the lists cached
  # under the previous one, which would name ISA instances this CPU does not have.
  find "$build_dir/tests" -name '*]_tests.cmake' -delete
  QEMU_CPU=$cpu ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "${selection[@]}"
done

if [[ -z "$host_build" ]]; then
  echo "run-aarch64-tests: no --compare HOST_BUILD_DIR, skipping the comparison with x86 outputs"
  exit 0
fi

echo "== Test model outputs: aarch64 (qemu, every ISA) against $host_build =="
host_octet="$host_build/tools/octet"
arm_octet="$build_dir/tools/octet"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
checked=0
for model in tests/models/onnx/*.onnx; do
  if ! model_input_args "$host_octet" "$model" "$out/info" args; then
    continue  # refused by design, on every architecture (model_tests checks the refusal)
  fi
  for mode in fixed float; do
    rm -rf "$out/host"
    "$host_octet" run "$model" "${args[@]}" --requant "$mode" --output-dir "$out/host" > /dev/null
    # Float mode: its epilogue is one piece of NEON code shared by the GEMMs (arm/requant_neon.h).
    isas=(scalar neon neon_dotprod neon_i8mm)
    [[ $mode == float ]] && isas=(neon neon_i8mm)
    for isa in "${isas[@]}"; do
      rm -rf "$out/arm"
      QEMU_CPU=max OCTET_ISA=$isa qemu-aarch64 "$arm_octet" run "$model" "${args[@]}" --threads 2 \
        --requant "$mode" --output-dir "$out/arm" > /dev/null
      if ! diff -rq "$out/host" "$out/arm" > /dev/null; then
        echo "FAIL: $model (--requant $mode): aarch64 $isa outputs differ from $host_build's"
        exit 1
      fi
    done
  done
  checked=$((checked + 1))
done
echo "aarch64 vs x86: $checked models, byte-identical outputs on [scalar neon neon_dotprod neon_i8mm] in" \
  "fixed point and on [neon neon_i8mm] in the float requantization mode"
