#!/usr/bin/python3
"""Trains octet's bundled demo CNN on Fashion-MNIST and exports it as an int8 ONNX model in QDQ form.

Run with the system Python (python3-torch 1.13, python3-numpy, python3-onnx), after
`apt-get install dataset-fashion-mnist`:

    /usr/bin/python3 models/fashion_mnist/train_and_quantize.py [--epochs 3] [--out-dir DIR]

Steps, all seeded (one CPU thread, deterministic algorithms), so a rerun on the same builds of PyTorch and
numpy rewrites the same files:

1. Train a small float CNN (NCHW, input float32(pixel) / 255.0f, no mean/std):
       Conv3x3(1->16, pad 1) + ReLU, MaxPool 2x2
       Conv3x3(16->32, pad 1) + ReLU, MaxPool 2x2
       Conv3x3(32->64, pad 1) + ReLU
       Flatten ([N, 64, 7, 7] -> [N, 3136], NCHW order) , Linear(3136 -> 10)
   with Adam, batch 128.
2. Post-training quantization, done here in numpy with octet's conventions (docs/quantization.md):
   activations uint8, asymmetric per tensor, range = min/max over 1000 calibration training images widened to
   include 0, scale = float32((max - min) / 255), zero point = round(-min / scale) so 0.0 is exact; weights
   int8 symmetric per output channel, scale = max|w[c]| / 127, narrow range [-127, 127], zero point 0; bias
   int32 with scale float32(s_in * s_w[c]), zero point 0.
3. Write the QDQ model (opset 13) with onnx.helper and check it with onnx.checker:
       input -> Q -> DQ -> Conv(DQ(w), DQ(b)) -> Relu -> Q -> DQ -> MaxPool -> Q -> ... -> DQ -> Flatten -> Q
             -> DQ -> Gemm(DQ(w), DQ(b)) -> Q -> DQ -> logits
   A MaxPool or Flatten reuses its input's scale and zero point for its output Q (exact: both only move
   values that are already on the grid).
4. Verify the model file by running it through a small numpy interpreter of its ONNX graph (dequantize,
   compute in float32, requantize with round-half-to-even as ONNX QuantizeLinear does) on all 10,000 test
   images, and compare with the float model's accuracy. The float model is also exported to ONNX and run
   through the same interpreter.

Outputs (in models/fashion_mnist/ unless --out-dir):
    fashion_mnist_int8_qdq.onnx    the int8 QDQ model
    fashion_mnist_fp32.onnx        the float model (written only if under 1 MB)
    accuracy.json                  float and simulated int8 accuracy on the 10,000 test images
    samples/images.npy             8 test images, float32 [8, 1, 28, 28], normalized as above
    samples/labels.npy             their labels, int64 [8]
    samples/classes.txt            the 10 class names, one per line, in label order
    samples/expected.json          test-set indices of the samples, and the float and simulated int8
                                   outputs on them
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

# One BLAS / OpenMP thread for numpy too (the machine's other core is busy); set before numpy loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_test_set import CLASSES, load_split, normalize  # noqa: E402

SEED = 20240611
OPSET = 13
CALIBRATION_IMAGES = 1000
SAMPLE_CLASSES = (0, 1, 2, 3, 4, 5, 6, 7)  # the samples: first test image of each of these classes


# ---------------------------------------------------------------------------------------------------------
# 1. Float training (PyTorch)
# ---------------------------------------------------------------------------------------------------------


def build_float_model(torch):
    nn = torch.nn

    class FashionCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
            self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
            self.fc = nn.Linear(64 * 7 * 7, 10)
            self.pool = nn.MaxPool2d(2, 2)
            self.relu = nn.ReLU()
            self.flatten = nn.Flatten(1)

        def forward(self, x, taps=None):
            # taps: optional dict that receives the float tensors at every point that gets a QuantizeLinear.
            def tap(name, t):
                if taps is not None:
                    taps.setdefault(name, []).append(t.detach())
                return t

            x = tap("input", x)
            x = tap("relu1", self.relu(self.conv1(x)))
            x = self.pool(x)
            x = tap("relu2", self.relu(self.conv2(x)))
            x = self.pool(x)
            x = tap("relu3", self.relu(self.conv3(x)))
            x = self.flatten(x)
            return tap("logits", self.fc(x))

    return FashionCNN()


def train(torch, x_train, y_train, epochs, batch_size):
    torch.manual_seed(SEED)
    model = build_float_model(torch)
    xt = torch.from_numpy(x_train)
    yt = torch.from_numpy(y_train)
    n = xt.shape[0]
    steps_per_epoch = (n + batch_size - 1) // batch_size
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    # Cosine decay to zero over the whole run: better final accuracy for a short schedule than a flat rate.
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=2e-3, total_steps=epochs * steps_per_epoch, pct_start=0.15, anneal_strategy="cos"
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * batch_size : (i + 1) * batch_size]
            xb, yb = xt[idx], yt[idx]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss) * len(idx)
            correct += int((out.argmax(1) == yb).sum())
            total += len(idx)
        print(
            f"  epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.4f}, train accuracy {correct / total:.4f}, "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    model.eval()
    return model, time.perf_counter() - t0


def torch_predict(torch, model, x, batch=1000):
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outs.append(model(torch.from_numpy(x[i : i + batch])).numpy())
    return np.concatenate(outs)


# ---------------------------------------------------------------------------------------------------------
# 2. Post-training quantization (numpy, octet's conventions)
# ---------------------------------------------------------------------------------------------------------


def choose_uint8_qparams(lo, hi):
    """Asymmetric uint8 parameters for [lo, hi], as octet's choose_qparams: 0.0 is exactly representable."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    span = hi - lo
    scale = np.float32(span / 255.0) if span > 1e-30 else np.float32(1.0)
    zp = int(np.clip(np.rint(0.0 - lo / float(scale)), 0, 255))
    return scale, np.uint8(zp)


