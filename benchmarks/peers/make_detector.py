#!/usr/bin/python3
"""PP-OCR-style text detector (DB) built on the real PaddleOCR cls backbone, float and int8 QDQ, for benchmarks.

    /usr/bin/python3 benchmarks/peers/make_detector.py [--out build/detector] [--cls-dir DIR] [--fpn-width 96]
        [--calib-pages 16] [--check-pages 4] [--threads 1] [--seed 20240] [--no-check]

Writes into --out (default build/detector/, git-ignored; the same bytes on every run):
  detector_fp32.onnx      float, opset 13, input x [N,3,H,W] ("N","H","W"), maps [N,1,4*ceil(H/4),4*ceil(W/4)]
  detector_int8_qdq.onnx  the same network as quantize_static(QDQ, per_channel=True, activation_type=QUInt8,
                          weight_type=QInt8, calibrate_method=MinMax) writes it
  check_input_480x640.npy check page 0, float32 [1,3,480,640] (for compare.sh MODEL --input x=...), with ORT's
                          maps for it in check_maps_{fp32,int8}.npy
  check.json              GMAC, op counts, calibration summary, per-page agreement, ORT latencies

Network. Backbone: --cls-dir/models/model_fp32.onnx (ch_ppocr_mobile_v2.0_cls, BN folded; see its README) up to
  its last feature block (p2o.Add.83), without the final 1x1 conv 32->200, MaxPool, pooling, FC, Softmax; all
  else as it is: real weights, hardswish as Add/Clip/Mul/Div, the 9 squeeze-excitation blocks (GlobalAveragePool
  -> Conv -> Relu -> Conv -> HardSigmoid -> Mul [N,C,H,W]x[N,C,1,1]), residual Adds. One change: its four
  stride-(2,1) depthwise convs get stride (2,2). The classifier keeps the width of its 48-pixel text line; a
  detector (PP-OCR det's MobileNetV3) halves both axes per stage. At (2,1) every map after the stem would be W/2
  wide (the 200-channel stage 15x320 instead of 15x20 at 480x640; backbone 0.43 instead of 0.069 GMAC) and the
  DB head's two 2x upsamplings would give H x 2W. Same kernels and pads, so the weights still fit.
  Taps (last tensor per stride): conv2d_57.tmp_0 1/4 (8 ch), p2o.Add.7 1/8 (8), p2o.Add.55 1/16 (16), p2o.Add.83.
  Neck, PaddleOCR's DBFPN with out_channels --fpn-width (96, as ch_ppocr_mobile_v2.0_det): 1x1 laterals to 96,
  top-down out_i = lat_i + Resize(out_i+1), 3x3 smoothing 96 -> 24 per level, the three coarser levels resized
  to 1/4, Concat [p5, p4, p3, p2] -> 96. Every Resize is nearest (asymmetric, floor) to a size read from the
  graph: Shape(src) -> Slice [0:2], Shape(target) -> Slice [2:4] -> Concat -> Resize sizes.
  Head, DBHead's binarize branch: Conv 3x3 96 -> 24 (BN folded) -> Relu -> ConvTranspose 2x2 s2 24 -> 24 with no
  bias input + per-channel bias Add [1,24,1,1] (paddle2onnx's form of a folded BN) -> Relu -> ConvTranspose 2x2
  s2 24 -> 1 with bias -> Sigmoid.
  New weights: seeded He-normal, random biases; each ConvTranspose's four taps share one kernel (+-10 % per tap;
  independent random taps paint a 2x2 checkerboard). Then, on 4 calibration pages in graph order (normalize()),
  every new conv is rescaled per output channel to std 1 and a random mean (std 0.25), as a folded BatchNorm
  leaves it, and the last ConvTranspose is a least-squares linear probe of the pasted text-line boxes, scaled to
  logit = 8 * (fit - 0.5). Random layers alone give a texture unrelated to text; with the probe the map is
  near 0 on background and high on text lines (IoU of its > 0.3 mask with the boxes about 0.5), which gives the
  output quantization a DB-like distribution. It is still not a trained detector.

Pages: 480x640, composed in numpy from the ppocr_cls text-line crops (data/{calib,test}_pixels_u8.npy, B,G,R,
  valid columns from *_widths.npy): paper-like or dark background with a gradient and noise, text lines pasted
  top to bottom, 20-80 px high (nearest resize, aspect kept, cut at the right border). Calibration pages from the
  64 calib crops (seed 1), check pages from the 200 test crops (seed 2). x = (float32(u8) / 255 - 0.5) / 0.5, the
  cls model's normalisation.

Quantization: the rules of /work/shared/real/ppocr_cls/scripts/quantize_qdq.py (its README, section 3d), adapted.
  Calibration: MinMax over --calib-pages pages, one page per run, every float tensor, from run(), a float64
  numpy reference of the float graph (within 2e-5 of ORT's float maps, see check.json), stored as float32.
  Nodes visited in graph order with quantize_static's default op set. Conv, ConvTranspose: uint8 input and
  output, int8 symmetric per-channel weight (Conv axis 0, ConvTranspose axis 1 of [Cin,Cout,kh,kw]), int32 bias
  (scale s_in * s_w[c], DequantizeLinear axis 0). Relu / Clip after a quantized tensor with no other consumer:
  removed (the producer writes their output, whose range clamps). Resize, Slice: output shares the input's
  scale / zp. Add, Mul, GlobalAveragePool, Concat, Sigmoid: a Q/DQ on every float input and output; a float
  initializer input (hardswish's 3.0, the [1,24,1,1] ConvTranspose bias) becomes a uint8 initializer with a
  scalar scale / zp over its own min/max widened to 0 (quantize_initializer for an activation-typed
  initializer) -> DequantizeLinear. Div, HardSigmoid stay float, the sizes chain int64. One Q -> DQ pair per
  tensor, shared by its consumers, graph input and output included. Names as quantize_static's.

Commands used (Debian 12, 2 vCPUs shared with other jobs: load average 3-4 during these runs):
    (cd benchmarks/peers && npm ci)    # onnxruntime-node 1.30.0 as pinned here (compare.sh does the same)
    /usr/bin/python3 benchmarks/peers/make_detector.py --out /tmp/det5            # about 60 s
    for r in 1 2 3 4 5; do for m in detector_fp32 detector_int8_qdq; do node benchmarks/peers/ort_bench.js \
        /tmp/det5/$m.onnx --threads 1 --min-time 4 --input x=/tmp/det5/check_input_480x640.npy --out /tmp/t; done; done
  The script's check runs ort_bench.js (CPU EP, optimizations 'all', 6 warm-up + 10 timed runs) per model and page.

Numbers of that run. Float: 224 nodes (Conv 61, Add 28, Mul 26, Clip 17, Div 17, Relu 17, Shape 12, Slice 12,
  GlobalAveragePool 9, HardSigmoid 9, Concat 7, Resize 6, ConvTranspose 2, Sigmoid 1), 233,039 parameters
  (112,753 new), 1.069 GMAC at 480x640 (backbone 0.069, neck and head 1.000, of which ConvTranspose 0.052).
  QDQ: 655 nodes: DequantizeLinear 304 (161 activations, 63 weights, 62 int32 biases, 18 uint8 constants),
  QuantizeLinear 161, the float nodes less 17 Relu, 17 Clip. ORT's optimized graph: QLinearConv 61, QLinearAdd
  28, QLinearMul 26, QLinearGlobalAveragePool 9, QLinearConcat, QLinearSigmoid, uint8 Resize 6; in float
  ConvTranspose 2, Div, HardSigmoid. --fpn-width 32 gives 0.186 GMAC (neck and head 0.117).
  int8 vs float maps on the 4 check pages: max |diff| 0.67-0.73, mean |diff| 0.040-0.057, IoU of the > 0.3 masks
  0.71-0.82 (mean 0.77; 19-25 % of pixels above 0.3). IoU with the pasted boxes: float 0.48-0.58, int8 0.47-0.56.
  ORT, 1 thread, 1x3x480x640, 5 interleaved rounds of >= 82 runs: median per round float 31-54 ms, int8 22-42 ms
  (the load); minimum per round float 24.4-25.9 ms, int8 20.4-21.3 ms.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TAPS = ["conv2d_57.tmp_0", "p2o.Add.7", "p2o.Add.55", "p2o.Add.83"]   # strides 4, 8, 16, 32 (after the change)
TAP_CHANNELS = [8, 8, 16, 32]
OUT = "maps"


# ------------------------------------------------------------------------------------------------ float graph
def load_backbone(path):
    """The cls graph's nodes needed for the last tap, stride-(2,1) convs set to (2,2); their initializers."""
    g = onnx.load(path).graph
    producer = {o: k for k, n in enumerate(g.node) for o in n.output}
    need, stack = set(), [TAPS[-1]]
    while stack:
        k = producer.get(stack.pop())
        if k is not None and k not in need:
            need.add(k)
            stack.extend(i for i in g.node[k].input if i)
    nodes = []
    for k in sorted(need):
        n = onnx.NodeProto()
        n.CopyFrom(g.node[k])
        for a in n.attribute:
            if a.name == "strides" and list(a.ints) == [2, 1]:
                a.ints[:] = [2, 2]
        nodes.append(n)
    used = {i for n in nodes for i in n.input}
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer if t.name in used}
    return nodes, inits, g.input[0].name


