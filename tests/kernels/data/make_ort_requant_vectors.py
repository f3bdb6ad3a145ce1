#!/usr/bin/python3
"""Golden vectors from ONNX Runtime for octet's float requantization mode (RequantMode::float_scale).

Rerun (Debian's python3 with python3-onnx and python3-numpy; node with onnxruntime-node, which
`npm ci` in benchmarks/peers installs):

    /usr/bin/python3 tests/kernels/data/make_ort_requant_vectors.py [--out DIR] [--ort NODE_MODULES]

It builds one tiny ONNX model per case (com.microsoft QLinearAdd / QLinearMul / QLinearGlobalAveragePool /
QLinearSoftmax, standard QLinearConv / QLinearMatMul, and the QDQ groups below), runs it through ONNX Runtime with
tests/kernels/data/run_ort.js (graphOptimizationLevel 'all', one thread) and writes the inputs, the
parameters and ONNX Runtime's output bytes to tests/kernels/data/ort_requant/<case>.ortv (or DIR), which
tests/kernels/ort_float_requant_test.cpp reads. ONNX Runtime is found in --ort, else $OCTET_ORT_NODE_MODULES,
else benchmarks/peers/node_modules.
Everything is seeded (each case from a hash of its name), so a rerun with the same ONNX Runtime rewrites
identical files; the files record the onnxruntime-node version they came from (1.30.0 at the time of
writing).

Every case family gets random scales and zero points, and scales whose ratios are powers of two (or 3 / 2^k)
so that float(acc) * scale lands exactly on .5 often: those ties are where round half to even (ONNX Runtime)
and octet's fixed-point rounding (half away from zero) differ. Conv weights stay in [-64, 64] so that no
pair of products overflows int16: ONNX Runtime's u8s8 kernels on x86 CPUs without VNNI use vpmaddubsw, which
saturates there, and the vectors must not depend on the CPU that made them.

QLinearAdd rounds twice in float32 (fused multiply-adds, add_float_variants below), and which operand ONNX
Runtime folds first changes about one output in 10^5; the random QLinearAdd cases are therefore drawn until
they hold a byte pair that tells ONNX Runtime's formula from its near misses (this search makes the script
take about half a minute; the QLinearSoftmax rows that tell its near misses, softmax_float_variants, take a
few seconds more). Broadcasts covered: same shapes, a scalar on either side, and [1,C,H,W] with
[1,C,1,1] either way round. Left out: broadcasts in which the operand that repeats along the innermost run
holds more elements than the other (A [64,1] + B [1,16], A [1,1,6] + B [3,5,1]), which ONNX Runtime folds by
the former and octet (ref::float_add_a_first) by the latter.

File format (version 1): a UTF-8 text header of `key: values` lines, a line `end`, then the raw data:

    octet-ort-vectors 1                  first line
    # comment                            ignored
    case: <name>
    op: <ONNX op type>                   QLinearAdd | QLinearMul | QLinearGlobalAveragePool | QLinearConv |
                                         QLinearMatMul | QLinearSoftmax | Resize, or a QDQ group: QDQRequantize
                                         | QDQConcat | QDQResize | QDQMatMul
    domain: <domain>                     com.microsoft, or ai.onnx for the standard ops
    onnxruntime: <version>               onnxruntime-node version that computed the output
    attr: <name> <int>...                node attributes, integers only (QLinearConv: kernel_shape, strides,
                                         pads (ONNX order: top, left, bottom, right), dilations, group;
                                         QLinearGlobalAveragePool: channels_last; QLinearSoftmax: axis (-1,
                                         the last), opset (13))
    tensor: <name> <dtype> <nbytes>      starts a tensor: dtype uint8 | int8 | int32; the lines up to the next
                                         tensor: belong to it
    shape: <int>...                      ONNX layout (NCHW; conv weights [C_out, C_in / group, KH, KW];
                                         QLinearMatMul b [K, N])
    scale: <float>...                    quantization scales (float32 in %.9g, exact through strtof); absent
                                         for the int32 bias
    zero_point: <int>...                 as many as scales
    axis: <int>                          the per-channel axis (ONNX layout) when there are several scales
    end
    <data>                               each tensor's bytes in header order, C order, little-endian

Besides single operators, a few QDQ groups: QDQRequantize (DequantizeLinear -> QuantizeLinear with other
params), QDQConcat (DequantizeLinear of each input -> Concat -> QuantizeLinear; attr axis, ONNX layout) and
QDQResize (DequantizeLinear -> Resize -> QuantizeLinear), QDQMatMul (DequantizeLinear of two uint8
activations -> MatMul -> QuantizeLinear, which ONNX Runtime runs as QLinearMatMul), and Resize: a uint8 Resize behind an identity
QLinearConv, which ONNX Runtime runs in its NHWC layout as in a QOperator network. Resize attributes: qdq (1
for QDQResize), linear (0: nearest), coordinate_mode (0 half_pixel, 1 pytorch_half_pixel, 2 align_corners,
3 asymmetric), nearest_mode (0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil); the output size is
Y's shape.

Tensors by op (the last one is ONNX Runtime's output, with the node's output scale and zero point):
    QLinearAdd, QLinearMul        A, B, C
    QLinearGlobalAveragePool      X, Y
    QLinearConv                   X, W (int8, per output channel), B (int32 bias), Y
    QLinearMatMul                 A (uint8), B (int8, per tensor), Y
    QLinearSoftmax                X, Y (softmax over the last axis)
    QDQRequantize, QDQResize, Resize   X, Y
    QDQConcat                     X0, X1, X2, Y
    QDQMatMul                     A, B, Y (ONNX layout, batch dimensions broadcast)
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "ort_requant")
FORMAT = "octet-ort-vectors 1"
F32 = np.float32
DTYPES = {"uint8": (np.uint8, TensorProto.UINT8), "int8": (np.int8, TensorProto.INT8),
          "int32": (np.int32, TensorProto.INT32)}


def f32(x):
    return float(F32(x))


class Rng:
    """Seeded draws; each case seeds its own from its name, so adding a case changes no other."""

    def __init__(self, name):
        self.g = np.random.default_rng(zlib.crc32(name.encode()))

    def scale(self, lo=2e-3, hi=1e-1):
        return f32(np.exp(self.g.uniform(np.log(lo), np.log(hi))))

    def zp(self, lo=0, hi=255):
        return int(self.g.integers(lo, hi + 1))

    def ints(self, shape, lo, hi, dtype):
        return self.g.integers(lo, hi + 1, size=shape).astype(dtype)

    def u8(self, shape, center=None, spread=None):
        if center is None:
            return self.ints(shape, 0, 255, np.uint8)
        return self.ints(shape, max(0, center - spread), min(255, center + spread), np.uint8)


class Tensor:
    def __init__(self, name, data, scale=None, zero_point=None, axis=None):
        self.name, self.data = name, np.ascontiguousarray(data)
        self.scale = None if scale is None else [f32(s) for s in np.atleast_1d(scale)]
        self.zero_point = None if zero_point is None else [int(z) for z in np.atleast_1d(zero_point)]
        self.axis = axis

    @property
    def dtype(self):
        names = {np.dtype(np.uint8): "uint8", np.dtype(np.int8): "int8", np.dtype(np.int32): "int32"}
        return names[self.data.dtype]


def covering(lo, hi):
    """uint8 output params whose range covers [lo, hi] (widened to contain 0), the scale a float32."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = f32(max(hi - lo, 1e-6) / 255.0)
    return scale, int(np.clip(np.round(-lo / scale), 0, 255))