def quantize_weights_per_channel(w):
    """int8 symmetric per output channel (axis 0), narrow range [-127, 127]. Returns (q int8, scales float32)."""
    w64 = w.astype(np.float64).reshape(w.shape[0], -1)
    bound = np.abs(w64).max(axis=1)
    scales = np.where(bound > 1e-30, bound / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w64 / scales.astype(np.float64)[:, None]), -127, 127).astype(np.int8)
    return q.reshape(w.shape), scales


def quantize_bias(b, s_in, s_w):
    """int32, scale float32(s_in * s_w[c]) (float32 product, as ONNX Runtime's quantizer), zero point 0."""
    scales = (np.float32(s_in) * s_w.astype(np.float32)).astype(np.float32)
    q = np.rint(b.astype(np.float64) / scales.astype(np.float64))
    q = np.clip(q, np.iinfo(np.int32).min, np.iinfo(np.int32).max).astype(np.int32)
    return q, scales


def calibrate(torch, model, x_calib):
    taps = {}
    with torch.no_grad():
        for i in range(0, len(x_calib), 250):
            model(torch.from_numpy(x_calib[i : i + 250]), taps=taps)
    ranges = {}
    for name, ts in taps.items():
        t = torch.cat(ts)
        ranges[name] = (float(t.min()), float(t.max()))
    return ranges


# ---------------------------------------------------------------------------------------------------------
# 3. The QDQ ONNX graph
# ---------------------------------------------------------------------------------------------------------


