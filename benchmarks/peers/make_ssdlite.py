#!/usr/bin/python3
"""torchvision's SSDlite320 MobileNetV3-Large as torch.onnx exports it, post-processing included: a real
detector's data-dependent tail (per class NonZero of the scores above a threshold, TopK of min(300, count)
candidates, box decoding, an If testing for no boxes whose else branch is the batched NonMaxSuppression, the
best 300 kept), for checking and timing octet's staged execution (graph/stages.h) against ONNX Runtime.

    /usr/bin/python3 benchmarks/peers/make_ssdlite.py [--out build/ssdlite] [--classes 3] [--seed 0]

Needs Debian's python3-torch and python3-torchvision (torch 1.13, torchvision 0.14; not installed by the
project's scripts: nothing in the build or the tests uses them). The weights are random (seeded): no
download, and the detections are as many as the random scores allow. Writes into --out (git-ignored):
  ssdlite_fp32.onnx   float, opset 13, input image [3, 320, 320]; outputs boxes [n, 4], scores [n], labels [n]
  image.npy           the input image, float32 [3, 320, 320] in [0, 1]
  torch_{boxes,scores,labels}.npy   torch's own outputs for it

Then, from the repository root (octet built in build/):
  build/tools/octet quantize build/ssdlite/ssdlite_fp32.onnx -o build/ssdlite/ssdlite_int8_qdq.onnx \\
      --calibration image=build/ssdlite/image.npy
  benchmarks/peers/compare.sh build/ssdlite/ssdlite_int8_qdq.onnx --input image=build/ssdlite/image.npy
"""

import argparse
import os

import numpy as np
import torch
import torchvision


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join("build", "ssdlite"))
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    model = torchvision.models.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None,
                                                                        num_classes=args.classes)
    model.eval()
    image = torch.rand(3, 320, 320)
    path = os.path.join(args.out, "ssdlite_fp32.onnx")
    torch.onnx.export(model, ([image],), path, opset_version=13, input_names=["image"],
                      output_names=["boxes", "scores", "labels"])
    np.save(os.path.join(args.out, "image.npy"), image.numpy())
    with torch.no_grad():
        detections = model([image])[0]
    for name in ("boxes", "scores", "labels"):
        np.save(os.path.join(args.out, f"torch_{name}.npy"), detections[name].numpy())
    print(f"wrote {path}: {len(detections['boxes'])} detections by torch")


if __name__ == "__main__":
    main()
