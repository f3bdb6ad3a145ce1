#!/usr/bin/env bash
# Installs what is missing, builds octet and runs its main job.
# Until the graph executor lands the main job is `octet demo`: the quantization arithmetic and a reference
# int8 convolution checked against float.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
./build/tools/octet demo "$@"