class GraphBuilder:
    def __init__(self):
        self.nodes, self.inits = [], []
        self._names = set()

    def init(self, name, array):
        assert name not in self._names, name
        self._names.add(name)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, output, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def q(self, x, out, scale, zp):
        return self.node("QuantizeLinear", [x, scale, zp], out, f"{out}_QuantizeLinear")

    def dq(self, x, out, scale, zp, axis=None):
        attrs = {} if axis is None else {"axis": axis}
        return self.node("DequantizeLinear", [x, scale, zp], out, f"{out}_DequantizeLinear", **attrs)

    def act_params(self, tensor, scale, zp):
        """Per-tensor uint8 scale / zero point initializers (0-d), named after the tensor they describe."""
        return (
            self.init(f"{tensor}_scale", np.array(scale, dtype=np.float32)),
            self.init(f"{tensor}_zero_point", np.array(zp, dtype=np.uint8)),
        )

    def weight_dq(self, layer, w_q, w_scales, b_q, b_scales):
        """DequantizeLinear of the int8 weight and of the int32 bias, both per channel along axis 0."""
        c = w_q.shape[0]
        w = self.init(f"{layer}.weight_quantized", w_q)
        ws = self.init(f"{layer}.weight_scale", w_scales.astype(np.float32))
        wz = self.init(f"{layer}.weight_zero_point", np.zeros(c, dtype=np.int8))
        b = self.init(f"{layer}.bias_quantized", b_q)
        bs = self.init(f"{layer}.bias_scale", b_scales.astype(np.float32))
        bz = self.init(f"{layer}.bias_zero_point", np.zeros(c, dtype=np.int32))
        return (
            self.dq(w, f"{layer}.weight_dequantized", ws, wz, axis=0),
            self.dq(b, f"{layer}.bias_dequantized", bs, bz, axis=0),
        )


def build_qdq_model(params, qparams):
    """params: float weights/biases by layer; qparams: (scale, zero point) per activation tap."""
    g = GraphBuilder()
    conv_attrs = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], group=1)
    pool_attrs = dict(kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])

    # prev: (uint8 tensor name, its scale initializer, its zero point initializer, its scale value)
    s, z = g.act_params("input", *qparams["input"])
    prev = (g.q("input", "input_quantized", s, z), s, z, qparams["input"][0])

    for i, layer in enumerate(("conv1", "conv2", "conv3"), start=1):
        xq, s_in, z_in, s_in_value = prev
        x = g.dq(xq, f"{xq}_dequantized", s_in, z_in)
        w_q, w_s = quantize_weights_per_channel(params[layer + ".weight"])
        b_q, b_s = quantize_bias(params[layer + ".bias"], s_in_value, w_s)
        w, b = g.weight_dq(layer, w_q, w_s, b_q, b_s)
        y = g.node("Conv", [x, w, b], f"{layer}_output", f"{layer}_Conv", **conv_attrs)
        y = g.node("Relu", [y], f"relu{i}_output", f"relu{i}_Relu")
        s, z = g.act_params(f"relu{i}_output", *qparams[f"relu{i}"])
        yq = g.q(y, f"relu{i}_output_quantized", s, z)
        prev = (yq, s, z, qparams[f"relu{i}"][0])
        if i < 3:
            x = g.dq(yq, f"{yq}_dequantized", s, z)
            y = g.node("MaxPool", [x], f"pool{i}_output", f"pool{i}_MaxPool", **pool_attrs)
            yq = g.q(y, f"pool{i}_output_quantized", s, z)  # same params as its input
            prev = (yq, s, z, prev[3])

    xq, s, z, s_value = prev
    x = g.dq(xq, f"{xq}_dequantized", s, z)
    y = g.node("Flatten", [x], "flatten_output", "flatten_Flatten", axis=1)  # [N,64,7,7] -> [N,3136], NCHW
    yq = g.q(y, "flatten_output_quantized", s, z)  # same params as its input
    x = g.dq(yq, "flatten_output_quantized_dequantized", s, z)

    w_q, w_s = quantize_weights_per_channel(params["fc.weight"])
    b_q, b_s = quantize_bias(params["fc.bias"], s_value, w_s)
    w, b = g.weight_dq("fc", w_q, w_s, b_q, b_s)
    y = g.node("Gemm", [x, w, b], "fc_output", "fc_Gemm", alpha=1.0, beta=1.0, transA=0, transB=1)
    s, z = g.act_params("logits", *qparams["logits"])
    yq = g.q(y, "logits_quantized", s, z)
    g.dq(yq, "logits", s, z)

    graph = helper.make_graph(
        g.nodes,
        "fashion_mnist_int8_qdq",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="octet models/fashion_mnist/train_and_quantize.py",
        producer_version="1",
        doc_string=(
            "Small CNN for Fashion-MNIST, int8 QDQ (uint8 activations per tensor, int8 symmetric per-channel "
            "weights, int32 bias). Input: float32 NCHW [N,1,28,28], x = float32(pixel) / 255.0f. Output: "
            "logits [N,10] in label order (see samples/classes.txt)."
        ),
    )
    model.ir_version = 7  # the IR version that goes with opset 13
    helper.set_model_props(
        model,
        {
            "input_normalization": "float32(pixel) / 255.0f, NCHW, no mean/std",
            "classes": ",".join(CLASSES),
        },
    )
    return model