# ---- ONNX models ----------------------------------------------------------------------------------------

def scalar_init(name, value, dtype):
    if dtype == "float":
        return helper.make_tensor(name, TensorProto.FLOAT, [], [f32(value)])
    return helper.make_tensor(name, DTYPES[dtype][1], [], [int(value)])


def array_init(name, array):
    array = np.asarray(array)
    if array.dtype == np.float32:
        return helper.make_tensor(name, TensorProto.FLOAT, list(array.shape), array.ravel().tolist())
    return helper.make_tensor(name, DTYPES[Tensor("", array).dtype][1], list(array.shape),
                              array.ravel().astype(np.int64).tolist())


def make_model(node, graph_inputs, output_name, output_shape, inits):
    """A model of one node, or of a list of nodes (a QDQ group)."""
    g = helper.make_graph(node if isinstance(node, list) else [node], "g",
                          [helper.make_tensor_value_info(t.name, DTYPES[t.dtype][1], list(t.data.shape))
                           for t in graph_inputs],
                          [helper.make_tensor_value_info(output_name, TensorProto.UINT8, list(output_shape))],
                          inits)
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(g, opset_imports=opsets, ir_version=8)
    onnx.checker.check_model(model)
    return model


class Case:
    def __init__(self, name, op, domain, model, feeds, tensors, out_name, out_shape, out_scale, out_zp,
                 attrs=None, comment=""):
        self.name, self.op, self.domain, self.model, self.feeds = name, op, domain, model, feeds
        self.tensors, self.out_name, self.out_shape = tensors, out_name, tuple(out_shape)
        self.out_scale, self.out_zp, self.attrs, self.comment = f32(out_scale), int(out_zp), attrs or {}, comment


# ---- QLinearAdd / QLinearMul ------------------------------------------------------------------------------

def binary_case(name, op, a, b, params, comment):
    sa, za, sb, zb, sc, zc = params
    inits = [scalar_init("a_scale", sa, "float"), scalar_init("a_zero_point", za, "uint8"),
             scalar_init("b_scale", sb, "float"), scalar_init("b_zero_point", zb, "uint8"),
             scalar_init("c_scale", sc, "float"), scalar_init("c_zero_point", zc, "uint8")]
    node = helper.make_node(op, ["A", "a_scale", "a_zero_point", "B", "b_scale", "b_zero_point", "c_scale",
                                 "c_zero_point"], ["C"], domain="com.microsoft")
    A, B = Tensor("A", a, sa, za), Tensor("B", b, sb, zb)
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    return Case(name, op, "com.microsoft", make_model(node, [A, B], "C", out_shape, inits), [A, B], [A, B], "C",
                out_shape, sc, zc, comment=comment)


def real_range(op, a, b, sa, za, sb, zb):
    ra = (a.astype(np.float64) - za) * sa
    rb = (b.astype(np.float64) - zb) * sb
    r = ra + rb if op == "QLinearAdd" else ra * rb
    return r.min(), r.max()


def random_binary_params(rng, op, a, b):
    sa, za, sb, zb = rng.scale(), rng.zp(), rng.scale(), rng.zp()
    return (sa, za, sb, zb) + covering(*real_range(op, a, b, sa, za, sb, zb))


def fma32(x, y, z):
    """float32 fused multiply-add, exactly rounded: x * y is exact in float64 here (one factor is an integer
    below 2^8, the other a float32), the sum's rounding error is recovered with TwoSum and decides the one
    case where rounding float64 -> float32 could go wrong (a float64 sum that lies on a float32 midpoint)."""
    p = np.asarray(x, np.float64) * np.asarray(y, np.float64)
    z = np.asarray(z, np.float64)
    s = p + z
    bb = s - p
    err = (p - (s - bb)) + (z - bb)
    r = s.astype(F32)
    up = r.astype(np.float64) < s
    lo = np.where(up, r, np.nextafter(r, F32(-np.inf))).astype(np.float64)
    hi = np.where(up, np.nextafter(r, F32(np.inf)), r).astype(np.float64)
    tie = (s == (lo + hi) / 2) & (err != 0)
    return np.where(tie, np.where(err > 0, hi, lo), r).astype(F32)


def add_float_variants(params, a, b):
    """ONNX Runtime's float32 QLinearAdd (x86, 1.30), as found with this script's models, and two near misses:
      ra = s_a / s_c, rb = s_b / s_c, off_ab = z_c - fma(ra, z_a, rb * z_b), off_ba = z_c - fma(rb, z_b, ra * z_a)
      b_first  no broadcast, or b repeats along the innermost run:  rne(fma(a, ra, fma(b, rb, off_ab)))
      a_first  a repeats along the innermost run (ONNX Runtime swaps the operands, zero-point term included):
               rne(fma(b, rb, fma(a, ra, off_ba)))
      a_first_off_ab, b_first_off_ba: the same with the other zero-point term (what ONNX Runtime does not do)
    all saturated to [0, 255]. Only used to pick parameters under which these differ."""
    sa, za, sb, zb, sc, zc = params
    ra, rb = F32(F32(sa) / F32(sc)), F32(F32(sb) / F32(sc))
    off_ab = F32(F32(zc) - fma32(ra, F32(za), F32(rb * F32(zb))))
    off_ba = F32(F32(zc) - fma32(rb, F32(zb), F32(ra * F32(za))))
    a, b = np.broadcast_arrays(np.asarray(a, F32), np.asarray(b, F32))

    def q(v):
        return np.rint(np.clip(v, F32(0), F32(255))).astype(np.uint8)
    return {"b_first": q(fma32(a, ra, fma32(b, rb, off_ab))), "a_first": q(fma32(b, rb, fma32(a, ra, off_ba))),
            "a_first_off_ab": q(fma32(b, rb, fma32(a, ra, off_ab))),
            "b_first_off_ba": q(fma32(a, ra, fma32(b, rb, off_ba)))}


