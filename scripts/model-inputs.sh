# Sourced by scripts/check-isa-determinism.sh, which runs every test model through the `octet` command.
#
# model_input_args OCTET MODEL INFO_FILE ARRAY: sets the array named ARRAY to the --input arguments of a
# test model (tests/models/onnx/NAME.onnx reads NAME.input.npy, NAME.input1.npy, ... in the order of its
# inputs, as `octet info` lists them, written to INFO_FILE). Returns 1 when octet refuses the model.
model_input_args() {
  local octet=$1 model=$2 info=$3
  local -n result=$4
  "$octet" info "$model" > "$info" 2>&1 || return 1
  local base=${model%.onnx} names i suffix
  mapfile -t names < <(awk '/^input: /{print $2}' "$info")
  result=()
  for i in "${!names[@]}"; do
    suffix=$([[ $i -eq 0 ]] && echo "" || echo "$i")
    result+=(--input "${names[$i]}=$base.input$suffix.npy")
  done
}