# ---------------------------------------------------------------------------------------------------------
# 4. A numpy interpreter for the ONNX graphs written here (QDQ and float)
# ---------------------------------------------------------------------------------------------------------

ONNX_TO_NP = {TensorProto.UINT8: np.uint8, TensorProto.INT8: np.int8, TensorProto.INT32: np.int32}


def _per_axis(p, x_ndim, axis):
    if p.ndim == 0:
        return p
    shape = [1] * x_ndim
    shape[axis] = -1
    return p.reshape(shape)


def op_quantize_linear(x, scale, zp=None, axis=1):
    """ONNX QuantizeLinear: saturate(round_half_to_even(x / scale) + zp), in float32."""
    zp = np.array(0, np.uint8) if zp is None else zp
    info = np.iinfo(zp.dtype)
    s = _per_axis(scale.astype(np.float32), x.ndim, axis)
    z = _per_axis(zp, x.ndim, axis).astype(np.float32)
    y = np.rint(x.astype(np.float32) / s) + z
    return np.clip(y, info.min, info.max).astype(zp.dtype)


def op_dequantize_linear(x, scale, zp=None, axis=1):
    """ONNX DequantizeLinear: float32(x - zp) * scale (difference exact in int64)."""
    z = 0 if zp is None else _per_axis(zp, x.ndim, axis).astype(np.int64)
    s = _per_axis(scale.astype(np.float32), x.ndim, axis)
    return (x.astype(np.int64) - z).astype(np.float32) * s


def op_conv(x, w, b=None, kernel_shape=None, pads=(0, 0, 0, 0), strides=(1, 1), dilations=(1, 1), group=1):
    assert group == 1 and tuple(dilations) == (1, 1)
    n, c, h, wd = x.shape
    co, ci, kh, kw = w.shape
    assert ci == c and (kernel_shape is None or tuple(kernel_shape) == (kh, kw))
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))  # [n, c, oh', ow', kh, kw]
    win = win[:, :, :: strides[0], :: strides[1]]
    oh, ow = win.shape[2], win.shape[3]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    y = cols @ w.reshape(co, -1).T
    if b is not None:
        y = y + b
    return np.ascontiguousarray(y.reshape(n, oh, ow, co).transpose(0, 3, 1, 2)).astype(np.float32)


def op_maxpool(x, kernel_shape, strides=None, pads=(0, 0, 0, 0), **_):
    assert not any(pads)
    strides = strides or kernel_shape
    win = np.lib.stride_tricks.sliding_window_view(x, tuple(kernel_shape), axis=(2, 3))
    return win[:, :, :: strides[0], :: strides[1]].max(axis=(4, 5))


def op_gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    a = a.T if transA else a
    b = b.T if transB else b
    y = np.float32(alpha) * (a @ b)
    if c is not None:
        y = y + np.float32(beta) * c
    return y.astype(np.float32)


