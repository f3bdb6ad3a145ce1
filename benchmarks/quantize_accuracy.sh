#!/usr/bin/env bash
# Accuracy of `octet quantize` with every calibration method, against the float model, on
#  - the bundled Fashion-MNIST float model: calibration on 1,000 training images (seeded draw), accuracy on
#    the 10,000 test images (Debian's dataset-fashion-mnist, installed here if missing);
#  - ../shared/real/ppocr_cls (when present): calibration on its 64 calibration crops, accuracy and agreement
#    with the float model's decisions on its 200 test crops, beside the int8 model shipped with it.
# Where ONNX Runtime is installed for benchmarks/peers (node and its node_modules; see docs/bench.md), each
# int8 model also runs in ONNX Runtime and its accuracy is printed beside octet's.
#
#   benchmarks/quantize_accuracy.sh [BUILD_DIR]      (default build/, which must hold tools/octet)
#
# Writes its data and models under BUILD_DIR/quantize_accuracy/ and prints one table per model.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
octet="$build/tools/octet"
[[ -x "$octet" ]] || { echo "quantize_accuracy: build octet first ($octet missing)" >&2; exit 1; }
out="$build/quantize_accuracy"
mkdir -p "$out"
source scripts/apt-install.sh
apt_install_missing quantize_accuracy python3-numpy dataset-fashion-mnist
methods=(minmax percentile entropy mse)

minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

ort=""
if command -v node > /dev/null && [[ -d benchmarks/peers/node_modules/onnxruntime-node ]]; then ort=1; fi

# ONNX Runtime's accuracy: MODEL INPUT_NAME IMAGES LABELS OUT_DIR -> "89.75" (empty without ONNX Runtime)
ort_accuracy() {
  [[ -n "$ort" ]] || return 0
  mkdir -p "$5"
  node benchmarks/peers/ort_bench.js "$1" --threads 1 --min-time 0 --input "$2=$3" --out "$5" > /dev/null
  /usr/bin/python3 -c "
import glob, sys, numpy as np
out = np.load(sorted(glob.glob(sys.argv[1] + '/*.npy'))[0]); labels = np.load(sys.argv[2])
print('%.2f' % (100 * (out.argmax(1) == labels).mean()))" "$5" "$4"
}

accuracy() {  # MODEL IMAGES LABELS -> "89.69"
  "$octet" classify "$1" --images "$2" --labels "$3" --batch 500 | sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p'
}

echo "== Fashion-MNIST (CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1)) =="
/usr/bin/python3 models/fashion_mnist/make_test_set.py "$out/fashion_mnist" > /dev/null
/usr/bin/python3 - "$out/fashion_mnist" <<'PY'
import sys
import numpy as np
sys.path.insert(0, "models/fashion_mnist")
import make_test_set as fm
pixels, _ = fm.load_split("train")
draw = np.random.RandomState(0).permutation(len(pixels))[:1000]
np.save(sys.argv[1] + "/calibration_1000.npy", fm.normalize(pixels[draw]))
PY
fm="$out/fashion_mnist"
float_model=models/fashion_mnist/fashion_mnist_fp32.onnx
float_accuracy=$(accuracy "$float_model" "$fm/test_images.npy" "$fm/test_labels.npy")
printf "%-36s %9s %9s %13s %s\n" model accuracy "vs float" "quantize time" "${ort:+ONNX Runtime accuracy}"
printf "%-36s %8s%% %9s\n" "float" "$float_accuracy" ""
bundled=$(accuracy models/fashion_mnist/fashion_mnist_int8_qdq.onnx "$fm/test_images.npy" "$fm/test_labels.npy")
printf "%-36s %8s%% %+8.2f\n" "bundled int8 (MinMax, numpy)" "$bundled" "$(minus "$bundled" "$float_accuracy")"
for m in "${methods[@]}"; do
  start=$(date +%s.%N)
  "$octet" quantize "$float_model" -o "$fm/int8_$m.onnx" --calibration "$fm/calibration_1000.npy" --method "$m" \
    > "$fm/quantize_$m.txt" 2>&1
  seconds=$(minus "$(date +%s.%N)" "$start")
  a=$(accuracy "$fm/int8_$m.onnx" "$fm/test_images.npy" "$fm/test_labels.npy")
  o=$(ort_accuracy "$fm/int8_$m.onnx" input "$fm/test_images.npy" "$fm/test_labels.npy" "$fm/ort_$m")
  printf "%-36s %8s%% %+8.2f %11.2f s %s\n" "octet quantize --method $m" "$a" "$(minus "$a" "$float_accuracy")" \
    "$seconds" "${o:+$o%}"
