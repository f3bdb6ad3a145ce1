#!/usr/bin/env bash
# octet against ONNX Runtime on any ONNX model: the same inputs, the same thread count, measured in
# alternating rounds so that both see the same machine state; prints both medians per round, the medians
# of the rounds, the octet / ORT time ratio and how closely the outputs agree.
#
#   benchmarks/peers/compare.sh MODEL [--threads N] [--rounds R] [--min-time S] [--input NAME=FILE.npy ...]
#                                     [--shape NAME=AxBxC ...] [--requant fixed|float]
#   OCTET=PATH: the octet binary to time (default: build/tools/octet)
#
# --requant: octet's requantization mode (float: ONNX Runtime's arithmetic, docs/quantization.md 6.6).
#
# Without --input, random inputs of the model's shapes (--shape for dynamic dimensions) are made by
# `octet bench --save-inputs`. ONNX Runtime
# comes from npm (onnxruntime-node, pinned in package-lock.json), installed here on first use with its
# GPU download step skipped (.npmrc). Needs node and npm, and octet built in build/ (or OCTET=PATH: another
# octet binary, e.g. a copy that a rebuild of build/ does not replace halfway through a run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
octet="${OCTET:-$root/build/tools/octet}"
[[ $# -ge 1 ]] || { sed -n 2,11p "$0"; exit 2; }
model=$1; shift
threads=1 rounds=5 min_time=2 requant=fixed
inputs=() shapes=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --input) inputs+=(--input "$2"); shift 2 ;;
    --shape) shapes+=(--shape "$2"); shift 2 ;;
    --requant) requant=$2; shift 2 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
command -v node > /dev/null || { echo "compare.sh: needs node and npm (apt-get install nodejs npm)" >&2; exit 1; }
[[ -d "$here/node_modules/onnxruntime-node" ]] || (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund > /dev/null)
[[ -x "$octet" ]] || { echo "compare.sh: no octet at $octet: build it (scripts/run-tests.sh) or set OCTET" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ ${#inputs[@]} -eq 0 ]]; then
  "$octet" bench "$model" --iterations 1 --warmup 0 "${shapes[@]}" --save-inputs "$work/inputs" > /dev/null
  for f in "$work"/inputs/*.npy; do inputs+=(--input "$(basename "$f" .npy)=$f"); done
fi

printf '%-6s %12s %12s\n' round "octet ms" "ORT ms"
octet_ms=() ort_ms=()
for r in $(seq 1 "$rounds"); do
  "$octet" bench "$model" --threads "$threads" --min-time "$min_time" --requant "$requant" "${inputs[@]}" \
    --json "$work/octet.json" > /dev/null
  o=$(grep -o '"median": [0-9.e+-]*' "$work/octet.json" | head -1 | awk '{print $2}')
  e=$(node "$here/ort_bench.js" "$model" --threads "$threads" --min-time "$min_time" "${inputs[@]}" --out "$work/ort")
  t=$(echo "$e" | grep -o '"median_ms":[0-9.e+-]*' | cut -d: -f2)
  printf '%-6s %12.3f %12.3f\n' "$r" "$o" "$t"
  octet_ms+=("$o") ort_ms+=("$t")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
mo=$(median "${octet_ms[@]}") mt=$(median "${ort_ms[@]}")
isa=$(grep -o '"isa": "[a-z0-9]*"' "$work/octet.json" | cut -d'"' -f4)
echo "median of rounds: octet $mo ms, ORT $mt ms, octet/ORT $(awk -v a="$mo" -v b="$mt" 'BEGIN {printf "%.2f", a / b}') ($threads thread(s), octet ISA $isa, $requant requantization)"

# Agreement, in the output's quantization steps (the scale octet reports for it).
"$octet" run "$model" "${inputs[@]}" --requant "$requant" --output-dir "$work/octet" > /dev/null
# (awk reads all its input: an early exit would break the pipe, which pipefail turns into a failure)
scale=$("$octet" info "$model" "${inputs[@]}" | awk '/^output: / && !done {for (i = 1; i <= NF; ++i) if ($i == "scale") {print $(i + 1); done = 1}}' | tr -d ',')
node "$here/compare_outputs.js" "$work/octet" "$work/ort" "${scale:-1}"
