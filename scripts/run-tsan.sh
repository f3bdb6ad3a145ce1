#!/usr/bin/env bash
# Builds the runtime tests under ThreadSanitizer in build-tsan/ and runs them: the concurrency test
# (sessions on one shared Model, thread counts, concurrent compilation for new shapes), the C API's test and
# the graph / runtime model tests. Exits non-zero on any data race or other TSan report.
#
#   scripts/run-tsan.sh
#
# OCTET_BUILD_JOBS sets the build's parallelism (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${OCTET_BUILD_JOBS:-$(nproc)}"
build_dir=build-tsan

scripts/install-deps.sh

start=$SECONDS
# -O1, as TSan's documentation suggests for a usable slowdown: the runs are short (about 10 s) and -O1
# halves the compile time of the SIMD kernels (gemm_avx512vnni.cpp: 36 s -> 19 s with g++ 12).
# g++, not clang: clang's build is faster (265 s against 311 on 2 cores) but its TSan reports oneTBB's
# recycled task memory (tsan.supp, kind 2) with memset as the top frame, which race_top cannot tell from a
# memset in octet's own code: concurrency_test reported in 4 runs of 6, pinned.
# With the precompiled headers, like every other build: without them (as this build was until stop 52, to
# check that every file includes the standard headers it uses) the build took 276 s instead of 237 s on 2
# cores, and CI's 40 minutes no longer had room for it. A missing include shows up only in a build with
# -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON.
# -O0 does not build faster than -O1 here (274 s): instrumenting every stack access costs what the
# optimizer saves.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOCTET_SANITIZE=thread \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" \
  -DOCTET_BUILD_BENCHMARKS=OFF
# Only the test programs that exercise threads; the others add build time and no concurrency.
# c_api_test: the C API's sessions sharing a model across threads, and its per-thread error messages.
targets=(concurrency_test c_api_test)
# (Not piped straight into grep -q: that closes the pipe early and, under pipefail, fails the test.)
available="$(cmake --build "$build_dir" --target help)"
if grep -q '\bmodel_tests\b' <<<"$available"; then targets+=(model_tests); fi
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"
echo "run-tsan: built ${targets[*]} in $((SECONDS - start)) s"

# tsan.supp says why it exists and what it may hold (oneTBB-internal frames only). halt_on_error=0 lists
# every race of a run, and TSan's exit code (66) still fails the script.
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}"
# TSan maps its shadow memory at fixed addresses; kernels with more mmap randomization than it expects
# make it abort at start ("unexpected memory mapping"). Running without address randomization avoids that.
runner=()
if setarch "$(uname -m)" -R true 2>/dev/null; then runner=(setarch "$(uname -m)" -R); fi
# One CPU, so that oneTBB starts no worker threads. Debian's libtbb is not instrumented: TSan cannot see the
# synchronization inside its scheduler, so every handoff of a parallel_for chunk to a worker looks like a
# race on octet's buffers (packed weights written before the run, outputs read after it). Those reports
# name octet's own frames and cannot be suppressed without hiding real races. Pinned, a session's work
# stays on its calling thread, and what TSan checks is the concurrency octet itself creates: sessions on
# several std::threads sharing one Model, its program cache, and every lazily initialized global. The
# threads still interleave (TSan's happens-before analysis does not need them to run simultaneously), and
# the parallel kernels' results are checked for determinism across thread counts by the normal test runs.
first_cpu="$(taskset -pc $$ 2>/dev/null | sed -E 's/.*: *([0-9]+).*/\1/')"
if [[ -n "$first_cpu" ]]; then runner+=(taskset -c "$first_cpu"); fi

status=0
for target in "${targets[@]}"; do
  exe="$(find "$build_dir/tests" -type f -name "$target" -perm -u+x | head -n 1)"
  echo "== $target under ThreadSanitizer =="
  run_start=$SECONDS
  "${runner[@]}" "$exe" --gtest_brief=1 || status=$?
  echo "run-tsan: $target finished in $((SECONDS - run_start)) s (exit ${status})"
  if ((status != 0)); then break; fi
done
echo "run-tsan: total $((SECONDS - start)) s"
if ((status != 0)); then
  echo "run-tsan: FAILED"
  exit "$status"
fi
echo "run-tsan: no ThreadSanitizer reports"
