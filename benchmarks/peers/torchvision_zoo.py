#!/usr/bin/python3
"""torchvision's CNN architectures as torch.onnx exports them, run through octet: a check of octet on real
network structures it has no test model of (BatchNorm folding, grouped and depthwise convolutions, squeeze
and excite, channel shuffles, dense concatenations, LayerNorm in channel-last blocks, segmentation heads),
a YOLOv8n-shaped detector with its box decoding (yolo_like.py), and two vision transformers (ViT-B/16, Swin-T).

    /usr/bin/python3 benchmarks/peers/torchvision_zoo.py [--out build/zoo] [--octet build/tools/octet] [NAME ...]

For each architecture (all by default): export it with random weights (seeded; no download) and
BatchNorm statistics away from the identity, opset 13, batch 1; run the float model in octet against torch's
output; quantize it with `octet quantize` (MinMax on 8 random images); run the int8 model; print one line:
the float model's largest difference from torch over torch's largest magnitude, and the int8 model's
correlation with torch's output and its largest difference. Exits non-zero if a model fails to export,
load, quantize or run, or if the float model differs from torch by more than 1e-4 of its range.

Then time any of them against ONNX Runtime:
    benchmarks/peers/compare.sh build/zoo/NAME.int8.onnx --input image=build/zoo/NAME.input.npy

Needs Debian's python3-torch and python3-torchvision (torch 1.13, torchvision 0.14; not installed by the
project's scripts: nothing in the build or the tests uses them).
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision

import yolo_like

M = torchvision.models
SEG = torchvision.models.segmentation
# name -> (constructor, input size)
ARCHITECTURES = {
    "resnet50": (M.resnet50, 224),
    "resnext50_32x4d": (M.resnext50_32x4d, 224),
    "mobilenet_v2": (M.mobilenet_v2, 224),
    "mobilenet_v3_large": (M.mobilenet_v3_large, 224),
    "mobilenet_v3_small": (M.mobilenet_v3_small, 224),
    "efficientnet_b0": (M.efficientnet_b0, 224),
    "efficientnet_v2_s": (M.efficientnet_v2_s, 224),
    "shufflenet_v2_x1_0": (M.shufflenet_v2_x1_0, 224),
    "squeezenet1_1": (M.squeezenet1_1, 224),
    "googlenet": (lambda **k: M.googlenet(aux_logits=False, init_weights=True, **k), 224),
    "inception_v3": (lambda **k: M.inception_v3(aux_logits=False, init_weights=True, **k), 299),
    "densenet121": (M.densenet121, 224),
    "mnasnet1_0": (M.mnasnet1_0, 224),
    "regnet_y_400mf": (M.regnet_y_400mf, 224),
    "convnext_tiny": (M.convnext_tiny, 224),
    "vgg11_bn": (M.vgg11_bn, 224),
    "alexnet": (M.alexnet, 224),
    "lraspp_mobilenet_v3_large": (lambda **k: SEG.lraspp_mobilenet_v3_large(weights_backbone=None, **k), 320),
    "deeplabv3_mobilenet_v3_large":
        (lambda **k: SEG.deeplabv3_mobilenet_v3_large(weights_backbone=None, aux_loss=False, **k), 320),
    "fcn_resnet50": (lambda **k: SEG.fcn_resnet50(weights_backbone=None, aux_loss=False, **k), 320),
    # Not torchvision's: YOLOv8n's structure with its box decoding (yolo_like.py).
    "yolov8n_like": (lambda **k: yolo_like.YoloV8Like(size=320), 320),
    # Transformers, for the float layers of hybrid models: attention as MatMul / Softmax, LayerNorm, Gelu,
    # Swin's shifted windows (Roll as Slice / Concat) and its training-mode Dropout of ratio 0.
    "vit_b_16": (M.vit_b_16, 224),
    "swin_t": (M.swin_t, 224),
    "maxvit_t": (M.maxvit_t, 224),
}
FLOAT_LIMIT = 1e-4  # of torch's largest output magnitude


def export(name, out):
    """Writes NAME.onnx, NAME.input.npy, NAME.torch.npy and NAME_calibration/ under `out`."""
    make, size = ARCHITECTURES[name]
    torch.manual_seed(0)
    model = make(weights=None).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
        # Zero-initialised layers (ViT's classification head) would make every output 0.
        if isinstance(m, torch.nn.Linear) and not m.weight.detach().any():
            torch.nn.init.normal_(m.weight.data, std=0.02)
    x = torch.rand(1, 3, size, size)
    with torch.no_grad():
        y = model(x)
    if isinstance(y, dict):
        y = y["out"]
    torch.onnx.export(model, x, os.path.join(out, name + ".onnx"), opset_version=13, input_names=["image"],
                      output_names=["out"])
    np.save(os.path.join(out, name + ".input.npy"), x.numpy())
    np.save(os.path.join(out, name + ".torch.npy"), y.numpy())
    calibration = os.path.join(out, name + "_calibration")
    os.makedirs(calibration, exist_ok=True)
    images = np.random.default_rng(1).random((8, 3, size, size), dtype=np.float32)
    for i in range(len(images)):
        np.save(os.path.join(calibration, f"{i}.npy"), images[i:i + 1])


def run_octet(octet, args):
    done = subprocess.run([octet] + args, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"octet {args[0]}: {(done.stderr or done.stdout).strip()}")


def check(name, out, octet):
    base = os.path.join(out, name)
    run_octet(octet, ["run", base + ".onnx", "--input", f"image={base}.input.npy", "--output-dir", base + ".float"])
    run_octet(octet, ["quantize", base + ".onnx", "-o", base + ".int8.onnx", "--calibration",
                      f"image={base}_calibration"])
    run_octet(octet, ["run", base + ".int8.onnx", "--input", f"image={base}.input.npy", "--output-dir",
                      base + ".int8"])
    expected = np.load(base + ".torch.npy").astype(np.float64)
    float_out = np.load(os.path.join(base + ".float", "out.npy")).astype(np.float64)
    int8_out = np.load(os.path.join(base + ".int8", "out.npy")).astype(np.float64)
    scale = float(np.abs(expected).max())
    a, b = int8_out.ravel() - int8_out.mean(), expected.ravel() - expected.mean()
    correlation = float(a @ b / np.sqrt((a @ a) * (b @ b)))
    float_error = float(np.abs(float_out - expected).max()) / scale
    print(f"{name:30s} {str(list(expected.shape)):18s} float {float_error:9.2e}   int8 correlation "
          f"{correlation:.4f}, largest difference {float(np.abs(int8_out - expected).max()) / scale:.3f}",
          flush=True)
    return float_error <= FLOAT_LIMIT


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join("build", "zoo"))
    parser.add_argument("--octet", default=os.path.join("build", "tools", "octet"))
    parser.add_argument("names", nargs="*", help=f"architectures (default: all): {', '.join(ARCHITECTURES)}")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in ARCHITECTURES]
    if unknown:
        sys.exit(f"unknown architectures: {unknown}")
    os.makedirs(args.out, exist_ok=True)
    print("model                          output             float: max |octet - torch| / max |torch|")
    failed = []
    for name in args.names or ARCHITECTURES:
        try:
            export(name, args.out)
            if not check(name, args.out, args.octet):
                failed.append(name)
        except Exception as e:  # a failure of one model is reported and the others still run
            print(f"{name:30s} FAILED: {e}", flush=True)
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