class Builder:
    """Appends the neck and head to the backbone; records for each new conv how run() normalizes it."""

    def __init__(self, nodes, inits, seed):
        self.nodes, self.inits = nodes, inits
        self.rng = np.random.default_rng(seed)
        self.norm = {}    # output tensor -> (weight, out-channel axis, bias, target)
        self.count = collections.Counter()
        for v, name in ((0, "det.i0"), (2, "det.i2"), (4, "det.i4")):
            inits[name] = np.array([v], np.int64)

    def _name(self, kind):
        self.count[kind] += 1
        return f"det.{kind}{self.count[kind]}"

    def node(self, op, inputs, out, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def _bn_target(self, c):
        return ("bn", self.rng.normal(0.0, 0.25, c))

    def conv(self, x, cin, cout, k, kind, relu=False):
        n = self._name(kind)
        w = self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))
        self.inits[n + ".w"] = w.astype(np.float32)
        self.inits[n + ".b"] = (self.rng.standard_normal(cout) * 0.1).astype(np.float32)
        y = self.node("Conv", [x, n + ".w", n + ".b"], n, kernel_shape=[k, k], pads=[k // 2] * 4, strides=[1, 1])
        self.norm[y] = (n + ".w", 0, n + ".b", self._bn_target(cout))
        return self.node("Relu", [y], n + ".relu") if relu else y

    def conv_t(self, x, cin, cout, bias_add):
        """ConvTranspose 2x2 s2; its bias either an input (bias_add False) or a following Add [1,C,1,1]. The
        four taps share one random kernel (+-10 % per tap): independent random taps paint a 2x2 checkerboard."""
        n = self._name("up")
        shared = self.rng.standard_normal((cin, cout, 1, 1)) * np.sqrt(2.0 / cin)
        self.inits[n + ".w"] = (shared * (1.0 + 0.1 * self.rng.standard_normal((cin, cout, 2, 2)))).astype(np.float32)
        b = (self.rng.standard_normal(cout) * 0.1).astype(np.float32)
        attrs = dict(kernel_shape=[2, 2], strides=[2, 2])
        if not bias_add:
            self.inits[n + ".b"] = b
            return self.node("ConvTranspose", [x, n + ".w", n + ".b"], n, **attrs), n
        self.inits[n + ".b"] = b.reshape(1, cout, 1, 1)
        y = self.node("ConvTranspose", [x, n + ".w"], n, **attrs)
        y = self.node("Add", [y, n + ".b"], n + ".bias")
        self.norm[y] = (n + ".w", 1, n + ".b", self._bn_target(cout))
        return y, n

    def resize_like(self, x, ref):
        """Nearest resize of x to ref's H, W; the sizes come from the graph so that any input size works."""
        n = self._name("resize")
        sx = self.node("Shape", [x], n + ".shape_src")
        sr = self.node("Shape", [ref], n + ".shape_ref")
        nc = self.node("Slice", [sx, "det.i0", "det.i2", "det.i0"], n + ".nc")
        hw = self.node("Slice", [sr, "det.i2", "det.i4", "det.i0"], n + ".hw")
        sizes = self.node("Concat", [nc, hw], n + ".sizes", axis=0)
        return self.node("Resize", [x, "", "", sizes], n, mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def build_float(backbone_path, width, seed, masks):
    nodes, inits, x = load_backbone(backbone_path)
    b = Builder(nodes, inits, seed)
    lat = [b.conv(t, c, width, 1, "lat") for t, c in zip(TAPS, TAP_CHANNELS)]
    top = [None, None, None, lat[3]]
    for i in (2, 1, 0):
        top[i] = b.node("Add", [lat[i], b.resize_like(top[i + 1], lat[i])], f"det.topdown{i + 2}")
    p = [b.conv(t, width, width // 4, 3, "smooth") for t in top]
    fuse = b.node("Concat", [b.resize_like(p[i], p[0]) for i in (3, 2, 1)] + [p[0]], "det.fuse", axis=1)
    c = width // 4
    h = b.conv(fuse, width, c, 3, "head", relu=True)
    h, _ = b.conv_t(h, c, c, bias_add=True)
    h = b.node("Relu", [h], "det.up1.relu")
    logit, n = b.conv_t(h, c, 1, bias_add=False)
    b.norm[logit] = (n + ".w", 1, n + ".b", ("probe", masks, 8.0))
    b.node("Sigmoid", [logit], OUT)
    return b.nodes, b.inits, x, b.norm


def save_model(nodes, inits, path, x, name):
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", 3, "H", "W"])],
                              [helper.make_tensor_value_info(OUT, TensorProto.FLOAT, ["N", 1, "H_out", "W_out"])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_detector.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return m


# ------------------------------------------------------------------------- float64 numpy reference of the graph
def conv2d(x, w, b, strides, pads, group):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    sh, sw = strides
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    taps = [xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] for i in range(kh) for j in range(kw)]
    if group == 1:
        y = np.tensordot(w.reshape(m, c * kh * kw), np.stack(taps, 2).reshape(n, c * kh * kw, ho, wo), ([1], [1]))
        y = y.transpose(1, 0, 2, 3)
    else:
        assert group == c == m and cg == 1, "only dense and depthwise convs"
        y = sum(t * w[:, 0, k // kw, k % kw][None, :, None, None] for k, t in enumerate(taps))
    return y if b is None else y + b[None, :, None, None]


def conv_t2x2(x, w, b):
    n, c, h, wd = x.shape
    y = np.tensordot(x, w, ([1], [0])).transpose(0, 3, 1, 4, 2, 5).reshape(n, w.shape[1], 2 * h, 2 * wd)
    return y if b is None else y + b[None, :, None, None]


def resize_nearest(x, sizes):
    """ORT's nearest / asymmetric / floor: in = floor(out / float32(out_size / in_size))."""
    for ax in (2, 3):
        scale = np.float32(sizes[ax]) / np.float32(x.shape[ax])
        idx = np.floor(np.arange(sizes[ax], dtype=np.float32) / scale).astype(np.int64)
        x = np.take(x, np.minimum(idx, x.shape[ax] - 1), axis=ax)
    return x


def run(nodes, inits, x_name, x, norm=None, ranges=None, macs=None):
    """Executes the float graph on x (float64). norm: apply the data-driven init to the new convs (updates
    inits); ranges: merge every float tensor's min/max into it; macs: per node MACs."""
    env = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in inits.items()}
    env[x_name] = x.astype(np.float64)
    if ranges is not None:
        merge_range(ranges, x_name, env[x_name])
    for nd in nodes:
        a = {t.name: helper.get_attribute_value(t) for t in nd.attribute}
        i = [env[t] if t else None for t in nd.input]
        op = nd.op_type
        if op == "Conv":
            y = conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a["strides"], a["pads"], a.get("group", 1))
            if macs is not None:
                macs[nd.output[0]] = ("Conv", y.size * int(np.prod(i[1].shape[1:])))
        elif op == "ConvTranspose":
            assert a["kernel_shape"] == [2, 2] and a["strides"] == [2, 2] and a.get("group", 1) == 1
            y = conv_t2x2(i[0], i[1], i[2] if len(i) > 2 else None)
            if macs is not None:
                macs[nd.output[0]] = ("ConvTranspose", i[0].size * int(np.prod(i[1].shape[1:])))
        elif op in ("Add", "Mul", "Div"):
            y = {"Add": np.add, "Mul": np.multiply, "Div": np.divide}[op](i[0], i[1])
        elif op == "Clip":
            y = np.clip(i[0], i[1], i[2])
        elif op == "Relu":
            y = np.maximum(i[0], 0.0)
        elif op == "HardSigmoid":
            y = np.clip(a["alpha"] * i[0] + a["beta"], 0.0, 1.0)
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-i[0]))
        elif op == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Shape":
            y = np.array(i[0].shape, np.int64)
        elif op == "Slice":
            y = i[0][int(i[1][0]):int(i[2][0])]
        elif op == "Concat":
            y = np.concatenate(i, axis=a["axis"])
        elif op == "Resize":
            y = resize_nearest(i[0], i[3])
        else:
            raise SystemExit(f"run(): no reference for {op}")
        if norm is not None and nd.output[0] in norm:
            y = normalize(y, i[0], norm[nd.output[0]], inits)
        env[nd.output[0]] = y
        if ranges is not None and y.dtype == np.float64:
            merge_range(ranges, nd.output[0], y)
    return env


def normalize(y, x, spec, inits):
    """Sets a new conv's weight and bias from its input x and output y (see the docstring); returns the new y."""
    wname, axis, bname, target = spec
    w, b = inits[wname].astype(np.float64), inits[bname].astype(np.float64)
    if target[0] == "probe":   # least squares of the 2x2-pooled box mask on x, then logit = gain * (fit - 0.5)
        _, masks, gain = target
        n, c, h, wd = x.shape
        pooled = masks.reshape(n, h, 2, wd, 2).mean(axis=(2, 4)).reshape(-1)
        a = np.concatenate([x.transpose(0, 2, 3, 1).reshape(-1, c), np.ones((n * h * wd, 1))], axis=1)
        coef = np.linalg.lstsq(a, pooled, rcond=None)[0]
        inits[wname] = np.broadcast_to(gain * coef[:c, None, None, None], w.shape).astype(np.float32)
        inits[bname] = np.full(b.shape, gain * (coef[c] - 0.5), np.float32)
        return conv_t2x2(x, inits[wname].astype(np.float64), inits[bname].astype(np.float64))
    # per output channel: std 1 and mean beta_c, as a folded BatchNorm leaves a conv
    mean, scale = y.mean(axis=(0, 2, 3)), 1.0 / np.maximum(y.std(axis=(0, 2, 3)), 1e-6)
    shape = [1] * w.ndim
    shape[axis] = -1
    inits[wname] = (w * scale.reshape(shape)).astype(np.float32)
    inits[bname] = ((b.reshape(-1) - mean) * scale + target[1]).astype(np.float32).reshape(b.shape)
    return (y - mean[None, :, None, None]) * scale[None, :, None, None] + target[1][None, :, None, None]


def merge_range(ranges, name, y):
    lo, hi = float(np.float32(y.min())), float(np.float32(y.max()))
    old = ranges.get(name)
    ranges[name] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))


# ------------------------------------------------------------------------------------------------------ images
def load_crops(cls_dir, name):
    px = np.load(os.path.join(cls_dir, "data", f"{name}_pixels_u8.npy"))
    widths = np.load(os.path.join(cls_dir, "data", f"{name}_widths.npy"))
    return [px[k, :, :, :widths[k]] for k in range(len(px))]


def make_page(rng, crops, h=480, w=640):
    """uint8 [3,h,w] page of pasted text lines and the mask of the pasted boxes."""
    base = rng.uniform(150, 245, 3) if rng.random() < 0.8 else rng.uniform(20, 90, 3)
    gy, gx = rng.uniform(-25, 25, 2)
    page = (base[:, None, None] + gy * np.linspace(-1, 1, h)[None, :, None] + gx * np.linspace(-1, 1, w)[None, None, :]
            + rng.normal(0.0, 4.0, (3, h, w)))
    mask = np.zeros((h, w), bool)
    y = int(rng.integers(4, 40))
    while True:
        crop = crops[int(rng.integers(len(crops)))]
        lh = int(rng.integers(20, 81))
        lw = min(w - 8, crop.shape[2] * lh // 48)
        if y + lh > h - 4:
            break
        x0 = int(rng.integers(4, w - lw - 3))
        rows = np.arange(lh) * 48 // lh
        cols = np.minimum(np.arange(lw) * 48 // lh, crop.shape[2] - 1)
        page[:, y:y + lh, x0:x0 + lw] = crop[:, rows][:, :, cols]
        mask[y:y + lh, x0:x0 + lw] = True
        y += lh + int(rng.integers(2, 40))
    return np.clip(np.round(page), 0, 255).astype(np.uint8), mask


def to_input(page):
    return ((page.astype(np.float32) / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5))[None]


# ---------------------------------------------------------------------------------------- QDQ (quantize_static)
QUANT_OPS = {"ArgMax", "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul", "Relu", "Clip", "LeakyRelu",
             "Sigmoid", "MaxPool", "GlobalAveragePool", "Split", "Pad", "Reshape", "Squeeze", "Unsqueeze",
             "Resize", "AveragePool", "Concat", "Softmax", "Where", "Gather", "GatherElements", "Transpose",
             "Slice", "InstanceNormalization", "LayerNormalization", "TopK", "EmbedLayerNormalization"}
DIRECT8 = {"MaxPool", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Resize", "AveragePool", "Slice", "TopK"}
HANDLED = {"Conv", "ConvTranspose", "Add", "Mul", "Relu", "Clip", "GlobalAveragePool", "Resize", "Concat",
           "Slice", "Sigmoid"}


def scale_zp_u8(lo, hi):
    """ORT's compute_scale_zp, uint8 asymmetric, range widened to include 0."""
    rmin, rmax = min(np.float32(lo), np.float32(0.0)), max(np.float32(hi), np.float32(0.0))
    scale = np.float64(np.float32(rmax - rmin)) / np.float64(255.0)
    if scale < np.finfo(np.float32).tiny:
        return np.float32(1.0), np.uint8(0)
    return np.float32(scale), np.uint8(np.round(-np.float64(rmin) / scale))


def weight_scales(w, axis):
    absmax = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(axis=1).astype(np.float32)
    s = (2.0 * absmax.astype(np.float64) / 254.0).astype(np.float32)
    return np.where(s < np.finfo(np.float32).tiny, np.float32(1.0), s)


def quantize(float_model, ranges):
    model = onnx.ModelProto()
    model.CopyFrom(float_model)        # Relu removal edits producers' outputs
    g = model.graph
    inf = onnx.shape_inference.infer_shapes(model).graph
    elem = {v.name: v.type.tensor_type.elem_type for v in list(inf.value_info) + list(inf.input) + list(inf.output)}
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    nodes = [n for n in g.node]
    graph_in, graph_out = {i.name for i in g.input}, {o.name for o in g.output}
    assert not {n.op_type for n in nodes if n.op_type in QUANT_OPS} - HANDLED

    def is_float(t):
        return init[t].dtype == np.float32 if t in init else elem.get(t) == TensorProto.FLOAT

    # pass 1, quantize_static's op quantizers in graph order: which tensors get Q/DQ, weights, biases
    to_q = collections.OrderedDict()   # tensor -> "act" | "const" | ("shared", source tensor)
    weights, biases = {}, {}           # weight -> axis; bias -> (input tensor, weight)

    def mark(t):
        if t and is_float(t) and t not in to_q:
            to_q[t] = "const" if t in init else "act"

    for n in list(nodes):
        op = n.op_type
        if op not in QUANT_OPS:
            continue
        if op in ("Conv", "ConvTranspose"):
            mark(n.input[0])
            mark(n.output[0])
            weights[n.input[1]] = 0 if op == "Conv" else 1
            if len(n.input) > 2 and n.input[2]:
                biases[n.input[2]] = (n.input[0], n.input[1])
        elif op in ("Relu", "Clip"):          # QDQRemovableActivation
            x, y = n.input[0], n.output[0]
            if x not in to_q:
                continue
            if y in ranges and sum(x in m.input for m in nodes) == 1 and x not in (graph_out | graph_in):
                prod = next(p for p in nodes if x in p.output)
                prod.output[list(prod.output).index(x)] = y
                del to_q[x]
                nodes.remove(n)
            mark(y)
        elif op in DIRECT8:                   # QDQDirect8BitOp: shares the input's params if that is quantized
            if n.input[0] in to_q and is_float(n.output[0]) and n.output[0] not in to_q:
                to_q[n.output[0]] = ("shared", n.input[0])
        else:                                 # QDQOperatorBase: every float input and output
            for t in list(n.input) + list(n.output):
                mark(t)

    # pass 2: scales and zero points
    def root(t):                       # the tensor whose params a shared tensor uses
        return root(to_q[t][1]) if isinstance(to_q[t], tuple) else t

    params = {t: scale_zp_u8(*ranges[t]) if kind == "act" else scale_zp_u8(init[t].min(), init[t].max())
              for t, kind in to_q.items() if not isinstance(kind, tuple)}
    params.update({t: params[root(t)] for t in to_q})

    # pass 3: the QDQ graph
    new_init, out_nodes, rename = [], [], {}

    def add_init(arr, name):
        new_init.append(numpy_helper.from_array(arr, name))

    def dq_init(t, q, scale, zp, axis=None, params_base=None):
        base = params_base or t               # quantize_static names a bias's params <b>_quantized_scale
        add_init(q, t + "_quantized")
        add_init(scale, base + "_scale")
        add_init(zp, base + "_zero_point")
        out_nodes.append(helper.make_node("DequantizeLinear", [t + "_quantized", base + "_scale", base + "_zero_point"],
                                          [t + "_DequantizeLinear_Output"], name=t + "_DequantizeLinear", axis=axis))
        rename[t] = t + "_DequantizeLinear_Output"

    for t, kind in to_q.items():
        if kind == "const":
            s, z = params[t]
            q = np.clip(np.round(init[t] / s) + int(z), 0, 255).astype(np.uint8)
            dq_init(t, q, np.array(s, np.float32), np.array(z, np.uint8))
    w_scale = {}
    for wn, axis in weights.items():
        ws = weight_scales(init[wn], axis)
        bias = next((b for b, (_, w) in biases.items() if w == wn), None)
        if bias is not None:                  # int32 guard of quantize_static >= 1.20
            s_in = np.float64(params[biases[bias][0]][0])
            smallest = 1.0001 * 2.0 * np.abs(init[bias].astype(np.float64)) / (2.0 ** 32 - 2)
            ws = np.where(s_in * ws < smallest, (smallest / s_in).astype(np.float32), ws)
        w_scale[wn] = ws
        shape = [1] * init[wn].ndim
        shape[axis] = -1
        q = np.clip(np.round(init[wn] / ws.reshape(shape)), -127, 127).astype(np.int8)
        dq_init(wn, q, ws, np.zeros(len(ws), np.int8), axis)
    for bn, (x, wn) in biases.items():
        bs = (np.float32(params[x][0]) * w_scale[wn]).astype(np.float32)
        q = np.clip(np.round(init[bn].astype(np.float64) / bs), -2 ** 31, 2 ** 31 - 1).astype(np.int32)
        dq_init(bn, q, bs, np.zeros(len(bs), np.int32), 0, bn + "_quantized")
    for t in sorted({i for n in nodes for i in n.input if i in init and i not in rename}):
        add_init(init[t], t)                  # Div's 6.0, Clip's bounds, int64 Slice arguments

    def emit_qdq(t, src):
        base = root(t)
        s, z = params[t]
        if base == t:
            add_init(np.array(s, np.float32), t + "_scale")
            add_init(np.array(z, np.uint8), t + "_zero_point")
        dq_out = t if t in graph_out else t + "_DequantizeLinear_Output"
        out_nodes.append(helper.make_node("QuantizeLinear", [src, base + "_scale", base + "_zero_point"],
                                          [t + "_QuantizeLinear_Output"], name=t + "_QuantizeLinear"))
        out_nodes.append(helper.make_node("DequantizeLinear", [t + "_QuantizeLinear_Output", base + "_scale",
                                          base + "_zero_point"], [dq_out], name=t + "_DequantizeLinear"))
        rename[t] = dq_out

    for t in g.input:
        if t.name in to_q:
            emit_qdq(t.name, t.name)
    for n in nodes:
        n2 = onnx.NodeProto()
        n2.CopyFrom(n)
        for k, i in enumerate(n2.input):
            n2.input[k] = rename.get(i, i)
        out_nodes.append(n2)
        for k, o in enumerate(n.output):
            if o in to_q:
                src = o + "_QuantizeLinear_Input" if o in graph_out else o
                n2.output[k] = src
                emit_qdq(o, src)
    graph = helper.make_graph(out_nodes, g.name + "_qdq", list(g.input), list(g.output), new_init)
    qm = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_detector.py")
    qm.ir_version = 8
    onnx.checker.check_model(qm)
    return qm, params


# ------------------------------------------------------------------------------------------------------- check
def ort_run(model, x_path, out_dir, threads):
    cmd = ["node", os.path.join(HERE, "ort_bench.js"), model, "--threads", str(threads), "--min-time", "0",
           "--input", f"x={x_path}", "--out", out_dir]
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1]), np.load(os.path.join(out_dir, OUT + ".npy"))


def iou(a, b):
    return float((a & b).sum() / max((a | b).sum(), 1))


def op_counts(model):
    return dict(collections.Counter(n.op_type for n in model.graph.node).most_common())


def check(a, nodes, inits, x_name, fp32_path, int8_path):
    """Both models in ORT on --check-pages test pages: agreement and latency. Keeps page 0 and its two maps."""
    rng = np.random.default_rng(2)
    crops = load_crops(a.cls_dir, "test")
    pages, ms = [], {"fp32": [], "int8": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(a.check_pages):
            page, boxes = make_page(rng, crops)
            x = to_input(page)
            x_path = os.path.join(a.out if k == 0 else tmp, "check_input_480x640.npy")
            np.save(x_path, x)
            y = {}
            for tag, path in (("fp32", fp32_path), ("int8", int8_path)):
                t, y[tag] = ort_run(path, x_path, os.path.join(tmp, tag), a.threads)
                ms[tag].append(t["median_ms"])
                if k == 0:
                    np.save(os.path.join(a.out, f"check_maps_{tag}.npy"), y[tag])
            d = np.abs(y["int8"] - y["fp32"])
            mf, mq = y["fp32"][0, 0] > 0.3, y["int8"][0, 0] > 0.3
            ref = run(nodes, inits, x_name, x)[OUT]
            pages.append({"max_abs_diff": float(d.max()), "mean_abs_diff": float(d.mean()),
                          "iou_masks_0.3": iou(mf, mq),
                          "mask_fraction_fp32": float(mf.mean()), "mask_fraction_int8": float(mq.mean()),
                          "iou_fp32_mask_vs_text_boxes": iou(mf, boxes), "iou_int8_mask_vs_text_boxes": iou(mq, boxes),
                          "numpy_ref_vs_ort_fp32_max_abs": float(np.abs(ref - y["fp32"]).max())})
            print(f"check page {k}: " + ", ".join(f"{key} {v:.4g}" for key, v in pages[-1].items()) +
                  f"; ORT median ms fp32 {ms['fp32'][-1]:.1f} int8 {ms['int8'][-1]:.1f}")
    summary = {key: [min(p[key] for p in pages), float(np.mean([p[key] for p in pages])), max(p[key] for p in pages)]
               for key in pages[0]}
    return {"pages": pages, "min_mean_max": summary, "ort_median_ms": {
        "threads": a.threads, "per_page": ms, **{tag: float(np.median(t)) for tag, t in ms.items()}}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "detector"))
    ap.add_argument("--cls-dir", default="/work/shared/real/ppocr_cls")
    ap.add_argument("--fpn-width", type=int, default=96)
    ap.add_argument("--calib-pages", type=int, default=16)
    ap.add_argument("--check-pages", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20240)
    ap.add_argument("--no-check", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    report = {"input": "x [N,3,H,W]; pages 480x640", "fpn_width": a.fpn_width}

    rng = np.random.default_rng(1)
    calib_crops = load_crops(a.cls_dir, "calib")
    calib, masks = zip(*[make_page(rng, calib_crops) for _ in range(a.calib_pages)])
    calib = [to_input(page) for page in calib]

    init_pages = min(4, a.calib_pages)
    nodes, inits, x_name, norm = build_float(os.path.join(a.cls_dir, "models", "model_fp32.onnx"), a.fpn_width,
                                             a.seed, np.stack(masks[:init_pages]))
    run(nodes, inits, x_name, np.concatenate(calib[:init_pages]), norm=norm)   # data-driven init of the new layers
    fp32_path = os.path.join(a.out, "detector_fp32.onnx")
    fm = save_model(nodes, inits, fp32_path, x_name, "ppocr_det_on_cls_backbone")

    ranges, macs = {}, {}
    for k, x in enumerate(calib):
        run(nodes, inits, x_name, x, ranges=ranges, macs=macs if k == 0 else None)
    qm, params = quantize(fm, ranges)
    int8_path = os.path.join(a.out, "detector_int8_qdq.onnx")
    onnx.save(qm, int8_path)

    first_new = next(k for k, n in enumerate(nodes) if n.name.startswith("det."))
    backbone = {n.output[0] for n in nodes[:first_new]}
    report["gmac_480x640"] = {
        "total": sum(m for _, m in macs.values()) / 1e9,
        "backbone": sum(m for t, (_, m) in macs.items() if t in backbone) / 1e9,
        "by_op": {op: sum(m for o, m in macs.values() if o == op) / 1e9 for op in ("Conv", "ConvTranspose")}}
    report["ops_fp32"], report["ops_int8"] = op_counts(fm), op_counts(qm)
    report["calibration"] = {"pages": a.calib_pages, "float_tensors": len(ranges), "tensors_with_qparams":
                             len(params), "zero_point_0": sum(int(z) == 0 for _, z in params.values())}
    print(f"GMAC at 480x640: {report['gmac_480x640']}")
    print(f"float ops: {report['ops_fp32']}\nint8 ops: {report['ops_int8']}")

    if not a.no_check:
        if not os.path.isdir(os.path.join(HERE, "node_modules", "onnxruntime-node")):
            sys.exit("onnxruntime-node missing: run (cd benchmarks/peers && npm ci), or pass --no-check")
        report["check"] = check(a, nodes, inits, x_name, fp32_path, int8_path)
    with open(os.path.join(a.out, "check.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {fp32_path}, {int8_path}, {os.path.join(a.out, 'check.json')}")


if __name__ == "__main__":
    main()