# For each choice ONNX Runtime makes, the near misses a case must rule out.
NEAR_MISSES = {"b_first": ("a_first", "b_first_off_ba"), "a_first": ("b_first", "a_first_off_ab")}


def telling_add_params(rng, right):
    """Random QLinearAdd params and a byte pair (a, b) on which ONNX Runtime's formula `right` gives another byte
    than both of its near misses (add_float_variants; a few pairs in 10^6 do)."""
    every = np.arange(256)
    while True:
        sa, za, sb, zb = rng.scale(), rng.zp(), rng.scale(), rng.zp()
        params = (sa, za, sb, zb) + covering(*real_range("QLinearAdd", every, every, sa, za, sb, zb))
        # The variants can only differ where the sum is within a few float32 ulps of a .5: find those pairs in
        # float64 first, then evaluate the variants exactly on them.
        sc, zc = params[4:]
        near = every[:, None] * (sa / sc) + every[None, :] * (sb / sc) + (zc - za * sa / sc - zb * sb / sc)
        a, b = np.nonzero(np.abs(near - np.floor(near) - 0.5) < 1e-3)
        v = add_float_variants(params, a, b)
        telling = np.nonzero(np.logical_and(*[v[right] != v[miss] for miss in NEAR_MISSES[right]]))[0]
        if len(telling):
            k = telling[rng.g.integers(len(telling))]
            return params, int(a[k]), int(b[k])


def add_cases():
    """Each random case holds a byte pair on which ONNX Runtime's formula for its broadcast differs from both
    near misses (add_float_variants), so that the vectors pin down which operand ONNX Runtime folds first (the
    one that repeats along the innermost run) and which zero-point term goes with it."""
    cases = []
    # Power-of-two (and 3 / 2^k) ratios s_a / s_c, s_b / s_c: quarter and eighth steps, many exact ties.
    tie_params = [(2.0 ** -6, 100, 2.0 ** -7, 30, 2.0 ** -5, 128),
                  (3 * 2.0 ** -8, 200, 3 * 2.0 ** -9, 7, 2.0 ** -6, 140)]
    for shape_name, a_shape, b_shape in (("same", (1024,), (1024,)), ("scalar_b", (256,), (1,)),
                                         ("scalar_a", (1,), (256,)), ("channel_b", (1, 16, 5, 6), (1, 16, 1, 1)),
                                         ("channel_a", (1, 16, 1, 1), (1, 16, 5, 6))):
        for i in range(4):
            name = "add_%s_%d" % (shape_name, i)
            rng = Rng(name)
            # Every byte value on the big side of a scalar broadcast.
            a = rng.g.permutation(256).astype(np.uint8) if shape_name == "scalar_b" else rng.u8(a_shape)
            b = rng.g.permutation(256).astype(np.uint8) if shape_name == "scalar_a" else rng.u8(b_shape)
            if i < 2:
                right = "a_first" if shape_name in ("scalar_a", "channel_a") else "b_first"
                params, pa, pb = telling_add_params(rng, right)
                # Put the order-sensitive pair at one output position (the side that holds every byte value
                # already has its half).
                pos = tuple(int(rng.g.integers(d)) for d in np.broadcast_shapes(a_shape, b_shape))
                if shape_name != "scalar_b":
                    a[tuple(p if d > 1 else 0 for p, d in zip(pos[-len(a_shape):], a_shape))] = pa
                if shape_name != "scalar_a":
                    b[tuple(p if d > 1 else 0 for p, d in zip(pos[-len(b_shape):], b_shape))] = pb
                what = "random scales and zero points, with a byte pair that pins the order of operations"
                v = add_float_variants(params, a, b)
                assert all(np.any(v[right] != v[miss]) for miss in NEAR_MISSES[right])
            else:
                params, what = tie_params[i - 2], "power-of-two scale ratios (exact .5 ties)"
            cases.append(binary_case(name, "QLinearAdd", a, b, params,
                                     "QLinearAdd %s + %s, %s" % (list(a_shape), list(b_shape), what)))
    return cases


def mul_cases():
    cases = []
    for shape_name, a_shape, b_shape in (("same", (1024,), (1024,)), ("scalar_b", (256,), (1,)),
                                         ("channel_b", (1, 16, 5, 6), (1, 16, 1, 1))):
        for i in range(5):
            name = "mul_%s_%d" % (shape_name, i)
            rng = Rng(name)
            a = rng.g.permutation(256).astype(np.uint8) if shape_name == "scalar_b" else rng.u8(a_shape)
            b = rng.u8(b_shape)
            if i < 2:
                params, what = random_binary_params(rng, "QLinearMul", a, b), "random scales and zero points"
            elif i == 2:
                # s_a * s_b / s_c = 1/2 with operands near their zero points: every odd product is a tie.
                za, zb = 120, 60
                a = rng.u8(a_shape, za, 15) if shape_name != "scalar_b" else a
                b = rng.u8(b_shape, zb, 15) if shape_name != "scalar_b" else np.array([zb - 1], np.uint8)
                params, what = (2.0 ** -4, za, 2.0 ** -5, zb, 2.0 ** -8, 128), "s_a s_b / s_c = 1/2 (ties)"
            elif i == 3:
                params, what = (2.0 ** -4, 131, 3 * 2.0 ** -6, 77, 3 * 2.0 ** -3, 128), "s_a s_b / s_c = 2^-7"
            else:
                # Ties again, with an odd output zero point: ONNX Runtime adds z_c in float32 before rounding,
                # so round(k + 0.5 + 77) and round(k + 0.5) + 77 differ on every tie.
                za, zb = 120, 60
                a = rng.u8(a_shape, za, 15) if shape_name != "scalar_b" else a
                b = rng.u8(b_shape, zb, 15) if shape_name != "scalar_b" else np.array([zb - 1], np.uint8)
                params, what = (2.0 ** -4, za, 2.0 ** -5, zb, 2.0 ** -8, 77), "ties with an odd output zero point"
            cases.append(binary_case(name, "QLinearMul", a, b, params,
                                     "QLinearMul %s * %s, %s" % (list(a_shape), list(b_shape), what)))
    return cases


# ---- QLinearGlobalAveragePool -----------------------------------------------------------------------------

