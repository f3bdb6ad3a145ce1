#!/usr/bin/env bash
# Installs octet's build and test dependencies from Debian packages, only those that are missing.
# Idempotent: a second run installs nothing. Nothing is downloaded other than through apt-get.
#
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --python   also what scripts/make_torch_vectors.py needs (regenerating vectors)
set -euo pipefail

packages=(
  build-essential cmake
  libxsimd-dev xtl-dev          # xsimd's CMake target links xtl
  libtbb-dev                    # oneTBB
  libgtest-dev libgmock-dev     # GoogleTest
  libbenchmark-dev              # Google Benchmark
  libonnx-dev libprotobuf-dev protobuf-compiler
  libdnnl-dev                   # oneDNN: the benchmarks' peer, never linked by the runtime
)
if [[ "${1:-}" == "--python" ]]; then
  packages+=(python3-torch python3-numpy python3-onnx)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all dependencies present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