def run_onnx_numpy(model, x):
    """Runs an ONNX graph of the ops used here on float32 x; returns the single graph output."""
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "QuantizeLinear":
            y = op_quantize_linear(*ins, **attrs)
        elif op == "DequantizeLinear":
            y = op_dequantize_linear(*ins, **attrs)
        elif op == "Conv":
            y = op_conv(*ins, **attrs)
        elif op == "Relu":
            y = np.maximum(ins[0], np.float32(0))
        elif op == "MaxPool":
            y = op_maxpool(ins[0], **attrs)
        elif op == "Flatten":
            axis = attrs.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif op == "Reshape":
            y = ins[0].reshape(tuple(int(d) if d != 0 else ins[0].shape[k] for k, d in enumerate(ins[1])))
        elif op == "Gemm":
            y = op_gemm(*ins, **attrs)
        else:
            raise NotImplementedError(f"numpy interpreter: op {op}")
        env[node.output[0]] = y
    return env[model.graph.output[0].name]


def run_batched(model, x, batch=500):
    return np.concatenate([run_onnx_numpy(model, x[i : i + batch]) for i in range(0, len(x), batch)])


# ---------------------------------------------------------------------------------------------------------


def compact_json(obj):
    """JSON with one top-level key per line and each list of lists one row per line."""
    lines = []
    for k, v in obj.items():
        if isinstance(v, list) and v and isinstance(v[0], list):
            rows = ",\n    ".join(json.dumps(r) for r in v)
            lines.append(f"  {json.dumps(k)}: [\n    {rows}\n  ]")
        else:
            lines.append(f"  {json.dumps(k)}: {json.dumps(v)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--out-dir", default=str(HERE), help="default: this script's folder")
    args = ap.parse_args()
    out_dir = Path(args.out_dir)
    samples_dir = out_dir / "samples"
    samples_dir.mkdir(parents=True, exist_ok=True)

    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    np.random.seed(SEED)

    print("loading Fashion-MNIST", flush=True)
    px_train, y_train = load_split("train")
    px_test, y_test = load_split("test")
    x_train, x_test = normalize(px_train), normalize(px_test)
    print(f"  train {x_train.shape}, test {x_test.shape}; input = float32(pixel) / 255.0f")

    print(f"training the float model ({args.epochs} epochs, batch {args.batch_size}, 1 thread)", flush=True)
    model, train_seconds = train(torch, x_train, y_train, args.epochs, args.batch_size)
    float_logits = torch_predict(torch, model, x_test)
    float_acc = float((float_logits.argmax(1) == y_test).mean())
    print(f"  training time {train_seconds:.1f} s; float test accuracy {float_acc:.4f}", flush=True)

    # Calibration on 1000 training images drawn with a seeded permutation.
    calib_idx = np.random.RandomState(SEED).permutation(len(x_train))[:CALIBRATION_IMAGES]
    ranges = calibrate(torch, model, x_train[calib_idx])
    qparams = {name: choose_uint8_qparams(*r) for name, r in ranges.items()}
    print("activation calibration (min/max over 1000 training images):")
    for name in ("input", "relu1", "relu2", "relu3", "logits"):
        (lo, hi), (s, z) = ranges[name], qparams[name]
        print(f"  {name:7s} [{lo:9.4f}, {hi:9.4f}]  scale {float(s):.8g}  zero_point {int(z)}")

    # The input: every x = pixel/255 must quantize back to exactly that pixel.
    s_in, z_in = qparams["input"]
    all_px = np.arange(256, dtype=np.uint8)
    back = op_quantize_linear(all_px.astype(np.float32) / np.float32(255.0), np.float32(s_in), z_in)
    assert np.array_equal(back, all_px), "input quantization is not exact on pixel/255"

    params = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    qmodel = build_qdq_model(params, qparams)
    onnx.checker.check_model(qmodel, full_check=True)
    onnx.shape_inference.infer_shapes(qmodel, check_type=True, strict_mode=True)
    qdq_path = out_dir / "fashion_mnist_int8_qdq.onnx"
    onnx.save(qmodel, str(qdq_path))
    print(f"wrote {qdq_path} ({qdq_path.stat().st_size} bytes)")

    # Float ONNX export (small: ~220 KB), checked through the same numpy interpreter.
    fp32_path = out_dir / "fashion_mnist_fp32.onnx"
    tmp_path = out_dir / "fashion_mnist_fp32.onnx.tmp"
    torch.onnx.export(
        model,
        torch.from_numpy(x_test[:1]),
        str(tmp_path),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    fmodel = onnx.load(str(tmp_path))
    onnx.checker.check_model(fmodel, full_check=True)
    if tmp_path.stat().st_size < 1_000_000:
        tmp_path.replace(fp32_path)
        print(f"wrote {fp32_path} ({fp32_path.stat().st_size} bytes)")
    else:
        tmp_path.unlink()
        print(f"float ONNX model is {tmp_path.stat().st_size} bytes, not kept")

    # Verify the files as written.
    print("verifying the ONNX files with the numpy interpreter on all 10,000 test images", flush=True)
    qmodel = onnx.load(str(qdq_path))
    t0 = time.perf_counter()
    q_logits = run_batched(qmodel, x_test)
    int8_acc = float((q_logits.argmax(1) == y_test).mean())
    print(f"  int8 QDQ simulated accuracy {int8_acc:.4f} ({time.perf_counter() - t0:.1f} s)")
    f_onnx_logits = run_batched(fmodel, x_test)
    f_onnx_acc = float((f_onnx_logits.argmax(1) == y_test).mean())
    print(
        f"  float ONNX accuracy {f_onnx_acc:.4f} (PyTorch: {float_acc:.4f}; max |logit difference| "
        f"{np.abs(f_onnx_logits - float_logits).max():.2e})"
    )
    agree = float((q_logits.argmax(1) == float_logits.argmax(1)).mean())
    print(f"  int8 and float predictions agree on {agree:.4f} of the test images")
    print(f"float accuracy {float_acc:.4f}   int8 QDQ (simulated) accuracy {int8_acc:.4f}")

    with open(out_dir / "accuracy.json", "w") as f:
        json.dump(
            {"float_accuracy": float_acc, "int8_qdq_simulated_accuracy": int8_acc, "test_images": int(len(y_test))},
            f,
            indent=2,
        )
        f.write("\n")

    # Samples: the first test image of each of classes 0..7.
    idx = np.array([int(np.flatnonzero(y_test == c)[0]) for c in SAMPLE_CLASSES])
    np.save(samples_dir / "images.npy", np.ascontiguousarray(x_test[idx]))
    np.save(samples_dir / "labels.npy", y_test[idx].astype(np.int64))
    (samples_dir / "classes.txt").write_text("".join(c + "\n" for c in CLASSES))
    s_out, z_out = qparams["logits"]
    logits_q = op_quantize_linear(q_logits[idx], np.float32(s_out), z_out)
    expected = {
        "note": (
            "images.npy[i] is test image test_indices[i], x = float32(pixel) / 255.0f. int8_* come from the "
            "numpy simulation of the QDQ graph (float32 compute between DequantizeLinear and "
            "QuantizeLinear); an integer-only runtime may differ by a step or so in the quantized logits."
        ),
        "test_indices": idx.tolist(),
        "labels": y_test[idx].tolist(),
        "float_predictions": float_logits[idx].argmax(1).tolist(),
        "int8_predictions": q_logits[idx].argmax(1).tolist(),
        "int8_logits_quantized": logits_q.astype(int).tolist(),
        "logits_scale": float(s_out),
        "logits_zero_point": int(z_out),
        "float_logits": np.round(float_logits[idx].astype(np.float64), 4).tolist(),
    }
    with open(samples_dir / "expected.json", "w") as f:
        f.write(compact_json(expected))
    print(f"wrote {samples_dir}/images.npy, labels.npy, classes.txt, expected.json (test indices {idx.tolist()})")
    ops = sorted({n.op_type for n in qmodel.graph.node})
    print("QDQ model ops: " + ", ".join(ops) + f"; {len(qmodel.graph.node)} nodes")


if __name__ == "__main__":
    main()