def gap_cases():
    cases = []
    specs = [("gap_7x7_0", (1, 64, 7, 7), None), ("gap_7x7_1", (1, 64, 7, 7), None),
             ("gap_3x5", (1, 40, 3, 5), None),
             # count 16, s_in / s_out = 2 or 1: scale 1/8 or 1/16, ties whenever the sum is 4 or 8 mod 8 or 16.
             ("gap_4x4_ties", (1, 192, 4, 4), (2.0 ** -5, 2.0 ** -6)),
             ("gap_2x4_ties", (1, 192, 2, 4), (3 * 2.0 ** -7, 3 * 2.0 ** -7))]
    for name, shape, tie in specs:
        rng = Rng(name)
        if tie is None:
            si, zi = rng.scale(), rng.zp()
            x = rng.u8(shape)
            means = (x.astype(np.float64) - zi).mean(axis=(2, 3)) * si
            # Output range wider than the means' (as a calibrated model would have).
            so, zo = covering(means.min() * 1.5, means.max() * 1.5)
            what = "random scales and zero points"
        else:
            si, so = tie
            zi, zo = rng.zp(60, 200), rng.zp(60, 200)
            x = rng.u8(shape, zi, 50)
            what = "scale s_in / (s_out * count) a power of two (ties)"
        inits = [scalar_init("x_scale", si, "float"), scalar_init("x_zero_point", zi, "uint8"),
                 scalar_init("y_scale", so, "float"), scalar_init("y_zero_point", zo, "uint8")]
        node = helper.make_node("QLinearGlobalAveragePool", ["X", "x_scale", "x_zero_point", "y_scale",
                                                             "y_zero_point"], ["Y"], domain="com.microsoft",
                                channels_last=0)
        X = Tensor("X", x, si, zi)
        out_shape = (shape[0], shape[1], 1, 1)
        cases.append(Case(name, "QLinearGlobalAveragePool", "com.microsoft",
                          make_model(node, [X], "Y", out_shape, inits), [X], [X], "Y", out_shape, so, zo,
                          attrs={"channels_last": [0]},
                          comment="QLinearGlobalAveragePool %s, %s" % (list(shape), what)))
    return cases


# ---- QLinearConv ------------------------------------------------------------------------------------------

def exact_conv(x, zx, w, bias, strides, pads, group):
    """int64 accumulators of an NCHW convolution (weights zero point 0), padding taps reading zx."""
    n, cin, h, wd = x.shape
    cout, cpg, kh, kw = w.shape
    xp = np.pad(x.astype(np.int64) - zx, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - kh) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - kw) // strides[1] + 1
    out = np.zeros((n, cout, oh, ow), np.int64)
    opg = cout // group
    for co in range(cout):
        g = co // opg
        for ky in range(kh):
            for kx in range(kw):
                patch = xp[:, g * cpg:(g + 1) * cpg, ky:ky + strides[0] * oh:strides[0],
                           kx:kx + strides[1] * ow:strides[1]]
                out[:, co] += np.einsum("nchw,c->nhw", patch, w[co, :, ky, kx].astype(np.int64))
        out[:, co] += bias[co]
    return out