done

ppocr=../shared/real/ppocr_cls
if [[ ! -d "$ppocr" ]]; then
  echo "(no $ppocr: the ppocr_cls comparison is skipped)"
  exit 0
fi
echo
echo "== ppocr_cls (200 test crops; 64 calibration crops) =="
pp="$out/ppocr_cls"
mkdir -p "$pp"
/usr/bin/python3 "$ppocr/scripts/expand_inputs.py" --dir "$ppocr" --set calib --out "$pp/calibration.npy" > /dev/null
/usr/bin/python3 "$ppocr/scripts/expand_inputs.py" --dir "$ppocr" --set test --out "$pp/test.npy" > /dev/null
run_outputs() {  # MODEL NAME
  mkdir -p "$pp/out_$2"
  "$octet" run "$1" --input x="$pp/test.npy" --output-dir "$pp/out_$2" > /dev/null
}
run_outputs "$ppocr/models/model_fp32.onnx" float
run_outputs "$ppocr/models/model_int8_qdq.onnx" shipped
times=()
for m in "${methods[@]}"; do
  start=$(date +%s.%N)
  "$octet" quantize "$ppocr/models/model_fp32.onnx" -o "$pp/int8_$m.onnx" --calibration "$pp/calibration.npy" \
    --method "$m" --report "$pp/report_$m.json" > "$pp/quantize_$m.txt" 2>&1
  times+=("$(minus "$(date +%s.%N)" "$start")")
  run_outputs "$pp/int8_$m.onnx" "$m"
  if [[ -n "$ort" ]]; then
    mkdir -p "$pp/ort_$m"
    node benchmarks/peers/ort_bench.js "$pp/int8_$m.onnx" --threads 1 --min-time 0 --input x="$pp/test.npy" \
      --out "$pp/ort_$m" > /dev/null
  fi
done
/usr/bin/python3 - "$pp" "$ppocr/data/test_labels.npy" "${times[@]}" <<'PY'
import glob, sys
import numpy as np
pp, labels = sys.argv[1], np.load(sys.argv[2])
times = dict(zip(["minmax", "percentile", "entropy", "mse"], sys.argv[3:]))
def decisions(name):
    return np.load(glob.glob(f"{pp}/out_{name}/*.npy")[0]).argmax(1)
f = decisions("float")
ort = bool(glob.glob(f"{pp}/ort_*/*.npy"))
print(f"{'model':34} {'accuracy':>9} {'same class as float':>20} {'quantize time':>14}"
      + ("  ONNX Runtime: accuracy, same class as float" if ort else ""))
print(f"{'float':34} {100 * (f == labels).mean():8.1f}%")
rows = [("int8 shipped (ORT-style MinMax)", "shipped")] + [(f"octet quantize --method {m}", m) for m in times]
for label, name in rows:
    d = decisions(name)
    t = f"{float(times[name]):.2f} s" if name in times else ""
    line = f"{label:34} {100 * (d == labels).mean():8.1f}% {100 * (d == f).mean():19.1f}% {t:>14}"
    ort_out = glob.glob(f"{pp}/ort_{name}/*.npy")
    if ort_out:
        o = np.load(ort_out[0]).argmax(1)
        line += f"  {100 * (o == labels).mean():6.1f}% {100 * (o == f).mean():6.1f}%"
    print(line)
PY
