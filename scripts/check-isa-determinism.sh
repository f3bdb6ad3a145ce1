#!/usr/bin/env bash
# Runs every test model (tests/models/onnx) and, when ../shared is present, the peer models on every ISA
# this CPU supports and on 1 to 4 threads, in both requantization modes (--requant fixed and float), and
# requires byte-identical outputs for each mode: the fast kernels are bit-exact with the scalar reference,
# so nothing may depend on the ISA or the thread count.
#   scripts/check-isa-determinism.sh [BUILD_DIR] [--peers-only]
# --peers-only: the peer models alone. The test models get the same check inside the suite
# (tests/runtime/session_isa_test.cpp: every ISA x 1 to 4 threads x both modes), which CI runs already.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/model-inputs.sh
octet="${1:-build}/tools/octet"
peers_only=false
[[ "${2:-}" == "--peers-only" ]] && peers_only=true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
isas=$("$octet" peak --threads 1 2>/dev/null | awk '/^(scalar|avx2|avx512vnni|avx512amx|neon|neon_dotprod|neon_i8mm) /{print $1}')
checked=0
# Runs are independent processes: two at a time (most of a small model's run is start-up and loading,
# one thread), then every output folder is compared with the first of its mode.
jobs=${JOBS:-$(nproc)}
run_all() {  # model, then "name=file" input arguments
  local model=$1; shift
  local inputs=("$@") running=0
  for mode in fixed float; do
    for isa in $isas; do
      for threads in 1 2 3 4; do
        local dir="$out/$mode-$isa-$threads"
        rm -rf "$dir"
        OCTET_ISA=$isa "$octet" run "$model" "${inputs[@]}" --threads "$threads" --requant "$mode" \
          --output-dir "$dir" > /dev/null &
        running=$((running + 1))
        if ((running >= jobs)); then
          wait -n
          running=$((running - 1))
        fi
      done
    done
  done
  wait
  for mode in fixed float; do
    local reference=""
    for isa in $isas; do
      for threads in 1 2 3 4; do
        local dir="$out/$mode-$isa-$threads"
        if [[ ! -d "$dir" ]]; then
          echo "FAIL: $model (--requant $mode) did not run on $isa, $threads threads"
          exit 1
        elif [[ -z "$reference" ]]; then
          reference=$dir
        elif ! diff -rq "$reference" "$dir" > /dev/null; then
          echo "FAIL: $model (--requant $mode) differs between ISAs / thread counts (first: $isa, $threads threads)"
          exit 1
        fi
      done
    done
  done
  checked=$((checked + 1))
}
$peers_only && echo "test models: skipped (--peers-only; session_isa_test checks them)"
for model in tests/models/onnx/*.onnx; do
  $peers_only && break
  if ! model_input_args "$octet" "$model" "$out/info" args; then
    echo "skipped (octet refuses it by design): $model"
    continue
  fi
  run_all "$model" "${args[@]}"
done
if [[ ! -d ../shared/peers/ort/models ]]; then
  echo "peer models: skipped (no ../shared/peers/ort/models)"
else
  for net in resnet18_like mobilenetv2_like unet_small; do
    for form in qdq qop; do
      run_all "../shared/peers/ort/models/${net}_${form}.onnx" --input "input=../shared/peers/ort/data/${net}_input.npy"
    done
  done
fi
echo "isa determinism: $checked models, identical outputs on ISAs [$(echo $isas)] x threads [1 2 3 4]," \
  "for each requantization mode [fixed float]"