def conv_case(name, x_shape, cout, group, strides, pads, ties):
    rng = Rng(name)
    cin = x_shape[1]
    w_shape = (cout, cin // group, 3, 3)
    if not ties:
        sx, zx = rng.scale(), rng.zp()
        x = rng.u8(x_shape)
        w = rng.ints(w_shape, -64, 64, np.int8)
        sw = np.array([rng.scale(1e-3, 2e-2) for _ in range(cout)], F32)
        bias = rng.ints((cout,), -3000, 3000, np.int32)
        acc = exact_conv(x, zx, w, bias, strides, pads, group)
        real = acc * (np.float64(sx) * sw.astype(np.float64))[None, :, None, None]
        sy, zy = covering(real.min(), real.max())
        what = "random scales and zero points"
    else:
        # s_x * s_w[c] / s_y = 2^-k or 3 * 2^-k: float(acc) * scale is exact and often a tie.
        sx, zx, sy, zy = 2.0 ** -4, rng.zp(40, 215), 2.0 ** -3, 128
        x = rng.u8(x_shape, zx, 12 if group == 1 else 40)
        w = rng.ints(w_shape, -9, 9, np.int8)
        mult = [2.0 ** -1, 2.0 ** -2, 3 * 2.0 ** -4, 2.0 ** -3, 3 * 2.0 ** -5, 2.0 ** -4]
        sw = np.array([mult[c % len(mult)] * sy / sx for c in range(cout)], F32)
        bias = rng.ints((cout,), -40, 40, np.int32)
        what = "s_x s_w[c] / s_y powers of two or 3 * 2^-k (ties)"
    attrs = {"kernel_shape": [3, 3], "strides": list(strides), "pads": list(pads), "dilations": [1, 1],
             "group": [group]}
    inits = [scalar_init("x_scale", sx, "float"), scalar_init("x_zero_point", zx, "uint8"), array_init("W", w),
             array_init("w_scale", sw), array_init("w_zero_point", np.zeros(cout, np.int8)),
             scalar_init("y_scale", sy, "float"), scalar_init("y_zero_point", zy, "uint8"), array_init("B", bias)]
    node = helper.make_node("QLinearConv", ["X", "x_scale", "x_zero_point", "W", "w_scale", "w_zero_point",
                                            "y_scale", "y_zero_point", "B"], ["Y"],
                            kernel_shape=[3, 3], strides=list(strides), pads=list(pads), dilations=[1, 1],
                            group=group)
    oh = (x_shape[2] + pads[0] + pads[2] - 3) // strides[0] + 1
    ow = (x_shape[3] + pads[1] + pads[3] - 3) // strides[1] + 1
    out_shape = (x_shape[0], cout, oh, ow)
    X = Tensor("X", x, sx, zx)
    W = Tensor("W", w, sw, np.zeros(cout, np.int32), axis=0)
    kind = "depthwise" if group == cin else "3x3"
    return Case(name, "QLinearConv", "ai.onnx", make_model(node, [X], "Y", out_shape, inits), [X],
                [X, W, Tensor("B", bias)], "Y", out_shape, sy, zy, attrs=attrs,
                comment="QLinearConv %s %s, stride %s, pads %s, per-channel int8 weights, int32 bias, %s"
                        % (kind, list(x_shape), list(strides), list(pads), what))


def conv_cases():
    return [conv_case("conv3x3_0", (1, 8, 7, 9), 16, 1, (1, 1), (1, 1, 1, 1), False),
            conv_case("conv3x3_1", (1, 8, 7, 9), 20, 1, (2, 2), (1, 0, 1, 1), False),
            conv_case("conv3x3_ties", (1, 8, 7, 9), 16, 1, (1, 1), (1, 1, 1, 1), True),
            conv_case("depthwise_0", (1, 24, 7, 9), 24, 24, (1, 1), (1, 1, 1, 1), False),
            conv_case("depthwise_1", (1, 24, 7, 9), 24, 24, (2, 2), (0, 1, 1, 0), False),
            conv_case("depthwise_ties", (1, 40, 7, 9), 40, 40, (1, 1), (1, 1, 1, 1), True)]


# ---- QLinearMatMul ----------------------------------------------------------------------------------------

def matmul_case(name, m, k, n, ties, b_zero_point=0):
    rng = Rng(name)
    if not ties:
        sa, za = rng.scale(), rng.zp()
        a = rng.u8((m, k))
        b = rng.ints((k, n), -64, 64, np.int8)
        sb = rng.scale(1e-3, 2e-2)
        acc = (a.astype(np.int64) - za) @ (b.astype(np.int64) - b_zero_point)
        sy, zy = covering(acc.min() * sa * sb, acc.max() * sa * sb)
        what = "random scales and zero points"
    else:
        sa, za, sy, zy = 2.0 ** -4, rng.zp(40, 215), 2.0 ** -2, 128
        a = rng.u8((m, k), za, 12)
        b = rng.ints((k, n), -9, 9, np.int8)
        sb = 2.0 ** -4 * sy / sa  # scale 2^-4
        what = "s_a s_b / s_y = 2^-4 (ties)"
    inits = [scalar_init("a_scale", sa, "float"), scalar_init("a_zero_point", za, "uint8"), array_init("Bw", b),
             scalar_init("b_scale", sb, "float"), scalar_init("b_zero_point", b_zero_point, "int8"),
             scalar_init("y_scale", sy, "float"), scalar_init("y_zero_point", zy, "uint8")]
    node = helper.make_node("QLinearMatMul", ["A", "a_scale", "a_zero_point", "Bw", "b_scale", "b_zero_point",
                                              "y_scale", "y_zero_point"], ["Y"])
    A = Tensor("A", a, sa, za)
    return Case(name, "QLinearMatMul", "ai.onnx", make_model(node, [A], "Y", (m, n), inits), [A],
                [A, Tensor("B", b, sb, b_zero_point)], "Y", (m, n), sy, zy,
                comment="QLinearMatMul [%d, %d] x [%d, %d], per-tensor int8 b (zero point %d), %s"
                        % (m, k, k, n, b_zero_point, what))


def matmul_cases():
    return [matmul_case("matmul_0", 16, 64, 24, False), matmul_case("matmul_1", 12, 40, 20, False, b_zero_point=5),
            matmul_case("matmul_ties", 16, 48, 24, True)]


# ---- QLinearSoftmax ---------------------------------------------------------------------------------------

# float32(1 / 255), the output scale of nearly every quantized softmax (floor(1 / it) = 254: ONNX Runtime's
# largest probability is 254, not 255), and 1/256 (floor 256, exact).
SOFTMAX_Y_1_255 = f32(1.0 / 255.0)
SOFTMAX_Y_1_256 = 2.0 ** -8


def softmax_float_variants(x, sx, sy, zy):
    """ONNX Runtime's QLinearSoftmax (com.microsoft, uint8; contrib_ops/cpu/quantization/qlinear_softmax.cc, 1.30)
    on the rows of x [rows, D], and near misses that a faster kernel might compute instead:
      onnxruntime  t[i] = float(exp((i - 255 + shift) * s_x)) with shift = max(0, log(FLT_MAX / D) - 5) / s_x,
                   the row's values looked up at 255 - max + q, sum = their float32 sum in order,
                   out = min(255, rne(float(t * floor(1 / s_y)) / sum) + z_y); FLT_MAX / D and its logarithm are
                   float32 (ONNX Runtime's log(float) is logf), the rest of the shift and the exponent double
      log_double   the logarithm in double (an exp table off by a common factor within 4e-6 of 1)
      sum_double, sum_reverse, sum_8_lanes   the row sum in double / in reverse order / in 8 lanes added last
      reciprocal   t * (floor(1 / s_y) / sum) instead of (t * floor(1 / s_y)) / sum
      div_double   the product and quotient in double
      no_shift     the table without the headroom shift (exp((i - 255) * s_x))
    Each changes between a few rows in 10^3 and one in 10^5 (10 random logits); softmax_cases searches for rows
    that tell."""
    x = np.asarray(x)
    length = x.shape[-1]
    headroom = float(F32(np.finfo(F32).max) / F32(length))
    # math.log, not numpy's (whose float32 log is not correctly rounded): logf(x) = float(log(x)) for these x.
    log_float, log_double = float(F32(math.log(headroom))), math.log(headroom)
    idx = 255 - x.max(axis=-1, keepdims=True).astype(np.int64) + x.astype(np.int64)

    def table(log_headroom, reserve=5.0):
        shift = max(0.0, log_headroom - reserve) / float(sx)
        return np.exp((np.arange(256, dtype=np.float64) - 255.0 + shift) * float(sx)).astype(F32)[idx]
    t, t_log_double, t0 = table(log_float), table(log_double), table(0.0)
    ys = F32(np.floor(F32(1.0) / F32(sy)))

    def in_order(v):
        return np.add.accumulate(v, axis=-1, dtype=F32)[..., -1:]

    def q(v):
        return np.minimum(np.rint(v).astype(np.int64) + zy, 255).astype(np.uint8)
    s = in_order(t)
    lanes = np.concatenate([t, np.zeros(x.shape[:-1] + ((-length) % 8,), F32)], axis=-1)
    lanes = np.add.accumulate(lanes.reshape(x.shape[:-1] + (-1, 8)), axis=-2, dtype=F32)[..., -1, :]
    return {"onnxruntime": q(F32(t * ys) / s),
            "sum_double": q(F32(t * ys) / t.astype(np.float64).sum(axis=-1, keepdims=True).astype(F32)),
            "sum_reverse": q(F32(t * ys) / in_order(t[..., ::-1])),
            "sum_8_lanes": q(F32(t * ys) / in_order(lanes)),
            "reciprocal": q(t * F32(ys / s)),
            "div_double": q(t.astype(np.float64) * float(ys) / s.astype(np.float64)),
            "log_double": q(F32(t_log_double * ys) / in_order(t_log_double)),
            "no_shift": q(F32(t0 * ys) / in_order(t0))}


def softmax_rows(rng, rows, length):
    """Rows of uint8 logits, each around its own center with its own spread, so that the row maxima (which
    pick the slice of ONNX Runtime's exp table) vary and rows range from nearly flat to one dominant value."""
    center = rng.g.integers(0, 256, size=(rows, 1))
    spread = rng.g.choice([2, 8, 30, 128], size=(rows, 1))
    return rng.g.integers(np.maximum(center - spread, 0), np.minimum(center + spread, 255) + 1,
                          size=(rows, length)).astype(np.uint8)


def telling_softmax_rows(rng, length, sx, sy, zy):
    """Rows, one per near miss of softmax_float_variants (fewer where a row tells several), on which ONNX
    Runtime's formula gives another byte than that near miss."""
    told, rows = set(), []
    for _ in range(100):
        x = softmax_rows(rng, 50000, length)
        v = softmax_float_variants(x, sx, sy, zy)
        for miss in sorted(v):
            if miss == "onnxruntime" or miss in told:
                continue
            telling = np.nonzero((v[miss] != v["onnxruntime"]).any(axis=-1))[0]
            if len(telling):
                row = x[telling[0]]
                rows.append(row)
                w = softmax_float_variants(row[None, :], sx, sy, zy)
                told |= {m for m in w if (w[m] != w["onnxruntime"]).any()}
        if len(told) == len(v) - 1:
            return np.stack(rows)
    sys.exit("telling_softmax_rows: no row tells %s" % sorted(set(v) - told - {"onnxruntime"}))


def softmax_case(name, rows, length, scale_range, y_scale, y_zero_point=0, telling=False):
    rng = Rng(name)
    sx, zx = rng.scale(*scale_range), rng.zp()
    if y_zero_point is None:
        y_zero_point = rng.zp(1, 20)
    if telling:
        x = telling_softmax_rows(rng, length, sx, y_scale, y_zero_point)
        what = "rows that tell ONNX Runtime's arithmetic from near misses (softmax_float_variants)"
    else:
        x = softmax_rows(rng, rows, length)
        what = "random rows"
    inits = [scalar_init("x_scale", sx, "float"), scalar_init("x_zero_point", zx, "uint8"),
             scalar_init("y_scale", y_scale, "float"), scalar_init("y_zero_point", y_zero_point, "uint8")]
    node = helper.make_node("QLinearSoftmax", ["X", "x_scale", "x_zero_point", "y_scale", "y_zero_point"], ["Y"],
                            domain="com.microsoft", axis=-1, opset=13)
    X = Tensor("X", x, sx, zx)
    return Case(name, "QLinearSoftmax", "com.microsoft", make_model(node, [X], "Y", x.shape, inits), [X], [X], "Y",
                x.shape, y_scale, y_zero_point, attrs={"axis": [-1], "opset": [13]},
                comment="QLinearSoftmax over the last axis of %s, s_x in [%g, %g], s_y %.9g, z_y %d, %s"
                        % (list(x.shape), scale_range[0], scale_range[1], f32(y_scale), y_zero_point, what))


def softmax_cases():
    """Row lengths 2, 10, 100 and 1000 (the exp table's headroom shift depends on the length), input scales
    from 0.004 (a flat exp table) to 0.5 (one value dominates), s_y = float32(1/255) and 1/256 with z_y = 0, one
    case with a nonzero z_y (which also saturates at 255), one whose rows tell ONNX Runtime's arithmetic
    from its near misses (softmax_float_variants), and rows of length 1, whose quotient overflows."""
    large, mid, small = (0.1, 0.5), (0.005, 0.5), (0.004, 0.008)
    return [softmax_case("softmax_2_0", 16, 2, large, SOFTMAX_Y_1_255),
            softmax_case("softmax_2_1", 16, 2, small, SOFTMAX_Y_1_256),
            softmax_case("softmax_10_0", 8, 10, large, SOFTMAX_Y_1_256),
            softmax_case("softmax_10_1", 8, 10, mid, SOFTMAX_Y_1_255),
            softmax_case("softmax_10_zp", 8, 10, large, SOFTMAX_Y_1_255, None),
            softmax_case("softmax_10_telling", None, 10, (0.15, 0.3), SOFTMAX_Y_1_255, telling=True),
            softmax_case("softmax_100_0", 4, 100, large, SOFTMAX_Y_1_255),
            softmax_case("softmax_100_1", 4, 100, small, SOFTMAX_Y_1_256),
            softmax_case("softmax_100_2", 4, 100, mid, SOFTMAX_Y_1_255),
            softmax_case("softmax_1000_0", 3, 1000, large, SOFTMAX_Y_1_255),
            softmax_case("softmax_1000_1", 3, 1000, small, SOFTMAX_Y_1_256),
            softmax_case("softmax_1000_2", 2, 1000, mid, SOFTMAX_Y_1_255),
            # Rows of one: the table's top entry (about FLT_MAX / (148 D)) times floor(1 / s_y) overflows
            # float32, and ONNX Runtime's output is then the zero point.
            softmax_case("softmax_1_overflow", 6, 1, large, SOFTMAX_Y_1_256, None)]


# ---- DequantizeLinear -> QuantizeLinear, and a QDQ Concat -------------------------------------------------

def requantize_cases():
    """A DequantizeLinear -> QuantizeLinear pair with other params: every byte value, for random scales and for
    scale ratios 1/2 and 3/2 (ties)."""
    cases = []
    for name, ratio in [("requantize_0", None), ("requantize_1", None), ("requantize_half", 0.5),
                        ("requantize_3_2", 1.5)]:
        rng = Rng(name)
        if ratio is None:
            si, zi, so, zo = rng.scale(), rng.zp(), rng.scale(), rng.zp()
        else:
            si, zi, zo = 2.0 ** -5, rng.zp(60, 200), rng.zp(60, 200)
            so = si / ratio
        x = np.arange(256, dtype=np.uint8).reshape(1, 256)
        inits = [scalar_init("x_scale", si, "float"), scalar_init("x_zero_point", zi, "uint8"),
                 scalar_init("y_scale", so, "float"), scalar_init("y_zero_point", zo, "uint8")]
        nodes = [helper.make_node("DequantizeLinear", ["X", "x_scale", "x_zero_point"], ["R"]),
                 helper.make_node("QuantizeLinear", ["R", "y_scale", "y_zero_point"], ["Y"])]
        X = Tensor("X", x, si, zi)
        cases.append(Case(name, "QDQRequantize", "ai.onnx", make_model(nodes, [X], "Y", x.shape, inits), [X],
                          [X], "Y", x.shape, so, zo,
                          comment="DequantizeLinear -> QuantizeLinear of every byte, %s"
                                  % ("random scales" if ratio is None else "s_in / s_out = %g (ties)" % ratio)))
    return cases


def concat_cases():
    """DequantizeLinear of three inputs with their own params -> Concat (axis 1) -> QuantizeLinear; one input
    keeps the output's params (copied)."""
    cases = []
    for name, ties in [("concat_0", False), ("concat_1", False), ("concat_ties", True)]:
        rng = Rng(name)
        so, zo = (2.0 ** -4, rng.zp(60, 200)) if ties else (rng.scale(), rng.zp())
        params = [(so, zo)] + ([(2.0 ** -5, rng.zp()), (3 * 2.0 ** -5, rng.zp())] if ties else
                               [(rng.scale(), rng.zp()), (rng.scale(), rng.zp())])
        inputs, inits, nodes = [], [scalar_init("y_scale", so, "float"), scalar_init("y_zero_point", zo, "uint8")], []
        for i, (si, zi) in enumerate(params):
            x = rng.u8((1, 2 + i, 5, 7))
            inputs.append(Tensor("X%d" % i, x, si, zi))
            inits += [scalar_init("s%d" % i, si, "float"), scalar_init("z%d" % i, zi, "uint8")]
            nodes.append(helper.make_node("DequantizeLinear", ["X%d" % i, "s%d" % i, "z%d" % i], ["R%d" % i]))
        nodes += [helper.make_node("Concat", ["R0", "R1", "R2"], ["C"], axis=1),
                  helper.make_node("QuantizeLinear", ["C", "y_scale", "y_zero_point"], ["Y"])]
        out_shape = (1, 9, 5, 7)
        cases.append(Case(name, "QDQConcat", "ai.onnx", make_model(nodes, inputs, "Y", out_shape, inits), inputs,
                          inputs, "Y", out_shape, so, zo, attrs={"axis": [1]},
                          comment="DequantizeLinear x3 -> Concat (channels) -> QuantizeLinear, %s"
                                  % ("scale ratios 1, 1/2, 3/2 (ties)" if ties else "random params")))
    return cases


# ---- QDQ MatMul of two activations -------------------------------------------------------------------------

def activation_matmul_case(name, a_shape, b_shape, ties):
    """DequantizeLinear x2 -> MatMul -> QuantizeLinear: both operands uint8 activations (attention's Q K^T),
    which ONNX Runtime runs as QLinearMatMul (exact int32 sums, float32 scale s_a s_b / s_y)."""
    rng = Rng(name)
    if ties:
        sa, sb, za, zb = 2.0 ** -4, 2.0 ** -3, rng.zp(100, 150), rng.zp(100, 150)
        a, b = rng.u8(a_shape, za, 12), rng.u8(b_shape, zb, 12)
        sy, zy = 2.0 ** -2, 128  # scale s_a s_b / s_y = 2^-5: ties whenever the sum is 16 mod 32
    else:
        sa, sb, za, zb = rng.scale(), rng.scale(), rng.zp(), rng.zp()
        a, b = rng.u8(a_shape), rng.u8(b_shape)
        acc = np.matmul(a.astype(np.int64) - za, b.astype(np.int64) - zb)
        sy, zy = covering(acc.min() * sa * sb, acc.max() * sa * sb)
    out_shape = np.matmul(np.zeros(a_shape), np.zeros(b_shape)).shape
    inits = [scalar_init("a_scale", sa, "float"), scalar_init("a_zero_point", za, "uint8"),
             scalar_init("b_scale", sb, "float"), scalar_init("b_zero_point", zb, "uint8"),
             scalar_init("y_scale", sy, "float"), scalar_init("y_zero_point", zy, "uint8")]
    nodes = [helper.make_node("DequantizeLinear", ["A", "a_scale", "a_zero_point"], ["RA"]),
             helper.make_node("DequantizeLinear", ["B", "b_scale", "b_zero_point"], ["RB"]),
             helper.make_node("MatMul", ["RA", "RB"], ["R"]),
             helper.make_node("QuantizeLinear", ["R", "y_scale", "y_zero_point"], ["Y"])]
    A, B = Tensor("A", a, sa, za), Tensor("B", b, sb, zb)
    return Case(name, "QDQMatMul", "ai.onnx", make_model(nodes, [A, B], "Y", out_shape, inits), [A, B], [A, B],
                "Y", out_shape, sy, zy,
                comment="DequantizeLinear x2 -> MatMul %s x %s -> QuantizeLinear, %s"
                        % (list(a_shape), list(b_shape), "scale 2^-5 (ties)" if ties else "random params"))


def activation_matmul_cases():
    return [activation_matmul_case("matmul_activations_0", (3, 6, 20), (3, 20, 9), False),
            activation_matmul_case("matmul_activations_broadcast", (2, 1, 5, 16), (1, 3, 16, 7), False),
            activation_matmul_case("matmul_activations_ties", (4, 8, 24), (4, 24, 10), True)]


# ---- Resize -----------------------------------------------------------------------------------------------

# The attribute values in the files (octet's ref::CoordinateMode and ref::NearestRounding orders).
COORDINATE_MODES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]
NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


