#!/usr/bin/env bash
# Installs octet's build and test dependencies from Debian packages, only those that are missing, with
# --no-install-recommends: so everything CMake's configure needs is named here, nothing is left to a
# Recommends. Idempotent: a second run installs nothing. Nothing is downloaded other than through apt-get.
#
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --python   also what the model and test-vector scripts need (PyTorch, ONNX)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt-install.sh

packages=(
  build-essential cmake
  libxsimd-dev xtl-dev          # xsimd's CMake target links xtl
  libtbb-dev                    # oneTBB
  libgtest-dev libgmock-dev     # GoogleTest
  libbenchmark-dev              # Google Benchmark
  libonnx-dev libprotobuf-dev protobuf-compiler
  # oneDNN: layers_bench's peer, never linked by the runtime. Debian's dnnl-config.cmake requires OpenCL's
  # headers and library (a Recommends of libdnnl-dev); without them layers_bench is built without oneDNN.
  libdnnl-dev ocl-icd-opencl-dev
  gnuplot-nox                   # octet bench --plot
  # The Python package (python/): the pybind11 extension, NumPy, its pytest suites and the Dask example
  pybind11-dev python3-dev python3-numpy python3-pytest python3-distributed
)
if [[ "${1:-}" == "--python" ]]; then
  packages+=(python3-torch python3-onnx)
fi

apt_install_missing install-deps "${packages[@]}"
echo "install-deps: all dependencies present"
