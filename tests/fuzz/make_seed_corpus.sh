#!/usr/bin/env bash
# Writes the fuzzers' seed corpora into OUT_DIR (a folder under the build directory; never committed):
#
#   OUT_DIR/model_load/   the bundled models, the graph tests' models and malformed models (when
#                         tests/models has been generated), and a sample of ONNX's backend node tests
#   OUT_DIR/npy/          the bundled samples, some test-model inputs, and small hand-made files of every
#                         dtype and format version the reader accepts
#
#   tests/fuzz/make_seed_corpus.sh build-fuzz/seeds
set -euo pipefail
out="${1:?usage: make_seed_corpus.sh OUT_DIR}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"

models="$out/model_load"
npys="$out/npy"
rm -rf "$models" "$npys"
mkdir -p "$models" "$npys"

# Model files keep a prefix of where they came from, so that names do not collide.
for f in models/*/*.onnx; do cp "$f" "$models/bundled_$(basename "$f")"; done
shopt -s nullglob
for f in tests/models/onnx/*.onnx; do cp "$f" "$models/test_$(basename "$f")"; done
for f in tests/models/malformed/*.onnx; do cp "$f" "$models/malformed_$(basename "$f")"; done
# Every fourth node test (they are many and alike) but every quantized one: those load, so mutations of
# them reach the graph passes and the kernels rather than stopping at "unsupported operator".
i=0
for d in tests/conformance/onnx_node/*/; do
  name="$(basename "$d")"
  if [[ -f "$d/model.onnx" ]] && { ((i % 4 == 0)) || [[ "$name" =~ qdq|qlinear|uint8|int8 ]]; }; then
    cp "$d/model.onnx" "$models/node_$name.onnx"
  fi
  i=$((i + 1))
done

for f in models/*/samples/*.npy; do cp "$f" "$npys/bundled_$(basename "$f")"; done
j=0
for f in tests/models/onnx/*.npy; do
  ((j++ % 10 == 0)) && cp "$f" "$npys/test_$(basename "$f")"
done

# write_npy FILE MAJOR DESCR SHAPE DATA_BYTES: a well-formed .npy of that format version, its data a fixed
# byte pattern. Written by hand (bash printf) so that making the corpus needs no Python.
write_npy() {
  local file="$1" major="$2" descr="$3" shape="$4" nbytes="$5"
  local header="{'descr': '$descr', 'fortran_order': False, 'shape': $shape, }"
  local prefix=$((major == 1 ? 10 : 12))
  local pad=$(((64 - (prefix + ${#header} + 1) % 64) % 64))
  header="$header$(printf '%*s' "$pad" '')"$'\n'
  local len=${#header}
  {
    printf '\x93NUMPY'
    printf "\\x$(printf %02x "$major")\\x00"
    printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $(((len >> 8) & 255)))"
    if ((major != 1)); then printf '\x00\x00'; fi
    printf '%s' "$header"
    head -c "$nbytes" /dev/zero | tr '\0' '\101'
  } >"$file"
}
write_npy "$npys/u8_2x3.npy" 1 '|u1' '(2, 3)' 6
write_npy "$npys/i8_4.npy" 1 '|i1' '(4,)' 4
write_npy "$npys/i32_2x2.npy" 1 '<i4' '(2, 2)' 16
write_npy "$npys/i64_3.npy" 2 '<i8' '(3,)' 24
write_npy "$npys/f32_scalar.npy" 1 '<f4' '()' 4
write_npy "$npys/f64_1x2x1.npy" 3 '<f8' '(1, 2, 1)' 16
write_npy "$npys/f32_empty.npy" 1 '<f4' '(0, 5)' 0
echo "make_seed_corpus: $(ls "$models" | wc -l) models in $models, $(ls "$npys" | wc -l) .npy files in $npys"