def resize_case(name, qdq, mode, coordinate_mode, nearest_mode, in_hw, out_hw, channels, other_output=False):
    """qdq: DequantizeLinear -> Resize -> QuantizeLinear (ONNX Runtime keeps the Resize in float). Otherwise a
    Resize of raw uint8 behind an identity QLinearConv (1x1, weights the identity, equal scales): ONNX
    Runtime then runs the Resize in its NHWC layout, with its integer bilinear kernel, as in a QOperator
    network."""
    rng = Rng(name)
    si, zi = rng.scale(), rng.zp()
    so, zo = (rng.scale(), rng.zp()) if other_output else (si, zi)
    x = rng.u8((1, channels) + in_hw)
    out_shape = (1, channels) + out_hw
    inits = [scalar_init("x_scale", si, "float"), scalar_init("x_zero_point", zi, "uint8"),
             helper.make_tensor("sizes", TensorProto.INT64, [4], list(out_shape))]
    resize_attrs = {"mode": mode, "coordinate_transformation_mode": coordinate_mode, "nearest_mode": nearest_mode}
    if qdq:
        inits += [scalar_init("y_scale", so, "float"), scalar_init("y_zero_point", zo, "uint8")]
        nodes = [helper.make_node("DequantizeLinear", ["X", "x_scale", "x_zero_point"], ["R"]),
                 helper.make_node("Resize", ["R", "", "", "sizes"], ["S"], **resize_attrs),
                 helper.make_node("QuantizeLinear", ["S", "y_scale", "y_zero_point"], ["Y"])]
    else:
        inits += [array_init("W", np.eye(channels, dtype=np.int8).reshape(channels, channels, 1, 1)),
                  scalar_init("w_scale", 1.0, "float"), scalar_init("w_zero_point", 0, "int8")]
        nodes = [helper.make_node("QLinearConv", ["X", "x_scale", "x_zero_point", "W", "w_scale", "w_zero_point",
                                                  "x_scale", "x_zero_point"], ["C"]),
                 helper.make_node("Resize", ["C", "", "", "sizes"], ["Y"], **resize_attrs)]
    X = Tensor("X", x, si, zi)
    attrs = {"qdq": [int(qdq)], "linear": [int(mode == "linear")],
             "coordinate_mode": [COORDINATE_MODES.index(coordinate_mode)],
             "nearest_mode": [NEAREST_MODES.index(nearest_mode)]}
    return Case(name, "QDQResize" if qdq else "Resize", "ai.onnx", make_model(nodes, [X], "Y", out_shape, inits),
                [X], [X], "Y", out_shape, so, zo, attrs=attrs,
                comment="%s %s %s (%s) %s -> %s%s" % (
                    "DequantizeLinear -> Resize -> QuantizeLinear" if qdq else "QLinearConv (identity) -> uint8 Resize",
                    mode, coordinate_mode, nearest_mode, list(in_hw), list(out_hw),
                    ", other output params" if other_output else ""))


