#!/usr/bin/env bash
# Fuzzes octet's model loader and .npy reader with libFuzzer (clang, ASan + UBSan) for a bounded time.
#
#   scripts/run-fuzz.sh [SECONDS]     each target for SECONDS (default 60)
#
# Builds only the fuzz targets in build-fuzz/ (or $OCTET_FUZZ_BUILD_DIR), seeds build-fuzz/seeds/ from the test models
# (tests/fuzz/make_seed_corpus.sh), keeps what each run discovers in build-fuzz/corpus/ for the next run,
# and exits non-zero if any target finds a crash, leak, sanitizer report, timeout or out-of-memory. The
# failing input lands in build-fuzz/findings/TARGET/; reproduce with build-fuzz/tests/fuzz/TARGET FILE, fix,
# and save the file under tests/fuzz/regressions/TARGET/ so fuzz_regression_tests keeps it fixed.
# OCTET_BUILD_JOBS sets the build's parallelism (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
jobs="${OCTET_BUILD_JOBS:-$(nproc)}"
# scripts/run-tests.sh --sanitize address,undefined configures build-sanitize the same way (clang, ASan +
# UBSan, the fuzz targets): CI points OCTET_FUZZ_BUILD_DIR there and nothing is built twice.
build_dir="${OCTET_FUZZ_BUILD_DIR:-build-fuzz}"

scripts/install-deps.sh
# libFuzzer and the sanitizer runtimes come with clang's runtime package.
source scripts/apt-install.sh
apt_install_missing run-fuzz clang libclang-rt-14-dev

build_start=$SECONDS
# RelWithDebInfo: optimized enough to execute many inputs a second, with line numbers in the reports.
CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOCTET_FUZZ=ON -DOCTET_SANITIZE=address,undefined -DOCTET_BUILD_TESTS=ON -DOCTET_BUILD_BENCHMARKS=OFF
cmake --build "$build_dir" -j "$jobs" --target fuzz_model_load fuzz_npy
echo "run-fuzz: built in $((SECONDS - build_start)) s"

tests/fuzz/make_seed_corpus.sh "$build_dir/seeds"

# Inputs larger than any seed are rarely useful: the bundled float model, the largest seed, is 220 KB, and a
# .npy header cannot exceed 64 KiB in format version 1.
declare -A max_len=([fuzz_model_load]=300000 [fuzz_npy]=65536)
declare -A seeds=([fuzz_model_load]=model_load [fuzz_npy]=npy)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One target per core: on two or more cores both run at once, so the step takes SECONDS, not twice that.
fuzz_target() {  # target; its exit status is the fuzzer's
  local target=$1
  local corpus="$build_dir/corpus/$target" findings="$build_dir/findings/$target"
  mkdir -p "$corpus" "$findings"
  # The first folder is the working corpus (new inputs go there); the seeds are only read.
  "$build_dir/tests/fuzz/$target" -max_total_time="$seconds" -max_len="${max_len[$target]}" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$findings/" \
    "$corpus" "$build_dir/seeds/${seeds[$target]}" >"$build_dir/$target.log" 2>&1
}
targets=(fuzz_model_load fuzz_npy)
declare -A status=()
if ((jobs >= ${#targets[@]})); then
  echo "== ${targets[*]}: $seconds s, at the same time =="
  declare -A pid=()
  for target in "${targets[@]}"; do
    fuzz_target "$target" &
    pid[$target]=$!
  done
  for target in "${targets[@]}"; do
    status[$target]=0
    wait "${pid[$target]}" || status[$target]=$?
  done
else
  for target in "${targets[@]}"; do
    echo "== $target: $seconds s =="
    status[$target]=0
    fuzz_target "$target" || status[$target]=$?
  done
fi

failed=()
for target in "${targets[@]}"; do
  log="$build_dir/$target.log"
  echo "-- $target"
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ +DONE" "$log" || true
  if ((status[$target] != 0)); then
    echo "run-fuzz: $target FAILED (exit ${status[$target]}); the end of its log ($log):"
    tail -n 60 "$log"
    ls -l "$build_dir/findings/$target"
    failed+=("$target")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "run-fuzz: findings in ${failed[*]}"
  exit 1
fi
echo "run-fuzz: no findings"
