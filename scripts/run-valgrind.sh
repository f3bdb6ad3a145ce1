#!/usr/bin/env bash
# Runs one end-to-end inference (octet run on the bundled Fashion-MNIST model and its 8 sample images)
# under valgrind memcheck: no invalid reads or writes, no uses of uninitialized values, no definite or
# indirect leaks. The outputs must also equal those of the same run without valgrind.
#
#   scripts/run-valgrind.sh
#
# Uses the Release build in build/ (scripts/run-tests.sh makes it), building the octet command if needed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
source scripts/apt-install.sh
apt_install_missing run-valgrind valgrind

build_dir="${OCTET_BUILD_DIR:-build}"
start=$SECONDS
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release; fi
cmake --build "$build_dir" -j "${OCTET_BUILD_JOBS:-$(nproc)}" --target octet_cli
octet="$build_dir/tools/octet"

model=models/fashion_mnist/fashion_mnist_int8_qdq.onnx
images=models/fashion_mnist/samples/images.npy
out="$build_dir/valgrind"
rm -rf "$out"
mkdir -p "$out/plain" "$out/memcheck"

# valgrind 3.19 cannot execute AVX-512 instructions (SIGILL); the AVX2 kernels are the fast path it can run.
export OCTET_ISA=avx2
"$octet" run "$model" --input "input=$images" --output-dir "$out/plain" >/dev/null
# Two threads, so that the oneTBB worker path and its teardown are checked too. "Possibly lost" and
# "still reachable" blocks are oneTBB's and libstdc++'s process-lifetime pools, not leaks.
valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect --track-origins=yes --log-file="$out/memcheck.log" \
  "$octet" run "$model" --input "input=$images" --output-dir "$out/memcheck" --threads 2 || {
  cat "$out/memcheck.log"
  echo "run-valgrind: FAILED (memcheck errors or leaks above)"
  exit 1
}
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|All heap blocks" "$out/memcheck.log" || true
for f in "$out/plain"/*.npy; do
  if ! cmp -s "$f" "$out/memcheck/$(basename "$f")"; then
    echo "run-valgrind: FAILED: $(basename "$f") differs between the plain and the memcheck run"
    exit 1
  fi
done
echo "run-valgrind: no memcheck errors, no leaks, outputs identical ($((SECONDS - start)) s)"
