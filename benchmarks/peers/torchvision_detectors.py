#!/usr/bin/python3
"""torchvision's detectors as torch.onnx exports them, post-processing included, run through octet and
ONNX Runtime on the same image: a check of octet's staged execution (NonZero, NonMaxSuppression, If, Loop,
TopK of data-dependent sizes), RoiAlign and the rest on real detector graphs, and of `octet quantize` on
them.

    /usr/bin/python3 benchmarks/peers/torchvision_detectors.py [--out build/detectors] [--quantize] [NAME ...]

For each detector (all by default): export it with random weights (seeded; no download) for a 320 x 320
image (torchvision's transform resizes it for the R50 models), run it in octet and in ONNX Runtime
(benchmarks/peers/ort_bench.js, which compare.sh installs), and print each output's largest difference.
Detections whose scores tie (random weights make many) may come in another order, or differ at the cut-off
of those kept, so each box is matched to the nearest of the other runtime's boxes (those within a pixel
are counted) and 1-D outputs are compared sorted; masks and keypoints are compared in order. With --quantize, also quantize the model with `octet quantize` on
the image and compare octet's int8 model, in both requantization modes (`--requant fixed` and `float`), with
ORT running the same int8 model. Exits non-zero if a model
fails to export, load or run.

Needs Debian's python3-torch and python3-torchvision, and node (not installed by the project's scripts:
nothing in the build or the tests uses them).
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision

D = torchvision.models.detection
DETECTORS = {
    "fasterrcnn_mobilenet_v3_large_320_fpn": lambda: D.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=5),
    "fasterrcnn_resnet50_fpn": lambda: D.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=5),
    "maskrcnn_resnet50_fpn": lambda: D.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=5),
    "keypointrcnn_resnet50_fpn": lambda: D.keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None,
                                                                     num_classes=2),
    "retinanet_resnet50_fpn": lambda: D.retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=5),
    "fcos_resnet50_fpn": lambda: D.fcos_resnet50_fpn(weights=None, weights_backbone=None, num_classes=5),
    "ssd300_vgg16": lambda: D.ssd300_vgg16(weights=None, weights_backbone=None, num_classes=5),
    "ssdlite320_mobilenet_v3_large": lambda: D.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None,
                                                                             num_classes=5),
}
HERE = os.path.dirname(os.path.abspath(__file__))


def export(name, out):
    torch.manual_seed(0)
    model = DETECTORS[name]().eval()
    image = torch.rand(3, 320, 320)
    with torch.no_grad():
        names = list(model([image])[0].keys())
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, ([image],), path, opset_version=16, input_names=["image"], output_names=names)
    np.save(os.path.join(out, name + ".image.npy"), image.numpy())
    return path


def run(args):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{os.path.basename(args[0])}: {(done.stderr or done.stdout).strip()[-600:]}")


def compare(octet_dir, ort_dir):
    """Per output: the largest difference; boxes (rows of 4) matched to the nearest row of the other side."""
    parts = []
    for f in sorted(os.listdir(ort_dir)):
        a, b = np.load(os.path.join(octet_dir, f)).astype(np.float64), np.load(os.path.join(ort_dir, f))
        if a.shape != b.shape:
            parts.append(f"{f[:-4]} shapes {list(a.shape)} / {list(b.shape)}")
            continue
        if a.size == 0:
            parts.append(f"{f[:-4]} empty")
            continue
        if a.ndim == 2 and a.shape[1] == 4:
            # Random weights tie many scores, so the last detections kept may differ: count the boxes that
            # have a counterpart within 1 pixel, and give the largest distance among those.
            nearest = np.array([np.abs(b - row).max(axis=1).min() for row in a])
            close = nearest <= 1.0
            parts.append(f"{f[:-4]} {int(close.sum())}/{len(a)} matched within "
                         f"{nearest[close].max() if close.any() else 0:.3g}")
            continue
        else:
            diff = np.abs(np.sort(a.ravel()) - np.sort(b.ravel())).max() if a.ndim == 1 else np.abs(a - b).max()
        parts.append(f"{f[:-4]} {diff:.3g}")
    return ", ".join(parts)


def check(name, model, out, octet, quantized):
    """Runs the model in octet and ONNX Runtime and prints the comparison; an int8 model in both of octet's
    requantization modes (float: ONNX Runtime's arithmetic, whose detections should be ONNX Runtime's)."""
    image = os.path.join(out, name + ".image.npy")
    base = model[:-len(".onnx")]
    run(["node", os.path.join(HERE, "ort_bench.js"), model, "--min-time", "0.01", "--input", f"image={image}",
         "--out", base + ".ort"])
    for mode in ["fixed", "float"] if quantized else ["fixed"]:
        suffix = ".octet" if mode == "fixed" else ".octet_float"
        run([octet, "run", model, "--input", f"image={image}", "--output-dir", base + suffix, "--requant", mode])
        what = f"int8 {mode}" if quantized else "float"
        print(f"{name:40s} {what:10s} {compare(base + suffix, base + '.ort')}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join("build", "detectors"))
    parser.add_argument("--octet", default=os.path.join("build", "tools", "octet"))
    parser.add_argument("--quantize", action="store_true", help="also quantize each model and compare int8")
    parser.add_argument("names", nargs="*", help=f"detectors (default: all): {', '.join(DETECTORS)}")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in DETECTORS]
    if unknown:
        sys.exit(f"unknown detectors: {unknown}")
    os.makedirs(args.out, exist_ok=True)
    if not os.path.isdir(os.path.join(HERE, "node_modules")):
        run(["npm", "ci", "--ignore-scripts", "--prefix", HERE])
    failed = []
    for name in args.names or DETECTORS:
        try:
            model = export(name, args.out)
            check(name, model, args.out, args.octet, False)
            if args.quantize:
                int8 = os.path.join(args.out, name + ".int8.onnx")
                run([args.octet, "quantize", model, "-o", int8, "--calibration",
                     f"image={os.path.join(args.out, name + '.image.npy')}"])
                check(name, int8, args.out, args.octet, True)
        except Exception as e:  # one failure is reported and the others still run
            print(f"{name:40s} FAILED: {e}", flush=True)
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
