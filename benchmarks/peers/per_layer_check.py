#!/usr/bin/python3
"""Checks octet layer by layer against ONNX Runtime, each layer fed with ORT's own input.

End-to-end outputs of two int8 runtimes drift apart when they round differently (octet's gemmlowp
fixed point vs ORT's float multiplier) and the network amplifies 1-LSB differences. This script separates
that drift from real errors: for every operator of a QOperator model it builds a one-node ONNX model,
runs it with `octet run` on the uint8 activation ORT computed for that operator's input, and compares
octet's output with ORT's. A correct octet is within 1 LSB everywhere, with few 1-LSB differences.

Needs ORT's per-layer dumps, made in a writable copy of ../shared/peers/ort:
    cp -r ../shared/peers/ort /tmp/ort && chmod -R u+w /tmp/ort && cd /tmp/ort
    npm ci && /usr/bin/python3 make_models.py && node run_ort.js --nets NET --dump-only
Then:
    /usr/bin/python3 benchmarks/peers/per_layer_check.py --ort-dir /tmp/ort --net mobilenetv2_like \
        --octet build/tools/octet
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper


# Operators that only move uint8 data, and the float input's QuantizeLinear: checked end to end, not here.
MOVEMENT_OPS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ort-dir", required=True)
    ap.add_argument("--net", required=True)
    ap.add_argument("--octet", default="build/tools/octet")
    args = ap.parse_args()

    dump_dir = os.path.join(args.ort_dir, "out", "dump", args.net)
    manifest = json.load(open(os.path.join(dump_dir, "manifest.json")))["tensors"]
    model = onnx.load(os.path.join(args.ort_dir, "models", f"{args.net}_qop.onnx"))
    inits = {i.name: i for i in model.graph.initializer}

    def dumped(name):
        key = name[: -len("_quantized")] if name.endswith("_quantized") else name
        return key if key in manifest else None

    def load_dump(key):
        t = manifest[key]
        return np.fromfile(os.path.join(dump_dir, t["file"]), dtype=np.uint8).reshape(t["shape"])

    worst_overall = 0
    print(f"{'node':24s} {'op':22s} {'elements':>9s} {'max LSB':>8s} {'differ':>8s}")
    with tempfile.TemporaryDirectory() as tmp:
        producer = {o: n for n in model.graph.node for o in n.output}
        graph_inputs = {i.name for i in model.graph.input}
        for node in model.graph.node:
            out_key = dumped(node.output[0])
            if out_key is None or node.op_type in MOVEMENT_OPS or set(node.input) & graph_inputs:
                continue
            # The layer: this node and, walking back, every node between it and dumped uint8 activations
            # (a float ConvTranspose between DequantizeLinear and QuantizeLinear is one layer).
            layer, runtime_inputs, stack = [], [], [node]
            while stack:
                n = stack.pop()
                if n in layer:
                    continue
                layer.append(n)
                for i in n.input:
                    if not i or i in inits:
                        continue
                    if dumped(i):
                        runtime_inputs.append(i)
                    elif i in producer:
                        stack.append(producer[i])
            runtime_inputs = list(dict.fromkeys(runtime_inputs))
            if not runtime_inputs:
                continue
            layer.sort(key=lambda n: list(model.graph.node).index(n))
            inputs = [helper.make_tensor_value_info(i, TensorProto.UINT8, manifest[dumped(i)]["shape"])
                      for i in runtime_inputs]
            output = helper.make_tensor_value_info(node.output[0], TensorProto.UINT8, manifest[out_key]["shape"])
            used = [inits[i] for i in dict.fromkeys(i for n in layer for i in n.input) if i in inits]
            graph = helper.make_graph(layer, "layer", inputs, [output], initializer=used)
            single = helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)
            path = os.path.join(tmp, "layer.onnx")
            onnx.save(single, path)
            cmd = [args.octet, "run", path, "--output-dir", tmp]
            for i in runtime_inputs:
                npy = os.path.join(tmp, f"in_{len(cmd)}.npy")
                np.save(npy, load_dump(dumped(i)))
                cmd += ["--input", f"{i}={npy}"]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                print(f"{node.name:24s} {node.op_type:22s} octet failed: {res.stderr.strip()}")
                worst_overall = max(worst_overall, 255)
                continue
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in node.output[0])
            ours = np.load(os.path.join(tmp, safe + ".npy")).astype(int)
            theirs = load_dump(out_key).astype(int)
            diff = np.abs(ours - theirs)
            worst_overall = max(worst_overall, int(diff.max()))
            op = node.op_type if len(layer) == 1 else "+".join(n.op_type for n in layer if n.op_type != "DequantizeLinear")
            print(f"{node.name:24s} {op:22s} {diff.size:9d} {int(diff.max()):8d} "
                  f"{100.0 * (diff > 0).mean():7.3f}%")
    print(f"worst difference over all layers: {worst_overall} LSB")
    return 0 if worst_overall <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
