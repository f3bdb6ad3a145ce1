#!/usr/bin/env bash
# Installs what is missing, builds octet and runs its main job: the bundled int8 Fashion-MNIST model
# (models/fashion_mnist) classifying 8 sample images, then a short benchmark of the same inference.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
model=models/fashion_mnist/fashion_mnist_int8_qdq.onnx
samples=models/fashion_mnist/samples
./build/tools/octet info "$model" | tail -n 2
./build/tools/octet classify "$model" --images "$samples/images.npy" --labels "$samples/labels.npy" \
  --classes "$samples/classes.txt" --batch 8 --show 8 --repeat 50 "$@"
