#!/usr/bin/env bash
# Evaluates the bundled int8 Fashion-MNIST model on all 10,000 test images with octet and prints its
# accuracy next to the float model's (measured when the model was made, models/fashion_mnist/accuracy.json).
# Installs the test set (Debian's dataset-fashion-mnist) and numpy to convert it to .npy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --python
source scripts/apt-install.sh
apt_install_missing evaluate-fashion-mnist dataset-fashion-mnist
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
[[ -f build/fashion_mnist/test_images.npy ]] || /usr/bin/python3 models/fashion_mnist/make_test_set.py build/fashion_mnist
./build/tools/octet classify models/fashion_mnist/fashion_mnist_int8_qdq.onnx \
  --images build/fashion_mnist/test_images.npy --labels build/fashion_mnist/test_labels.npy \
  --batch 500 --threads "$(nproc)"
/usr/bin/python3 -c 'import json; a = json.load(open("models/fashion_mnist/accuracy.json")); print("float model (PyTorch, same images): accuracy %.2f%%" % (100 * a["float_accuracy"]))'