def resize_cases():
    cases = []
    shapes = [((7, 9), (17, 20)), ((13, 11), (5, 4)), ((6, 5), (15, 13))]
    for qdq in (True, False):
        prefix = "qdq_resize" if qdq else "resize"
        for i, coordinate_mode in enumerate(COORDINATE_MODES):
            in_hw, out_hw = shapes[i % len(shapes)]
            cases.append(resize_case("%s_linear_%s" % (prefix, coordinate_mode), qdq, "linear", coordinate_mode,
                                     "round_prefer_floor", in_hw, out_hw, 6))
        for i, nearest_mode in enumerate(NEAREST_MODES):
            in_hw, out_hw = shapes[(i + 1) % len(shapes)]
            cases.append(resize_case("%s_nearest_%s" % (prefix, nearest_mode), qdq, "nearest",
                                     COORDINATE_MODES[i], nearest_mode, in_hw, out_hw, 3))
    cases.append(resize_case("qdq_resize_linear_other_output", True, "linear", "half_pixel", "round_prefer_floor",
                             (7, 9), (17, 20), 6, other_output=True))
    return cases


# ---- Running ONNX Runtime, writing ------------------------------------------------------------------------

def run_ort(cases, ort_modules):
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for i, c in enumerate(cases):
            model = os.path.join(tmp, "%d.onnx" % i)
            onnx.save(c.model, model)
            inputs = {}
            for t in c.feeds:
                path = os.path.join(tmp, "%d_%s.raw" % (i, t.name))
                t.data.tofile(path)
                inputs[t.name] = {"type": t.dtype, "shape": list(t.data.shape), "file": path}
            jobs.append({"model": model, "inputs": inputs, "output": os.path.join(tmp, "%d_out.raw" % i)})
        with open(os.path.join(tmp, "jobs.json"), "w") as f:
            json.dump(jobs, f)
        cmd = ["node", os.path.join(HERE, "run_ort.js"), os.path.join(tmp, "jobs.json")]
        if ort_modules:
            cmd.append(ort_modules)
        version = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
        outputs = []
        for c, job in zip(cases, jobs):
            out = np.fromfile(job["output"], dtype=np.uint8)
            if out.size != int(np.prod(c.out_shape)):
                sys.exit("%s: ONNX Runtime returned %d bytes, expected shape %s" % (c.name, out.size, c.out_shape))
            outputs.append(out.reshape(c.out_shape))
        return version, outputs


def write_case(path, c, version, output):
    tensors = c.tensors + [Tensor(c.out_name, output, c.out_scale, c.out_zp)]
    lines = [FORMAT, "# " + c.comment,
             "# Generated by tests/kernels/data/make_ort_requant_vectors.py; do not edit.",
             "case: " + c.name, "op: " + c.op, "domain: " + c.domain, "onnxruntime: " + version]
    for k, v in c.attrs.items():
        lines.append("attr: %s %s" % (k, " ".join(str(int(x)) for x in v)))
    for t in tensors:
        lines.append("tensor: %s %s %d" % (t.name, t.dtype, t.data.nbytes))
        lines.append("shape: " + " ".join(str(d) for d in t.data.shape))
        if t.scale is not None:
            lines.append("scale: " + " ".join("%.9g" % s for s in t.scale))
            lines.append("zero_point: " + " ".join(str(z) for z in t.zero_point))
            if t.axis is not None:
                lines.append("axis: %d" % t.axis)
    lines.append("end")
    payload = b"".join(t.data.astype(t.data.dtype.newbyteorder("<")).tobytes() for t in tensors)
    with open(path, "wb") as f:
        f.write(("\n".join(lines) + "\n").encode())
        f.write(payload)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--ort", default=None, help="node_modules folder holding onnxruntime-node")
    args = p.parse_args()
    cases = (add_cases() + mul_cases() + gap_cases() + conv_cases() + matmul_cases() + softmax_cases() +
             requantize_cases() + concat_cases() + resize_cases() + activation_matmul_cases())
    version, outputs = run_ort(cases, args.ort)
    for c, out in zip(cases, outputs):
        if c.op == "QLinearSoftmax":
            x = c.feeds[0]
            model = softmax_float_variants(x.data, x.scale[0], c.out_scale, c.out_zp)["onnxruntime"]
            if (model != out).any():
                print("warning: %s: ONNX Runtime %s differs from softmax_float_variants on %d bytes (the telling "
                      "rows may not tell)" % (c.name, version, int((model != out).sum())), file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        if old.endswith(".ortv"):
            os.remove(os.path.join(args.out, old))
    total = 0
    for c, out in zip(cases, outputs):
        path = os.path.join(args.out, c.name + ".ortv")
        write_case(path, c, version, out)
        total += os.path.getsize(path)
    print("wrote %d cases (%d bytes) from onnxruntime-node %s to %s" % (len(cases), total, version, args.out))


if __name__ == "__main__":
    main()
