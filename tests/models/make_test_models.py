#!/usr/bin/python3
"""Writes the small ONNX models of octet's end-to-end tests, with fixed inputs and expected outputs.

    /usr/bin/python3 tests/models/make_test_models.py

Needs python3-onnx and python3-numpy (Debian 12: onnx 1.12, numpy 1.24). Deterministic: every model draws
its random numbers from a generator seeded with a hash of its own name, so adding a model does not change
the others.

tests/models/onnx/NAME.onnx            a valid model (QDQ or QOperator form)
tests/models/onnx/NAME.input.npy       its first graph input (NAME.input1.npy, ... for further inputs)
tests/models/onnx/NAME.expected.npy    its first graph output (NAME.expected1.npy, ... for further ones)
tests/models/onnx/NAME.VARIANT.*.npy   an extra input / expected pair (e.g. batch 3 for a dynamic batch)
tests/models/malformed/*.onnx          models octet must refuse with an octet::Error
tests/models/malformed/EXPECTED.txt    FILE<TAB>substring the error message must contain

The expected outputs are *not* produced by octet. They simulate the models as ONNX defines them:
DequantizeLinear in float32, each float operator in float64 on those values (rounded back to float32, as a
float runtime would store it), QuantizeLinear with a float32 division, round half to even and saturation.
QOperator operators use their integer definition: an exact int32 (here int64) accumulation, then
round_half_to_even(acc * s_in * s_w / s_out) + zero_point, saturated. octet's fixed-point requantization
rounds twice, so it may differ by one LSB from these values on rare elements; the test allows for that.

Quantization parameters are calibrated on the simulated values of the fixed input (min / max of each
tensor, widened to include 0), so outputs spread over the whole uint8 range instead of saturating.
"""

import math
import os
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ONNX_DIR = os.path.join(HERE, "onnx")
BAD_DIR = os.path.join(HERE, "malformed")
PRODUCER = "octet tests/models/make_test_models.py"

# ----------------------------------------------------------------------------------------------------------
# Quantization arithmetic, as ONNX defines it
# ----------------------------------------------------------------------------------------------------------


def quantize(x, s, z, dtype, axis=None):
    """ONNX QuantizeLinear: saturate(round_half_to_even(x / s) + z), the division in float32."""
    info = np.iinfo(dtype)
    s = np.asarray(s, np.float32)
    z = np.asarray(z, np.float64)
    if axis is not None and s.ndim == 1:
        shape = [1] * np.ndim(x)
        shape[axis] = -1
        s, z = s.reshape(shape), z.reshape(shape)
    y = np.rint((np.asarray(x, np.float32) / s).astype(np.float32)).astype(np.float64) + z
    return np.clip(y, info.min, info.max).astype(dtype)


def dequantize(q, s, z, axis=None):
    """ONNX DequantizeLinear: float32(q - z) * s, one float32 multiply."""
    s = np.asarray(s, np.float32)
    z = np.asarray(z, np.int64)
    if axis is not None and s.ndim == 1:
        shape = [1] * np.ndim(q)
        shape[axis] = -1
        s, z = s.reshape(shape), z.reshape(shape)
    return ((np.asarray(q, np.int64) - z).astype(np.float32) * s).astype(np.float32)


def calibrate(values, dtype=np.uint8, lo=None, hi=None):
    """Asymmetric per-tensor params covering [lo, hi] (by default the values' range), with 0.0 exact."""
    info = np.iinfo(dtype)
    lo = min(float(np.min(values)), 0.0) if lo is None else lo
    hi = max(float(np.max(values)), 0.0) if hi is None else hi
    s = np.float32((hi - lo) / (info.max - info.min))
    if s == 0:
        s = np.float32(1.0)
    z = int(np.clip(np.rint(info.min - lo / float(s)), info.min, info.max))
    return s, z


def requantize_acc(acc, m, z, dtype=np.uint8):
    """The QOperator requantization: saturate(round_half_to_even(acc * M) + z), M in float64."""
    info = np.iinfo(dtype)
    return np.clip(np.rint(acc.astype(np.float64) * m) + z, info.min, info.max).astype(dtype)


# ----------------------------------------------------------------------------------------------------------
# Float64 operators on NCHW arrays (reference semantics of the ONNX operators used here)
# ----------------------------------------------------------------------------------------------------------


def same_pads(mode, size, kernel, stride, dilation):
    out = -(-size // stride)
    total = max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size)
    small = total // 2
    return (small, total - small) if mode == "SAME_UPPER" else (total - small, small)


def conv2d(x, w, strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), group=1):
    """Direct convolution; works for float64 and for exact int64 (zero-point-corrected) operands."""
    n, c, h, wd = x.shape
    co, cig, kh, kw = w.shape
    assert cig * group == c
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    (sh, sw), (dh, dw) = strides, dilations
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, co, oh, ow), dtype=np.result_type(x, w))
    cog = co // group
    for g in range(group):
        xs = xp[:, g * cig:(g + 1) * cig]
        for ky in range(kh):
            for kx in range(kw):
                rows = slice(ky * dh, ky * dh + sh * (oh - 1) + 1, sh)
                cols = slice(kx * dw, kx * dw + sw * (ow - 1) + 1, sw)
                patch = xs[:, :, rows, cols]
                out[:, g * cog:(g + 1) * cog] += np.einsum("nchw,oc->nohw", patch,
                                                           w[g * cog:(g + 1) * cog, :, ky, kx])
    return out


def conv_transpose2d(x, w, strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), output_padding=(0, 0),
                     group=1):
    """ONNX ConvTranspose: weights [C_in, C_out / group, KH, KW]; scatter every input pixel, then crop."""
    n, c, h, wd = x.shape
    ci, cog, kh, kw = w.shape
    assert ci == c
    cig = c // group
    (sh, sw), (dh, dw) = strides, dilations
    full_h = (h - 1) * sh + (kh - 1) * dh + 1 + output_padding[0]
    full_w = (wd - 1) * sw + (kw - 1) * dw + 1 + output_padding[1]
    out = np.zeros((n, cog * group, full_h, full_w), dtype=np.result_type(x, w))
    for g in range(group):
        xs = x[:, g * cig:(g + 1) * cig]
        for ky in range(kh):
            for kx in range(kw):
                contrib = np.einsum("nchw,co->nohw", xs, w[g * cig:(g + 1) * cig, :, ky, kx])
                out[:, g * cog:(g + 1) * cog, ky * dh:ky * dh + sh * (h - 1) + 1:sh,
                    kx * dw:kx * dw + sw * (wd - 1) + 1:sw] += contrib
    pt, pl, pb, pr = pads
    return out[:, :, pt:full_h - pb, pl:full_w - pr]


def pool_output(size, kernel, stride, pad_begin, pad_end, ceil_mode):
    span = size + pad_begin + pad_end - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1  # a window may not start in the end padding
    return out


def pool2d(x, kind, kernel, strides, pads, ceil_mode=False, count_include_pad=False):
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = strides
    pt, pl, pb, pr = pads
    oh = pool_output(h, kh, sh, pt, pb, ceil_mode)
    ow = pool_output(w, kw, sw, pl, pr, ceil_mode)
    # Room for the windows ceil_mode adds beyond the end padding.
    eb = max(0, (oh - 1) * sh + kh - (h + pt + pb))
    er = max(0, (ow - 1) * sw + kw - (w + pl + pr))
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pt, pb + eb), (pl, pr + er)), constant_values=fill)
    # Which positions count for the divisor: real elements, plus explicit padding when count_include_pad.
    real = np.pad(np.ones((h, w)), ((pt, pb + eb), (pl, pr + er)))
    padded = np.pad(np.ones((h + pt + pb, w + pl + pr)), ((0, eb), (0, er)))
    counted = padded if count_include_pad else real
    out = np.full((n, c, oh, ow), -np.inf if kind == "max" else 0.0)
    count = np.zeros((oh, ow))
    for ky in range(kh):
        for kx in range(kw):
            win = xp[:, :, ky:ky + sh * (oh - 1) + 1:sh, kx:kx + sw * (ow - 1) + 1:sw]
            if kind == "max":
                out = np.maximum(out, win)
            else:
                out += win
                count += counted[ky:ky + sh * (oh - 1) + 1:sh, kx:kx + sw * (ow - 1) + 1:sw]
    return out if kind == "max" else out / count


def resize_coords(out_len, in_len, scale, mode):
    x = np.arange(out_len, dtype=np.float64)
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if out_len > 1 else np.zeros(out_len)
    if mode == "align_corners":
        return x * (in_len - 1) / (out_len - 1) if out_len > 1 else np.zeros(out_len)
    if mode == "asymmetric":
        return x / scale
    raise ValueError(mode)


def resize_axis(v, axis, out_len, scale, mode, ctm, nearest_mode):
    in_len = v.shape[axis]
    xs = resize_coords(out_len, in_len, scale, ctm)
    if mode == "nearest":
        rounding = {
            "round_prefer_floor": lambda t: np.ceil(t - 0.5),
            "round_prefer_ceil": lambda t: np.floor(t + 0.5),
            "floor": np.floor,
            "ceil": np.ceil,
            # Resize-10 and Upsample: ceil along an axis that shrinks, floor otherwise (ONNX Runtime's, and
            # ONNX's opset-10 test data).
            "resize_10": np.ceil if scale < 1 else np.floor,
        }[nearest_mode]
        idx = np.clip(rounding(xs), 0, in_len - 1).astype(np.int64)
        return np.take(v, idx, axis=axis)
    xs = np.clip(xs, 0, in_len - 1)  # linear: coordinates outside the input use the edge value
    i0 = np.floor(xs).astype(np.int64)
    i1 = np.minimum(i0 + 1, in_len - 1)
    frac = xs - i0
    shape = [1] * v.ndim
    shape[axis] = -1
    frac = frac.reshape(shape)
    return np.take(v, i0, axis=axis) * (1 - frac) + np.take(v, i1, axis=axis) * frac


def cubic_resize(x, factor, a=-0.75):
    """ONNX Resize, mode cubic, half_pixel coordinates, integer upscale of H and W (the edge pixels
    repeated outside the input)."""
    def weights(t):
        t = np.abs(t)
        return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                        np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))

    def axis(v, ax):
        n = v.shape[ax]
        out = []
        for o in range(n * factor):
            src = (o + 0.5) / factor - 0.5
            base = int(np.floor(src))
            acc = 0.0
            for k in range(-1, 3):
                idx = min(max(base + k, 0), n - 1)
                acc = acc + np.take(v, [idx], axis=ax) * weights(src - (base + k))
            out.append(acc)
        return np.concatenate(out, axis=ax)

    return as_f32(axis(axis(x.astype(np.float64), 2), 3))


def softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def as_f32(x):
    return np.asarray(x, np.float64).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------
# Model builder: every method adds ONNX nodes and simulates them on the fixed input at the same time
# ----------------------------------------------------------------------------------------------------------


class T:
    """A tensor of the model: its ONNX name and simulated values (quantized tensors also carry params)."""

    def __init__(self, name, v, s=None, z=None):
        self.name, self.v, self.s, self.z = name, v, s, z

    @property
    def dtype(self):
        return self.v.dtype.type


ONNX_TYPE = {np.float32: TensorProto.FLOAT, np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8,
             np.int64: TensorProto.INT64, np.int32: TensorProto.INT32}


class Builder:
    def __init__(self, name, opset=13, constant_nodes=False):
        self.name = name
        self.opset = opset
        self.constant_nodes = constant_nodes  # weights and params as Constant nodes (older exporters)
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.feeds, self.expected = [], []
        self.quantized_outputs = []  # per output: whether it carries quantization params
        self.variants = {}  # variant name -> (inputs, expected outputs)
        self.ms = False  # uses com.microsoft operators
        self.count = 0
        self.patch = None  # edits the model after the checker (for opsets newer than this ONNX package)
        self.checked = True  # False: operators newer than this ONNX package (1.12, opset 17), which its
        # checker rejects

    # ---- plumbing ----
    def fresh(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, array, base):
        name = self.fresh(base)
        tensor = numpy_helper.from_array(np.asarray(array), name)
        if self.constant_nodes:
            self.nodes.append(helper.make_node("Constant", [], [name], name=name + "_node", value=tensor))
        else:
            self.inits.append(tensor)
        return name

    def node(self, op, inputs, base=None, domain=None, **attrs):
        name = self.fresh(base or op.lower())
        kwargs = {"domain": domain} if domain else {}
        if domain == "com.microsoft":
            self.ms = True
        self.nodes.append(helper.make_node(op, inputs, [name + "_out"], name=name, **kwargs, **attrs))
        return name + "_out"

    def input(self, shape, lo=-1.0, hi=1.0, dims=None, name="input", values=None):
        v = as_f32(self.rng.uniform(lo, hi, shape)) if values is None else values
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims or list(v.shape)))
        self.feeds.append(v)
        return T(name, v)

    def input_u8(self, shape, s, z, name="input"):
        v = self.rng.integers(0, 256, shape).astype(np.uint8)
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.UINT8, list(shape)))
        self.feeds.append(v)
        return T(name, v, np.float32(s), z)

    def output(self, t, dims=None):
        shape = dims or list(t.v.shape)
        self.outputs.append(helper.make_tensor_value_info(t.name, ONNX_TYPE[t.dtype], shape))
        self.expected.append(t.v)
        self.quantized_outputs.append(t.s is not None)
        return t

    # ---- QDQ ----
    def q(self, t, s=None, z=None, dtype=np.uint8, lo=None, hi=None):
        if s is None:
            s, z = calibrate(t.v, dtype, lo, hi)
        s = np.float32(s)
        sn = self.const(np.array(s, np.float32), "scale")
        zn = self.const(np.array(z, dtype), "zero_point")
        out = self.node("QuantizeLinear", [t.name, sn, zn], "quantize")
        return T(out, quantize(t.v, s, z, dtype), s, z)

    def dq(self, t):
        sn = self.const(np.array(t.s, np.float32), "scale")
        zn = self.const(np.array(t.z, t.dtype), "zero_point")
        out = self.node("DequantizeLinear", [t.name, sn, zn], "dequantize")
        return T(out, dequantize(t.v, t.s, t.z))

    def qdq(self, t, **kw):
        return self.dq(self.q(t, **kw))

    def dq_constant(self, values):
        """A float constant stored quantized (uint8 initializer + DequantizeLinear), as QDQ quantizers do."""
        s, z = calibrate(values)
        q = quantize(values, s, z, np.uint8)
        return self.dq(T(self.const(q, "constant"), q, s, z))

    def quantize_weights(self, w, axis, per_channel=True):
        """Symmetric int8 weights in the narrow range [-127, 127], per channel along `axis` or per tensor."""
        if per_channel:
            other = tuple(i for i in range(w.ndim) if i != axis)
            s = as_f32(np.max(np.abs(w), axis=other) / 127.0)
            q = quantize(w, s, np.zeros(s.shape, np.int64), np.int8, axis)
        else:
            s = np.float32(np.max(np.abs(w)) / 127.0)
            q = quantize(w, s, 0, np.int8)
        return np.clip(q, -127, 127).astype(np.int8), s

    def weights(self, w, axis=0, per_channel=True):
        """The DequantizeLinear of an int8 weight initializer; returns (float tensor, int8 data, scales)."""
        q, s = self.quantize_weights(w, axis, per_channel)
        wn = self.const(q, "weight")
        sn = self.const(s, "weight_scale")
        zn = self.const(np.zeros(np.shape(s), np.int8), "weight_zero_point")
        attrs = {"axis": axis} if per_channel else {}
        out = self.node("DequantizeLinear", [wn, sn, zn], "dequantize_weight", **attrs)
        return T(out, dequantize(q, s, 0, axis if per_channel else None)), q, s

    def bias(self, b, s_in, s_w):
        """int32 bias with scale s_in * s_w (per channel when s_w is), zero point 0."""
        s_b = as_f32(np.float32(s_in) * np.asarray(s_w, np.float32))
        q = np.rint(b / s_b.astype(np.float64)).astype(np.int32)
        bn = self.const(q, "bias")
        sn = self.const(s_b, "bias_scale")
        zn = self.const(np.zeros(s_b.shape, np.int32), "bias_zero_point")
        attrs = {"axis": 0} if s_b.ndim == 1 else {}
        out = self.node("DequantizeLinear", [bn, sn, zn], "dequantize_bias", **attrs)
        return T(out, dequantize(q, s_b, 0))

    # ---- float operators (between DequantizeLinear and QuantizeLinear) ----
    def conv(self, x, w, b=None, strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), group=1, auto_pad=None,
             explicit_kernel_shape=True):
        attrs = {"group": group} if group != 1 else {}
        kh, kw = w.v.shape[2:]
        if explicit_kernel_shape:
            attrs["kernel_shape"] = [kh, kw]
        if tuple(strides) != (1, 1):
            attrs["strides"] = list(strides)
        if tuple(dilations) != (1, 1):
            attrs["dilations"] = list(dilations)
        if auto_pad:
            attrs["auto_pad"] = auto_pad
            if auto_pad == "VALID":
                pads = (0, 0, 0, 0)
            else:
                ph = same_pads(auto_pad, x.v.shape[2], kh, strides[0], dilations[0])
                pw = same_pads(auto_pad, x.v.shape[3], kw, strides[1], dilations[1])
                pads = (ph[0], pw[0], ph[1], pw[1])
        elif any(pads):
            attrs["pads"] = list(pads)
        y = conv2d(x.v.astype(np.float64), w.v.astype(np.float64), strides, dilations, pads, group)
        if b is not None:
            y = y + b.v.astype(np.float64)[None, :, None, None]
        out = self.node("Conv", [x.name, w.name] + ([b.name] if b is not None else []), "conv", **attrs)
        return T(out, as_f32(y))

    def conv_transpose(self, x, w, b=None, strides=(1, 1), pads=(0, 0, 0, 0), output_padding=(0, 0), group=1):
        attrs = {"kernel_shape": list(w.v.shape[2:]), "strides": list(strides)}
        if any(pads):
            attrs["pads"] = list(pads)
        if any(output_padding):
            attrs["output_padding"] = list(output_padding)
        if group != 1:
            attrs["group"] = group
        y = conv_transpose2d(x.v.astype(np.float64), w.v.astype(np.float64), strides, (1, 1), pads,
                             output_padding, group)
        if b is not None:
            y = y + b.v.astype(np.float64)[None, :, None, None]
        out = self.node("ConvTranspose", [x.name, w.name] + ([b.name] if b is not None else []),
                        "conv_transpose", **attrs)
        return T(out, as_f32(y))

    def gemm(self, x, w, b=None, trans_b=True, alpha=1.0, beta=1.0):
        wm = w.v.astype(np.float64)
        y = np.float64(np.float32(alpha)) * (x.v.astype(np.float64) @ (wm.T if trans_b else wm))
        if b is not None:
            y = y + np.float64(np.float32(beta)) * b.v.astype(np.float64)
        attrs = {"transB": 1} if trans_b else {}
        if alpha != 1.0:
            attrs["alpha"] = alpha
        if beta != 1.0:
            attrs["beta"] = beta
        out = self.node("Gemm", [x.name, w.name] + ([b.name] if b is not None else []), "gemm", **attrs)
        return T(out, as_f32(y))

    def matmul(self, x, w):
        y = x.v.astype(np.float64) @ w.v.astype(np.float64)
        return T(self.node("MatMul", [x.name, w.name], "matmul"), as_f32(y))

    def unary(self, op, x, f, **attrs):
        return T(self.node(op, [x.name], op.lower(), **attrs), as_f32(f(x.v.astype(np.float64))))

    def relu(self, x):
        return self.unary("Relu", x, lambda v: np.maximum(v, 0))

    def clip(self, x, lo, hi):
        if self.opset < 11:
            out = self.node("Clip", [x.name], "clip", min=float(lo), max=float(hi))
        else:
            lon = self.const(np.array(lo, np.float32), "clip_min")
            hin = self.const(np.array(hi, np.float32), "clip_max")
            out = self.node("Clip", [x.name, lon, hin], "clip")
        return T(out, as_f32(np.clip(x.v.astype(np.float64), lo, hi)))

    def binary(self, op, a, b):
        f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
        bv = b.v if isinstance(b, T) else np.float32(b)
        bn = b.name if isinstance(b, T) else self.const(np.array(b, np.float32), op.lower() + "_constant")
        return T(self.node(op, [a.name, bn], op.lower()), as_f32(f(a.v.astype(np.float64), np.float64(bv))))

    def max_pool(self, x, kernel, strides, pads=(0, 0, 0, 0), ceil_mode=False):
        attrs = {"kernel_shape": list(kernel), "strides": list(strides)}
        if any(pads):
            attrs["pads"] = list(pads)
        if ceil_mode:
            attrs["ceil_mode"] = 1
        y = pool2d(x.v, "max", kernel, strides, pads, ceil_mode)
        return T(self.node("MaxPool", [x.name], "max_pool", **attrs), as_f32(y))

    def average_pool(self, x, kernel, strides, pads, count_include_pad):
        attrs = {"kernel_shape": list(kernel), "strides": list(strides), "pads": list(pads),
                 "count_include_pad": int(count_include_pad)}
        y = pool2d(x.v, "avg", kernel, strides, pads, False, count_include_pad)
        return T(self.node("AveragePool", [x.name], "average_pool", **attrs), as_f32(y))

    def global_average_pool(self, x):
        y = np.mean(x.v.astype(np.float64), axis=(2, 3), keepdims=True)
        return T(self.node("GlobalAveragePool", [x.name], "global_average_pool"), as_f32(y))

    def resize(self, x, mode, ctm=None, nearest_mode=None, scales=None, sizes=None):
        n, c, h, w = x.v.shape
        if sizes is not None:
            sh, sw = sizes[2] / h, sizes[3] / w
            out_h, out_w = sizes[2], sizes[3]
        else:
            sh, sw = scales[2], scales[3]
            out_h, out_w = int(np.floor(h * sh)), int(np.floor(w * sw))
        attrs = {"mode": mode}
        if self.opset < 11:
            inputs = [x.name, self.const(np.array(scales, np.float32), "scales")]
            ctm, nearest_mode = "asymmetric", "resize_10"  # Resize-10 behaves like Upsample
        else:
            if ctm:
                attrs["coordinate_transformation_mode"] = ctm
            if nearest_mode:
                attrs["nearest_mode"] = nearest_mode
            ctm = ctm or "half_pixel"
            nearest_mode = nearest_mode or "round_prefer_floor"
            # (X, roi, scales, sizes); roi only matters for tf_crop_and_resize, which is not used here.
            if sizes is not None:
                inputs = [x.name, "", "", self.const(np.array(sizes, np.int64), "sizes")]
            else:
                inputs = [x.name, "", self.const(np.array(scales, np.float32), "scales")]
        y = resize_axis(x.v.astype(np.float64), 2, out_h, sh, mode, ctm, nearest_mode)
        y = resize_axis(y, 3, out_w, sw, mode, ctm, nearest_mode)
        return T(self.node("Resize", inputs, "resize", **attrs), as_f32(y))

    def softmax(self, x, axis):
        v = x.v.astype(np.float64)
        if self.opset < 13:
            # Softmax-1 / -11: the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] and each row
            # normalized, i.e. over every element from `axis` on, not along `axis` alone.
            ax = axis % v.ndim
            p = softmax(v.reshape(int(np.prod(v.shape[:ax])), -1), 1).reshape(v.shape)
        else:
            p = softmax(v, axis)
        return T(self.node("Softmax", [x.name], "softmax", axis=axis), as_f32(p))

    def flatten(self, x, axis=1):
        shape = (int(np.prod(x.v.shape[:axis])), -1)
        return T(self.node("Flatten", [x.name], "flatten", axis=axis), x.v.reshape(shape))

    def reshape(self, x, shape):
        out = self.node("Reshape", [x.name, self.const(np.array(shape, np.int64), "shape")], "reshape")
        actual = [x.v.shape[i] if d == 0 else d for i, d in enumerate(shape)]  # ONNX: 0 copies the input dim
        return T(out, x.v.reshape(actual))

    def transpose(self, x, perm):
        return T(self.node("Transpose", [x.name], "transpose", perm=list(perm)), np.transpose(x.v, perm))

    def squeeze(self, x, axes):
        out = self.node("Squeeze", [x.name, self.const(np.array(axes, np.int64), "axes")], "squeeze")
        return T(out, np.squeeze(x.v, tuple(axes)))

    def unsqueeze(self, x, axes):
        out = self.node("Unsqueeze", [x.name, self.const(np.array(axes, np.int64), "axes")], "unsqueeze")
        return T(out, np.expand_dims(x.v, tuple(axes)))

    def concat(self, xs, axis):
        out = self.node("Concat", [x.name for x in xs], "concat", axis=axis)
        return T(out, np.concatenate([x.v for x in xs], axis=axis))

    # ---- QOperator form: uint8 in, uint8 out, params as operands ----
    def qparams(self, t):
        return self.params(t.s, t.z, t.dtype)

    def params(self, s, z, dtype=np.uint8):
        """A scale and zero-point pair of constants (QOperator operands)."""
        return [self.const(np.array(s, np.float32), "scale"), self.const(np.array(z, dtype), "zero_point")]

    def qlinear_conv(self, x, w, b=None, relu=False, per_channel=True, transposed=False, uint8_weights=False,
                     **conv_attrs):
        """QLinearConv (or com.microsoft QLinearConvTranspose): exact int accumulation, then requantize.
        The output has the input's type (uint8 or int8); uint8 weights are asymmetric (zero point 128)."""
        axis = 1 if transposed else 0
        if uint8_weights:
            ws = np.float32(np.max(np.abs(w)) / 127.0)
            wq = quantize(w, ws, 128, np.uint8)
            w_zp = np.array(128, np.uint8)
        else:
            wq, ws = self.quantize_weights(w, axis, per_channel)
            w_zp = np.zeros(np.shape(ws), np.int8)
        w_int = wq.astype(np.int64) - (128 if uint8_weights else 0)
        if transposed:  # scales along C_out / group, the same for every group
            per_group = np.broadcast_to(np.asarray(ws, np.float64), (wq.shape[1],))
            s_w = np.tile(per_group, conv_attrs.get("group", 1))
        else:
            s_w = np.broadcast_to(np.asarray(ws, np.float64), (wq.shape[0],))
        xi = x.v.astype(np.int64) - x.z
        op = conv_transpose2d if transposed else conv2d
        acc = op(xi, w_int, **conv_attrs)
        inputs = [x.name] + self.qparams(x) + [self.const(wq, "weight"), self.const(ws, "weight_scale"),
                                               self.const(w_zp, "weight_zero_point")]
        bq = None
        if b is not None:
            bq = np.rint(b / (np.float64(x.s) * s_w)).astype(np.int32)
            acc = acc + bq.astype(np.int64)[None, :, None, None]
        real = acc * (np.float64(x.s) * s_w)[None, :, None, None]
        s_out, z_out = calibrate(real, x.dtype, lo=0.0 if relu else None)
        m = (np.float64(x.s) * s_w / np.float64(s_out))[None, :, None, None]
        y = requantize_acc(acc, m, z_out, x.dtype)
        inputs += self.params(s_out, z_out, x.dtype)
        if bq is not None:
            inputs.append(self.const(bq, "bias"))
        attrs = {"kernel_shape": list(wq.shape[2:])}
        for key, default in (("strides", (1, 1)), ("dilations", (1, 1)), ("pads", (0, 0, 0, 0)),
                             ("output_padding", (0, 0))):
            if key in conv_attrs and tuple(conv_attrs[key]) != default:
                attrs[key] = list(conv_attrs[key])
        if conv_attrs.get("group", 1) != 1:
            attrs["group"] = conv_attrs["group"]
        if transposed:
            out = self.node("QLinearConvTranspose", inputs, "qlinear_conv_transpose", domain="com.microsoft",
                            **attrs)
        else:
            out = self.node("QLinearConv", inputs, "qlinear_conv", **attrs)
        return T(out, y, s_out, z_out)

    def qlinear_matmul(self, a, w, per_column):
        wq, ws = self.quantize_weights(w, 1, per_column)
        s_w = np.broadcast_to(np.asarray(ws, np.float64), (w.shape[1],))
        acc = (a.v.astype(np.int64) - a.z) @ wq.astype(np.int64)
        s_out, z_out = calibrate(acc * np.float64(a.s) * s_w)
        y = requantize_acc(acc, np.float64(a.s) * s_w / np.float64(s_out), z_out)
        out_params = [self.const(np.array(s_out, np.float32), "scale"),
                      self.const(np.array(z_out, np.uint8), "zero_point")]
        inputs = [a.name] + self.qparams(a) + [self.const(wq, "weight"), self.const(ws, "weight_scale"),
                                               self.const(np.zeros(np.shape(ws), np.int8),
                                                          "weight_zero_point")] + out_params
        return T(self.node("QLinearMatMul", inputs, "qlinear_matmul"), y, s_out, z_out)

    def qgemm(self, a, w, b):
        """com.microsoft QGemm, transB = 1: w is [N, K]; int32 bias C in units of s_a * s_w."""
        wq, ws = self.quantize_weights(w, 0, True)
        s_w = np.asarray(ws, np.float64)
        bq = np.rint(b / (np.float64(a.s) * s_w)).astype(np.int32)
        acc = (a.v.astype(np.int64) - a.z) @ wq.astype(np.int64).T + bq.astype(np.int64)
        s_out, z_out = calibrate(acc * np.float64(a.s) * s_w)
        y = requantize_acc(acc, np.float64(a.s) * s_w / np.float64(s_out), z_out)
        inputs = [a.name] + self.qparams(a) + [
            self.const(wq, "weight"), self.const(ws, "weight_scale"),
            self.const(np.zeros(ws.shape, np.int8), "weight_zero_point"), self.const(bq, "bias"),
            *self.params(s_out, z_out)]
        out = self.node("QGemm", inputs, "qgemm", domain="com.microsoft", transB=1)
        return T(out, y, s_out, z_out)

    def qlinear_binary(self, op, a, b):
        f = np.add if op == "QLinearAdd" else np.multiply
        real = as_f32(f(dequantize(a.v, a.s, a.z).astype(np.float64), dequantize(b.v, b.s, b.z)))
        s, z = calibrate(real)
        inputs = [a.name] + self.qparams(a) + [b.name] + self.qparams(b) + [
            self.const(np.array(s, np.float32), "scale"), self.const(np.array(z, np.uint8), "zero_point")]
        out = self.node(op, inputs, op.lower(), domain="com.microsoft")
        return T(out, quantize(real, s, z, np.uint8), s, z)

    def qlinear_concat(self, xs, axis):
        real = np.concatenate([dequantize(x.v, x.s, x.z) for x in xs], axis=axis)
        s, z = calibrate(real)
        inputs = self.params(s, z)
        for x in xs:
            inputs += [x.name] + self.qparams(x)
        out = self.node("QLinearConcat", inputs, "qlinear_concat", domain="com.microsoft", axis=axis)
        return T(out, quantize(real, s, z, np.uint8), s, z)

    def qlinear_unary(self, op, x, f, **attrs):
        real = as_f32(f(dequantize(x.v, x.s, x.z).astype(np.float64)))
        s, z = calibrate(real)
        inputs = [x.name] + self.qparams(x) + [self.const(np.array(s, np.float32), "scale"),
                                               self.const(np.array(z, np.uint8), "zero_point")]
        out = self.node(op, inputs, op.lower(), domain="com.microsoft", **attrs)
        return T(out, quantize(real, s, z, np.uint8), s, z)

    # ---- writing ----
    def model(self):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        opsets = [helper.make_opsetid("", self.opset)]
        if self.ms:
            opsets.append(helper.make_opsetid("com.microsoft", 1))
        m = helper.make_model(graph, opset_imports=opsets, producer_name=PRODUCER)
        if self.opset < 11:
            m.ir_version = 5
        return m


def save_arrays(prefix, arrays, kind):
    for i, a in enumerate(arrays):
        np.save(f"{prefix}.{kind}{'' if i == 0 else i}.npy", np.asarray(a, order="C"))  # C order: what octet reads


def write(b):
    m = b.model()
    if b.checked:
        onnx.checker.check_model(m)
    if b.patch:
        b.patch(m)
    path = os.path.join(ONNX_DIR, b.name + ".onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    prefix = os.path.join(ONNX_DIR, b.name)
    save_arrays(prefix, b.feeds, "input")
    save_arrays(prefix, b.expected, "expected")
    for variant, (feeds, expected) in b.variants.items():
        save_arrays(f"{prefix}.{variant}", feeds, "input")
        save_arrays(f"{prefix}.{variant}", expected, "expected")


MODELS = []


def model(fn):
    MODELS.append(fn)
    return fn


# ----------------------------------------------------------------------------------------------------------
# QDQ convolutions
# ----------------------------------------------------------------------------------------------------------


def qdq_conv_model(name, n=1, c=4, h=8, w=8, co=8, k=3, act=None, out="float", weight_gain=0.4,
                   x_range=(-1, 1.5),
                   per_channel=True, act_dtype=np.uint8, opset=13, constant_nodes=False, dims=None, **conv):
    """input -> Q -> DQ -> Conv(DQ(int8 w), DQ(int32 b)) -> [Relu | Clip] -> Q [-> DQ] -> output."""
    b = Builder(name, opset=opset, constant_nodes=constant_nodes)
    x = b.input([n, c, h, w], *x_range, dims=dims)
    xq = b.q(x, dtype=act_dtype)
    xd = b.dq(xq)
    group = conv.get("group", 1)
    wf = b.rng.normal(0, 1, (co, c // group, k, k)) * b.rng.uniform(0.3, 1.0, (co, 1, 1, 1)) * weight_gain
    wd, _, ws = b.weights(wf, 0, per_channel)
    bd = b.bias(b.rng.normal(0, 0.3, co), xq.s, ws if per_channel else np.float32(ws))
    y = b.conv(xd, wd, bd, **conv)
    if act == "relu":
        y = b.relu(y)
    elif act == "relu6":
        y = b.clip(y, 0.0, 6.0)
    yq = b.q(y, dtype=act_dtype, hi=6.0 if act == "relu6" else None)
    result = b.dq(yq) if out == "float" else yq
    b.output(result, dims=None if dims is None else [dims[0]] + list(result.v.shape[1:]))
    return b


@model
def qdq_conv3x3_relu():
    return qdq_conv_model("qdq_conv3x3_relu", act="relu", pads=(1, 1, 1, 1))


@model
def qdq_conv3x3_relu6():
    # Output range well beyond 6 before the clip, so that the clip matters.
    return qdq_conv_model("qdq_conv3x3_relu6", act="relu6", weight_gain=1.5, x_range=(-2, 3), out="u8",
                          pads=(1, 1, 1, 1))


def as_latest_onnx(m):
    """The model as ONNX 1.23 (opset 28) writes it: the opset, and QuantizeLinear / DequantizeLinear spelling
    out their output type (output_dtype, opset 21) and arithmetic (precision, opset 23) with the values their
    defaults already have. Octet must read it as the same model."""
    m.opset_import[0].version = 28
    m.ir_version = 11
    consts = {t.name: t for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "QuantizeLinear":
            zp_type = consts[n.input[2]].data_type if len(n.input) > 2 else TensorProto.UINT8
            n.attribute.extend([helper.make_attribute("output_dtype", zp_type),
                                helper.make_attribute("precision", TensorProto.FLOAT)])
        elif n.op_type == "DequantizeLinear":
            n.attribute.append(helper.make_attribute("output_dtype", TensorProto.FLOAT))


@model
def qdq_conv_opset28():
    b = qdq_conv_model("qdq_conv_opset28", act="relu", act_dtype=np.int8, pads=(1, 1, 1, 1))
    b.patch = as_latest_onnx
    return b


@model
def qdq_conv_stride2():
    return qdq_conv_model("qdq_conv_stride2", h=9, w=9, pads=(1, 1, 1, 1), strides=(2, 2))


@model
def qdq_conv_dilation2():
    return qdq_conv_model("qdq_conv_dilation2", h=10, w=10, act="relu", out="u8", pads=(2, 2, 2, 2),
                          dilations=(2, 2))


@model
def qdq_conv_asymmetric_pads():
    return qdq_conv_model("qdq_conv_asymmetric_pads", h=7, w=9, pads=(0, 1, 2, 0))


@model
def qdq_conv_groups2():
    return qdq_conv_model("qdq_conv_groups2", c=8, co=6, pads=(1, 1, 1, 1), group=2)


@model
def qdq_conv_depthwise():
    return qdq_conv_model("qdq_conv_depthwise", c=8, co=8, h=10, w=10, act="relu", out="u8",
                          pads=(1, 1, 1, 1), strides=(2, 2), group=8)


@model
def qdq_conv_depthwise_dilated():
    # DeepLab's atrous depthwise layer in small: 3x3, dilation 2 in height and 3 in width, wide enough that
    # x86 runs it on the column kernel's phases; 24 channels, a whole 16-channel block and a partial one.
    return qdq_conv_model("qdq_conv_depthwise_dilated", c=24, co=24, h=9, w=16, act="relu", out="u8",
                          pads=(2, 3, 2, 3), dilations=(2, 3), group=24)


@model
def qdq_conv_same_upper():
    # 8 -> 4 with stride 2: total padding 1, which SAME_UPPER puts at the end.
    return qdq_conv_model("qdq_conv_same_upper", strides=(2, 2), auto_pad="SAME_UPPER")


@model
def qdq_conv_same_lower():
    return qdq_conv_model("qdq_conv_same_lower", strides=(2, 2), auto_pad="SAME_LOWER")


@model
def qdq_conv1x1():
    return qdq_conv_model("qdq_conv1x1", c=8, co=16, k=1, out="u8", explicit_kernel_shape=False)


@model
def qdq_conv_per_tensor_weights():
    return qdq_conv_model("qdq_conv_per_tensor_weights", pads=(1, 1, 1, 1), per_channel=False)


@model
def qdq_conv_int8_activations():
    # Both activations int8 (zero point of type int8), as symmetric-activation quantizers produce.
    return qdq_conv_model("qdq_conv_int8_activations", act_dtype=np.int8, pads=(1, 1, 1, 1))


@model
def qdq_conv_constant_nodes():
    return qdq_conv_model("qdq_conv_constant_nodes", act="relu", pads=(1, 1, 1, 1), constant_nodes=True)


@model
def qdq_conv_dynamic_batch():
    # Symbolic batch "N". Simulated on a batch of 3; the main case is item 0 alone (every operator here
    # treats batch items independently, so its expected output is item 0 of the batch-3 result).
    b = qdq_conv_model("qdq_conv_dynamic_batch", n=3, act="relu", pads=(1, 1, 1, 1), dims=["N", 4, 8, 8])
    b.variants["batch3"] = (b.feeds, b.expected)
    b.feeds = [f[:1] for f in b.feeds]
    b.expected = [e[:1] for e in b.expected]
    return b


@model
def qdq_conv_relu6_opset10():
    # Opset 10: per-tensor QuantizeLinear / DequantizeLinear only, and Clip with min / max attributes.
    b = Builder("qdq_conv_relu6_opset10", opset=10)
    xq = b.q(b.input([1, 4, 6, 6], -2, 3))
    wd, _, ws = b.weights(b.rng.normal(0, 1.2, (6, 4, 3, 3)), 0, per_channel=False)
    y = b.clip(b.conv(b.dq(xq), wd, b.bias(b.rng.normal(0, 0.3, 6), xq.s, ws), pads=(1, 1, 1, 1)), 0.0, 6.0)
    b.output(b.q(y, hi=6.0))
    return b


@model
def qdq_resize_linear_opset10():
    # Resize-10 takes (X, scales) and has no coordinate_transformation_mode: it behaves like Upsample, with
    # asymmetric coordinates (x_original = x_resized / scale), as ONNX Runtime implements it.
    b = Builder("qdq_resize_linear_opset10", opset=10)
    xq = b.q(b.input([1, 4, 6, 6], -1, 2))
    r = b.resize(b.dq(xq), "linear", scales=[1, 1, 2, 2])
    b.output(b.q(r, xq.s, xq.z))
    return b


@model
def resize10_nearest_shrink():
    """Resize-10 in nearest mode, which has no nearest_mode: floor along an axis that grows, ceil along one that
    shrinks (ONNX Runtime's, and ONNX's opset-10 test data); on a float tensor (6x5 -> 3x7) and on a quantized
    one (10x9 -> 7x4)."""
    b = Builder("resize10_nearest_shrink", opset=10)
    b.output(b.resize(b.input([1, 2, 6, 5], -1, 1, name="image"), "nearest", scales=[1, 1, 0.6, 1.5]))
    xq = b.q(b.input([1, 3, 10, 9], -1, 2))
    near = b.resize(b.dq(xq), "nearest", scales=[1, 1, 0.75, 0.45])
    b.output(b.q(near, xq.s, xq.z))
    return b


@model
def qdq_upsample():
    """Upsample, deprecated since opset 10 but still in models converted then (YOLOv3's route layers): nearest
    on a quantized tensor at opset 10, linear on a float one; Resize-10's arithmetic. ONNX 1.12's checker
    rejects deprecated operators, so this model skips it."""
    b = Builder("qdq_upsample", opset=10)
    xq = b.q(b.input([1, 4, 5, 6], -1, 2))
    near = b.resize(b.dq(xq), "nearest", scales=[1, 1, 2, 2])
    b.output(b.q(near, xq.s, xq.z))
    lin = b.resize(b.input([1, 3, 4, 4], -1, 1, name="image"), "linear", scales=[1, 1, 2, 3])
    b.output(lin)
    for n in b.nodes:
        if n.op_type == "Resize":
            n.op_type = "Upsample"
    b.checked = False
    return b


# ----------------------------------------------------------------------------------------------------------
# QOperator convolutions
# ----------------------------------------------------------------------------------------------------------


def qop_conv_model(name, c=4, h=8, w=8, co=8, k=3, out="float", relu=False, u8_input=False, weight_gain=0.4,
                   act_dtype=np.uint8, **conv):
    """input -> QuantizeLinear -> QLinearConv [-> DequantizeLinear] -> output (or a uint8 input)."""
    b = Builder(name)
    group = conv.get("group", 1)
    if u8_input:
        xq = b.input_u8([1, c, h, w], 0.02, 100)
    else:
        xq = b.q(b.input([1, c, h, w], -1, 1.5), dtype=act_dtype)
    wf = b.rng.normal(0, 1, (co, c // group, k, k)) * b.rng.uniform(0.3, 1.0, (co, 1, 1, 1)) * weight_gain
    y = b.qlinear_conv(xq, wf, b.rng.normal(0, 0.3, co), relu=relu, **conv)
    b.output(b.dq(y) if out == "float" else y)
    return b


def qlinear_softmax(b, x, axis, softmax_opset):
    """com.microsoft QLinearSoftmax: the softmax of x's real values (over the flattened dimensions from `axis`
    on when softmax_opset < 13), quantized with scale 1/256 and zero point 0."""
    v = dequantize(x.v, x.s, x.z).astype(np.float64)
    if softmax_opset < 13:
        ax = axis % v.ndim
        p = softmax(v.reshape(int(np.prod(v.shape[:ax])), -1), 1).reshape(v.shape)
    else:
        p = softmax(v, axis)
    s, z = np.float32(1 / 256), 0
    out = b.node("QLinearSoftmax", [x.name] + b.qparams(x) + b.params(s, z), "qlinear_softmax",
                 domain="com.microsoft", axis=axis, opset=softmax_opset)
    return T(out, quantize(as_f32(p), s, z, np.uint8), s, z)


@model
def qop_softmax_int8_rows_of_one():
    """int8 com.microsoft QLinearSoftmax over an axis of length 1: every probability is 1, which output params
    1/256 with zero points -128 and 0 saturate to 127 (ONNX's definition, and fixed point). In the float
    requantization mode ONNX Runtime 1.30's int8 kernel gives 127 for zero point -128 but -128 for 0
    (tests/graph/requant_mode_model_test.cpp checks those bytes)."""
    b = Builder("qop_softmax_int8_rows_of_one")
    x = b.input([1, 6, 1], -2, 2)
    xq = b.q(x, dtype=np.int8)
    s = np.float32(1 / 256)
    for z in (-128, 0):
        out = b.node("QLinearSoftmax", [xq.name] + b.qparams(xq) + b.params(s, z, np.int8), "qlinear_softmax",
                     domain="com.microsoft", axis=-1, opset=13)
        b.output(b.dq(T(out, np.full([1, 6, 1], 127, np.int8), s, z)))
    return b


def argmax(b, x, axis, keepdims=0):
    idx = np.argmax(x.v, axis=axis)
    return T(b.node("ArgMax", [x.name], "argmax", axis=axis, keepdims=keepdims),
             idx if not keepdims else np.expand_dims(idx, axis))


@model
def qop_softmax_argmax():
    """A QOperator classifier's tail as ONNX Runtime's quantizer writes it: QLinearSoftmax over the channels of
    a conv's uint8 output (opset 13 form, channel-last in octet), ArgMax straight on those uint8 bytes, and
    the legacy form (opset 12: over everything from axis 1 on, 300 values)."""
    b = Builder("qop_softmax_argmax")
    xq = b.q(b.input([1, 4, 5, 6], -1, 1.5))
    y = b.qlinear_conv(xq, b.rng.normal(0, 1, (10, 4, 3, 3)) * 0.6, b.rng.normal(0, 0.3, 10), pads=(1, 1, 1, 1))
    b.output(qlinear_softmax(b, y, 1, 13))
    b.output(argmax(b, y, 1))
    b.output(qlinear_softmax(b, y, 1, 12))
    return b


@model
def qop_conv3x3():
    return qop_conv_model("qop_conv3x3", pads=(1, 1, 1, 1))


@model
def qop_conv3x3_relu_u8():
    # A QOperator "ReLU": the output params start at 0, so negative results saturate at the zero point.
    return qop_conv_model("qop_conv3x3_relu_u8", relu=True, out="u8", pads=(1, 1, 1, 1))


@model
def qop_conv_stride2_asymmetric_pads():
    return qop_conv_model("qop_conv_stride2_asymmetric_pads", h=9, w=8, out="u8", pads=(1, 0, 1, 1),
                          strides=(2, 2))


@model
def qop_conv_groups2_dilation2():
    return qop_conv_model("qop_conv_groups2_dilation2", c=8, co=4, h=10, w=10, pads=(2, 2, 2, 2),
                          dilations=(2, 2), group=2)


@model
def qop_conv_depthwise():
    return qop_conv_model("qop_conv_depthwise", c=8, co=8, out="u8", pads=(1, 1, 1, 1), group=8)


@model
def qop_conv_uint8_weights():
    # Asymmetric uint8 weights (zero point 128), which QLinearConv allows and octet's reference takes.
    return qop_conv_model("qop_conv_uint8_weights", out="u8", pads=(1, 1, 1, 1), uint8_weights=True)


@model
def qop_conv_int8_activations():
    return qop_conv_model("qop_conv_int8_activations", act_dtype=np.int8, pads=(1, 1, 1, 1))


@model
def qop_conv1x1_uint8_io():
    # uint8 graph input (already quantized by the caller) and uint8 graph output.
    return qop_conv_model("qop_conv1x1_uint8_io", c=8, co=8, k=1, out="u8", u8_input=True)


# ----------------------------------------------------------------------------------------------------------
# Transposed convolutions
# ----------------------------------------------------------------------------------------------------------


def qdq_conv_transpose_model(name, c=8, h=6, w=6, co=4, k=2, group=1, out="float", **attrs):
    b = Builder(name)
    x = b.input([1, c, h, w], 0, 2)  # post-ReLU features, as in a U-Net decoder
    xq = b.q(x)
    wf = b.rng.normal(0, 0.4, (c, co // group, k, k))
    wd, _, ws = b.weights(wf, 1)  # per output channel: ConvTranspose weights are [C_in, C_out / group, ...]
    s_w = np.tile(ws, group)
    y = b.conv_transpose(b.dq(xq), wd, b.bias(b.rng.normal(0, 0.2, co), xq.s, s_w), group=group, **attrs)
    yq = b.q(y)
    b.output(b.dq(yq) if out == "float" else yq)
    return b


@model
def qdq_conv_transpose_2x2_s2():
    return qdq_conv_transpose_model("qdq_conv_transpose_2x2_s2", strides=(2, 2))


@model
def qdq_conv_transpose_3x3_s2_pads_outpad():
    return qdq_conv_transpose_model("qdq_conv_transpose_3x3_s2_pads_outpad", k=3, out="u8", strides=(2, 2),
                                    pads=(1, 1, 1, 1), output_padding=(1, 1))


@model
def qdq_conv_transpose_groups2():
    return qdq_conv_transpose_model("qdq_conv_transpose_groups2", c=8, co=6, k=3, group=2, strides=(2, 2),
                                    pads=(1, 0, 0, 1))


@model
def qop_conv_transpose_2x2_s2():
    b = Builder("qop_conv_transpose_2x2_s2")
    xq = b.q(b.input([1, 8, 6, 6], 0, 2))
    y = b.qlinear_conv(xq, b.rng.normal(0, 0.4, (8, 4, 2, 2)), b.rng.normal(0, 0.2, 4), transposed=True,
                       strides=(2, 2))
    b.output(y)
    return b


# ----------------------------------------------------------------------------------------------------------
# Fully connected
# ----------------------------------------------------------------------------------------------------------


@model
def qdq_gemm():
    b = Builder("qdq_gemm")
    xq = b.q(b.input([2, 32], -1, 2))
    wd, _, ws = b.weights(b.rng.normal(0, 0.3, (10, 32)), 0)  # transB = 1: [N, K], per N
    y = b.gemm(b.dq(xq), wd, b.bias(b.rng.normal(0, 0.5, 10), xq.s, ws), trans_b=True)
    b.output(b.dq(b.q(y)))
    return b


@model
def qdq_gemm_alpha_beta():
    b = Builder("qdq_gemm_alpha_beta")
    xq = b.q(b.input([2, 32], -1, 2))
    wd, _, ws = b.weights(b.rng.normal(0, 0.3, (10, 32)), 0)
    y = b.gemm(b.dq(xq), wd, b.bias(b.rng.normal(0, 0.5, 10), xq.s, ws), alpha=0.5, beta=2.0)
    b.output(b.q(y))
    return b


@model
def qdq_matmul():
    b = Builder("qdq_matmul")
    xq = b.q(b.input([3, 24], -1, 1))
    wd, _, _ = b.weights(b.rng.normal(0, 0.3, (24, 12)), 1)  # [K, N], per column
    b.output(b.q(b.matmul(b.dq(xq), wd)))
    return b


@model
def qop_qlinear_matmul():
    b = Builder("qop_qlinear_matmul")
    xq = b.q(b.input([2, 24], -1, 1))
    b.output(b.dq(b.qlinear_matmul(xq, b.rng.normal(0, 0.3, (24, 12)), per_column=False)))
    return b


@model
def qop_qlinear_matmul_per_column():
    b = Builder("qop_qlinear_matmul_per_column")
    xq = b.q(b.input([2, 24], -1, 1))
    w = b.rng.normal(0, 0.3, (24, 12)) * np.linspace(0.2, 1.0, 12)  # column ranges differ: per-column scales
    b.output(b.qlinear_matmul(xq, w, per_column=True))
    return b


@model
def qop_qgemm():
    b = Builder("qop_qgemm")
    xq = b.q(b.input([2, 32], -1, 2))
    b.output(b.qgemm(xq, b.rng.normal(0, 0.3, (10, 32)), b.rng.normal(0, 0.5, 10)))
    return b


# ----------------------------------------------------------------------------------------------------------
# Add, Mul, Concat
# ----------------------------------------------------------------------------------------------------------


@model
def qdq_add():
    b = Builder("qdq_add")
    a = b.input([1, 4, 6, 6], -1, 1, name="a")
    c = b.input([1, 4, 6, 6], -3, 0.5, name="b")
    y = b.binary("Add", b.qdq(a), b.qdq(c))
    b.output(b.dq(b.q(y)))
    return b


@model
def qdq_add_broadcast():
    b = Builder("qdq_add_broadcast")
    a = b.input([1, 6, 5, 5], -1, 2, name="features")
    c = b.input([1, 6, 1, 1], -0.5, 0.5, name="per_channel")
    b.output(b.q(b.binary("Add", b.qdq(a), b.qdq(c))))
    return b


@model
def qdq_mul():
    b = Builder("qdq_mul")
    a = b.input([1, 4, 6, 6], -1, 1, name="a")
    c = b.input([1, 4, 6, 6], 0, 3, name="b")
    b.output(b.q(b.binary("Mul", b.qdq(a), b.qdq(c))))
    return b


@model
def qdq_squeeze_excitation():
    # x * sigmoid(GAP(x)): the [N, C, 1, 1] gate broadcast over the [N, C, H, W] feature map.
    b = Builder("qdq_squeeze_excitation")
    xq = b.q(b.input([1, 8, 6, 6], -1, 3))
    xd = b.dq(xq)
    g = b.dq(b.q(b.global_average_pool(xd)))
    gate = b.dq(b.q(b.unary("Sigmoid", g, lambda v: 1 / (1 + np.exp(-v))), 1 / 256, 0))
    y = b.binary("Mul", b.dq(xq), gate)  # a second DequantizeLinear of x, as exporters write it
    b.output(b.dq(b.q(y)))
    return b


@model
def qop_qlinear_add():
    b = Builder("qop_qlinear_add")
    a = b.q(b.input([1, 4, 6, 6], -1, 1, name="a"))
    c = b.q(b.input([1, 4, 6, 6], -3, 0.5, name="b"))
    b.output(b.qlinear_binary("QLinearAdd", a, c))
    return b


@model
def qop_qlinear_mul_broadcast():
    b = Builder("qop_qlinear_mul_broadcast")
    a = b.q(b.input([1, 6, 5, 5], -1, 2, name="features"))
    c = b.q(b.input([1, 6, 1, 1], 0, 1, name="gate"))
    b.output(b.dq(b.qlinear_binary("QLinearMul", a, c)))
    return b


@model
def qdq_mul_per_channel_constant():
    # x * c with a [1, C, 1, 1] constant (a layer scale, or an unfused BatchNorm), stored quantized.
    b = Builder("qdq_mul_per_channel_constant")
    xq = b.q(b.input([1, 4, 6, 6], -1, 1))
    c = b.dq_constant(np.array([0.5, 2.0, -1.0, 1.5], np.float32).reshape(1, 4, 1, 1))
    b.output(b.q(b.binary("Mul", b.dq(xq), c)))
    return b


@model
def qdq_concat():
    b = Builder("qdq_concat")
    a = b.input([1, 3, 6, 6], -1, 1, name="a")
    c = b.input([1, 5, 6, 6], 0, 4, name="b")
    b.output(b.q(b.concat([b.qdq(a), b.qdq(c)], axis=1)))
    return b


@model
def qdq_conv_concat_in_place():
    """Convolutions whose outputs a Concat joins, as U-Net decoders and CSP blocks have them. Four are
    quantized with the Concat's own params and read by it alone, so octet writes them straight into its
    output: a 3x3 with Relu, a 1x1 to 3 channels, and two 2x2 / 2 transposed convolutions back up from a
    strided conv (16 channels: a GEMM per kernel tap; 6: copied tap by tap). Around them, what must still be
    copied: the model's input (other params, requantized), a conv with params of its own, and a conv with
    the Concat's params that the second output also reads. Then a 1x1 conv over the 56 joined channels.
    12 input channels: over fewer, the convolutions would be first layers on the pixel-lane kernel, which
    octet leaves out (they write whole rows)."""
    b = Builder("qdq_conv_concat_in_place")
    x = b.input([1, 12, 8, 10], -1, 1.5)
    xq = b.q(x)
    xd = b.dq(xq)

    def conv(src, srcq, co, k, pads=(0, 0, 0, 0), act=False, transposed=False, **kw):
        ci = src.v.shape[1]
        if transposed:
            wd, _, ws = b.weights(b.rng.normal(0, 1, (ci, co, k, k)) * 0.4, 1, True)
            y = b.conv_transpose(src, wd, b.bias(b.rng.normal(0, 0.3, co), srcq.s, ws), strides=(2, 2))
        else:
            wd, _, ws = b.weights(b.rng.normal(0, 1, (co, ci, k, k)) * 0.4, 0, True)
            y = b.conv(src, wd, b.bias(b.rng.normal(0, 0.3, co), srcq.s, ws), pads=pads, **kw)
        return b.relu(y) if act else y

    y1, y2 = conv(xd, xq, 8, 3, (1, 1, 1, 1), act=True), conv(xd, xq, 3, 1)
    y3, y4 = conv(xd, xq, 5, 3, (1, 1, 1, 1)), conv(xd, xq, 6, 1)
    down = b.q(conv(xd, xq, 12, 2, act=True, strides=(2, 2)))  # 4x5
    up16 = conv(b.dq(down), down, 16, 2, transposed=True)
    up6 = conv(b.dq(down), down, 6, 2, transposed=True)
    shared = (y1, y2, y4, up16, up6)
    s, z = calibrate(np.concatenate([y.v for y in shared], axis=1), lo=-3.0, hi=4.0)
    q1, q2, q4, q16, q6 = (b.q(y, s=s, z=z) for y in shared)
    q3 = b.q(y3)  # params of its own: copied and requantized
    joined = [b.dq(q1), xd, b.dq(q2), b.dq(q3), b.dq(q4), b.dq(q16), b.dq(q6)]  # 56 channels
    catq = b.q(b.concat(joined, axis=1), s=s, z=z)
    wd, _, ws = b.weights(b.rng.normal(0, 1, (7, 56, 1, 1)) * 0.2, 0, True)
    head = b.conv(b.dq(catq), wd, b.bias(b.rng.normal(0, 0.3, 7), catq.s, ws))
    b.output(b.dq(b.q(head)))
    b.output(b.dq(q4))  # q4 has a second reader: it keeps its own bytes
    return b


@model
def qop_qlinear_concat():
    b = Builder("qop_qlinear_concat")
    a = b.q(b.input([1, 3, 6, 6], -1, 1, name="a"))
    c = b.q(b.input([1, 5, 6, 6], 0, 4, name="b"))
    b.output(b.dq(b.qlinear_concat([a, c], axis=1)))
    return b


# ----------------------------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------------------------


@model
def qdq_max_pool_3x3_s2_p1():
    # Same params before and after, as quantizers emit for MaxPool: exact.
    b = Builder("qdq_max_pool_3x3_s2_p1")
    xq = b.q(b.input([1, 4, 8, 8], -1, 2))
    y = b.max_pool(b.dq(xq), (3, 3), (2, 2), (1, 1, 1, 1))
    b.output(b.q(y, xq.s, xq.z))
    return b


@model
def qdq_max_pool_ceil_requantize():
    # ceil_mode adds a partial last window; different output params make octet requantize. The output range
    # is not calibrated on this input: its max would be an input grid point, making s_in / s_out a ratio of
    # small integers (e.g. 3/2) whose exact .5 ties round differently in float32 and in fixed point.
    b = Builder("qdq_max_pool_ceil_requantize")
    xq = b.q(b.input([1, 4, 8, 8], -1, 2))
    y = b.max_pool(b.dq(xq), (3, 3), (2, 2), ceil_mode=True)
    b.output(b.dq(b.q(y, lo=-0.3, hi=2.2)))
    return b


@model
def qdq_average_pool_include_pad():
    b = Builder("qdq_average_pool_include_pad")
    xq = b.q(b.input([1, 4, 8, 8], -1, 2))
    b.output(b.q(b.average_pool(b.dq(xq), (3, 3), (2, 2), (1, 1, 1, 1), True)))
    return b


@model
def qdq_average_pool_exclude_pad():
    b = Builder("qdq_average_pool_exclude_pad")
    xq = b.q(b.input([1, 4, 8, 8], -1, 2))
    b.output(b.dq(b.q(b.average_pool(b.dq(xq), (3, 3), (2, 2), (1, 1, 1, 1), False))))
    return b


@model
def qdq_global_average_pool():
    b = Builder("qdq_global_average_pool")
    xq = b.q(b.input([1, 8, 7, 7], -1, 2))
    b.output(b.q(b.global_average_pool(b.dq(xq))))
    return b


@model
def qop_qlinear_global_average_pool():
    b = Builder("qop_qlinear_global_average_pool")
    xq = b.q(b.input([1, 8, 7, 7], -1, 2))
    real = as_f32(np.mean(dequantize(xq.v, xq.s, xq.z).astype(np.float64), axis=(2, 3), keepdims=True))
    s, z = calibrate(real)
    out = b.node("QLinearGlobalAveragePool", [xq.name] + b.qparams(xq) + [
        b.const(np.array(s, np.float32), "scale"), b.const(np.array(z, np.uint8), "zero_point")],
        "qlinear_global_average_pool", domain="com.microsoft", channels_last=0)
    b.output(b.dq(T(out, quantize(real, s, z, np.uint8), s, z)))
    return b


# ----------------------------------------------------------------------------------------------------------
# Resize
# ----------------------------------------------------------------------------------------------------------


def qdq_resize_model(name, out="u8", shape=(1, 4, 6, 7), **kw):
    b = Builder(name)
    xq = b.q(b.input(list(shape), -1, 2))
    y = b.resize(b.dq(xq), **kw)
    yq = b.q(y, xq.s, xq.z)  # resize keeps the params, as quantizers emit it
    b.output(b.dq(yq) if out == "float" else yq)
    return b


@model
def qdq_resize_nearest_x2():
    return qdq_resize_model("qdq_resize_nearest_x2", mode="nearest", scales=[1, 1, 2, 2])


@model
def qdq_resize_nearest_asymmetric_floor():
    return qdq_resize_model("qdq_resize_nearest_asymmetric_floor", mode="nearest", ctm="asymmetric",
                            nearest_mode="floor", scales=[1, 1, 2, 2])


@model
def qdq_resize_linear_half_pixel():
    return qdq_resize_model("qdq_resize_linear_half_pixel", out="float", mode="linear", ctm="half_pixel",
                            scales=[1, 1, 2, 2])


@model
def qdq_resize_linear_align_corners():
    # 6 -> 10 and 7 -> 12: source coordinates k * 5/9 and k * 6/11. (6 -> 11 would put every other output
    # exactly halfway between two pixels: .5 ties, rounded half up by octet and half to even here.)
    return qdq_resize_model("qdq_resize_linear_align_corners", mode="linear", ctm="align_corners",
                            sizes=[1, 4, 10, 12])


@model
def qdq_resize_into_other_params():
    """A uint8 input -> DequantizeLinear -> Resize (linear, half_pixel, 5x6 -> 9x11) -> QuantizeLinear with
    params of its own (as quantizers other than octet's and ONNX Runtime's may write it): the resize
    requantizes, once in the float mode (ONNX Runtime's arithmetic), after resizing in fixed point."""
    b = Builder("qdq_resize_into_other_params")
    xq = b.input_u8([1, 3, 5, 6], 0.03, 90)
    y = b.resize(b.dq(xq), "linear", ctm="half_pixel", sizes=[1, 3, 9, 11])
    b.output(b.q(y, np.float32(0.045), 120))
    return b


@model
def qdq_attention():
    """Self-attention as a QDQ model quantizes it: softmax(Q K^T) V with every MatMul between two dequantized
    uint8 activations, which octet runs as uint8 matmuls (exact int32 sums, as ONNX Runtime's QLinearMatMul)."""
    b = Builder("qdq_attention")
    x = b.q(b.input([2, 5, 8], -1, 1))
    xd = b.dq(x)
    kt = b.transpose(xd, (0, 2, 1))
    scores = b.dq(b.q(b.matmul(xd, kt)))
    probs = b.dq(b.q(b.softmax(scores, -1), np.float32(1 / 256), 0))
    b.output(b.q(b.matmul(probs, xd)))
    return b


@model
def qdq_matmul_broadcast():
    """A QDQ MatMul of two activations whose batch dimensions broadcast ([2, 1, 5, 6] x [1, 3, 6, 7]; K = 6, not
    a multiple of 4): the uint8 matmul pairs each of the 6 output batches with its operands' batches."""
    b = Builder("qdq_matmul_broadcast")
    x = b.dq(b.q(b.input([2, 1, 5, 6], -1, 1)))
    y = b.dq(b.q(b.input([1, 3, 6, 7], -2, 1, name="other")))
    b.output(b.q(b.matmul(x, y)))
    return b


@model
def qop_conv_resize_linear():
    """A QOperator network's upsampling: QLinearConv -> Resize of its raw uint8 output (linear, half_pixel,
    6x7 -> 11x13). Both outputs are kept so that a test can recompute the Resize from the convolution's bytes:
    the float requantization mode runs it in ONNX Runtime's integer arithmetic (ref::ResizeArithmetic)."""
    b = Builder("qop_conv_resize_linear")
    xq = b.input_u8([1, 4, 6, 7], 0.02, 100)
    y = b.qlinear_conv(xq, b.rng.normal(0, 0.4, (6, 4, 3, 3)), b.rng.normal(0, 0.3, 6), pads=(1, 1, 1, 1))
    r = b.resize(y, "linear", ctm="half_pixel", sizes=[1, 6, 11, 13])
    b.output(y)
    b.output(T(r.name, np.clip(np.rint(r.v), 0, 255).astype(np.uint8), y.s, y.z))
    return b


# ----------------------------------------------------------------------------------------------------------
# Elementwise chains that become lookup tables
# ----------------------------------------------------------------------------------------------------------


def qdq_unary_model(name, op, f, out="u8", x_range=(-4, 4), out_params=None, **attrs):
    b = Builder(name)
    xq = b.q(b.input([1, 4, 6, 6], *x_range))
    y = b.unary(op, b.dq(xq), f, **attrs)
    yq = b.q(y, *out_params) if out_params else b.q(y)
    b.output(b.dq(yq) if out == "float" else yq)
    return b


@model
def qdq_sigmoid():
    return qdq_unary_model("qdq_sigmoid", "Sigmoid", lambda v: 1 / (1 + np.exp(-v)), out_params=(1 / 256, 0))


@model
def qdq_hard_sigmoid():
    return qdq_unary_model("qdq_hard_sigmoid", "HardSigmoid",
                           lambda v: np.clip(np.float64(np.float32(0.25)) * v + 0.5, 0, 1), out="float",
                           alpha=0.25, beta=0.5)


@model
def qdq_leaky_relu():
    return qdq_unary_model("qdq_leaky_relu", "LeakyRelu",
                           lambda v: np.where(v >= 0, v, np.float64(np.float32(0.1)) * v), alpha=0.1)


@model
def qdq_tanh():
    return qdq_unary_model("qdq_tanh", "Tanh", np.tanh, out="float", x_range=(-3, 3))


@model
def qdq_hard_swish_chain():
    # x * clip(x + 3, 0, 6) / 6 as exporters write hard-swish; the Mul takes x from a second DequantizeLinear.
    b = Builder("qdq_hard_swish_chain")
    xq = b.q(b.input([1, 4, 6, 6], -5, 5))
    t = b.clip(b.binary("Add", b.dq(xq), 3.0), 0.0, 6.0)
    t = b.binary("Div", b.binary("Mul", t, b.dq(xq)), 6.0)
    b.output(b.q(t))
    return b


@model
def qop_qlinear_sigmoid():
    b = Builder("qop_qlinear_sigmoid")
    xq = b.q(b.input([1, 4, 6, 6], -4, 4))
    b.output(b.qlinear_unary("QLinearSigmoid", xq, lambda v: 1 / (1 + np.exp(-v))))
    return b


@model
def qop_qlinear_leaky_relu():
    b = Builder("qop_qlinear_leaky_relu")
    xq = b.q(b.input([1, 4, 6, 6], -4, 4))
    alpha = np.float64(np.float32(0.2))
    b.output(b.dq(b.qlinear_unary("QLinearLeakyRelu", xq, lambda v: np.where(v >= 0, v, alpha * v),
                                  alpha=0.2)))
    return b


# ----------------------------------------------------------------------------------------------------------
# Softmax
# ----------------------------------------------------------------------------------------------------------


@model
def qdq_softmax_float():
    b = Builder("qdq_softmax_float")
    xq = b.q(b.input([2, 10], -3, 3))
    b.output(b.softmax(b.dq(xq), axis=-1))
    return b


@model
def qdq_softmax_channels_float():
    # Softmax over the channels of an image tensor (a segmentation head), float output.
    b = Builder("qdq_softmax_channels_float")
    xq = b.q(b.input([1, 6, 4, 5], -3, 3))
    b.output(b.softmax(b.dq(xq), axis=1))
    return b


@model
def qdq_softmax_opset12_classifier():
    # Softmax-11 with axis 1 on [N, C, 1, 1]: the flattened rows are exactly the channels.
    b = Builder("qdq_softmax_opset12_classifier", opset=12)
    xq = b.q(b.input([1, 10, 1, 1], -3, 3))
    b.output(b.softmax(b.dq(xq), axis=1))
    return b


@model
def qdq_softmax_opset12_flatten():
    # Softmax-11 with axis 1 on [N, C, H, W] normalizes over all C * H * W values of an item (the input is
    # coerced to 2-D), not over the channels of each pixel as Softmax-13 does.
    b = Builder("qdq_softmax_opset12_flatten", opset=12)
    xq = b.q(b.input([1, 6, 4, 5], -3, 3))
    b.output(b.softmax(b.dq(xq), axis=1))
    return b


@model
def qdq_softmax_channels_u8():
    b = Builder("qdq_softmax_channels_u8")
    xq = b.q(b.input([1, 6, 4, 5], -3, 3))
    b.output(b.q(b.softmax(b.dq(xq), axis=1), 1 / 256, 0))
    return b


# ----------------------------------------------------------------------------------------------------------
# Shape operators
# ----------------------------------------------------------------------------------------------------------


def conv_features(b, c=4, h=4, w=5, co=6):
    """A QDQ 3x3 conv + ReLU: an image tensor that octet holds channel-last."""
    xq = b.q(b.input([1, c, h, w], -1, 1.5))
    wd, _, ws = b.weights(b.rng.normal(0, 0.4, (co, c, 3, 3)), 0)
    y = b.relu(b.conv(b.dq(xq), wd, b.bias(b.rng.normal(0, 0.3, co), xq.s, ws), pads=(1, 1, 1, 1)))
    return b.q(y)


def lrn(b, x, size, alpha=1e-4, beta=0.75, bias=1.0):
    """ONNX's LRN in float64: x / (bias + alpha / size * the sum of squares over the channel window)^beta."""
    v = x.v.astype(np.float64)
    c = v.shape[1]
    sq = np.zeros_like(v)
    for ch in range(c):
        sq[:, ch] = (v[:, max(0, ch - (size - 1) // 2):min(c, ch + size // 2 + 1)] ** 2).sum(axis=1)
    y = v / (np.float64(np.float32(bias)) + np.float64(np.float32(alpha)) / size * sq) ** np.float64(np.float32(beta))
    return T(b.node("LRN", [x.name], "lrn", size=size, alpha=alpha, beta=beta, bias=bias), as_f32(y))


@model
def qdq_lrn():
    """LRN as the int8 GoogLeNet and AlexNet of the ONNX model zoo have it, between a DequantizeLinear and a
    QuantizeLinear after a conv + ReLU (computed in float on channel-last data), and on the float input
    itself (channels first, an even window, beta 1)."""
    b = Builder("qdq_lrn")
    fq = conv_features(b, c=4, h=5, w=6, co=12)
    norm = lrn(b, b.dq(fq), 5, alpha=0.02, beta=0.75, bias=1.0)
    b.output(b.dq(b.q(norm)))
    x = T("input", b.feeds[0])
    b.output(lrn(b, x, 4, alpha=0.5, beta=1.0, bias=2.0))
    return b


def conv1d(b, x, w, bias=None, stride=1, dilation=1, pads=(0, 0), group=1):
    """A 1-D Conv over [N, C, L], its expected values from the 2-D math on [N, C, 1, L]."""
    y = conv2d(x.v.astype(np.float64)[:, :, None, :], w.v.astype(np.float64)[:, :, None, :], (1, stride),
               (1, dilation), (0, pads[0], 0, pads[1]), group)[:, :, 0, :]
    if bias is not None:
        y = y + bias.v.astype(np.float64)[None, :, None]
    attrs = {"kernel_shape": [w.v.shape[2]], "strides": [stride], "dilations": [dilation], "pads": list(pads)}
    if group != 1:
        attrs["group"] = group
    out = b.node("Conv", [x.name, w.name] + ([bias.name] if bias is not None else []), "conv1d", **attrs)
    return T(out, as_f32(y))


def pool1d(b, x, op, k, stride):
    v = x.v.astype(np.float64)
    n = (v.shape[2] - k) // stride + 1
    windows = np.stack([v[:, :, i * stride:i * stride + k] for i in range(n)], axis=2)
    y = windows.max(axis=-1) if op == "MaxPool" else windows.mean(axis=-1)
    return T(b.node(op, [x.name], op.lower() + "1d", kernel_shape=[k], strides=[stride]), as_f32(y))


@model
def qdq_conv1d_audio():
    """A 1-D (audio, time-series) CNN in QDQ form: Conv1d + ReLU, MaxPool1d, a depthwise Conv1d with stride
    2 and dilation 2, and GlobalAveragePool over time. octet runs each as its 2-D form over [N, C, 1, L]
    (graph/onnx/lift_1d.h); the convolutions stay int8."""
    b = Builder("qdq_conv1d_audio")
    xq = b.q(b.input([1, 6, 40], -1, 1.5))
    wd, _, ws = b.weights(b.rng.normal(0, 0.4, (12, 6, 5)), 0)
    y = b.relu(conv1d(b, b.dq(xq), wd, b.bias(b.rng.normal(0, 0.3, 12), xq.s, ws), pads=(2, 2)))
    yq = b.q(y)
    pq = b.q(pool1d(b, b.dq(yq), "MaxPool", 2, 2), yq.s, yq.z)
    wd2, _, ws2 = b.weights(b.rng.normal(0, 0.5, (12, 1, 3)), 0)
    z = conv1d(b, b.dq(pq), wd2, b.bias(b.rng.normal(0, 0.2, 12), pq.s, ws2), stride=2, dilation=2, pads=(2, 2),
               group=12)
    zq = b.q(z)
    b.output(b.dq(zq))
    zd = b.dq(zq)
    g = T(b.node("GlobalAveragePool", [zd.name], "global_average_pool"),
          as_f32(zd.v.astype(np.float64).mean(axis=2, keepdims=True)))
    b.output(b.dq(b.q(g)))
    return b


@model
def qdq_conv1d_resize():
    """A 1-D decoder: Conv1d, Resize nearest x2 over time (scales [1, 1, 2]) into a second Conv1d, and on a
    float [N, C, L] input a linear Resize by sizes (align_corners), each run as the 2-D Resize over
    [N, C, 1, L] (graph/onnx/lift_1d.h)."""
    b = Builder("qdq_conv1d_resize")
    xq = b.q(b.input([1, 4, 12], -1, 1.5))
    wd, _, ws = b.weights(b.rng.normal(0, 0.4, (6, 4, 3)), 0)
    yq = b.q(b.relu(conv1d(b, b.dq(xq), wd, b.bias(b.rng.normal(0, 0.3, 6), xq.s, ws), pads=(1, 1))))
    yd = b.dq(yq)
    up = T(b.node("Resize", [yd.name, "", b.const(np.array([1, 1, 2], np.float32), "scales")], "resize",
                  mode="nearest"), np.repeat(yd.v, 2, axis=2))
    uq = b.q(up, yq.s, yq.z)
    wd2, _, ws2 = b.weights(b.rng.normal(0, 0.4, (5, 6, 3)), 0)
    b.output(b.dq(b.q(conv1d(b, b.dq(uq), wd2, b.bias(b.rng.normal(0, 0.3, 5), uq.s, ws2), pads=(1, 1)))))
    f = b.input([2, 3, 7], -2, 2, name="signal")
    linear = resize_axis(f.v.astype(np.float64), 2, 11, 11 / 7, "linear", "align_corners", None)
    roi = b.const(np.array([0, 0, 0, 1, 1, 1], np.float32), "roi")  # read only by tf_crop_and_resize
    b.output(T(b.node("Resize", [f.name, roi, "", b.const(np.array([2, 3, 11], np.int64), "sizes")], "resize",
                      mode="linear", coordinate_transformation_mode="align_corners"), as_f32(linear)))
    return b


@model
def float_upsample_1d():
    """The deprecated Upsample (opset 10) on a [N, C, L] signal: nearest x3 over time, lifted to 2-D."""
    b = Builder("float_upsample_1d", opset=10)
    f = b.input([1, 2, 5], -2, 2, name="signal")
    b.output(T(b.node("Upsample", [f.name, b.const(np.array([1, 1, 3], np.float32), "scales")], "upsample",
                      mode="nearest"), np.repeat(f.v, 3, axis=2)))
    b.checked = False  # ONNX 1.12's checker rejects the deprecated operator
    return b


@model
def float_upsample_1d_opset9():
    """Upsample-9 (scales an input) on a [N, C, L] signal: lift_1d's scales with the height's entry are Slice
    nodes, in Slice-1's attribute form at this opset."""
    b = Builder("float_upsample_1d_opset9", opset=9)
    f = b.input([1, 2, 4], -2, 2, name="signal")
    b.output(T(b.node("Upsample", [f.name, b.const(np.array([1, 1, 2], np.float32), "scales")], "upsample",
                      mode="nearest"), np.repeat(f.v, 2, axis=2)))
    return b


@model
def qdq_conv1d_opset12():
    """Conv1d at opset 12, where Unsqueeze / Squeeze take their axes as an attribute: per-tensor weights
    (per-channel DequantizeLinear came with opset 13), the input's rank declared only by the graph input."""
    b = Builder("qdq_conv1d_opset12", opset=12)
    xq = b.q(b.input([2, 4, 16], -1, 1.5))
    wd, _, ws = b.weights(b.rng.normal(0, 0.4, (8, 4, 3)), 0, per_channel=False)
    y = conv1d(b, b.dq(xq), wd, b.bias(b.rng.normal(0, 0.3, 8), xq.s, np.float32(ws)), stride=2, pads=(1, 1))
    yq = b.q(y)
    yd = b.dq(yq)
    b.output(T(b.node("GlobalAveragePool", [yd.name], "global_average_pool"),
               as_f32(yd.v.astype(np.float64).mean(axis=2, keepdims=True))))
    return b


@model
def qdq_conv1d_unsorted():
    """qdq_conv1d_audio's graph with its nodes in reverse order (octet sorts them; ONNX's checker does not
    accept it): lift_1d must replace the ReLU and QuantizeLinear it moves behind a convolution also where
    they come first."""
    b = qdq_conv1d_audio()
    b.name = "qdq_conv1d_unsorted"
    b.nodes.reverse()
    b.checked = False
    return b


@model
def float_conv1d():
    """1-D operators in float: Conv1d with a bias, AveragePool1d, ConvTranspose1d (stride 2, output padding)
    and GlobalMaxPool over time."""
    b = Builder("float_conv1d")
    x = b.input([1, 3, 17], -1, 1)
    w = fconst(b, b.rng.normal(0, 0.5, (5, 3, 3)), "weight")
    y = conv1d(b, x, w, fconst(b, b.rng.normal(0, 0.1, 5), "bias"), stride=1, pads=(1, 0))
    y = pool1d(b, y, "AveragePool", 3, 2)
    wt = fconst(b, b.rng.normal(0, 0.5, (5, 4, 2)), "deconv_weight")
    v = y.v.astype(np.float64)
    up = conv_transpose2d(v[:, :, None, :], wt.v.astype(np.float64)[:, :, None, :], (1, 2), (1, 1), (0, 0, 0, 0),
                          (0, 1), 1)[:, :, 0, :]
    up = T(b.node("ConvTranspose", [y.name, wt.name], "conv_transpose1d", kernel_shape=[2], strides=[2],
                  output_padding=[1]), as_f32(up))
    b.output(up)
    b.output(T(b.node("GlobalMaxPool", [up.name], "global_max_pool"), up.v.max(axis=2, keepdims=True)))
    return b


def group_norm(b, x, groups, scale, bias, epsilon=1e-5):
    v = x.v.astype(np.float64)
    n, c = v.shape[:2]
    g = v.reshape(n, groups, -1)
    mean, var = g.mean(axis=2, keepdims=True), g.var(axis=2, keepdims=True)
    y = ((g - mean) / np.sqrt(var + np.float64(np.float32(epsilon)))).reshape(v.shape)
    shape = (1, c) + (1,) * (v.ndim - 2)
    per_channel = lambda p: np.repeat(p, c // len(p)) if len(p) != c else p
    y = y * per_channel(scale.v.astype(np.float64)).reshape(shape) + per_channel(bias.v.astype(np.float64)).reshape(shape)
    return T(b.node("GroupNormalization", [x.name, scale.name, bias.name], "group_norm", num_groups=groups,
                    epsilon=epsilon), as_f32(y))


@model
def qdq_group_norm():
    """GroupNormalization (FCOS / ATSS detection heads, UNets) after a QDQ conv, channel-last in octet, at
    opset 18 (scale and bias per group)."""
    b = Builder("qdq_group_norm", opset=18)
    fq = conv_features(b, c=4, h=5, w=6, co=12)
    norm = group_norm(b, b.dq(fq), 3, fconst(b, b.rng.uniform(0.5, 1.5, 3), "gn_scale"),
                      fconst(b, b.rng.normal(0, 0.2, 3), "gn_bias"))
    b.output(b.dq(b.q(b.relu(norm))))
    b.checked = False
    return b


@model
def qdq_top_k():
    """A classifier's TopK on float logits (a QDQ conv, global average pool, a Gemm), both outputs, and the
    smallest 2 of a dequantized feature map along its channels (channel-last in octet), values only."""
    b = Builder("qdq_top_k")
    fq = conv_features(b, c=4, h=5, w=6, co=8)
    flat_q = b.q(b.flatten(b.global_average_pool(b.dq(fq))))
    wd, _, ws = b.weights(b.rng.normal(0, 0.5, (10, 8)), 0)
    logits = b.gemm(b.dq(flat_q), wd, b.bias(b.rng.normal(0, 0.3, 10), flat_q.s, ws))
    order = np.argsort(-logits.v.astype(np.float64), axis=1, kind="stable")[:, :3]
    k3 = b.const(np.array([3], np.int64), "k")
    out = b.fresh("topk")
    b.nodes.append(helper.make_node("TopK", [logits.name, k3], [out + "_values", out + "_indices"], name=out,
                                    axis=-1))
    b.output(T(out + "_values", np.take_along_axis(logits.v, order, axis=1)))
    b.output(T(out + "_indices", order.astype(np.int64)))
    fd = b.dq(fq)
    small = np.sort(fd.v, axis=1, kind="stable")[:, :2]
    k2 = b.const(np.array([2], np.int64), "k")
    out2 = b.fresh("topk")
    b.nodes.append(helper.make_node("TopK", [fd.name, k2], [out2 + "_values", out2 + "_unused_indices"], name=out2, axis=1, largest=0))
    b.output(T(out2 + "_values", small))
    return b


@model
def float_omitted_first_outputs():
    """Nodes that leave out their first output (ONNX's empty name) and give a later one: TopK's indices
    alone (an argsort) and Split's second and third pieces. ONNX's checker wants every output of these
    named; ONNX Runtime runs them, and so does octet."""
    b = Builder("float_omitted_first_outputs")
    x = b.input([2, 9], -1, 1)
    order = np.argsort(-x.v.astype(np.float64), axis=1, kind="stable")[:, :4]
    top = b.fresh("topk")
    b.nodes.append(helper.make_node("TopK", [x.name, b.const(np.array([4], np.int64), "k")], ["", top + "_indices"],
                                    name=top, axis=1))
    b.output(T(top + "_indices", order.astype(np.int64)))
    split = b.fresh("split")
    b.nodes.append(helper.make_node("Split", [x.name, b.const(np.array([2, 3, 4], np.int64), "split")],
                                    ["", split + "_b", split + "_c"], name=split, axis=1))
    b.output(T(split + "_b", x.v[:, 2:5]))
    b.output(T(split + "_c", x.v[:, 5:]))
    b.checked = False
    return b


@model
def float_initializer_listed_as_input():
    """ONNX IR version 3's form: an initializer also listed among the graph's inputs (a default a caller
    could override). octet takes it as the constant it is; the model's only input is x."""
    b = Builder("float_initializer_listed_as_input")
    x = b.input([1, 4], -1, 1)
    bias = np.array([0.5, -1.0, 2.0, 0.25], np.float32)
    name = b.const(bias, "bias")
    b.output(T(b.node("Add", [x.name, name], "add"), x.v + bias))

    def list_as_input(m):
        m.ir_version = 3
        m.graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [4]))
    b.patch = list_as_input
    return b


def top_k_indices(b, scores, k):
    """TopK of a float graph input along its last axis (distinct values: no ties): (values, int64 indices)."""
    order = np.argsort(-scores.v.astype(np.float64), axis=-1, kind="stable")[..., :k]
    out = b.fresh("topk")
    b.nodes.append(helper.make_node("TopK", [scores.name, b.const(np.array([k], np.int64), "k")],
                                    [out + "_values", out + "_indices"], name=out, axis=-1))
    return (T(out + "_values", np.take_along_axis(scores.v, order, axis=-1)),
            T(out + "_indices", order.astype(np.int64)))


@model
def qdq_keypoint_head():
    """A keypoint / detection head's selection (CenterNet's peaks, a detector's top boxes): indices from a
    TopK at run time pick features out of a QDQ conv's map with Gather, GatherElements and GatherND (batch
    dimensions), anchors out of a constant table, and ScatterND / ScatterElements write into tensors: YOLOv5's
    in-place box decoding (float), a quantized map's channels (its bytes move), and a score histogram with
    reduction add (opset 16). The scores are a float graph input, so the indices do not hang on the conv's
    rounding."""
    b = Builder("qdq_keypoint_head", opset=16)
    fq = conv_features(b, c=4, h=5, w=6, co=6)
    scores = b.input([1, 30], -3, 3, name="scores")
    top_values, top = top_k_indices(b, scores, 4)
    flat = b.reshape(b.dq(fq), [1, 6, 30])

    # Gather with run-time indices on the quantized map: [1, 6, 1, 4].
    gathered = T(b.node("Gather", [flat.name, top.name], "gather", axis=2), np.take(flat.v, top.v, axis=2))
    b.output(b.q(gathered, s=fq.s, z=fq.z))
    # GatherElements with the indices expanded over the channels: [1, 6, 4].
    expanded_v = np.broadcast_to(top.v[:, None, :], (1, 6, 4)).astype(np.int64)
    expanded = T(b.node("Expand", [b.unsqueeze(top, [1]).name, b.const(np.array([1, 6, 4], np.int64), "shape")],
                        "expand"), expanded_v)
    elements = T(b.node("GatherElements", [flat.name, expanded.name], "gather_elements", axis=2),
                 np.take_along_axis(flat.v, expanded_v, axis=2))
    b.output(b.q(elements, s=fq.s, z=fq.z))
    # GatherND, one batch dimension: each image's feature vectors at its peaks, [1, 4, 6].
    per_pixel = b.transpose(flat, [0, 2, 1])
    tuples = b.unsqueeze(top, [2])
    nd = T(b.node("GatherND", [per_pixel.name, tuples.name], "gather_nd", batch_dims=1),
           per_pixel.v[0][top.v[0]][None])
    b.output(b.q(nd, s=fq.s, z=fq.z))
    # A constant anchor table indexed at run time: [1, 4, 2] float.
    anchors = as_f32(b.rng.uniform(0, 64, (30, 2)))
    b.output(T(b.node("Gather", [b.const(anchors, "anchors"), top.name], "gather_anchors", axis=0),
               anchors[top.v]))

    # ScatterND as YOLOv5's export writes box decoding in place: y[..., 0:2] = 2 * y[..., 0:2].
    boxes = b.reshape(scores, [1, 5, 6])
    xy = T(b.node("Slice", [boxes.name, b.const(np.array([0], np.int64), "starts"),
                            b.const(np.array([2], np.int64), "ends"), b.const(np.array([2], np.int64), "axes")],
                  "slice"), boxes.v[:, :, 0:2])
    doubled = b.binary("Mul", xy, 2.0)
    box_index = np.array([[[[0, i, c] for c in range(2)] for i in range(5)]], np.int64)  # [1, 5, 2, 3]
    decoded_v = boxes.v.copy()
    decoded_v[:, :, 0:2] = doubled.v
    b.output(T(b.node("ScatterND", [boxes.name, b.const(box_index, "indices"), doubled.name], "scatter_nd"),
               decoded_v))
    # ScatterND on the dequantized map, with updates of its own params: channels 5 and 0 get channels 1, 2.
    fd = b.dq(fq)
    channels = T(b.node("Slice", [fd.name, b.const(np.array([1], np.int64), "starts"),
                                  b.const(np.array([3], np.int64), "ends"), b.const(np.array([1], np.int64), "axes")],
                        "slice"), fd.v[:, 1:3])
    updates = b.reshape(channels, [2, 5, 6])
    written_v = fd.v.copy()
    written_v[0, 5], written_v[0, 0] = fd.v[0, 1], fd.v[0, 2]
    written = T(b.node("ScatterND", [fd.name, b.const(np.array([[0, 5], [0, 0]], np.int64), "indices"),
                                     updates.name], "scatter_nd"), written_v)
    b.output(b.q(written, s=fq.s, z=fq.z))
    # A histogram of the top scores over the 30 positions (reduction add, repeated index 0 included).
    histogram_index = np.concatenate([top.v, np.zeros((1, 1), np.int64)], axis=1)
    index_name = b.node("Concat", [top.name, b.const(np.zeros((1, 1), np.int64), "zero_index")], "concat", axis=1)
    weights = np.concatenate([top_values.v, np.ones((1, 1), np.float32)], axis=1)
    weight_name = b.node("Concat", [top_values.name, b.const(np.ones((1, 1), np.float32), "one")], "concat",
                         axis=1)
    histogram_v = np.zeros((1, 30), np.float64)
    for i, w in zip(histogram_index[0], weights[0]):
        histogram_v[0, i] += np.float64(w)
    b.output(T(b.node("ScatterElements", [b.const(np.zeros((1, 30), np.float32), "bins"), index_name, weight_name],
                      "scatter_elements", axis=1, reduction="add"), as_f32(histogram_v)))
    return b


@model
def qop_scatter_gather():
    """The index operators on the uint8 tensors of a QOperator model: GatherElements picks each channel's
    entry per row by a constant index table, and ScatterND writes a uint8 constant row into the map (the
    integers move as they are); QLinearConv before, DequantizeLinear after."""
    b = Builder("qop_scatter_gather")
    xq = b.q(b.input([1, 3, 4, 5], -1, 1.5))
    y = b.qlinear_conv(xq, b.rng.normal(0, 0.4, (4, 3, 3, 3)), b.rng.normal(0, 0.3, 4), pads=[1, 1, 1, 1])
    index = b.rng.integers(-5, 5, (1, 4, 4, 2)).astype(np.int64)
    picked = T(b.node("GatherElements", [y.name, b.const(index, "indices")], "gather_elements", axis=3),
               np.take_along_axis(y.v, np.where(index < 0, index + 5, index), axis=3), y.s, y.z)
    b.output(b.dq(picked))
    row = b.rng.integers(0, 256, (1, 5)).astype(np.uint8)
    written_v = y.v.copy()
    written_v[0, 2, 3] = row[0]
    written = T(b.node("ScatterND", [y.name, b.const(np.array([[0, 2, -1]], np.int64), "indices"),
                                     b.const(row, "row")], "scatter_nd"), written_v, y.s, y.z)
    b.output(b.dq(written))
    return b


@model
def float_runtime_indices():
    """Indices as an int64 graph input (negative ones included) into a float table: Gather, GatherElements,
    GatherND and ScatterElements. model_tests also feeds an index out of range, which must be an error that
    names the node, and then valid indices again."""
    b = Builder("float_runtime_indices")
    table = b.input([5, 4], -2, 2, name="table")
    idx = np.array([[0, -1, 3], [4, -5, 2]], np.int64)
    b.inputs.append(helper.make_tensor_value_info("indices", TensorProto.INT64, [2, 3]))
    b.feeds.append(idx)
    wrapped = np.where(idx < 0, idx + 5, idx)
    b.output(T(b.node("Gather", [table.name, "indices"], "gather", axis=0), table.v[wrapped]))
    b.output(T(b.node("GatherElements", [table.name, "indices"], "gather_elements", axis=0),
               table.v[wrapped, np.arange(3)[None, :]]))
    tuples = b.node("Unsqueeze", ["indices", b.const(np.array([2], np.int64), "axes")], "unsqueeze")
    b.output(T(b.node("GatherND", [table.name, tuples], "gather_nd"), table.v[wrapped]))
    updates = as_f32(b.rng.uniform(5, 6, (2, 3)))
    scattered = table.v.copy()
    for r in range(2):
        for c in range(3):
            scattered[wrapped[r, c], c] = updates[r, c]
    b.output(T(b.node("ScatterElements", [table.name, "indices", b.const(updates, "updates")], "scatter_elements",
                      axis=0), scattered))
    # Index arithmetic on int64 (CenterNet's decoding: row = index / W, column = index % W), with negative
    # indices for the signs of truncation and of the remainders, then Cast to float.
    three = b.const(np.array(3, np.int64), "three")
    quotient = np.trunc(idx / 3).astype(np.int64)
    b.output(T(b.node("Div", ["indices", three], "div"), quotient))
    b.output(T(b.node("Mod", ["indices", three], "mod"), np.mod(idx, 3)))
    divisors = np.array([-2, 2, -3], np.int64)
    b.output(T(b.node("Mod", ["indices", b.const(divisors, "divisors")], "fmod", fmod=1), np.fmod(idx, divisors)))
    scaled = b.node("Add", [b.node("Mul", ["indices", three], "mul"), b.const(np.array([[1], [-1]], np.int64), "offsets")],
                    "add")
    b.output(T(b.node("Cast", [b.node("Sub", [scaled, "indices"], "sub")], "cast", to=TensorProto.FLOAT),
               as_f32(idx * 3 + np.array([[1], [-1]]) - idx)))
    b.output(T(b.node("Where", [b.node("Greater", ["indices", b.const(np.array(0, np.int64), "zero")], "greater"),
                                "indices", b.node("Max", ["indices", three], "max")], "where"),
               np.where(idx > 0, idx, np.maximum(idx, 3))))
    return b


def identity_conv(b, xq):
    """A QDQ 1x1 convolution with identity weights, requantized to its input's params: the same bytes, now an
    image tensor that octet holds channel-last, so that the float operators after it see exact inputs (no
    fixed-point rounding of a real convolution to tolerate) in the channel-last layout. The weights are
    127 * (1 / 127) and the accumulator 127 (q - z); the multiplier's relative error near 2^-31 cannot move
    a result of at most 255 by half a step."""
    c = xq.v.shape[1]
    wd, _, _ = b.weights(np.eye(c).reshape(c, c, 1, 1), 0)
    return b.q(b.conv(b.dq(xq), wd), s=xq.s, z=xq.z)


def cumsum(x, axis, exclusive=False, reverse=False):
    """ONNX CumSum in float32, one element at a time in the scan's direction (numpy.cumsum's order)."""
    v = np.flip(x, axis) if reverse else x
    out = np.cumsum(v, axis=axis, dtype=v.dtype)
    if exclusive:
        out = np.concatenate([np.zeros_like(np.take(out, [0], axis=axis)),
                              np.take(out, range(out.shape[axis] - 1), axis=axis)], axis=axis)
    return np.flip(out, axis) if reverse else out


def hardmax(x, axis):
    """One-hot of the first maximum along `axis`."""
    first = np.argmax(x, axis=axis)
    return (np.arange(x.shape[axis]).reshape([-1 if d == axis % x.ndim else 1 for d in range(x.ndim)])
            == np.expand_dims(first, axis)).astype(np.float32)


@model
def qdq_cumsum_norms():
    """Operators octet builds from its own: CumSum (float, exclusive / reverse, and int64 over ArgMax
    indices), LpNormalization (L1 and L2, a row of zeros giving zeros), GlobalLpPool (L1, L2) and Hardmax
    (opset 13 over channels, channel-last in octet; the opset 11 flattened form in qdq_hardmax_opset11), on a
    QDQ conv's features and on a float input."""
    b = Builder("qdq_cumsum_norms")
    fd = b.dq(identity_conv(b, b.q(b.input([1, 6, 4, 5], -1, 1.5))))
    v = fd.v.astype(np.float64)
    b.output(T(b.node("CumSum", [fd.name, b.const(np.array(3, np.int64), "axis")], "cumsum"),
               cumsum(fd.v, 3)))
    b.output(T(b.node("CumSum", [fd.name, b.const(np.array([-3], np.int32), "axis")], "cumsum", exclusive=1,
                      reverse=1), cumsum(fd.v, 1, exclusive=True, reverse=True)))
    l2 = np.sqrt((v ** 2).sum(axis=1, keepdims=True))
    b.output(T(b.node("LpNormalization", [fd.name], "lp_norm", axis=1, p=2),
               as_f32(np.where(l2 == 0, 0, v / np.where(l2 == 0, 1, l2)))))
    b.output(T(b.node("GlobalLpPool", [fd.name], "global_lp_pool", p=1), as_f32(np.abs(v).sum(axis=(2, 3), keepdims=True))))
    b.output(T(b.node("GlobalLpPool", [fd.name], "global_lp_pool"), as_f32(np.sqrt((v ** 2).sum(axis=(2, 3), keepdims=True)))))
    b.output(T(b.node("Hardmax", [fd.name], "hardmax", axis=1), hardmax(fd.v, 1)))
    # Float input: an all-zero row normalizes to zeros (not 0 / 0); int64 CumSum of ArgMax indices.
    x = b.input([3, 4], -2, 2, name="rows", values=as_f32(np.array([[1, -2, 3, 0.5], [0, 0, 0, 0], [-1, 4, 2, 2]])))
    xv = x.v.astype(np.float64)
    l1 = np.abs(xv).sum(axis=-1, keepdims=True)
    b.output(T(b.node("LpNormalization", [x.name], "lp_norm", p=1),
               as_f32(np.where(l1 == 0, 0, xv / np.where(l1 == 0, 1, l1)))))
    arg = b.node("ArgMax", [x.name], "argmax", axis=1, keepdims=0)
    b.output(T(b.node("CumSum", [arg, b.const(np.array(0, np.int64), "axis")], "cumsum"),
               np.cumsum(np.argmax(x.v, axis=1)).astype(np.int64)))
    return b


@model
def qdq_hardmax_opset11():
    """Hardmax before opset 13: the maximum over everything from `axis` on, flattened."""
    b = Builder("qdq_hardmax_opset11", opset=11)
    fd = b.dq(b.q(b.input([1, 6, 4, 5], -1, 1.5)))
    flat = fd.v.reshape(1, -1)
    b.output(T(b.node("Hardmax", [fd.name], "hardmax", axis=1), hardmax(flat, 1).reshape(fd.v.shape)))
    return b


@model
def float_opset7_legacy():
    """The opset 7 forms of operators whose operands became inputs later (the model zoo's float CNNs are
    opset 7 to 9: what users quantize with `octet quantize`): Upsample-7 with its scales an attribute,
    BatchNormalization-7 with spatial = 1, Slice-1 with starts / ends / axes attributes, TopK-1 with an
    attribute k."""
    b = Builder("float_opset7_legacy", opset=7)
    x = b.input([1, 3, 4, 5], -2, 2)
    up = np.repeat(np.repeat(x.v, 2, axis=2), 2, axis=3)
    up_name = b.node("Upsample", [x.name], "upsample", mode="nearest", scales=[1.0, 1.0, 2.0, 2.0])
    gamma, beta = as_f32(b.rng.uniform(0.5, 1.5, 3)), as_f32(b.rng.normal(0, 0.3, 3))
    mean, var = as_f32(b.rng.normal(0, 0.2, 3)), as_f32(b.rng.uniform(0.5, 1.5, 3))
    bn = (up.astype(np.float64) - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5) * \
        gamma[None, :, None, None] + beta[None, :, None, None]
    bn_name = b.node("BatchNormalization", [up_name, b.const(gamma, "gamma"), b.const(beta, "beta"),
                                            b.const(mean, "mean"), b.const(var, "var")], "batch_norm", spatial=1)
    b.output(T(bn_name, as_f32(bn)))
    sliced = x.v[:, 1:3, :, -3:]
    b.output(T(b.node("Slice", [x.name], "slice", starts=[1, -3], ends=[3, 1000], axes=[1, 3]), sliced))
    flat = x.v.reshape(1, -1)
    order = np.argsort(-flat.astype(np.float64), axis=1, kind="stable")[:, :3]
    flat_name = b.node("Flatten", [x.name], "flatten", axis=1)
    out = b.fresh("topk")
    b.nodes.append(helper.make_node("TopK", [flat_name], [out + "_values", out + "_indices"], name=out, k=3))
    b.output(T(out + "_values", np.take_along_axis(flat, order, axis=1)))
    b.output(T(out + "_indices", order.astype(np.int64)))
    return b


@model
def float_dropout_unread_mask():
    """Dropouts as torch exports the attention dropout of torchvision's Swin: declaring a mask output that
    nothing reads, and one with training_mode true but ratio 0 (F.dropout(p=0.0) with its default training=True):
    both the identity."""
    b = Builder("float_dropout_unread_mask", opset=13)
    x = b.input([1, 3, 4, 5], -2, 2)
    first, second = b.fresh("dropout"), b.fresh("dropout")
    b.nodes.append(helper.make_node("Dropout", [x.name, b.const(np.array(0.1, np.float32), "ratio")],
                                    [first + "_out", first + "_mask"], name=first))
    b.nodes.append(helper.make_node("Dropout", [first + "_out", b.const(np.array(0.0, np.float32), "ratio"),
                                                b.const(np.array(True), "training_mode")],
                                    [second + "_out", second + "_mask"], name=second))
    b.output(T(b.node("Relu", [second + "_out"], "relu"), np.maximum(x.v, 0)))
    return b


@model
def float_channels_last_permutes():
    """ConvNeXt's block shape: a convolution, a Transpose to channels-last, a per-channel scale along the last
    axis (LayerNorm's gamma), a Transpose back and another convolution. The convolutions run in NHWC, which is
    already the channels-last order: the importer's layout changes and the model's Transposes merge into
    copies (ModelInfo.TransposesOfLayoutChangesMerge)."""
    b = Builder("float_channels_last_permutes", opset=13)
    x = b.input([1, 3, 6, 7], -1, 1)
    y = float_conv(b, x, 8, 3, pads=(1, 1, 1, 1))
    last = b.transpose(y, (0, 2, 3, 1))
    gamma = as_f32(b.rng.uniform(0.5, 1.5, 8))
    scaled = b.binary("Mul", last, T(b.const(gamma, "gamma"), gamma))
    back = b.transpose(scaled, (0, 3, 1, 2))
    b.output(float_conv(b, back, 4, 1))
    return b


@model
def float_einsum():
    """Einsum as octet lowers it (sums, transposes and batched MatMuls): attention scores, a 1x1 convolution
    by constant weights, an ellipsis whose batch dimensions broadcast (2 x 1 against 5), the implicit output
    form, three operands, an outer product, a transpose, sums over one and over every label."""
    b = Builder("float_einsum", opset=13)
    q = b.input([1, 2, 3, 4], -1, 1, name="q")
    k = b.input([1, 2, 5, 4], -1, 1, name="k")
    img = b.input([1, 3, 2, 2], -1, 1, name="image")
    m = b.input([2, 1, 3, 4], -1, 1, name="m")
    n = b.input([5, 4, 2], -1, 1, name="n")
    x = b.input([3, 4], -1, 1, name="x")

    def einsum(equation, operands, names=None):
        values = [o.v.astype(np.float64) for o in operands]
        out = b.node("Einsum", names or [o.name for o in operands], "einsum", equation=equation)
        b.output(T(out, as_f32(np.einsum(equation, *values))))

    einsum("bhqd,bhkd->bhqk", [q, k])
    w = as_f32(b.rng.normal(0, 0.5, (4, 3)))
    einsum("nchw,kc->nkhw", [img, T(b.const(w, "weights"), w)])
    einsum("...ij,...jk->...ik", [m, n])
    einsum("ij,jk", [x, T(n.name, n.v[0])], [x.name, b.node("Gather", [n.name, b.const(np.array(0, np.int64), "i")],
                                                             "gather", axis=0)])
    y = as_f32(b.rng.normal(0, 1, (4, 2)))
    z = as_f32(b.rng.normal(0, 1, (2, 6)))
    einsum("ij,jk,kl->il", [x, T(b.const(y, "y"), y), T(b.const(z, "z"), z)])
    v = as_f32(b.rng.normal(0, 1, 5))
    einsum("i,j->ij", [T(b.const(v, "v"), v), T(b.const(v[:3], "u"), v[:3])])
    einsum("ij->ji", [x])
    einsum("bij->bj", [b.squeeze(m, [1])])
    einsum("ij->", [x])
    # Implicit output of mixed-case labels: ASCII order, upper case first (numpy's): [A, c], not [c, A].
    upper, lower = y[:3].copy(), z[:, :5].copy()
    einsum("Ab,bc", [T(b.const(upper, "upper"), upper), T(b.const(lower, "lower"), lower)])
    einsum("ij,ij->i", [x, x])
    return b


@model
def float_gather_head():
    """A float head that selects features by index (for `octet quantize`: GatherElements and GatherND move
    uint8 bytes, so the quantized model keeps them int8): Conv + ReLU, flattened, each channel's entries at
    constant positions (GatherElements) and every channel at four pixels (GatherND, one batch dimension)."""
    b = Builder("float_gather_head")
    x = b.input([1, 4, 6, 6], -1, 1)
    w = T(b.const(as_f32(b.rng.normal(0, 0.4, (8, 4, 3, 3))), "weights"), None)
    w.v = numpy_helper.to_array(b.inits[-1])
    bias = as_f32(b.rng.normal(0, 0.2, 8))
    y = b.relu(b.conv(x, w, T(b.const(bias, "bias"), bias), pads=(1, 1, 1, 1)))
    flat = b.reshape(y, [1, 8, 36])
    index = b.rng.integers(0, 36, (1, 8, 5)).astype(np.int64)
    b.output(T(b.node("GatherElements", [flat.name, b.const(index, "positions")], "gather_elements", axis=2),
               np.take_along_axis(flat.v, index, axis=2)))
    pixels = b.transpose(flat, [0, 2, 1])
    chosen = np.array([[[3], [7], [20], [35]]], np.int64)
    b.output(T(b.node("GatherND", [pixels.name, b.const(chosen, "pixels")], "gather_nd", batch_dims=1),
               pixels.v[0][chosen[0, :, 0]][None]))
    return b


def uint8_image(b):
    """A raw uint8 image graph input [1, 3, 6, 6] and its Cast to float."""
    img = b.rng.integers(0, 256, (1, 3, 6, 6)).astype(np.uint8)
    b.inputs.append(helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 3, 6, 6]))
    b.feeds.append(img)
    return img, T(b.node("Cast", ["image"], "cast", to=TensorProto.FLOAT), img.astype(np.float32))


@model
def qdq_uint8_image_input():
    """A uint8 image input cast to float and scaled, as TensorFlow-converted detectors take their images, into
    a QDQ conv."""
    b = Builder("qdq_uint8_image_input")
    _, real = uint8_image(b)
    xq = b.q(b.binary("Mul", real, np.float32(1 / 255)))
    wd, _, ws = b.weights(b.rng.normal(0, 0.4, (4, 3, 3, 3)), 0)
    b.output(b.q(b.conv(b.dq(xq), wd, b.bias(b.rng.normal(0, 0.3, 4), xq.s, ws), pads=(1, 1, 1, 1))))
    return b


@model
def float_casts_uint8():
    """Casts to and from raw uint8, held to exact equality: a class map ArgMax -> Cast(uint8) as segmentation
    models write it; a float cast to uint8 (truncated, saturating out of range) and an int64 one (modulo 256);
    the image cast to int64."""
    b = Builder("float_casts_uint8")
    img, real = uint8_image(b)
    classes = b.node("ArgMax", [real.name], "argmax", axis=1, keepdims=0)
    b.output(T(b.node("Cast", [classes], "cast", to=TensorProto.UINT8),
               np.argmax(img, axis=1).astype(np.uint8)))
    levels = b.input([8], name="levels", values=as_f32(np.array([-3.5, 0.4, 1.9, 254.7, 255.2, 300, 127.5, 0])))
    b.output(T(b.node("Cast", [levels.name], "cast", to=TensorProto.UINT8),
               np.array([0, 0, 1, 254, 255, 255, 127, 0], np.uint8)))
    whole = b.node("Cast", [levels.name], "cast", to=TensorProto.INT64)
    b.output(T(b.node("Cast", [whole], "cast", to=TensorProto.UINT8),
               np.array([253, 0, 1, 254, 255, 44, 127, 0], np.uint8)))
    b.output(T(b.node("Cast", ["image"], "cast", to=TensorProto.INT64), img.astype(np.int64)))
    return b


@model
def float_int64_reductions_and_fills():
    """int64 reductions (Mask R-CNN's ReduceMax of box indices): ReduceMax, ReduceMin, ReduceSum (wrapping
    past int64's range), ReduceProd and ReduceMean (truncated toward zero) of an int64 input. And a fill too
    large to hold as a constant (ConstantOfShape of 2048 x 2049 floats, past the 4194304 elements octet
    folds), made when the model runs and summed."""
    b = Builder("float_int64_reductions_and_fills")
    v = np.array([[5, -7, -5], [2 ** 62, 2 ** 62, -9]], np.int64)
    b.inputs.append(helper.make_tensor_value_info("counts", TensorProto.INT64, list(v.shape)))
    b.feeds.append(v)
    axes1 = b.const(np.array([1], np.int64), "axes")
    with np.errstate(over="ignore"):
        b.output(T(b.node("ReduceMax", ["counts"], "reduce_max", axes=[1], keepdims=0), v.max(axis=1)))
        b.output(T(b.node("ReduceMin", ["counts"], "reduce_min", axes=[0], keepdims=1), v.min(axis=0, keepdims=True)))
        b.output(T(b.node("ReduceSum", ["counts", axes1], "reduce_sum", keepdims=0), v.sum(axis=1)))
        b.output(T(b.node("ReduceProd", ["counts"], "reduce_prod", axes=[1], keepdims=0), np.prod(v, axis=1)))
        means = np.array([-2], np.int64)  # (5 - 7 - 5) / 3, truncated toward zero (floor would give -3)
        b.output(T(b.node("ReduceMean", [b.node("Slice", ["counts", b.const(np.array([0], np.int64), "start"),
                                                          b.const(np.array([1], np.int64), "end")], "slice")],
                          "reduce_mean", axes=[1], keepdims=0), means))
    fill = b.node("ConstantOfShape", [b.const(np.array([2048, 2049], np.int64), "shape")], "constant_of_shape",
                  value=numpy_helper.from_array(np.array([1.5], np.float32)))
    b.output(T(b.node("ReduceSum", [fill], "reduce_sum", keepdims=0), np.array(1.5 * 2048 * 2049, np.float32)))
    return b


@model
def float_reductions_over_no_axes():
    """Opset 18's reductions with no axes and noop_with_empty_axes = 1: each element reduced alone, so the
    operator's functions of one element apply (|x| for ReduceL1, sqrt(x * x) for ReduceL2, x * x, log(x),
    log(exp(x - x)) + x), as ONNX says since onnx/onnx#7394 and ONNX Runtime 1.30 computes; ReduceMean and
    ReduceMax copy. ReduceSum (opset 13's axes input) with an empty axes tensor copies as well. ONNX 1.12's
    checker predates opset 18."""
    b = Builder("float_reductions_over_no_axes", opset=18)
    x = b.input([2, 3, 4], -3, 3)
    v = x.v.astype(np.float64)
    for op, want in (("ReduceL1", np.abs(v)), ("ReduceL2", np.sqrt(v * v)), ("ReduceSumSquare", v * v),
                     ("ReduceLogSumExp", v), ("ReduceMean", v), ("ReduceMax", v)):
        b.output(T(b.node(op, [x.name], op.lower(), keepdims=1, noop_with_empty_axes=1), as_f32(want)))
    # Of |x|: the test compares no NaNs.
    magnitude = b.node("Abs", [x.name], "abs")
    b.output(T(b.node("ReduceLogSum", [magnitude], "reducelogsum", keepdims=1, noop_with_empty_axes=1),
               as_f32(np.log(np.abs(v)))))
    empty = b.const(np.array([], np.int64), "axes")
    b.output(T(b.node("ReduceSum", [x.name, empty], "reduce_sum", keepdims=0, noop_with_empty_axes=1), x.v))
    b.checked = False
    return b


@model
def float_pow_exponent_of_higher_rank():
    """Pow of a [2, 3] tensor by one-element constant exponents of rank 3 ([1, 1, 1], 2.0, which octet runs
    as x * x) and rank 2 ([1, 1], 0.5: sqrt): the exponent's rank still broadcasts, so the outputs have
    shapes [1, 2, 3] and [2, 3] (octet gave [2, 3] for both)."""
    b = Builder("float_pow_exponent_of_higher_rank")
    x = b.input([2, 3], 0.1, 2.0)
    v = x.v.astype(np.float64)
    b.output(T(b.node("Pow", [x.name, b.const(np.full([1, 1, 1], 2.0, np.float32), "two")], "pow"),
               as_f32((v * v).reshape(1, 2, 3))))
    b.output(T(b.node("Pow", [x.name, b.const(np.full([1, 1], 0.5, np.float32), "half")], "pow"),
               as_f32(np.sqrt(v))))
    return b


@model
def float_int32_io():
    """int32 graph inputs and outputs, which octet holds as int64 inside and exchanges as int32: int32 indices
    into a Gather; int32 Add / Mul that overflow (wrapping modulo 2^32, as int32 arithmetic does, at the int32
    outputs); Cast of int64 to int32 (wrapping) followed by a Div that must see the wrapped value, of float to
    int32 (truncating), of int32 to float; ArgMax -> Cast(int32), a class map as segmentation exports write
    it; an int32 input passed through (Identity) and cast to int64 (a copy); CastLike to a run-time int32
    tensor; constant Casts to int32, folded at load as the run-time cast computes them (an int64 wrapped, then
    divided; a float out of range giving INT32_MIN); a rank-4 int32 input, which nhwc_io leaves in its own
    order (only images are channel-last)."""
    b = Builder("float_int32_io", opset=15)  # CastLike came with opset 15
    table = b.input([5, 4], -2, 2, name="table")
    idx = np.array([[0, -1, 3], [4, -5, 2]], np.int32)
    b.inputs.append(helper.make_tensor_value_info("indices", TensorProto.INT32, [2, 3]))
    b.feeds.append(idx)
    b.output(T(b.node("Gather", [table.name, "indices"], "gather", axis=0), table.v[np.where(idx < 0, idx + 5, idx)]))
    counts = np.array([2147483647, -2147483648, 5, -7], np.int32)
    b.inputs.append(helper.make_tensor_value_info("counts", TensorProto.INT32, [4]))
    b.feeds.append(counts)
    steps = np.array([1, -1, 10, 3], np.int32)
    with np.errstate(over="ignore"):
        b.output(T(b.node("Add", ["counts", b.const(steps, "steps")], "add"), counts + steps))
        b.output(T(b.node("Mul", ["counts", b.const(np.array(3, np.int32), "three")], "mul"),
                   counts * np.int32(3)))
    b.output(T(b.node("Identity", ["counts"], "identity"), counts))
    b.output(T(b.node("Cast", ["indices"], "cast", to=TensorProto.INT64), idx.astype(np.int64)))
    b.output(T(b.node("Cast", ["counts"], "cast", to=TensorProto.FLOAT), counts.astype(np.float32)))
    wide = np.array([2 ** 32 + 5, -(2 ** 33) - 1, 7, 2 ** 31], np.int64)
    b.inputs.append(helper.make_tensor_value_info("wide", TensorProto.INT64, [4]))
    b.feeds.append(wide)
    narrow = b.node("Cast", ["wide"], "cast", to=TensorProto.INT32)
    wrapped = wide.astype(np.int32)  # 5, -1, 7, -2^31
    b.output(T(b.node("Div", [narrow, b.const(np.array(2, np.int32), "two")], "div"),
               np.trunc(wrapped / 2).astype(np.int32)))
    levels = b.input([5], name="levels", values=as_f32(np.array([-3.7, 2.9, 1e6 + 0.5, -0.2, 123456.75])))
    b.output(T(b.node("Cast", [levels.name], "cast", to=TensorProto.INT32), np.array([-3, 2, 1000000, 0, 123456], np.int32)))
    classes = b.node("ArgMax", [table.name], "argmax", axis=1, keepdims=0)
    b.output(T(b.node("Cast", [classes], "cast", to=TensorProto.INT32), np.argmax(table.v, axis=1).astype(np.int32)))
    b.output(T(b.node("CastLike", [levels.name, "counts"], "cast_like"), np.array([-3, 2, 1000000, 0, 123456], np.int32)))
    folded = b.node("Cast", [b.const(np.array([2 ** 32 + 6, -(2 ** 33) - 4], np.int64), "wide_constant")], "cast",
                    to=TensorProto.INT32)
    b.output(T(b.node("Div", [folded, b.const(np.array(2, np.int32), "two")], "div"), np.array([3, -2], np.int32)))
    b.output(T(b.node("Cast", [b.const(np.array([3e9, -2.5], np.float32), "big")], "cast", to=TensorProto.INT32),
               np.array([-(2 ** 31), -2], np.int32)))
    grid = np.arange(24, dtype=np.int32).reshape(1, 2, 3, 4) - 7
    b.inputs.append(helper.make_tensor_value_info("grid", TensorProto.INT32, [1, 2, 3, 4]))
    b.feeds.append(grid)
    b.output(T(b.node("Mul", ["grid", b.const(np.array(3, np.int32), "three")], "mul"), grid * np.int32(3)))
    return b


def recurrent(cell, x, w, r, b, p=None, h0=None, c0=None, lens=None, direction="forward", layout=0,
              acts=None, clip=None, input_forget=False, linear_before_reset=False):
    """ONNX RNN / GRU / LSTM in float32 (the operator's equations, step by step): (Y, Y_h, Y_c)."""
    f32 = np.float32
    if layout:
        x = x.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    steps, batch, _ = x.shape
    dirs, hidden = w.shape[0], r.shape[2]
    lens = np.full(batch, steps) if lens is None else lens
    y = np.zeros((steps, dirs, batch, hidden), f32)
    y_h = np.zeros((dirs, batch, hidden), f32)
    y_c = np.zeros((dirs, batch, hidden), f32)
    per = {"RNN": 1, "GRU": 2, "LSTM": 3}[cell]

    def clipped(v):
        return v if clip is None else np.clip(v, -clip, clip).astype(f32)

    for d in range(dirs):
        fs = acts[d * per:(d + 1) * per]
        wb, rb = np.split(b[d], 2)
        for n in range(batch):
            h = np.zeros(hidden, f32) if h0 is None else h0[d, n].astype(f32)
            c = np.zeros(hidden, f32) if c0 is None else c0[d, n].astype(f32)
            order = range(lens[n])
            if d == 1 or direction == "reverse":
                order = reversed(order)
            for t in order:
                xw = (w[d] @ x[t, n] + wb).astype(f32)
                hr = (r[d] @ h + rb).astype(f32)
                if cell == "RNN":
                    h = fs[0](clipped(xw + hr))
                elif cell == "GRU":
                    z = fs[0](clipped(xw[:hidden] + hr[:hidden]))
                    reset = fs[0](clipped(xw[hidden:2 * hidden] + hr[hidden:2 * hidden]))
                    if linear_before_reset:
                        cand = fs[1](clipped(xw[2 * hidden:] + reset * hr[2 * hidden:]))
                    else:
                        cand = fs[1](clipped(xw[2 * hidden:] + (r[d][2 * hidden:] @ (reset * h)).astype(f32) +
                                             rb[2 * hidden:]))
                    h = ((1 - z) * cand + z * h).astype(f32)
                else:
                    g = xw + hr
                    pi, po, pf = np.split(p[d], 3)
                    i = fs[0](clipped(g[:hidden] + pi * c))
                    f = (1 - i).astype(f32) if input_forget else fs[0](clipped(g[2 * hidden:3 * hidden] + pf * c))
                    c = (f * c + i * fs[1](clipped(g[3 * hidden:]))).astype(f32)
                    o = fs[0](clipped(g[hidden:2 * hidden] + po * c))
                    h = (o * fs[2](c)).astype(f32)
                y[t, d, n] = h
            if lens[n] > 0:  # an empty sequence's last states are 0 (ONNX Runtime's LSTM and GRU)
                y_h[d, n], y_c[d, n] = h, c
    if layout:
        return y.transpose(2, 0, 1, 3), y_h.transpose(1, 0, 2), y_c.transpose(1, 0, 2)
    return y, y_h, y_c


def sigmoid32(v):
    return (1 / (1 + np.exp(-v.astype(np.float64)))).astype(np.float32)


def tanh32(v):
    return np.tanh(v.astype(np.float64)).astype(np.float32)


def recurrent_node(b, cell, inputs, outputs, **attrs):
    """A recurrent node with several outputs (an empty name leaves one out): their names."""
    name = b.fresh(cell.lower())
    names = [f"{name}_{o}" if o else "" for o in outputs]
    b.nodes.append(helper.make_node(cell, inputs, names, name=name, **attrs))
    return names


@model
def float_recurrent_cells():
    """RNN, GRU and LSTM against their equations, with run-time int32 sequence_lens [3, 0] (steps past a length
    give 0 in Y, the state stops there, an empty sequence has zero last states): a bidirectional LSTM with
    peepholes and initial states (Y, Y_h, Y_c); a reverse GRU with linear_before_reset; an RNN with Relu,
    batch-first (layout 1), only Y_h, its activations given as ["relu", "Tanh"] (names in any case; a
    one-direction RNN listing two takes the first, as ONNX Runtime does); an LSTM batch-first with input_forget, clip and non-default activations
    whose alphas and betas are taken in order (HardSigmoid 0.3 / 0.4, ScaledTanh 0.9 / 1.1), Y and Y_c named,
    Y_h named but read by nothing (no node computes it)."""
    b = Builder("float_recurrent_cells", opset=14)  # layout came with opset 14
    rng = b.rng
    steps, batch, size, hidden = 4, 2, 3, 5
    x = b.input([steps, batch, size], -1, 1, name="x")

    def weights(dirs, gates, extra=None):
        w = as_f32(rng.uniform(-0.6, 0.6, (dirs, gates * hidden, size)))
        r = as_f32(rng.uniform(-0.5, 0.5, (dirs, gates * hidden, hidden)))
        bias = as_f32(rng.uniform(-0.3, 0.3, (dirs, 2 * gates * hidden)))
        return w, r, bias

    sig, tanh = sigmoid32, tanh32
    lens = np.array([3, 0], np.int32)
    b.inputs.append(helper.make_tensor_value_info("lens", TensorProto.INT32, [batch]))
    b.feeds.append(lens)
    # Bidirectional LSTM, peepholes, initial states.
    w, r, bias = weights(2, 4)
    peep = as_f32(rng.uniform(-0.4, 0.4, (2, 3 * hidden)))
    h0 = b.input([2, batch, hidden], -0.5, 0.5, name="h0")
    c0 = b.input([2, batch, hidden], -0.5, 0.5, name="c0")
    y, y_h, y_c = recurrent("LSTM", x.v, w, r, bias, peep, h0.v, c0.v, lens=lens, direction="bidirectional",
                            acts=[sig, tanh, tanh] * 2)
    names = recurrent_node(b, "LSTM", [x.name, b.const(w, "w"), b.const(r, "r"), b.const(bias, "b"), "lens",
                                       h0.name, c0.name, b.const(peep, "p")], ["y", "yh", "yc"],
                           hidden_size=hidden, direction="bidirectional")
    for name, v in zip(names, (y, y_h, y_c)):
        b.output(T(name, v))
    # Reverse GRU, linear_before_reset.
    w, r, bias = weights(1, 3)
    y, y_h, _ = recurrent("GRU", x.v, w, r, bias, lens=lens, direction="reverse", acts=[sig, tanh],
                          linear_before_reset=True)
    names = recurrent_node(b, "GRU", [x.name, b.const(w, "w"), b.const(r, "r"), b.const(bias, "b"), "lens"],
                           ["y", "yh"], hidden_size=hidden, direction="reverse", linear_before_reset=1)
    b.output(T(names[0], y))
    b.output(T(names[1], y_h))
    # Batch-first inputs for the last two.
    xb = T(b.node("Transpose", [x.name], "transpose", perm=[1, 0, 2]), x.v.transpose(1, 0, 2))
    w, r, bias = weights(1, 1)
    _, y_h, _ = recurrent("RNN", xb.v, w, r, bias, layout=1, acts=[lambda v: np.maximum(v, 0).astype(np.float32)])
    names = recurrent_node(b, "RNN", [xb.name, b.const(w, "w"), b.const(r, "r"), b.const(bias, "b")], ["", "yh"],
                           hidden_size=hidden, layout=1, activations=["relu", "Tanh"])
    b.output(T(names[1], y_h))
    w, r, bias = weights(1, 4)

    def hard_sigmoid(v):
        return np.clip(np.float32(0.3) * v + np.float32(0.4), 0, 1).astype(np.float32)

    def scaled_tanh(v):
        return (np.float32(0.9) * tanh32(np.float32(1.1) * v)).astype(np.float32)

    y, _, y_c = recurrent("LSTM", xb.v, w, r, bias, np.zeros((1, 3 * hidden), np.float32), layout=1,
                          acts=[hard_sigmoid, scaled_tanh, tanh], clip=np.float32(0.8), input_forget=True)
    names = recurrent_node(b, "LSTM", [xb.name, b.const(w, "w"), b.const(r, "r"), b.const(bias, "b")],
                           ["y", "unread", "yc"], hidden_size=hidden, layout=1, input_forget=1, clip=0.8,
                           activations=["HardSigmoid", "ScaledTanh", "Tanh"], activation_alpha=[0.3, 0.9],
                           activation_beta=[0.4, 1.1])
    b.output(T(names[0], y))
    b.output(T(names[2], y_c))
    return b


@model
def qdq_crnn_head():
    """A CRNN text recognizer's head: a QDQ conv's feature map [1, C, 1, W] (channel-last in octet) squeezed
    and transposed to a sequence [W, 1, C], a bidirectional LSTM, its Y reshaped to [W, 2 H] and a float
    classifier (MatMul, Softmax over the classes). The features come through identity_conv (exact bytes)."""
    b = Builder("qdq_crnn_head")
    fd = b.dq(identity_conv(b, b.q(b.input([1, 6, 1, 12], -1, 1.5))))
    seq = T(b.node("Squeeze", [fd.name, b.const(np.array([2], np.int64), "axes")], "squeeze"), fd.v[:, :, 0, :])
    seq = T(b.node("Transpose", [seq.name], "transpose", perm=[2, 0, 1]), seq.v.transpose(2, 0, 1))
    hidden = 4
    w = as_f32(b.rng.uniform(-0.5, 0.5, (2, 4 * hidden, 6)))
    r = as_f32(b.rng.uniform(-0.5, 0.5, (2, 4 * hidden, hidden)))
    bias = as_f32(b.rng.uniform(-0.2, 0.2, (2, 8 * hidden)))
    y, _, _ = recurrent("LSTM", seq.v, w, r, bias, np.zeros((2, 3 * hidden), np.float32), direction="bidirectional",
                        acts=[sigmoid32, tanh32, tanh32] * 2)
    (name,) = recurrent_node(b, "LSTM", [seq.name, b.const(w, "w"), b.const(r, "r"), b.const(bias, "b")], ["y"],
                             hidden_size=hidden, direction="bidirectional")
    flat = T(b.node("Reshape", [name, b.const(np.array([12, 2 * hidden], np.int64), "shape")], "reshape"),
             y.reshape(12, 2 * hidden))
    classes = as_f32(b.rng.uniform(-1, 1, (2 * hidden, 5)))
    logits = (flat.v @ classes).astype(np.float32)
    logits_name = b.node("MatMul", [flat.name, b.const(classes, "classes")], "matmul")
    e = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    b.output(T(b.node("Softmax", [logits_name], "softmax", axis=1), as_f32(e / e.sum(axis=1, keepdims=True))))
    return b


@model
def float_resize_axes_opset18():
    """Resize's opset 18 attributes: sizes for the listed axes only, with keep_aspect_ratio_policy not_larger
    (one scale, the smaller of the two, and sizes rounded half up: 4 x 6 to at most 3 x 3 gives 2 x 3 at
    scale 1/2) and not_smaller; and scales for the width alone (axes [-1]). ONNX 1.12's checker predates
    opset 18."""
    b = Builder("float_resize_axes_opset18", opset=18)
    x = b.input([1, 2, 4, 6], -2, 2)
    v = x.v.astype(np.float64)

    def nearest(v, out_h, out_w, scale):  # asymmetric coordinates, floor
        rows = np.minimum(np.floor(np.arange(out_h) / scale).astype(int), v.shape[2] - 1)
        cols = np.minimum(np.floor(np.arange(out_w) / scale).astype(int), v.shape[3] - 1)
        return v[:, :, rows][:, :, :, cols]

    for policy, sizes, out_h, out_w, scale in (("not_larger", [3, 3], 2, 3, 0.5),
                                               ("not_smaller", [3, 3], 3, 5, 0.75)):
        b.output(T(b.node("Resize", [x.name, "", "", b.const(np.array(sizes, np.int64), "sizes")], "resize",
                          mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor",
                          axes=[2, 3], keep_aspect_ratio_policy=policy),
                   as_f32(nearest(v, out_h, out_w, scale))))
    wide = resize_axis(v, 3, 12, 2.0, "linear", "half_pixel", None)
    b.output(T(b.node("Resize", [x.name, "", b.const(np.array([2.0], np.float32), "scales")], "resize",
                      mode="linear", axes=[-1]), as_f32(wide)))
    b.checked = False
    return b


def dynamic_quantize(v):
    """ONNX Runtime's DynamicQuantizeLinear in float32: (uint8 values, scale, zero point)."""
    x = v.astype(np.float32)
    lo, hi = np.float32(min(0.0, float(np.nanmin(x)))), np.float32(max(0.0, float(np.nanmax(x))))
    scale = np.float32(1.0) if hi == lo else np.float32(np.float32(hi - lo) / np.float32(255))
    zp = int(np.rint(np.clip(np.float32(np.float32(0) - np.float32(lo / scale)), 0, 255)))
    q = np.clip(np.rint((x / scale).astype(np.float32)) + zp, 0, 255).astype(np.int64)
    return q, scale, zp


@model
def dynamic_quantized_cnn():
    """A CNN as ONNX Runtime's quantize_dynamic writes it: DynamicQuantizeLinear before a ConvInteger (int8
    weights) and before a MatMulInteger (uint8 weights with per-column zero points), each followed by Cast
    and a Mul by the product of the two scales, then the bias. octet runs it in float with the same numbers."""
    b = Builder("dynamic_quantized_cnn", opset=13)
    x = b.input([1, 3, 6, 6], -1, 1.5)
    w = b.rng.integers(-127, 128, (6, 3, 3, 3)).astype(np.int8)
    w_scale, bias = np.float32(0.004), as_f32(b.rng.normal(0, 0.2, (1, 6, 1, 1)))
    q, xs, xz = dynamic_quantize(x.v)
    acc = conv2d((q - xz).astype(np.float64), w.astype(np.float64), (1, 1), (1, 1), (1, 1, 1, 1), 1)
    scale = np.float32(xs * w_scale)
    y = np.maximum((acc.astype(np.float32) * scale).astype(np.float32) + bias, 0).astype(np.float32)
    names = {k: b.const(v, k) for k, v in (("w", w), ("w_zp", np.array(0, np.int8)), ("w_scale", w_scale),
                                            ("bias", bias))}
    b.nodes += [
        helper.make_node("DynamicQuantizeLinear", ["input"], ["xq", "xs", "xz"], name="dql_conv"),
        helper.make_node("ConvInteger", ["xq", names["w"], "xz", names["w_zp"]], ["acc"], name="conv_integer",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Cast", ["acc"], ["acc_f"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["xs", names["w_scale"]], ["conv_scale"], name="scales"),
        helper.make_node("Mul", ["acc_f", "conv_scale"], ["scaled"], name="rescale"),
        helper.make_node("Add", ["scaled", names["bias"]], ["biased"], name="add_bias"),
        helper.make_node("Relu", ["biased"], ["features"], name="relu")]
    b.output(T("features", y))
    flat = y.reshape(1, -1)
    wm = b.rng.integers(0, 256, (flat.shape[1], 10)).astype(np.uint8)
    wm_zp = b.rng.integers(100, 156, 10).astype(np.uint8)
    wm_scale = np.float32(0.002)
    q2, s2, z2 = dynamic_quantize(flat)
    acc2 = (q2 - z2) @ (wm.astype(np.int64) - wm_zp.astype(np.int64))
    out = (acc2.astype(np.float32) * np.float32(s2 * wm_scale)).astype(np.float32)
    names2 = {k: b.const(v, k) for k, v in (("wm", wm), ("wm_zp", wm_zp), ("wm_scale", wm_scale),
                                             ("shape", np.array([1, -1], np.int64)))}
    b.nodes += [
        helper.make_node("Reshape", ["features", names2["shape"]], ["flat"], name="flatten"),
        helper.make_node("DynamicQuantizeLinear", ["flat"], ["fq", "fs", "fz"], name="dql_matmul"),
        helper.make_node("MatMulInteger", ["fq", names2["wm"], "fz", names2["wm_zp"]], ["acc2"],
                         name="matmul_integer"),
        helper.make_node("Cast", ["acc2"], ["acc2_f"], name="cast2", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["fs", names2["wm_scale"]], ["mm_scale"], name="scales2"),
        helper.make_node("Mul", ["acc2_f", "mm_scale"], ["logits"], name="rescale2")]
    b.output(T("logits", out))
    return b


def as_opset21(m):
    m.opset_import[0].version = 21
    m.ir_version = 10


@model
def float_group_norm_opset21():
    """GroupNormalization at opset 21 (scale and bias per channel) on a float NCHW input."""
    b = Builder("float_group_norm_opset21", opset=18)
    x = b.input([2, 6, 3, 4], -2, 3)
    b.output(group_norm(b, x, 2, fconst(b, b.rng.uniform(0.5, 1.5, 6), "gn_scale"),
                        fconst(b, b.rng.normal(0, 0.2, 6), "gn_bias"), epsilon=1e-3))
    b.patch = as_opset21
    b.checked = False
    return b


@model
def float_conv1d_rank_paths():
    """Which global pools lift_1d lifts: one after 40 Add(t, t) of a 1-D conv's result (rank 3; the rank search
    is memoized, else 2^40 steps), and one after broadcasting that result against a rank-4 constant (rank 4:
    a 2-D pool over [4, 8], not lifted)."""
    b = Builder("float_conv1d_rank_paths")
    x = b.input([1, 3, 8], -1, 1)
    y = conv1d(b, x, fconst(b, b.rng.normal(0, 0.5, (4, 3, 3)), "weight"), pads=(1, 1))
    t = y
    for _ in range(40):
        t = T(b.node("Add", [t.name, t.name], "add"), (t.v.astype(np.float64) * 2).astype(np.float32))
    b.output(T(b.node("GlobalAveragePool", [t.name], "gap_rank3"),
               as_f32(t.v.astype(np.float64).mean(axis=2, keepdims=True))))
    lift = fconst(b, np.full((1, 1, 1, 1), 0.5), "offset")
    u = T(b.node("Add", [y.name, lift.name], "add_rank4"), (y.v[None] + np.float32(0.5)).astype(np.float32))
    b.output(T(b.node("GlobalAveragePool", [u.name], "gap_rank4"),
               as_f32(u.v.astype(np.float64).mean(axis=(2, 3), keepdims=True))))
    return b


@model
def qdq_conv_flatten_gemm():
    # The flattened order must be ONNX's C, H, W even though the conv output is stored H, W, C.
    b = Builder("qdq_conv_flatten_gemm")
    fq = conv_features(b)
    flat = b.dq(b.q(b.flatten(b.dq(fq)), fq.s, fq.z))
    wd, _, ws = b.weights(b.rng.normal(0, 0.2, (7, 6 * 4 * 5)), 0)
    y = b.gemm(flat, wd, b.bias(b.rng.normal(0, 0.3, 7), fq.s, ws))
    b.output(b.dq(b.q(y)))
    return b


@model
def qdq_conv_reshape_gemm():
    b = Builder("qdq_conv_reshape_gemm")
    fq = conv_features(b)
    flat = b.reshape(b.dq(fq), [0, -1])  # 0 copies the batch dimension, as exporters write it
    wd, _, ws = b.weights(b.rng.normal(0, 0.2, (5, 6 * 4 * 5)), 0)
    y = b.gemm(flat, wd, b.bias(b.rng.normal(0, 0.3, 5), fq.s, ws))
    b.output(b.q(y))
    return b


@model
def qdq_conv_then_transpose():
    b = Builder("qdq_conv_then_transpose")
    fq = conv_features(b)
    b.output(b.q(b.transpose(b.dq(fq), [0, 2, 3, 1]), fq.s, fq.z))
    return b


@model
def qdq_transpose_rank3():
    b = Builder("qdq_transpose_rank3")
    xq = b.q(b.input([2, 3, 5], -1, 1))
    b.output(b.dq(b.q(b.transpose(b.dq(xq), [2, 0, 1]), xq.s, xq.z)))
    return b


@model
def qdq_squeeze_unsqueeze():
    b = Builder("qdq_squeeze_unsqueeze")
    xq = b.q(b.input([1, 8, 4, 4], -1, 2))
    g = b.q(b.global_average_pool(b.dq(xq)))
    s = b.squeeze(b.dq(g), [2, 3])  # [1, 8]
    u = b.unsqueeze(s, [1])  # [1, 1, 8]
    b.output(b.q(u, g.s, g.z))
    return b


# ----------------------------------------------------------------------------------------------------------
# A small network, and a model with two outputs
# ----------------------------------------------------------------------------------------------------------


@model
def qdq_small_net():
    """conv-relu, depthwise s2, 1x1 + residual add, max pool, GAP, flatten, Gemm; logits (uint8) and
    softmax probabilities (float) are both graph outputs."""
    b = Builder("qdq_small_net")
    xq = b.q(b.input([1, 3, 16, 16], -1, 1))
    w1, _, s1 = b.weights(b.rng.normal(0, 0.5, (8, 3, 3, 3)), 0)
    a1 = b.q(b.relu(b.conv(b.dq(xq), w1, b.bias(b.rng.normal(0, 0.2, 8), xq.s, s1), pads=(1, 1, 1, 1))))
    w2, _, s2 = b.weights(b.rng.normal(0, 0.5, (8, 1, 3, 3)), 0)
    a2 = b.q(b.relu(b.conv(b.dq(a1), w2, b.bias(b.rng.normal(0, 0.2, 8), a1.s, s2), strides=(2, 2),
                           pads=(1, 1, 1, 1), group=8)))
    a2d = b.dq(a2)
    w3, _, s3 = b.weights(b.rng.normal(0, 0.3, (8, 8, 1, 1)), 0)
    a3 = b.q(b.conv(a2d, w3, b.bias(b.rng.normal(0, 0.2, 8), a2.s, s3)))
    r = b.q(b.relu(b.binary("Add", b.dq(a3), a2d)))  # Relu after Add folds into the add's clamp
    p = b.max_pool(b.dq(r), (2, 2), (2, 2))
    pq = b.q(p, r.s, r.z)
    g = b.q(b.global_average_pool(b.dq(pq)))
    flat = b.flatten(b.dq(g))
    w4, _, s4 = b.weights(b.rng.normal(0, 0.5, (10, 8)), 0)
    logits = b.q(b.gemm(flat, w4, b.bias(b.rng.normal(0, 0.2, 10), g.s, s4)))
    b.output(logits)
    b.output(b.softmax(b.dq(logits), axis=-1))
    return b


@model
def qdq_residual_blocks():
    """Residual adds in every form the importer fuses into a convolution (graph/passes/fuse_residual_add.h)
    and some it must not: a 5x5 first layer + another first layer, a 3x3 conv + shortcut (conv first), shortcut + 1x1 conv (conv second), both operands
    convolutions (a downsampling block), a depthwise conv + shortcut, a 1x1 conv with more channels than
    pixels (the GEMM splits channels between threads), a transposed conv + an earlier tensor, and a conv
    whose output two operators read (not fused)."""
    b = Builder("qdq_residual_blocks")
    x = b.q(b.input([1, 3, 12, 12], -1, 1))

    def conv(t, co, k, stride=1, group=1, relu=False):
        c_in = t.v.shape[1]
        w, _, s = b.weights(b.rng.normal(0, 0.6 / math.sqrt(k * k * c_in / group), (co, c_in // group, k, k)), 0)
        p = k // 2
        y = b.conv(b.dq(t), w, b.bias(b.rng.normal(0, 0.2, co), t.s, s), strides=(stride, stride),
                   pads=(p, p, p, p), group=group)
        return b.q(b.relu(y) if relu else y)

    def add(a, c, relu=False):
        y = b.binary("Add", b.dq(a), b.dq(c))
        return b.q(b.relu(y) if relu else y)

    a1 = conv(x, 16, 3, relu=True)
    s1 = add(conv(x, 16, 5), a1, relu=True)                  # a first layer (3 input channels)
    r1 = add(conv(s1, 16, 3), s1, relu=True)                 # conv first, 3x3 (kernel-row segments)
    r2 = add(r1, conv(r1, 16, 1))                            # conv second, 1x1 read in place
    r3 = add(conv(r2, 32, 3, stride=2), conv(r2, 32, 1, stride=2), relu=True)  # two convs: the later fuses
    r4 = add(conv(r3, 32, 3, group=32), r3)                  # depthwise
    e = conv(r4, 32, 1)
    r5 = add(add(e, r4), e)                                  # e read twice: neither add fuses with it
    t = conv(r5, 96, 1)
    r6 = add(conv(t, 96, 1), t, relu=True)                   # 36 pixels x 96 channels: channel groups
    wt, _, st = b.weights(b.rng.normal(0, 0.15, (96, 16, 2, 2)), 1)
    up = b.q(b.conv_transpose(b.dq(r6), wt, b.bias(b.rng.normal(0, 0.2, 16), r6.s, st), strides=(2, 2)))
    b.output(add(up, r2))                                    # transposed conv + a tensor from long before
    return b


# ----------------------------------------------------------------------------------------------------------
# Float execution: float models, and quantized models that leave operators in float
# ----------------------------------------------------------------------------------------------------------


def fconst(b, values, base="constant"):
    """A float constant (an initializer the model computes with in float)."""
    v = np.asarray(values, np.float32)
    return T(b.const(v, base), v)


def float_conv(b, x, co, k, pads=(0, 0, 0, 0), strides=(1, 1), group=1, gain=0.5):
    c = x.v.shape[1]
    w = fconst(b, b.rng.normal(0, gain, (co, c // group, k, k)), "weight")
    bias = fconst(b, b.rng.normal(0, 0.2, co), "bias")
    return b.conv(x, w, bias, strides=strides, pads=pads, group=group)


def batch_norm(b, x):
    c = x.v.shape[1]
    gamma, beta = b.rng.uniform(0.5, 1.5, c), b.rng.normal(0, 0.2, c)
    mean, var = b.rng.normal(0, 0.3, c), b.rng.uniform(0.5, 2.0, c)
    names = [b.const(np.asarray(v, np.float32), n) for v, n in
             ((gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "var"))]
    f32 = [np.float64(np.float32(v)) for v in (gamma, beta, mean, var)]
    shape = (1, c, 1, 1)
    y = (x.v.astype(np.float64) - f32[2].reshape(shape)) / np.sqrt(f32[3].reshape(shape) + np.float64(np.float32(1e-5)))
    y = y * f32[0].reshape(shape) + f32[1].reshape(shape)
    return T(b.node("BatchNormalization", [x.name] + names, "batch_norm", epsilon=1e-5), as_f32(y))


@model
def float_cnn():
    """A whole float model: conv + batch norm + relu, max pool, depthwise conv + hard-swish, 1x1 conv +
    sigmoid gate, global average pool, flatten, Gemm, softmax."""
    b = Builder("float_cnn", opset=14)
    x = b.input([1, 3, 12, 12], -1, 1)
    y = b.relu(batch_norm(b, float_conv(b, x, 8, 3, pads=(1, 1, 1, 1))))
    y = b.max_pool(y, (2, 2), (2, 2))
    y = b.unary("HardSwish", float_conv(b, y, 8, 3, pads=(1, 1, 1, 1), group=8),
                lambda v: v * np.clip(v / 6 + 0.5, 0, 1))
    gate = b.unary("Sigmoid", float_conv(b, y, 8, 1), lambda v: 1 / (1 + np.exp(-v)))
    y = b.binary("Mul", y, gate)
    flat = b.flatten(b.global_average_pool(y))
    w = fconst(b, b.rng.normal(0, 0.8, (10, 8)), "fc_weight")
    logits = b.gemm(flat, w, fconst(b, b.rng.normal(0, 0.1, 10), "fc_bias"))
    b.output(b.softmax(logits, axis=-1))
    return b


@model
def qdq_add_scalar_of_higher_rank():
    """A one-element constant of higher rank than the data ([1, 1, 1] added to [2, 8]) broadcasts it to
    [1, 2, 8]: not a lookup table, which keeps the input's shape."""
    b = Builder("qdq_add_scalar_of_higher_rank")
    xd = b.qdq(b.input([2, 8], -1, 1))
    c = np.full((1, 1, 1), 0.5, np.float32)
    y = T(b.node("Add", [xd.name, b.const(c, "c")], "add"), xd.v + c)
    b.output(b.qdq(y))
    return b


@model
def qdq_pad_value_off_the_grid():
    """Quantized Pads whose value the input's params cannot hold. 5, beyond the input's range [-1, 1], read
    by a QuantizeLinear of other params: padded in float, that QuantizeLinear quantizes the value itself.
    0.3 (between two steps) and -inf (as before a max pool), each read by a QuantizeLinear with the input's
    own params: the pad's byte is what that gives the value, so they stay quantized."""
    b = Builder("qdq_pad_value_off_the_grid")
    q = b.q(b.input([1, 2, 4, 4], -1, 1))
    for value, name in ((5.0, "pad_beyond"), (0.3, "pad_between"), (-np.inf, "pad_minus_inf")):
        y = b.dq(q)
        pads = b.const(np.array([0, 0, 1, 1, 0, 0, 1, 0], np.int64), "pads")
        v = b.const(np.array(value, np.float32), "value")
        padded = T(b.node("Pad", [y.name, pads, v], name),
                   np.pad(y.v, ((0, 0), (0, 0), (1, 1), (1, 0)), constant_values=value))
        q = b.q(padded, s=q.s, z=q.z) if value == -np.inf else b.q(padded)
    b.output(b.dq(q))
    return b


@model
def float_fpn_head():
    """An FPN / DB-style head in float: strided conv, transposed conv back up, linear resize of a coarser
    map, concat with the input, 1x1 conv to one channel, sigmoid; plus Slice and Pad on the way."""
    b = Builder("float_fpn_head")
    x = b.input([1, 4, 8, 8], -1, 1)
    down = b.relu(float_conv(b, x, 8, 3, pads=(1, 1, 1, 1), strides=(2, 2)))  # 4x4
    w = fconst(b, b.rng.normal(0, 0.5, (8, 4, 2, 2)), "deconv_weight")
    up = b.conv_transpose(down, w, fconst(b, b.rng.normal(0, 0.1, 4), "deconv_bias"), strides=(2, 2))  # 8x8
    coarse = b.resize(down, "linear", ctm="half_pixel", scales=[1, 1, 2, 2])  # 8x8, 8 channels
    cat = b.concat([x, up, coarse], axis=1)  # 16 channels
    starts = b.const(np.array([0, 1], np.int64), "starts")
    ends = b.const(np.array([15, 7], np.int64), "ends")
    axes = b.const(np.array([1, 3], np.int64), "axes")
    sl = T(b.node("Slice", [cat.name, starts, ends, axes], "slice"), cat.v[:, 0:15, :, 1:7])
    pads = b.const(np.array([0, 0, 0, 1, 0, 0, 0, 0], np.int64), "pads")
    padded = T(b.node("Pad", [sl.name, pads], "pad"), np.pad(sl.v, ((0, 0), (0, 0), (0, 0), (1, 0))))
    y = b.unary("Sigmoid", float_conv(b, padded, 1, 1, gain=0.3), lambda v: 1 / (1 + np.exp(-v)))
    b.output(y)
    return b


@model
def float_norm_and_math():
    """LayerNormalization, a MatMul with a constant, an erf GELU spelled out, reductions, comparisons and
    Where: the operators a quantizer leaves in float in attention-like blocks."""
    b = Builder("float_norm_and_math", opset=17)
    x = b.input([2, 5, 8], -2, 2)
    scale, bias = b.rng.uniform(0.5, 1.5, 8).astype(np.float32), b.rng.normal(0, 0.2, 8).astype(np.float32)
    v = x.v.astype(np.float64)
    mean = v.mean(-1, keepdims=True)
    ln = (v - mean) / np.sqrt(((v - mean) ** 2).mean(-1, keepdims=True) + np.float64(np.float32(1e-5)))
    ln = ln * scale + bias
    y = T(b.node("LayerNormalization", [x.name, b.const(scale, "ln_scale"), b.const(bias, "ln_bias")], "layer_norm",
                 axis=-1, epsilon=1e-5), as_f32(ln))
    y = b.matmul(y, fconst(b, b.rng.normal(0, 0.4, (8, 6)), "matmul_weight"))  # [2, 5, 6]
    half = b.binary("Mul", y, 0.5)
    e = b.unary("Erf", b.binary("Div", y, float(np.float32(np.sqrt(2)))), lambda t: np.vectorize(math.erf)(t))
    gelu = b.binary("Mul", half, b.binary("Add", e, 1.0))
    mean_t = T(b.node("ReduceMean", [gelu.name], "reduce_mean", axes=[-1], keepdims=1),
               as_f32(gelu.v.astype(np.float64).mean(-1, keepdims=True)))
    centred = b.binary("Sub", gelu, mean_t)
    positive = T(b.node("Greater", [centred.name, b.const(np.array(0, np.float32), "zero")], "greater"),
                 centred.v > 0)
    neg = b.unary("Neg", centred, lambda t: -t)
    absolute = T(b.node("Where", [positive.name, centred.name, neg.name], "where"),
                 np.where(positive.v, centred.v, neg.v))
    sq = T(b.node("Pow", [absolute.name, b.const(np.array(2, np.float32), "two")], "pow"),
           as_f32(absolute.v.astype(np.float64) ** 2))
    b.output(b.unary("Sqrt", sq, np.sqrt))
    return b


@model
def float_shape_subgraph():
    """A dynamic batch whose Reshape target is computed the way exporters write it: Shape -> Gather ->
    Unsqueeze -> Concat -> Reshape (folded at load for the shapes given), then MatMul and ArgMax."""
    b = Builder("float_shape_subgraph")
    x = b.input([1, 6, 2, 2], -1, 1, dims=["N", 6, 2, 2])
    shape = b.node("Shape", [x.name], "shape")
    batch = b.node("Gather", [shape, b.const(np.array(0, np.int64), "index")], "gather", axis=0)
    batch1 = b.node("Unsqueeze", [batch, b.const(np.array([0], np.int64), "axes")], "unsqueeze")
    target = b.node("Concat", [batch1, b.const(np.array([-1], np.int64), "rest")], "concat", axis=0)
    flat = T(b.node("Reshape", [x.name, target], "reshape"), x.v.reshape(1, -1))
    w = fconst(b, b.rng.normal(0, 0.5, (24, 5)), "weight")
    logits = b.matmul(flat, w)
    b.output(logits, dims=["N", 5])
    arg = T(b.node("ArgMax", [logits.name], "argmax", axis=1, keepdims=0), np.argmax(logits.v, axis=1))
    b.outputs.append(helper.make_tensor_value_info(arg.name, TensorProto.INT64, ["N"]))
    b.expected.append(arg.v.astype(np.int64))
    # Batch 3: the same graph compiled for another shape.
    x3 = as_f32(b.rng.uniform(-1, 1, (3, 6, 2, 2)))
    l3 = as_f32(x3.reshape(3, -1).astype(np.float64) @ w.v.astype(np.float64))
    b.variants["batch3"] = ([x3], [l3, np.argmax(l3, axis=1).astype(np.int64)])
    return b


@model
def float_dynamic_image():
    """A float conv net with dynamic N, H and W, as detectors declare their input: conv stride 2, ReLU,
    global average pool. The `octet` command must be told the shape to time (--shape)."""
    b = Builder("float_dynamic_image")
    x = b.input([1, 3, 8, 10], -1, 1, dims=["N", 3, "H", "W"])
    y = b.relu(float_conv(b, x, 4, 3, pads=(1, 1, 1, 1), strides=(2, 2)))
    b.output(b.global_average_pool(y), dims=["N", 4, 1, 1])
    return b


@model
def float_two_inputs():
    """Two float inputs, an image and a per-channel gain ([N, C, 1, 1]) multiplied into it before a conv:
    a model whose calibration needs samples for both inputs (`octet quantize --calibration NAME=PATH`)."""
    b = Builder("float_two_inputs")
    x = b.input([1, 3, 8, 8], -1, 1, name="image")
    g = b.input([1, 3, 1, 1], 0.5, 1.5, name="gain")
    y = b.relu(float_conv(b, b.binary("Mul", x, g), 4, 3, pads=(1, 1, 1, 1)))
    b.output(b.global_average_pool(y))
    return b


@model
def qop_matmul_float_bias():
    """QLinearMatMul -> DequantizeLinear -> Add(float bias): a classifier whose last Add its quantizer
    left in float (the form of ONNX Runtime's QOperator MNIST model)."""
    b = Builder("qop_matmul_float_bias")
    xq = b.q(b.input([1, 16], -1, 1))
    y = b.dq(b.qlinear_matmul(xq, b.rng.normal(0, 0.4, (16, 10)), per_column=False))
    b.output(b.binary("Add", y, fconst(b, b.rng.normal(0, 0.3, 10), "bias")))
    return b


@model
def qdq_add_per_channel_constant():
    """x + c with c a [1, C, 1, 1] uint8 constant (a per-channel bias after a ConvTranspose, as ONNX
    Runtime's quantizer writes it)."""
    b = Builder("qdq_add_per_channel_constant")
    xq = b.q(b.input([1, 4, 6, 6], -1, 1))
    c = b.dq_constant(np.array([0.5, -0.25, 1.0, 0.0], np.float32).reshape(1, 4, 1, 1))
    b.output(b.q(b.binary("Add", b.dq(xq), c)))
    return b


@model
def qdq_float_tail():
    """An int8 conv whose results the model then computes in float: a channel mean (ReduceMean, keepdims 0)
    and a LogSoftmax over the channels, both float outputs."""
    b = Builder("qdq_float_tail")
    fq = conv_features(b)
    fd = b.dq(fq)
    mean = T(b.node("ReduceMean", [fd.name], "reduce_mean", axes=[1], keepdims=0),
             as_f32(fd.v.astype(np.float64).mean(axis=1)))
    b.output(mean)
    v = fd.v.astype(np.float64)
    logp = v - v.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    b.output(T(b.node("LogSoftmax", [fd.name], "log_softmax", axis=1), as_f32(logp)))
    return b


@model
def qdq_conv_tiny_scale_channel():
    """A conv whose output channel 1 has a weight scale of 7e-36 and a bias near INT32_MIN, as quantizers
    write a channel they protect from bias overflow: no accumulator can change that channel's output
    byte, so it is not an overflow risk. (From a real text detector's squeeze-excitation conv.)"""
    b = Builder("qdq_conv_tiny_scale_channel")
    xq = b.q(b.input([1, 192, 1, 1], 0, 2))
    w = b.rng.normal(0, 0.05, (4, 192, 1, 1))
    q, s = b.quantize_weights(w, 0)
    s = s.copy()
    s[1] = np.float32(7e-36)
    q[1] = b.rng.integers(-127, 128, 192).reshape(192, 1, 1)
    wn = b.const(q, "weight")
    wd = T(b.node("DequantizeLinear", [wn, b.const(s, "weight_scale"), b.const(np.zeros(4, np.int8), "weight_zp")],
                  "dequantize_weight", axis=0), dequantize(q, s, 0, 0))
    s_b = as_f32(np.float32(xq.s) * s)
    real_bias = b.rng.normal(0, 0.3, 4)
    bq = np.array([-2147268896 if c == 1 else np.rint(real_bias[c] / np.float64(s_b[c])) for c in range(4)])
    bq = bq.astype(np.int32)
    bd = T(b.node("DequantizeLinear", [b.const(bq, "bias"), b.const(s_b, "bias_scale"),
                                       b.const(np.zeros(4, np.int32), "bias_zp")], "dequantize_bias", axis=0),
           dequantize(bq, s_b, 0))
    y = b.conv(b.dq(xq), wd, bd)
    b.output(b.dq(b.q(y)))
    return b


@model
def qdq_resize_cubic():
    """Cubic Resize has no uint8 kernel: the dequantized input is materialised and resized in float."""
    b = Builder("qdq_resize_cubic")
    xq = b.q(b.input([1, 2, 4, 4], -1, 2))
    xd = b.dq(xq)
    scales = b.const(np.array([1, 1, 2, 2], np.float32), "scales")
    y = T(b.node("Resize", [xd.name, "", scales], "resize", mode="cubic"), cubic_resize(xd.v, 2))
    b.output(b.dq(b.q(y)))
    return b


def nms_reference(boxes, scores, max_per_class, iou_threshold, score_threshold=None, center_point_box=0):
    """ONNX NonMaxSuppression with ONNX Runtime's float32 arithmetic: per batch entry and class, candidates
    scoring above the threshold in descending score order (ties: the lower box index first), each kept
    unless its IoU with a kept box exceeds the threshold. Returns the [n, 3] (batch, class, box) rows."""
    f = np.float32

    def extents(box):
        if center_point_box:
            hw, hh = f(box[2]) / f(2), f(box[3]) / f(2)
            return (f(box[0] - hw), f(box[0] + hw)), (f(box[1] - hh), f(box[1] + hh))
        x = (box[3], box[1]) if box[1] >= box[3] else (box[1], box[3])
        y = (box[2], box[0]) if box[0] >= box[2] else (box[0], box[2])
        return (f(x[0]), f(x[1])), (f(y[0]), f(y[1]))

    def suppresses(a, b):
        (ax, ay), (bx, by) = extents(a), extents(b)
        ix = (max(ax[0], bx[0]), min(ax[1], bx[1]))
        if ix[1] <= ix[0]:
            return False
        iy = (max(ay[0], by[0]), min(ay[1], by[1]))
        if iy[1] <= iy[0]:
            return False
        inter = f(f(ix[1] - ix[0]) * f(iy[1] - iy[0]))
        area_a = f(f(ax[1] - ax[0]) * f(ay[1] - ay[0]))
        area_b = f(f(bx[1] - bx[0]) * f(by[1] - by[0]))
        union = f(f(area_a + area_b) - inter)
        if inter <= 0 or area_a <= 0 or area_b <= 0 or union <= 0:
            return False
        return f(inter / union) > f(iou_threshold)

    rows = []
    for b in range(boxes.shape[0]):
        for c in range(scores.shape[1]):
            s = scores[b, c]
            order = [i for i in range(len(s)) if score_threshold is None or s[i] > f(score_threshold)]
            order.sort(key=lambda i: (-float(s[i]), i))
            kept = []
            for i in order:
                if len(kept) >= max_per_class:
                    break
                if not any(suppresses(boxes[b, i], boxes[b, k]) for k in kept):
                    kept.append(i)
                    rows.append([b, c, i])
    return np.array(rows, np.int64).reshape(-1, 3)


@model
def qdq_detector_nms():
    """A detector's end: a QDQ feature map (exact bytes through identity_conv) read as 16 corner boxes and two
    classes' scores, NonMaxSuppression (at most 8 per class, IoU 0.3, the score threshold a graph input),
    then what exporters do with its selection: the selected boxes gathered from a requantized copy whose
    DequantizeLinear only the later stage reads (so the uint8 tensor crosses), their scores by GatherND,
    and the count divided by the map's width (a Shape of a stage-0 tensor, folded in the later stage).
    The variant `none` selects nothing: every output after the selection is empty."""
    b = Builder("qdq_detector_nms")
    fq = identity_conv(b, b.q(b.input([1, 6, 4, 4], -1, 1.5)))
    fd = b.dq(fq)
    flat = T(b.node("Reshape", [fd.name, b.const(np.array([1, 6, 16], np.int64), "shape")], "reshape"),
             fd.v.reshape(1, 6, 16))
    def channels(lo, hi):
        return T(b.node("Slice", [flat.name, b.const(np.array([lo], np.int64), "starts"),
                                  b.const(np.array([hi], np.int64), "ends"), b.const(np.array([1], np.int64), "axes")],
                        "slice"), flat.v[:, lo:hi])
    boxes = T(b.node("Transpose", [channels(0, 4).name], "transpose", perm=[0, 2, 1]),
              flat.v[:, 0:4].transpose(0, 2, 1))
    scores = channels(4, 6)
    threshold = b.input([1], values=np.array([0.2], np.float32), name="score_threshold")
    inputs = [boxes.name, scores.name, b.const(np.array([8], np.int64), "max_boxes"),
              b.const(np.array([0.3], np.float32), "iou"), threshold.name]
    selected_name = b.node("NonMaxSuppression", inputs, "nms")
    boxes_q = b.q(boxes, s=fq.s, z=fq.z)
    boxes_d = b.dq(boxes_q)
    box_index = b.node("Gather", [selected_name, b.const(np.array(2, np.int64), "column")], "gather", axis=1)
    picked_boxes = b.node("Gather", [boxes_d.name, box_index], "gather", axis=1)
    picked_scores = b.node("GatherND", [scores.name, selected_name], "gather_nd")
    count = b.node("Gather", [b.node("Shape", [selected_name], "shape"), b.const(np.array(0, np.int64), "row")],
                   "gather", axis=0)
    width = b.node("Gather", [b.node("Shape", [fd.name], "shape"), b.const(np.array(3, np.int64), "axis")],
                   "gather", axis=0)
    ratio = b.node("Div", [b.node("Cast", [count], "cast", to=TensorProto.FLOAT),
                           b.node("Cast", [width], "cast", to=TensorProto.FLOAT)], "div")

    def expected(threshold_value):
        sel = nms_reference(boxes.v, scores.v, 8, 0.3, threshold_value)
        return [sel, boxes_d.v[:, sel[:, 2]], scores.v[sel[:, 0], sel[:, 1], sel[:, 2]],
                np.array(np.float32(len(sel)) / np.float32(4), np.float32)]

    outs = expected(0.2)
    assert len(outs[0]) == 14, len(outs[0])  # class 0: 6 of 8 candidates (2 suppressed); class 1: the limit
    for name, value, dims in ((selected_name, outs[0], ["n", 3]), (picked_boxes, outs[1], [1, "n", 4]),
                              (picked_scores, outs[2], ["n"]), (ratio, outs[3], [])):
        b.output(T(name, value), dims=dims)
    b.variants["none"] = ([b.feeds[0], np.array([10.0], np.float32)], expected(10.0))
    return b


@model
def float_nms_unbounded():
    """What torchvision's exports write: NonMaxSuppression with max_output_boxes_per_class = sys.maxsize
    (INT64_MAX, which octet holds as a double: it must not wrap), centre-format boxes, no score threshold,
    and Slices whose bounds are INT64_MAX and INT64_MIN + 1 (the boxes reversed along their axis)."""
    b = Builder("float_nms_unbounded")
    centres = b.rng.uniform(0, 4, (1, 12, 2))
    sizes = b.rng.uniform(0.5, 2, (1, 12, 2))
    boxes = b.input([1, 12, 4], name="boxes", values=as_f32(np.concatenate([centres, sizes], axis=2)))
    scores = b.input([1, 2, 12], 0, 1, name="scores")
    big, small = np.iinfo(np.int64).max, np.iinfo(np.int64).min + 1
    reversed_boxes = b.node("Slice", [boxes.name, b.const(np.array([-1], np.int64), "starts"),
                                      b.const(np.array([small], np.int64), "ends"),
                                      b.const(np.array([1], np.int64), "axes"),
                                      b.const(np.array([-1], np.int64), "steps")], "slice")
    all_scores = b.node("Slice", [scores.name, b.const(np.array([0], np.int64), "starts"),
                                  b.const(np.array([big], np.int64), "ends"),
                                  b.const(np.array([2], np.int64), "axes")], "slice")
    selected = b.node("NonMaxSuppression", [reversed_boxes, all_scores, b.const(np.array([big], np.int64), "max_boxes"),
                                            b.const(np.array([0.2], np.float32), "iou")], "nms", center_point_box=1)
    expected = nms_reference(boxes.v[:, ::-1], scores.v, big, 0.2, center_point_box=1)
    assert 2 < len(expected) < 24, len(expected)
    b.output(T(selected, expected), dims=["n", 3])
    return b


@model
def float_if_branches():
    """Two If nodes, run as their branches' own models between stages. The first's condition is computed
    from the data (the sum of x above 0): its then branch scales x by a constant of the enclosing graph, its
    else branch returns the coordinates of x > 0.5 (a selection, shaped by the data). The second tests a
    selection for nothing, as torchvision's batched NMS does: no element above 0 gives a constant empty
    tensor, else the largest selected element. A third gives x as it is or reshaped to a shape computed from
    constants in the enclosing graph. The then branch of the first reshapes by Shape(x), which reaches it as
    a constant. The variant `negative` takes the other branches."""
    b = Builder("float_if_branches")
    x = b.input([2, 3], name="x", values=as_f32([[0.9, -0.2, 0.6], [0.1, 0.7, -0.4]]))
    w = as_f32([2.0, -1.0, 0.5])
    wn = b.const(w, "w")
    axes = b.const(np.array([0, 1], np.int64), "axes")
    total = b.node("ReduceSum", [x.name, axes], "reduce_sum", keepdims=0)
    cond = b.node("Greater", [total, b.const(np.array(0, np.float32), "zero")], "greater")
    x_shape = b.node("Shape", [x.name], "shape")  # read by a branch: a constant when it runs
    then_g = helper.make_graph([helper.make_node("Mul", [x.name, wn], ["scaled"], name="scale"),
                                helper.make_node("Reshape", ["scaled", x_shape], ["scaled_again"], name="same_shape")],
                               "then", [], [helper.make_tensor_value_info("scaled_again", TensorProto.FLOAT, None)])
    else_g = helper.make_graph(
        [helper.make_node("Greater", [x.name, "half"], ["above"], name="above_half"),
         helper.make_node("NonZero", ["above"], ["where"], name="where_above"),
         helper.make_node("Cast", ["where"], ["where_f"], name="as_float", to=TensorProto.FLOAT)],
        "else", [], [helper.make_tensor_value_info("where_f", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array(0.5, np.float32), "half")])
    first = b.node("If", [cond], "if", then_branch=then_g, else_branch=else_g)

    positive = b.node("NonZero", [b.node("Greater", [x.name, b.const(np.array(0, np.float32), "zero")],
                                         "greater")], "nonzero")
    count = b.node("Gather", [b.node("Shape", [positive], "shape"), b.const(np.array(1, np.int64), "axis")],
                   "gather")
    none = b.node("Equal", [count, b.const(np.array(0, np.int64), "nothing")], "equal")
    empty_g = helper.make_graph([helper.make_node("Constant", [], ["empty"], name="empty_value",
                                                  value=numpy_helper.from_array(np.zeros([1, 0], np.float32)))],
                                "empty", [], [helper.make_tensor_value_info("empty", TensorProto.FLOAT, None)])
    largest_g = helper.make_graph(
        [helper.make_node("Transpose", [positive], ["coords"], name="coords", perm=[1, 0]),
         helper.make_node("GatherND", [x.name, "coords"], ["picked"], name="picked"),
         helper.make_node("ReduceMax", ["picked"], ["largest"], name="largest", keepdims=1),
         helper.make_node("Unsqueeze", ["largest", "zero_axis"], ["largest_2d"], name="as_2d")],
        "largest", [], [helper.make_tensor_value_info("largest_2d", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([0], np.int64), "zero_axis")])
    second = b.node("If", [none], "if", then_branch=empty_g, else_branch=largest_g)

    # A third If gives an enclosing tensor as it is (then), or reshaped to a shape the enclosing graph
    # computes from constants alone (else): the branch imports that computation and folds it.
    dims = [b.node("Unsqueeze", [b.const(np.array(n, np.int64), "dim"), b.const(np.array([0], np.int64), "axes")],
                   "unsqueeze") for n in (3, 2)]
    flipped_shape = b.node("Concat", dims, "concat", axis=0)
    same_g = helper.make_graph([], "same", [], [helper.make_tensor_value_info(x.name, TensorProto.FLOAT, None)])
    flipped_g = helper.make_graph([helper.make_node("Reshape", [x.name, flipped_shape], ["flipped"], name="flip")],
                                  "flipped", [], [helper.make_tensor_value_info("flipped", TensorProto.FLOAT, None)])
    third = b.node("If", [cond], "if", then_branch=same_g, else_branch=flipped_g)

    def expected(v):
        first_out = (v * w).astype(np.float32) if v.sum(dtype=np.float64) > 0 else \
            np.array(np.nonzero(v > np.float32(0.5)), np.float32).reshape(2, -1)
        above = v[v > 0]
        second_out = np.zeros([1, 0], np.float32) if above.size == 0 else np.array([[above.max()]], np.float32)
        third_out = v if v.sum(dtype=np.float64) > 0 else v.reshape(3, 2)
        return [first_out, second_out, third_out]

    outs = expected(x.v)
    b.output(T(first, outs[0]), dims=["a", "b"])
    b.output(T(second, outs[1]), dims=[1, "n"])
    b.output(T(third, outs[2]), dims=["c", "d"])
    low = as_f32([[-0.9, -0.2, -0.6], [-0.1, -0.7, -0.4]])
    b.variants["negative"] = ([low], expected(low))
    return b


@model
def float_loop_scan():
    """Two Loops, each body run as a model of its own once per iteration. The first counts its iterations
    from the data (M = the number of positive elements of x, no cond): it adds an element of x, chosen by
    the iteration number (a Gather with a run-time index), times an enclosing constant to a carried sum,
    and stacks each iteration's sum (the carried output, listed again) and iteration number as scan
    outputs. The second is a while loop (cond,
    no M): it doubles a carried vector until its sum reaches an enclosing run-time value, and grows a carried
    list of the iteration numbers, whose shape changes every iteration (a new compile of the body per size).
    A third slices a constant by the iteration number (below). Variant `none`: no positive element, so the first runs no iteration (scan outputs of 0 rows); the second
    still runs at least once."""
    b = Builder("float_loop_scan")
    x = b.input([2, 3], name="x", values=as_f32([[0.5, -0.25, 0.75], [0.125, -1.0, 2.0]]))
    w = as_f32([1.0, -2.0, 0.5])
    wn = b.const(w, "w")
    positive = b.node("Cast", [b.node("Greater", [x.name, b.const(np.array(0, np.float32), "zero")], "greater")],
                      "cast", to=TensorProto.FLOAT)
    count = b.node("Cast", [b.node("ReduceSum", [positive], "reduce_sum", keepdims=0)], "cast", to=TensorProto.INT64)
    flat = b.node("Reshape", [x.name, b.const(np.array([-1], np.int64), "flat")], "reshape")
    vi = helper.make_tensor_value_info
    body = helper.make_graph(
        [helper.make_node("Gather", [flat, "i"], ["element"], name="element_i", axis=0),
         helper.make_node("Mul", ["element", wn], ["term"], name="term"),
         helper.make_node("Add", ["acc", "term"], ["acc_out"], name="accumulate"),
         helper.make_node("Cast", ["i"], ["i_f"], name="iteration_f", to=TensorProto.FLOAT),
         helper.make_node("Identity", ["c"], ["c_out"], name="keep_going")],
        "sum_body", [vi("i", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("acc", TensorProto.FLOAT, [3])],
        [vi("c_out", TensorProto.BOOL, []), vi("acc_out", TensorProto.FLOAT, [3]),
         vi("acc_out", TensorProto.FLOAT, [3]), vi("i_f", TensorProto.FLOAT, [])])  # acc_out twice
    acc0 = b.const(np.zeros(3, np.float32), "acc0")
    b.nodes.append(helper.make_node("Loop", [count, "", acc0], ["acc_final", "acc_rows", "iterations"],
                                    name="sum_loop", body=body))

    limit = b.node("Mul", [b.node("ReduceSum", [b.node("Abs", [x.name], "abs")], "reduce_sum", keepdims=0),
                           b.const(np.array(6, np.float32), "six")], "mul")
    start = b.node("Add", [b.node("Abs", [b.node("Gather", [x.name, b.const(np.array(0, np.int64), "row")],
                                                 "gather", axis=0)], "abs"),
                           b.const(np.array(0.25, np.float32), "quarter")], "add")
    while_body = helper.make_graph(
        [helper.make_node("Mul", ["v", "two"], ["v_out"], name="double"),
         helper.make_node("ReduceSum", ["v_out"], ["total"], name="total", keepdims=0),
         helper.make_node("Less", ["total", limit], ["c2_out"], name="below_limit"),
         helper.make_node("Unsqueeze", ["j", "axis0"], ["j1"], name="as_list"),
         helper.make_node("Concat", ["seen", "j1"], ["seen_out"], name="append", axis=0)],
        "double_body", [vi("j", TensorProto.INT64, []), vi("c2", TensorProto.BOOL, []),
                        vi("v", TensorProto.FLOAT, [3]), vi("seen", TensorProto.INT64, ["n"])],
        [vi("c2_out", TensorProto.BOOL, []), vi("v_out", TensorProto.FLOAT, [3]),
         vi("seen_out", TensorProto.INT64, ["m"])],
        [numpy_helper.from_array(np.array(2, np.float32), "two"),
         numpy_helper.from_array(np.array([0], np.int64), "axis0")])
    b.nodes.append(helper.make_node("Loop", ["", b.const(np.array(True), "go"), start,
                                             b.const(np.zeros(0, np.int64), "empty")],
                                    ["v_final", "seen_final"], name="double_loop", body=while_body))

    # A third slices an enclosing constant by the iteration number (Slice(table, i, i + 1), as ONNX's own Loop
    # test does): the body's Slice runs in a stage of the body compiled once per iteration number. (Few
    # iterations: every test model runs on every ISA, thread count and mode, under qemu and ASan too.)
    table = as_f32(np.arange(80) * 0.5)
    slice_body = helper.make_graph(
        [helper.make_node("Unsqueeze", ["k", "axis0"], ["from"], name="slice_from"),
         helper.make_node("Add", ["from", "one"], ["to"], name="slice_to"),
         helper.make_node("Slice", [b.const(table, "table"), "from", "to"], ["piece"], name="piece_k"),
         helper.make_node("Add", ["n", "one32"], ["n_out"], name="count_up"),
         helper.make_node("Identity", ["c3"], ["c3_out"], name="keep_going")],
        "slice_body", [vi("k", TensorProto.INT64, []), vi("c3", TensorProto.BOOL, []), vi("n", TensorProto.INT32, [])],
        [vi("c3_out", TensorProto.BOOL, []), vi("n_out", TensorProto.INT32, []), vi("piece", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.array([0], np.int64), "axis0"),
         numpy_helper.from_array(np.array([1], np.int64), "one"),
         numpy_helper.from_array(np.array(1, np.int32), "one32")])
    slices = b.node("Add", [count, b.const(np.array(2, np.int64), "base")], "add")
    # It also counts in an int32 carried value that the graph computes (a Cast to int32, held as int64).
    count32 = b.node("Cast", [count], "cast", to=TensorProto.INT32)
    b.nodes.append(helper.make_node("Loop", [slices, "", count32], ["counted", "pieces"], name="slice_loop",
                                    body=slice_body))

    def expected(v):
        flat_v = v.reshape(-1)
        acc = np.zeros(3, np.float32)
        rows, its = [], []
        for i in range(int((v > 0).sum())):
            acc = (acc + flat_v[i] * w).astype(np.float32)
            rows.append(acc)
            its.append(np.float32(i))
        acc_rows = np.array(rows, np.float32).reshape(-1, 3)
        lim = np.float32(np.abs(v).sum(dtype=np.float64) * 6)
        cur = (np.abs(v[0]) + np.float32(0.25)).astype(np.float32)
        seen, j, go = [], 0, True
        while go:
            cur = (cur * np.float32(2)).astype(np.float32)
            seen.append(j)
            go = bool(cur.sum(dtype=np.float64) < lim)
            j += 1
        positives = int((v > 0).sum())
        pieces = table[:2 + positives].reshape(-1, 1)
        return [acc, acc_rows, np.array(its, np.float32), cur, np.array(seen, np.int64), pieces,
                np.array(2 + 2 * positives, np.int32)]

    outs = expected(x.v)
    b.output(T("acc_final", outs[0]))
    b.output(T("acc_rows", outs[1]), dims=["iterations", 3])
    b.output(T("iterations", outs[2]), dims=["iterations"])
    b.output(T("v_final", outs[3]))
    b.output(T("seen_final", outs[4]), dims=["seen"])
    b.output(T("pieces", outs[5]), dims=["slices", 1])
    b.output(T("counted", outs[6]))
    low = as_f32([[-0.5, -0.25, -0.75], [-0.125, -1.0, -2.0]])
    b.variants["none"] = ([low], expected(low))
    return b


@model
def qdq_loop_refine():
    """A Loop over quantized tensors: the carried value is the uint8 output of a QuantizeLinear, and the body
    (a model of its own, compiled int8) adds the enclosing graph's quantized input to it, applies Relu and
    quantizes again (a quantized add), three times; a scan output gives each iteration's dequantized value.
    The trip count is a constant; the body reads the enclosing uint8 tensor as a run-time input."""
    b = Builder("qdq_loop_refine")
    x = b.input([1, 8], -1.0, 1.0, name="x")
    s, z = calibrate(np.array([-1.0, 3.0]))
    xq = b.q(x, s, z)
    vi = helper.make_tensor_value_info
    sn, zn = b.const(np.array(s, np.float32), "scale"), b.const(np.array(z, np.uint8), "zero_point")
    body = helper.make_graph(
        [helper.make_node("DequantizeLinear", ["vq", sn, zn], ["v"], name="dq_carried"),
         helper.make_node("DequantizeLinear", [xq.name, sn, zn], ["xd"], name="dq_outer"),
         helper.make_node("Add", ["v", "xd"], ["sum"], name="add"),
         helper.make_node("Relu", ["sum"], ["relu"], name="relu"),
         helper.make_node("QuantizeLinear", ["relu", sn, zn], ["vq_out"], name="q_carried"),
         helper.make_node("DequantizeLinear", ["vq_out", sn, zn], ["v_scan"], name="dq_scan"),
         helper.make_node("Identity", ["c"], ["c_out"], name="keep_going")],
        "refine_body", [vi("i", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []),
                        vi("vq", TensorProto.UINT8, [1, 8])],
        [vi("c_out", TensorProto.BOOL, []), vi("vq_out", TensorProto.UINT8, [1, 8]),
         vi("v_scan", TensorProto.FLOAT, [1, 8])])
    b.nodes.append(helper.make_node("Loop", [b.const(np.array(3, np.int64), "trips"), "", xq.name],
                                    ["vq_final", "v_steps"], name="refine_loop", body=body))
    vq, steps = xq.v, []
    for _ in range(3):
        total = (dequantize(vq, s, z) + dequantize(xq.v, s, z)).astype(np.float32)
        vq = quantize(np.maximum(total, np.float32(0)), s, z, np.uint8)
        steps.append(dequantize(vq, s, z))
    b.output(T("vq_final", vq, s, z))
    b.output(T("v_steps", np.array(steps, np.float32)), dims=["steps", 1, 8])
    return b


@model
def qdq_compress_rows():
    """Compress along an axis of a QuantizeLinear's uint8 output (the bytes move with their params; the later
    stage's DequantizeLinear reads them), the rows chosen by a condition computed from the data; and Compress
    of the flattened float input (no axis) by a condition shorter than it. The variant `none` keeps
    nothing."""
    b = Builder("qdq_compress_rows")
    x = b.input([4, 6], -1, 1.5, name="x")
    xq = b.q(x)
    largest = b.node("ReduceMax", [x.name], "reduce_max", axes=[1], keepdims=0)
    rows = b.node("Greater", [largest, b.const(np.array(1.0, np.float32), "threshold")], "greater")
    kept = b.node("Compress", [xq.name, rows], "compress", axis=0)
    kept_d = b.dq(T(kept, np.zeros(1, np.uint8), xq.s, xq.z))  # values: expected() below
    flat_first = b.node("Slice", [b.node("Reshape", [x.name, b.const(np.array([-1], np.int64), "flat")], "reshape"),
                                  b.const(np.array([0], np.int64), "starts"), b.const(np.array([20], np.int64), "ends")],
                        "slice")
    positive = b.node("Greater", [flat_first, b.const(np.array(0.0, np.float32), "zero")], "greater")
    picked = b.node("Compress", [x.name, positive], "compress")

    def expected(v):
        q = quantize(v, xq.s, xq.z, np.uint8)
        keep = v.max(axis=1) > np.float32(1.0)
        flat = v.reshape(-1)
        return [dequantize(q[keep], xq.s, xq.z), flat[:20][flat[:20] > 0]]

    outs = expected(x.v)
    assert 0 < len(outs[0]) < 4, len(outs[0])
    b.output(T(kept_d.name, outs[0], xq.s, xq.z), dims=["k", 6])
    b.output(T(picked, outs[1]), dims=["m"])
    low = as_f32(b.rng.uniform(-1, -0.1, (4, 6)))
    b.variants["none"] = ([low], expected(low))
    return b


@model
def float_nonzero_select():
    """NonZero of a comparison, its coordinates transposed into GatherND (the elements above 0.3), and the
    coordinates divided by the tensor's last dimension (a Shape read before the selection). The variant
    `none` has no element above 0.3."""
    b = Builder("float_nonzero_select")
    x = b.input([2, 3, 4], -1, 1)
    mask = b.node("Greater", [x.name, b.const(np.array(0.3, np.float32), "threshold")], "greater")
    nz = b.node("NonZero", [mask], "nonzero")
    picked = b.node("GatherND", [x.name, b.node("Transpose", [nz], "transpose", perm=[1, 0])], "gather_nd")
    last = b.node("Gather", [b.node("Shape", [x.name], "shape"), b.const(np.array(2, np.int64), "axis")], "gather")
    scaled = b.node("Div", [b.node("Cast", [nz], "cast", to=TensorProto.FLOAT),
                            b.node("Cast", [last], "cast", to=TensorProto.FLOAT)], "div")

    def expected(v):
        coords = np.array(np.nonzero(v > np.float32(0.3)), np.int64).reshape(3, -1)
        return [coords, v[tuple(coords)], (coords.astype(np.float32) / np.float32(4)).astype(np.float32)]

    outs = expected(x.v)
    for name, value, dims in ((nz, outs[0], [3, "n"]), (picked, outs[1], ["n"]), (scaled, outs[2], [3, "n"])):
        b.output(T(name, value), dims=dims)
    low = as_f32(b.rng.uniform(-1, 0.3, (2, 3, 4)))
    b.variants["none"] = ([low], expected(low))
    return b


@model
def float_if_rank_by_condition():
    """An If whose branches give different ranks, as torchvision's MultiScaleRoIAlign writes one (a Squeeze
    where a dimension is 1, else the tensor as it is): what follows compiles for the rank the taken branch
    gives. Its condition comes from the data (the sum of x above 0). Also a Concat joining run-time data to
    constants on both sides (a column of batch indices before RoI boxes), and a rank-4 one whose first input
    is a constant. The variant `negative` takes the else branch."""
    b = Builder("float_if_rank_by_condition")
    x = b.input([2, 3], name="x", values=as_f32([[0.9, -0.2, 0.6], [0.1, 0.7, -0.4]]))
    column = b.node("Slice", [x.name, b.const(np.array([0], np.int64), "start"), b.const(np.array([1], np.int64), "end"),
                              b.const(np.array([1], np.int64), "axis")], "slice")
    total = b.node("ReduceSum", [x.name, b.const(np.array([0, 1], np.int64), "axes")], "reduce_sum", keepdims=0)
    cond = b.node("Greater", [total, b.const(np.array(0, np.float32), "zero")], "greater")
    squeezed_g = helper.make_graph(
        [helper.make_node("Squeeze", [column, "axis1"], ["squeezed"], name="squeeze_column")], "squeezed", [],
        [helper.make_tensor_value_info("squeezed", TensorProto.FLOAT, ["n"])],
        [numpy_helper.from_array(np.array([1], np.int64), "axis1")])
    kept_g = helper.make_graph([helper.make_node("Identity", [column], ["kept"], name="keep_column")], "kept", [],
                               [helper.make_tensor_value_info("kept", TensorProto.FLOAT, ["n", 1])])
    chosen = b.node("If", [cond], "if", then_branch=squeezed_g, else_branch=kept_g)
    rectified = b.node("Relu", [chosen], "relu")
    joined = b.node("Concat", [b.const(np.full((2, 1), 7, np.float32), "left"), x.name,
                               b.const(np.full((2, 2), -3, np.float32), "right")], "concat", axis=1)
    image = b.node("Reshape", [x.name, b.const(np.array([1, 1, 2, 3], np.int64), "image_shape")], "reshape")
    planes = b.node("Concat", [b.const(np.full((1, 2, 2, 3), 0.5, np.float32), "planes"), image], "concat", axis=1)

    def expected(v):
        col = v[:, :1]
        picked = col[:, 0] if v.sum(dtype=np.float64) > 0 else col
        return [np.maximum(picked, 0).astype(np.float32),
                np.concatenate([np.full((2, 1), 7, np.float32), v, np.full((2, 2), -3, np.float32)], axis=1),
                np.concatenate([np.full((1, 2, 2, 3), 0.5, np.float32), v.reshape(1, 1, 2, 3)], axis=1)]

    outs = expected(x.v)
    b.output(T(rectified, outs[0]), dims=None)
    b.output(T(joined, outs[1]))
    b.output(T(planes, outs[2]))
    low = as_f32([[-0.9, -0.2, -0.6], [-0.1, -0.7, -0.4]])
    b.variants["negative"] = ([low], expected(low))
    return b


def roi_align_reference(x, rois, batch, out_h, out_w, ratio, scale, half_pixel, max_mode):
    """ONNX RoiAlign in float64 (ONNX Runtime's algorithm): x NCHW, rois [R, 4] (x1, y1, x2, y2)."""
    _, c, h, w = x.shape
    y = np.zeros((len(rois), c, out_h, out_w))
    offset = 0.5 if half_pixel else 0.0
    for r, roi in enumerate(rois.astype(np.float64)):
        x1, y1, x2, y2 = roi * scale - offset
        roi_w, roi_h = x2 - x1, y2 - y1
        if not half_pixel:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / out_h, roi_w / out_w
        grid_h = ratio if ratio > 0 else int(math.ceil(roi_h / out_h))
        grid_w = ratio if ratio > 0 else int(math.ceil(roi_w / out_w))
        image = x[batch[r]].astype(np.float64)
        for ph in range(out_h):
            for pw in range(out_w):
                terms = []
                for iy in range(grid_h):
                    yy = y1 + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        xx = x1 + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                        if yy < -1 or yy > h or xx < -1 or xx > w:
                            terms.append(np.zeros((4, c)))
                            continue
                        yv, xv = max(yy, 0.0), max(xx, 0.0)
                        y_low, x_low = int(yv), int(xv)
                        if y_low >= h - 1:
                            y_low = y_high = h - 1
                            yv = float(y_low)
                        else:
                            y_high = y_low + 1
                        if x_low >= w - 1:
                            x_low = x_high = w - 1
                            xv = float(x_low)
                        else:
                            x_high = x_low + 1
                        ly, lx = yv - y_low, xv - x_low
                        hy, hx = 1 - ly, 1 - lx
                        terms.append(np.stack([hy * hx * image[:, y_low, x_low], hy * lx * image[:, y_low, x_high],
                                               ly * hx * image[:, y_high, x_low], ly * lx * image[:, y_high, x_high]]))
                if max_mode:
                    y[r, :, ph, pw] = np.max([t.max(axis=0) for t in terms], axis=0)
                else:
                    y[r, :, ph, pw] = np.sum(terms, axis=(0, 1)) / max(grid_h * grid_w, 1)
    return y.astype(np.float32)


@model
def float_roi_align():
    """RoiAlign (opset 16) on a two-image feature map, regions and batch indices given at run time: average
    pooling with half_pixel coordinates and 2 x 2 samples per cell; max pooling (ONNX Runtime's: the largest
    weighted corner term) with output_half_pixel coordinates, a spatial scale and adaptive sampling (ceil of
    the cell size); and the average of features that come quantized (DequantizeLinear). Regions inside,
    across the border, wholly outside, thinner than a pixel and reversed."""
    b = Builder("float_roi_align", opset=16)
    x = b.input([2, 3, 6, 8], -1, 1, name="features")
    rois = as_f32([[0, 0, 7, 5], [1.5, 0.5, 5.25, 4.75], [-3, -2, 4, 3], [6, 4, 12, 9], [9, 7, 14, 12],
                   [2, 2, 2.2, 5], [5, 4, 3, 1]])
    batch = np.array([0, 1, 1, 0, 0, 1, 0], np.int64)
    b.inputs.append(helper.make_tensor_value_info("rois", TensorProto.FLOAT, list(rois.shape)))
    b.feeds.append(rois)
    b.inputs.append(helper.make_tensor_value_info("batch_indices", TensorProto.INT64, list(batch.shape)))
    b.feeds.append(batch)
    avg = b.fresh("roi_align")
    b.nodes.append(helper.make_node("RoiAlign", [x.name, "rois", "batch_indices"], [avg], name=avg, output_height=3,
                                    output_width=4, sampling_ratio=2, spatial_scale=1.0,
                                    coordinate_transformation_mode="half_pixel"))
    largest = b.fresh("roi_align")
    b.nodes.append(helper.make_node("RoiAlign", [x.name, "rois", "batch_indices"], [largest], name=largest, mode="max",
                                    output_height=2, output_width=2, sampling_ratio=0, spatial_scale=0.5,
                                    coordinate_transformation_mode="output_half_pixel"))
    xd = b.qdq(x)
    quantized = b.fresh("roi_align")
    b.nodes.append(helper.make_node("RoiAlign", [xd.name, "rois", "batch_indices"], [quantized], name=quantized,
                                    output_height=2, output_width=3, sampling_ratio=1))
    b.output(T(avg, roi_align_reference(x.v, rois, batch, 3, 4, 2, 1.0, True, False)))
    b.output(T(largest, roi_align_reference(x.v, rois, batch, 2, 2, 0, 0.5, False, True)))
    b.output(T(quantized, roi_align_reference(xd.v, rois, batch, 2, 3, 1, 1.0, True, False)))
    return b


@model
def float_loop_appends_in_a_later_stage():
    """A Loop that appends a row to a carried tensor every iteration, as Mask R-CNN's mask pasting does, in a
    stage of its body after a data-dependent Slice (its end is the iteration number). Its Concat only appends,
    so the Loop appends for it (graph::DynamicNode::appended_by); the enclosing run-time tensor the Slice
    reads is read in that later stage, where the body session reads it in place (lent, runtime/loops.cpp),
    and must come back intact for the next iteration. Row k + 1 is the sum of the first k + 1 rows of 2 x; a
    second carried value passes through the body unchanged (a body output that is its input), a third has a
    constant row of its own rank-and-size appended (described as growing: [-1, 2]), and a scan output
    stacks each iteration's row. A second Loop appends the same rows but also reads the carried
    value (its column sums, a scan output), so its Concat stays: the body is lent the whole value."""
    b = Builder("float_loop_appends_in_a_later_stage")
    x = b.input([5, 4], name="x", values=as_f32(np.arange(20).reshape(5, 4) * 0.125 - 1.0))
    rows = b.node("Mul", [x.name, b.const(np.array(2, np.float32), "two")], "rows")
    vi = helper.make_tensor_value_info

    def next_row(suffix):
        """Row i + 1 (tensor "row" + suffix) from iteration number "i" + suffix: the sum of rows[:i + 1]."""
        return [helper.make_node("Add", ["i" + suffix, "one"], ["k" + suffix], name="k"),
                helper.make_node("Unsqueeze", ["k" + suffix, "axis0"], ["ends" + suffix], name="ends"),
                helper.make_node("Slice", [rows, "zero", "ends" + suffix], ["first_rows" + suffix], name="first_rows"),
                helper.make_node("ReduceSum", ["first_rows" + suffix, "axis0"], ["row" + suffix], name="row",
                                 keepdims=1)]

    body = helper.make_graph(
        next_row("") + [
         helper.make_node("Concat", ["acc", "row"], ["acc_out"], name="append", axis=0),
         helper.make_node("Concat", ["marks", "mark"], ["marks_out"], name="append_mark", axis=0),
         helper.make_node("Identity", ["c"], ["c_out"], name="keep_going")],
        "append_body", [vi("i", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []),
                        vi("acc", TensorProto.FLOAT, ["n", 4]), vi("kept", TensorProto.FLOAT, [4]),
                        vi("marks", TensorProto.FLOAT, ["p", 2])],
        [vi("c_out", TensorProto.BOOL, []), vi("acc_out", TensorProto.FLOAT, ["m", 4]),
         vi("kept", TensorProto.FLOAT, [4]), vi("marks_out", TensorProto.FLOAT, ["q", 2]),
         vi("row", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(np.array(1, np.int64), "one"),
         numpy_helper.from_array(np.array([0], np.int64), "zero"),
         numpy_helper.from_array(np.array([0], np.int64), "axis0"),
         numpy_helper.from_array(as_f32([[7.0, -7.0]]), "mark")])
    acc0 = as_f32([[0.5, -0.5, 1.0, 2.0]])
    kept = as_f32([3.0, -1.5, 0.25, 8.0])
    marks0 = as_f32([[1.0, 2.0]])
    b.nodes.append(helper.make_node("Loop", [b.const(np.array(5, np.int64), "trips"), "",
                                             b.const(acc0, "acc0"), b.const(kept, "kept0"), b.const(marks0, "marks0")],
                                    ["acc_final", "kept_final", "marks_final", "row_scan"], name="append_loop",
                                    body=body))
    # The same appending, but the body also reads the carried value (its column sums, a scan output), so its
    # Concat stays in the body, which is given the whole value every iteration.
    reread_body = helper.make_graph(
        next_row("2") + [
         helper.make_node("ReduceSum", ["acc2", "axis0"], ["column_sums"], name="column_sums", keepdims=1),
         helper.make_node("Concat", ["acc2", "row2"], ["acc2_out"], name="append_reread", axis=0),
         helper.make_node("Identity", ["c2"], ["c2_out"], name="keep_going")],
        "reread_body", [vi("i2", TensorProto.INT64, []), vi("c2", TensorProto.BOOL, []),
                        vi("acc2", TensorProto.FLOAT, ["n", 4])],
        [vi("c2_out", TensorProto.BOOL, []), vi("acc2_out", TensorProto.FLOAT, ["m", 4]),
         vi("column_sums", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(np.array(1, np.int64), "one"),
         numpy_helper.from_array(np.array([0], np.int64), "zero"),
         numpy_helper.from_array(np.array([0], np.int64), "axis0")])
    b.nodes.append(helper.make_node("Loop", [b.const(np.array(5, np.int64), "trips"), "", b.const(acc0, "acc0")],
                                    ["acc2_final", "column_sum_scan"], name="reread_loop", body=reread_body))
    r = (x.v * 2).astype(np.float64)
    appended = np.array([r[:k + 1].sum(axis=0) for k in range(5)], np.float32)
    full = np.concatenate([acc0, appended])
    b.output(T("acc_final", full), dims=["rows", 4])
    b.output(T("kept_final", kept))
    b.output(T("marks_final", np.concatenate([marks0] + [as_f32([[7.0, -7.0]])] * 5)), dims=["marks", 2])
    b.output(T("row_scan", appended.reshape(5, 1, 4)), dims=["iterations", 1, 4])
    b.output(T("acc2_final", full), dims=["rows2", 4])
    sums = np.array([full[:k + 1].astype(np.float64).sum(axis=0, keepdims=True) for k in range(5)], np.float32)
    b.output(T("column_sum_scan", sums), dims=["iterations2", 1, 4])
    return b


@model
def float_loop_append_width():
    """A Loop whose Concat only appends (the Loop appends for it, runtime/loops.cpp), each iteration the first
    widths[i] elements of x's first row as a row: with widths all 2 the rows continue the carried [1, 2]
    value; tests/graph/model_tests.cpp gives other widths, which must be an error naming the Concat (as the
    Concat's own would be), in whichever iteration they come."""
    b = Builder("float_loop_append_width")
    x = b.input([2, 6], name="x", values=as_f32(np.arange(12).reshape(2, 6) * 0.25 - 1.0))
    widths = np.array([2, 2, 2], np.int64)
    b.inputs.append(helper.make_tensor_value_info("widths", TensorProto.INT64, [3]))
    b.feeds.append(widths)
    first_row = b.node("Slice", [x.name, b.const(np.array([0], np.int64), "start0"),
                                 b.const(np.array([1], np.int64), "end1"), b.const(np.array([0], np.int64), "axis0")],
                       "first_row")
    vi = helper.make_tensor_value_info
    body = helper.make_graph(
        [helper.make_node("Gather", ["widths", "i"], ["w"], name="width_i", axis=0),
         helper.make_node("Unsqueeze", ["w", "axis0"], ["ends"], name="ends"),
         helper.make_node("Slice", [first_row, "zero", "ends", "axis1"], ["piece"], name="piece"),
         helper.make_node("Concat", ["acc", "piece"], ["acc_out"], name="append_width", axis=0),
         helper.make_node("Identity", ["c"], ["c_out"], name="keep_going")],
        "width_body", [vi("i", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []),
                       vi("acc", TensorProto.FLOAT, ["n", 2])],
        [vi("c_out", TensorProto.BOOL, []), vi("acc_out", TensorProto.FLOAT, ["m", 2])],
        [numpy_helper.from_array(np.array([0], np.int64), "zero"),
         numpy_helper.from_array(np.array([0], np.int64), "axis0"),
         numpy_helper.from_array(np.array([1], np.int64), "axis1")])
    acc0 = as_f32([[0.5, 1.5]])
    b.nodes.append(helper.make_node("Loop", [b.const(np.array(3, np.int64), "trips"), "", b.const(acc0, "acc0")],
                                    ["rows"], name="width_loop", body=body))
    b.output(T("rows", np.concatenate([acc0] + [x.v[:1, :2]] * 3)), dims=["n_rows", 2])
    return b


@model
def float_loop_carried_shape():
    """A Loop whose body reshapes its data to a loop-carried shape (the body's Reshape runs in a stage of the
    body compiled for each shape it meets) and swaps the shape's two entries every iteration; it stacks each
    iteration's largest row sum. A second Loop runs 70 iterations, more than the 64 compiled stages a model
    keeps, each slicing a constant at its iteration number (its body's Slice compiles once per iteration
    number, and the oldest are dropped as it goes). A third quantizes x with a scale set by the iteration
    number, which compiles only with the iteration number as a constant."""
    b = Builder("float_loop_carried_shape")
    x = b.input([12], -1, 1, name="x")
    vi = helper.make_tensor_value_info
    body = helper.make_graph(
        [helper.make_node("Reshape", ["data", "dims"], ["grid"], name="reshape_to_carried"),
         helper.make_node("ReduceSum", ["grid", "axis1"], ["row_sums"], name="row_sums", keepdims=0),
         helper.make_node("ReduceMax", ["row_sums"], ["largest"], name="largest", keepdims=1),
         helper.make_node("Slice", ["dims", "one", "two"], ["second"], name="second"),
         helper.make_node("Slice", ["dims", "zero", "one"], ["first"], name="first"),
         helper.make_node("Concat", ["second", "first"], ["dims_out"], name="swap", axis=0),
         helper.make_node("Identity", ["c"], ["c_out"], name="keep_going"),
         helper.make_node("Identity", ["data"], ["data_out"], name="same_data")],
        "reshape_body", [vi("i", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []),
                         vi("dims", TensorProto.INT64, [2]), vi("data", TensorProto.FLOAT, [12])],
        [vi("c_out", TensorProto.BOOL, []), vi("dims_out", TensorProto.INT64, [2]),
         vi("data_out", TensorProto.FLOAT, [12]), vi("largest", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.array([v], np.int64), n)
         for n, v in (("axis1", 1), ("zero", 0), ("one", 1), ("two", 2))])
    b.nodes.append(helper.make_node("Loop", [b.const(np.array(3, np.int64), "trips"), "",
                                             b.const(np.array([3, 4], np.int64), "dims0"), x.name],
                                    ["dims_final", "data_final", "largest_rows"], name="reshape_loop", body=body))
    table = as_f32(np.arange(80) * 0.25)
    slice_body = helper.make_graph(
        [helper.make_node("Unsqueeze", ["k", "axis0"], ["from"], name="slice_from"),
         helper.make_node("Add", ["from", "one"], ["to"], name="slice_to"),
         helper.make_node("Slice", [b.const(table, "table"), "from", "to"], ["piece"], name="piece_k"),
         helper.make_node("Identity", ["c2"], ["c2_out"], name="keep_going")],
        "slice_body", [vi("k", TensorProto.INT64, []), vi("c2", TensorProto.BOOL, [])],
        [vi("c2_out", TensorProto.BOOL, []), vi("piece", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.array([0], np.int64), "axis0"),
         numpy_helper.from_array(np.array([1], np.int64), "one")])
    b.nodes.append(helper.make_node("Loop", [b.const(np.array(70, np.int64), "trips"), ""], ["pieces"],
                                    name="long_slice_loop", body=slice_body))
    # A third quantizes x with a scale computed from the iteration number: a quantization parameter must be a
    # constant, so this body compiles only with its iteration number as one (once per iteration).
    quantize_body = helper.make_graph(
        [helper.make_node("Cast", ["j"], ["j_f"], name="iteration_f", to=TensorProto.FLOAT),
         helper.make_node("Add", ["j_f", "one_f"], ["j1"], name="plus_one"),
         helper.make_node("Mul", ["j1", "step"], ["scale"], name="scale_j"),
         helper.make_node("QuantizeLinear", [x.name, "scale", "zp"], ["xq_j"], name="quantize_j"),
         helper.make_node("DequantizeLinear", ["xq_j", "scale", "zp"], ["x_j"], name="dequantize_j"),
         helper.make_node("Identity", ["c3"], ["c3_out"], name="keep_going")],
        "quantize_body", [vi("j", TensorProto.INT64, []), vi("c3", TensorProto.BOOL, [])],
        [vi("c3_out", TensorProto.BOOL, []), vi("x_j", TensorProto.FLOAT, [12])],
        [numpy_helper.from_array(np.array(1, np.float32), "one_f"),
         numpy_helper.from_array(np.array(0.0625, np.float32), "step"),
         numpy_helper.from_array(np.array(128, np.uint8), "zp")])
    b.nodes.append(helper.make_node("Loop", [b.const(np.array(3, np.int64), "trips"), ""], ["requantized"],
                                    name="quantize_loop", body=quantize_body))

    def expected(v):
        dims, rows = [3, 4], []
        for _ in range(3):
            rows.append([v.reshape(dims).astype(np.float64).sum(axis=1).astype(np.float32).max()])
            dims = dims[::-1]
        scales = [np.float32(j + 1) * np.float32(0.0625) for j in range(3)]
        requantized = np.array([dequantize(quantize(v, sc, 128, np.uint8), sc, 128) for sc in scales], np.float32)
        return [np.array(dims, np.int64), v, np.array(rows, np.float32), table[:70].reshape(70, 1), requantized]

    outs = expected(x.v)
    b.output(T("dims_final", outs[0]))
    b.output(T("data_final", outs[1]))
    b.output(T("largest_rows", outs[2]), dims=["iterations", 1])
    b.output(T("pieces", outs[3]), dims=["slices", 1])
    b.output(T("requantized", outs[4]), dims=["scales", 12])
    return b


@model
def float_resize_runtime_roi():
    """A Resize (opset 13) whose roi is computed at run time: roi only matters for tf_crop_and_resize, so the
    model still compiles as one program with its output's shape known at load (not in stages)."""
    b = Builder("float_resize_runtime_roi")
    x = b.input([1, 1, 2, 3], name="x")
    total = b.node("Reshape", [b.node("ReduceSum", [x.name], "reduce_sum", keepdims=1),
                               b.const(np.array([1], np.int64), "one")], "reshape")
    roi = b.node("Mul", [total, b.const(np.zeros(8, np.float32), "zeros")], "mul")
    y = b.fresh("resize")
    b.nodes.append(helper.make_node("Resize", [x.name, roi, b.const(np.array([1, 1, 2, 2], np.float32), "scales")],
                                    [y], name=y, mode="nearest", coordinate_transformation_mode="asymmetric",
                                    nearest_mode="floor"))
    b.output(T(y, np.repeat(np.repeat(x.v, 2, axis=2), 2, axis=3)))
    return b


@model
def float_expand_runtime_shape_undeclared():
    """Expand to a shape given as an int64 input, the output declared without a shape: placeholder zeros do
    not broadcast, so nothing describes the output before a run (listed as float32 of rank 0), and the run
    gives it as the shape says. The variant `wide` expands to another shape."""
    b = Builder("float_expand_runtime_shape_undeclared")
    x = b.input([2, 1], name="x")
    b.inputs.append(helper.make_tensor_value_info("shape", TensorProto.INT64, [2]))
    b.feeds.append(np.array([2, 3], np.int64))
    y = b.node("Expand", [x.name, "shape"], "expand")
    b.output(T(y, np.broadcast_to(x.v, (2, 3)).copy()))

    def undeclared(m):
        m.graph.output[0].type.tensor_type.ClearField("shape")
    b.patch = undeclared
    b.variants["wide"] = ([x.v, np.array([2, 5], np.int64)], [np.broadcast_to(x.v, (2, 5)).copy()])
    return b


@model
def float_runtime_shape_operands():
    """Operands that set a shape, computed from run-time data: each node that reads one runs in a later stage,
    compiled for the operand's value (graph/stages.h). K, the number of positive elements of x, sets TopK's K,
    Range's limit, Slice's start, Expand's rows, and (as K mod 2) CumSum's axis; a Reshape of the quantized x
    (uint8, which stays quantized) takes its shape from an int64 graph input. The variant `other` has another
    K and shape, so every such stage compiles again."""
    b = Builder("float_runtime_shape_operands")
    x = b.input([2, 6], name="x", values=as_f32([[0.5, -0.25, 0.75, -1.0, 0.3, 0.1],
                                                 [-0.5, 0.2, -0.125, 0.9, -0.7, 0.6]]))
    b.inputs.append(helper.make_tensor_value_info("shape", TensorProto.INT64, [2]))
    shape = np.array([3, 4], np.int64)
    b.feeds.append(shape)
    xq = b.q(x, s=np.float32(1 / 128), z=128)
    positive = b.node("Cast", [b.node("Greater", [x.name, b.const(np.array(0, np.float32), "zero")], "greater")],
                      "cast", to=TensorProto.FLOAT)
    k = b.node("Cast", [b.node("ReduceSum", [positive], "reduce_sum", keepdims=0)], "cast", to=TensorProto.INT64)
    k1 = b.node("Unsqueeze", [k, b.const(np.array([0], np.int64), "axes")], "unsqueeze")
    flat = b.node("Reshape", [x.name, b.const(np.array([-1], np.int64), "flat")], "reshape")
    top = b.fresh("topk")
    b.nodes.append(helper.make_node("TopK", [flat, k1], [top + "_values", top + "_indices"], name=top))
    ramp = b.node("Range", [b.const(np.array(0, np.int64), "start"), k, b.const(np.array(1, np.int64), "delta")],
                  "range")
    tail = b.node("Slice", [flat, k1, b.const(np.array([12], np.int64), "end")], "slice")
    axis = b.node("Mod", [k, b.const(np.array(2, np.int64), "two")], "mod")
    sums = b.node("CumSum", [x.name, axis], "cumsum")
    first_row = b.node("Slice", [x.name, b.const(np.array([0], np.int64), "row_start"),
                                 b.const(np.array([1], np.int64), "row_end")], "slice")
    rows = b.node("Expand", [first_row, b.node("Concat", [k1, b.const(np.array([6], np.int64), "width")],
                                               "concat", axis=0)], "expand")
    reshaped = b.node("Reshape", [xq.name, "shape"], "reshape")

    def expected(v, dims):
        flat_v = v.reshape(-1)
        count = int((v > 0).sum())
        order = np.argsort(-flat_v, kind="stable")[:count]
        q = quantize(v, np.float32(1 / 128), 128, np.uint8)
        return [flat_v[order], order.astype(np.int64), np.arange(count, dtype=np.int64), flat_v[count:],
                np.cumsum(v.astype(np.float64), axis=count % 2).astype(np.float32),
                np.repeat(v[:1], count, axis=0), q.reshape(dims)]

    outs = expected(x.v, shape)
    b.output(T(top + "_values", outs[0]), dims=["k"])
    b.output(T(top + "_indices", outs[1]), dims=["k"])
    b.output(T(ramp, outs[2]), dims=["k"])
    b.output(T(tail, outs[3]), dims=["rest"])
    b.output(T(sums, outs[4]), dims=[2, 6])
    b.output(T(rows, outs[5]), dims=["k", 6])
    b.output(T(reshaped, outs[6], xq.s, xq.z), dims=["rows", "columns"])
    other = as_f32([[0.5, -0.25, -0.75, -1.0, 0.3, -0.1], [-0.5, 0.2, -0.125, -0.9, -0.7, -0.6]])
    other_shape = np.array([6, 2], np.int64)
    b.variants["other"] = ([other, other_shape], expected(other, other_shape))
    return b


@model
def float_fused_activations():
    """Float activations that octet folds into the operator before them (lower_float.cpp): SiLU spelled
    Mul(x, Sigmoid(x)) after a convolution (either operand order), HardSwish spelled Mul(x, HardSigmoid(x))
    after Conv + Relu, LeakyRelu after a depthwise convolution, Tanh after a transposed convolution, a
    squeeze-excite gate (Sigmoid after a 1x1 convolution) and SiLU after an Add (one unary operator instead
    of two). Left unfused: a Sigmoid whose output is also a graph output, and a HardSigmoid with other
    constants than HardSwish's."""
    b = Builder("float_fused_activations", opset=13)
    sig = lambda v: 1 / (1 + np.exp(-v))
    hsig = lambda v: np.clip(v / 6 + 0.5, 0, 1)
    x = b.input([1, 6, 9, 9], -2, 2)
    c1 = float_conv(b, x, 16, 3, pads=(1, 1, 1, 1), gain=0.8)
    y = b.binary("Mul", c1, b.unary("Sigmoid", c1, sig))  # SiLU
    c2 = float_conv(b, y, 16, 3, pads=(1, 1, 1, 1), group=16, gain=0.8)
    y = b.binary("Mul", b.unary("Sigmoid", c2, sig), c2)  # SiLU, the gate first
    r = b.relu(float_conv(b, y, 20, 1, gain=0.6))
    y = b.binary("Mul", r, b.unary("HardSigmoid", r, hsig, alpha=1.0 / 6.0, beta=0.5))  # HardSwish
    y = b.unary("LeakyRelu", float_conv(b, y, 20, 3, pads=(1, 1, 1, 1), group=20), lambda v: np.where(v < 0, 0.1 * v, v),
                alpha=0.1)
    w = fconst(b, b.rng.normal(0, 0.4, (20, 8, 2, 2)), "deconv_weight")
    y = b.unary("Tanh", b.conv_transpose(y, w, fconst(b, b.rng.normal(0, 0.1, 8), "deconv_bias"), strides=(2, 2)),
                np.tanh)  # 18 x 18
    gate = b.unary("Sigmoid", float_conv(b, b.global_average_pool(y), 8, 1), sig)
    y = b.binary("Mul", y, gate)  # squeeze-excite: the gate multiplies another tensor
    s = b.binary("Add", y, y)
    y = b.binary("Mul", s, b.unary("Sigmoid", s, sig))  # SiLU after an Add
    c3 = float_conv(b, y, 4, 1, gain=0.5)
    kept = b.unary("Sigmoid", c3, sig)  # also an output: stays an operator of its own
    b.output(b.binary("Mul", c3, kept))
    b.output(kept)
    c4 = float_conv(b, y, 4, 1, gain=0.5)
    b.output(b.binary("Mul", c4, b.unary("HardSigmoid", c4, lambda v: np.clip(0.2 * v + 0.5, 0, 1), alpha=0.2,
                                         beta=0.5)))
    return b


@model
def float_pre_activation():
    """BatchNormalization before a convolution, as in pre-activation blocks (DenseNet: a Concat -> BN -> Relu
    -> 1x1 conv, ResNet v2), where octet runs the Relu / Clip and a following activation in the
    normalization's own pass (lower_float_reduce.cpp): BN -> Relu, BN -> Clip(0, 6), BN -> SiLU spelled
    Mul(x, Sigmoid(x)), BN -> Relu -> Sigmoid; and the first BN reads the pieces of the Concat before it
    (graph/passes/fuse_concat_affine.h). Left as operators: the Relu after a BN whose output is also a graph
    output, and a Relu then Clip whose ranges do not meet (the Clip stays)."""
    b = Builder("float_pre_activation", opset=13)
    sig = lambda v: 1 / (1 + np.exp(-v))
    x = b.input([1, 6, 7, 7], -2, 2)
    f = b.concat([x, float_conv(b, x, 10, 3, pads=(1, 1, 1, 1), gain=0.6)], 1)
    y = float_conv(b, b.relu(batch_norm(b, f)), 12, 1, gain=0.5)  # DenseNet's layer
    # (A BN right after a convolution folds into its weights: an Add between keeps it a BN.)
    y = b.binary("Add", y, y)
    y = float_conv(b, b.clip(batch_norm(b, y), 0.0, 6.0), 12, 3, pads=(1, 1, 1, 1), group=12, gain=0.5)
    n = batch_norm(b, b.binary("Add", y, y))
    y = b.binary("Mul", n, b.unary("Sigmoid", n, sig))  # SiLU
    y = b.unary("Sigmoid", b.relu(batch_norm(b, y)), sig)
    kept = batch_norm(b, y)  # also an output: its Relu stays an operator
    b.output(b.relu(kept))
    b.output(kept)
    b.output(b.clip(b.relu(batch_norm(b, y)), -3.0, -1.0))  # the Clip's range misses the Relu's
    return b


@model
def float_matmul_bias():
    """torch's Linear on inputs of rank 3, MatMul(x, W) -> Add(bias), which octet runs as one fully connected
    layer with that bias (lower_float_matmul.cpp): a bias of [N], then one of [1, 1, N] added first. Left as
    operators: an Add of a bias per row and column ([4, N]), one of a computed tensor, and the Add after a
    product that is also a graph output."""
    b = Builder("float_matmul_bias", opset=13)
    x = b.input([2, 4, 6], -1, 1)
    w = lambda k, n, name: fconst(b, b.rng.normal(0, 0.5, (k, n)), name)
    y = b.binary("Add", b.matmul(x, w(6, 5, "w1")), fconst(b, b.rng.normal(0, 0.3, 5), "bias1"))
    y = b.binary("Add", fconst(b, b.rng.normal(0, 0.3, (1, 1, 7)), "bias2"), b.matmul(y, w(5, 7, "w2")))
    y = b.binary("Add", b.matmul(y, w(7, 3, "w3")), fconst(b, b.rng.normal(0, 0.3, (4, 3)), "bias3"))
    y = b.binary("Add", b.matmul(y, w(3, 3, "w4")), y)
    kept = b.matmul(y, w(3, 2, "w5"))
    b.output(b.binary("Add", kept, fconst(b, b.rng.normal(0, 0.3, 2), "bias5")))
    b.output(kept)
    return b


@model
def float_gelu_chains():
    """GELU written out as exporters did before opset 20, 0.5 x (1 + erf(x / sqrt 2)), which octet runs as one
    operator (lower_float.cpp): after a convolution, folded into it (torch's order, (x * e) * 0.5); on other
    tensors in the other orders, x * (e * 0.5) with the scale as x * (1 / sqrt 2), and (x * 0.5) * e with its
    x * 0.5 first in the file. Left as operators: a chain whose Erf is also a graph output."""
    b = Builder("float_gelu_chains", opset=13)
    erf = np.vectorize(math.erf)
    x = b.input([1, 6, 7, 7], -3, 3)
    c = float_conv(b, x, 8, 3, pads=(1, 1, 1, 1), gain=0.8)
    e = b.binary("Add", b.unary("Erf", b.binary("Div", c, math.sqrt(2)), erf), 1.0)
    y = b.binary("Mul", b.binary("Mul", c, e), 0.5)
    e = b.binary("Add", b.unary("Erf", b.binary("Mul", y, 1 / math.sqrt(2)), erf), 1.0)
    y = b.binary("Mul", y, b.binary("Mul", e, 0.5))
    half = b.binary("Mul", y, 0.5)
    y = b.binary("Mul", half, b.binary("Add", b.unary("Erf", b.binary("Div", y, math.sqrt(2)), erf), 1.0))
    b.output(y)
    kept = b.unary("Erf", b.binary("Div", y, math.sqrt(2)), erf)
    b.output(b.binary("Mul", b.binary("Mul", y, b.binary("Add", kept, 1.0)), 0.5))
    b.output(kept)
    return b


@model
def float_residual_adds():
    """Residual connections that octet adds inside the float convolution before them (lower_float.cpp): a
    ResNet bottleneck whose projection shortcut comes after the main branch in the file (the shortcut's
    convolution takes the add), Add(skip, conv) operand order, Add -> Relu and Add -> Clip(0, 6) -> SiLU
    folded after the add. Left as operators: an Add that broadcasts, and one after the convolution's own
    Relu."""
    b = Builder("float_residual_adds", opset=13)
    sig = lambda v: 1 / (1 + np.exp(-v))
    x = b.input([1, 8, 10, 10], -2, 2)
    main = float_conv(b, b.relu(float_conv(b, x, 6, 1, gain=0.6)), 12, 3, pads=(1, 1, 1, 1), gain=0.4)
    shortcut = float_conv(b, x, 12, 1, gain=0.5)
    y = b.relu(b.binary("Add", main, shortcut))
    y = b.relu(b.binary("Add", y, float_conv(b, y, 12, 3, pads=(1, 1, 1, 1), group=12, gain=0.5)))
    c = b.binary("Add", float_conv(b, y, 12, 1, gain=0.4), y)
    c = b.clip(c, 0.0, 6.0)
    y = b.binary("Mul", c, b.unary("Sigmoid", c, sig))
    bias = fconst(b, b.rng.normal(0, 0.3, (1, 12, 1, 1)), "channel_bias")
    y = b.binary("Add", float_conv(b, y, 12, 1, gain=0.4), bias)  # broadcasts: not a residual
    y = b.binary("Add", b.relu(float_conv(b, y, 12, 1, gain=0.4)), y)  # after the conv's own Relu
    b.output(y)
    return b


@model
def float_identity_outputs():
    """A convolution's NHWC result is a graph output, and so is an Identity of it: each output gets its own
    copy in the model's layout (both read the one transposed copy of the result)."""
    b = Builder("float_identity_outputs", opset=13)
    y = float_conv(b, b.input([1, 3, 4, 5], -1, 1), 6, 3, pads=(1, 1, 1, 1))
    b.output(y)
    b.output(T(b.node("Identity", [y.name], "identity"), y.v))
    return b


@model
def float_loop_reads_outer_constants():
    """A Loop body that reads, by name, tensors of the enclosing graph that a model rewrite could drop or
    rename: an initializer nothing else reads, an Identity of an initializer (how torch exports a parameter
    used twice), and a convolution's output that a BatchNormalization also reads. `octet quantize` keeps all
    three (tests/runtime/quantize_test.cpp); the Loop doubles a carried [1, 6, 1, 1] value twice."""
    b = Builder("float_loop_reads_outer_constants", opset=13)
    x = b.input([1, 3, 6, 6], -1, 1)
    c = float_conv(b, x, 6, 3, pads=(1, 1, 1, 1))
    r = b.relu(batch_norm(b, c))
    p = b.global_average_pool(r)
    scale = as_f32(np.full((1, 6, 1, 1), 0.5))
    shift = as_f32(b.rng.normal(0, 0.2, (1, 6, 1, 1)))
    scale_name = b.const(scale, "loop_scale")
    shift_id = b.node("Identity", [b.const(shift, "loop_shift")], "identity")
    vi = helper.make_tensor_value_info
    body = helper.make_graph(
        [helper.make_node("Mul", ["v", scale_name], ["t"], name="scale_v"),
         helper.make_node("Add", ["t", shift_id], ["u"], name="shift_v"),
         helper.make_node("ReduceMean", [c.name], ["m"], name="conv_mean", axes=[2, 3], keepdims=1),
         helper.make_node("Add", ["u", "m"], ["v_out"], name="add_mean"),
         helper.make_node("Identity", ["cond"], ["cond_out"], name="keep_going")],
        "body", [vi("i", TensorProto.INT64, []), vi("cond", TensorProto.BOOL, []),
                 vi("v", TensorProto.FLOAT, [1, 6, 1, 1])],
        [vi("cond_out", TensorProto.BOOL, []), vi("v_out", TensorProto.FLOAT, [1, 6, 1, 1])])
    b.nodes.append(helper.make_node("Loop", [b.const(np.array(2, np.int64), "trips"), b.const(np.array(True), "go"),
                                             p.name], ["v_final"], name="loop", body=body))
    v = p.v.astype(np.float64)
    mean = c.v.astype(np.float64).mean(axis=(2, 3), keepdims=True)
    for _ in range(2):
        v = v * scale + shift + mean
    b.output(T("v_final", as_f32(v)))
    return b


def channel_shuffle_model(name, quantized):
    """ShuffleNet's channel shuffle (Reshape [N, g, C / g, H, W] -> Transpose (0, 2, 1, 3, 4) -> Reshape
    [N, C, H, W]) after a convolution, which octet runs as one pass over the NHWC tensor (channel_shuffle):
    three groups with 0 and -1 in the target shapes, then a slice of the shuffled channels; and two groups
    where the transposed tensor is also an output, which stays Reshape / Transpose / Reshape. `quantized`: a
    QDQ model whose every tensor passes a Quantize / DequantizeLinear pair with the same params."""
    b = Builder(name, opset=13)
    x = b.input([1, 8, 6, 5], -1, 1)
    if quantized:
        xq = b.q(x)
        wd, _, ws = b.weights(b.rng.normal(0, 0.4, (12, 8, 1, 1)), 0, True)
        y = b.conv(b.dq(xq), wd, b.bias(b.rng.normal(0, 0.3, 12), xq.s, ws))
        s, z = calibrate(y.v, np.uint8, None, None)
    else:
        y = float_conv(b, x, 12, 1)
        s = z = None

    def same_params(t):
        return b.qdq(t, s=s, z=z) if quantized else t

    def shuffle(t, groups, shape1, shape2, keep_transposed=False):
        n, c, h, w = t.v.shape
        r1 = same_params(T(b.node("Reshape", [t.name, b.const(np.array(shape1, np.int64), "shape")], "reshape"),
                           t.v.reshape(n, groups, c // groups, h, w)))
        tr = same_params(T(b.node("Transpose", [r1.name], "transpose", perm=[0, 2, 1, 3, 4]),
                           r1.v.transpose(0, 2, 1, 3, 4)))
        if keep_transposed:
            b.output(tr)
        return same_params(T(b.node("Reshape", [tr.name, b.const(np.array(shape2, np.int64), "shape")],
                                    "reshape"), tr.v.reshape(n, c, h, w)))

    y = shuffle(same_params(y), 3, [0, 3, -1, 6, 5], [1, -1, 6, 5])
    b.output(y)
    b.output(T(b.node("Slice", [y.name, b.const(np.array([4], np.int64), "starts"),
                                b.const(np.array([10], np.int64), "ends"), b.const(np.array([1], np.int64), "axes")],
                      "slice"), y.v[:, 4:10], y.s, y.z) if not quantized else
             same_params(T(b.node("Slice", [y.name, b.const(np.array([4], np.int64), "starts"),
                                            b.const(np.array([10], np.int64), "ends"),
                                            b.const(np.array([1], np.int64), "axes")], "slice"), y.v[:, 4:10])))
    b.output(shuffle(y, 2, [1, 2, 6, 6, 5], [1, 12, 6, 5], keep_transposed=True))
    return b


@model
def float_channel_shuffle():
    return channel_shuffle_model("float_channel_shuffle", quantized=False)


@model
def qdq_channel_shuffle():
    return channel_shuffle_model("qdq_channel_shuffle", quantized=True)


# ----------------------------------------------------------------------------------------------------------
# Malformed and unsupported models
# ----------------------------------------------------------------------------------------------------------


def make(nodes, inputs, outputs, inits=(), opset=13, ms=False):
    opsets = [helper.make_opsetid("", opset)] + ([helper.make_opsetid("com.microsoft", 1)] if ms else [])
    graph = helper.make_graph(list(nodes), "malformed", list(inputs), list(outputs), list(inits))
    return helper.make_model(graph, opset_imports=opsets, producer_name=PRODUCER)


def vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def scalar(name, value, dtype):
    return numpy_helper.from_array(np.array(value, dtype), name)


def qdq_input(scale=0.02, zp=128, dq_name="dq_input", dq_scale=None, zp_name="z_in"):
    """input -> QuantizeLinear -> DequantizeLinear ('xd'), the prefix of most malformed QDQ models."""
    nodes = [helper.make_node("QuantizeLinear", ["input", "s_in", zp_name], ["xq"], name="q_input"),
             helper.make_node("DequantizeLinear", ["xq", "s_dq", zp_name], ["xd"], name=dq_name)]
    inits = [scalar("s_in", scale, np.float32), scalar(zp_name, zp, np.uint8),
             scalar("s_dq", scale if dq_scale is None else dq_scale, np.float32)]
    return nodes, inits


def conv_tail(weight_shape=(4, 4, 3, 3), scales=None, axis=0, conv_name="conv", attrs=None, quantize_out=True,
              weight_name="w", dq_weights_name="dq_weights"):
    """DQ(int8 weights) -> Conv(xd) [-> QuantizeLinear 'y']."""
    w = np.ones(weight_shape, np.int8)
    s = np.full(weight_shape[axis], 0.01, np.float32) if scales is None else np.asarray(scales, np.float32)
    nodes = [helper.make_node("DequantizeLinear", [weight_name, "w_scale", "w_zp"], ["wd"],
                              name=dq_weights_name, axis=axis),
             helper.make_node("Conv", ["xd", "wd"], ["conv_out"], name=conv_name, kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1], **(attrs or {}))]
    inits = [numpy_helper.from_array(w, weight_name), numpy_helper.from_array(s, "w_scale"),
             numpy_helper.from_array(np.zeros(s.shape, np.int8), "w_zp")]
    if quantize_out:
        nodes.append(helper.make_node("QuantizeLinear", ["conv_out", "s_out", "z_out"], ["y"], name="q_out"))
        inits += [scalar("s_out", 0.05, np.float32), scalar("z_out", 100, np.uint8)]
    return nodes, inits


def conv_model(dq_scale=None, input_shape=(1, 4, 8, 8), dq_name="dq_input", zp_name="z_in",
               input_name="input", **tail):
    """A valid (or, with the arguments, broken) QDQ conv: input -> Q -> DQ -> Conv(DQ(w)) -> Q."""
    n1, i1 = qdq_input(dq_scale=dq_scale, dq_name=dq_name, zp_name=zp_name)
    n1[0].input[0] = input_name
    n2, i2 = conv_tail(**tail)
    out = "y" if tail.get("quantize_out", True) else "conv_out"
    elem = TensorProto.UINT8 if out == "y" else TensorProto.FLOAT
    return make(n1 + n2, [vi(input_name, list(input_shape))], [vi(out, None, elem)], i1 + i2)


def set_weight(m, name, raw=None, dims=None):
    """Corrupts initializer `name` of model m: its raw bytes and / or its dims."""
    for t in m.graph.initializer:
        if t.name == name:
            if raw is not None:
                t.raw_data = raw
            if dims is not None:
                del t.dims[:]
                t.dims.extend(dims)
    return m


def malformed_models():
    """(file name, model bytes, substring the error must contain)."""
    valid = conv_model().SerializeToString()
    cases = []

    def add(name, m, expect):
        cases.append((name, m if isinstance(m, bytes) else m.SerializeToString(), expect))

    # A cut that leaves a field incomplete, so that the parse itself must fail.
    cut = len(valid) // 2
    while True:
        try:
            onnx.ModelProto().ParseFromString(valid[:cut])
            cut += 1
        except Exception:
            break
    add("truncated.onnx", valid[:cut], "could not be parsed")
    add("garbage.onnx", bytes(range(255, 127, -1)) * 2, "could not be parsed")
    add("empty.onnx", b"", "opset")
    late = make([helper.make_node("Relu", ["input"], ["y"], name="relu")], [vi("input", [1, 4])],
                [vi("y", [1, 4])])
    late.opset_import[0].version = 29
    add("opset29.onnx", late, "opset 29")
    # noop_with_empty_axes before its opset (ReduceL1's 18; ONNX Runtime refuses it as unrecognized).
    add("reduce_noop_before_opset18.onnx",
        make([helper.make_node("ReduceL1", ["input"], ["y"], name="l1", noop_with_empty_axes=1)],
             [vi("input", [1, 4])], [vi("y", [1, 1])]),
        "node 'l1' (ReduceL1): noop_with_empty_axes is not an attribute of ReduceL1 in opset 13")
    # A Dropout's mask that a node reads (octet runs inference only; an unread mask is fine).
    add("dropout_mask_read.onnx",
        make([helper.make_node("Dropout", ["input"], ["y", "mask"], name="dropout"),
              helper.make_node("Cast", ["mask"], ["mask_f"], name="cast", to=TensorProto.FLOAT)],
             [vi("input", [1, 4])], [vi("y", [1, 4]), vi("mask_f", [1, 4])]),
        "mask output 'mask' is read")
    add("dropout_training.onnx",
        make([helper.make_node("Dropout", ["input", "ratio", "training"], ["y"], name="dropout")],
             [vi("input", [1, 4])], [vi("y", [1, 4])],
             [scalar("ratio", 0.25, np.float32), scalar("training", True, np.bool_)]),
        "training mode (random dropping, ratio 0.25")
    # GELU written out with an int64 1 in its Add: the fusion must not take it past the Add's own type check.
    add("gelu_chain_int64_one.onnx",
        make([helper.make_node("Div", ["input", "sqrt2"], ["scaled"], name="div"),
              helper.make_node("Erf", ["scaled"], ["erf"], name="erf"),
              helper.make_node("Add", ["erf", "one"], ["e"], name="add"),
              helper.make_node("Mul", ["input", "e"], ["product"], name="mul"),
              helper.make_node("Mul", ["product", "half"], ["y"], name="half")],
             [vi("input", [1, 4])], [vi("y", [1, 4])],
             [scalar("sqrt2", 1.4142135, np.float32), scalar("one", 1, np.int64), scalar("half", 0.5, np.float32)]),
        "int64")
    def with_attribute(node_name, new_name, **attrs):
        m = conv_model()
        for n in m.graph.node:
            if n.name == node_name:
                n.name = new_name
                n.attribute.extend(helper.make_attribute(k, v) for k, v in attrs.items())
        return m

    # Opset 21 / 23 attributes naming a type or an arithmetic octet does not have. q_out is fused into the
    # convolution (never lowered on its own), so its checks must come with its parameters.
    add("quantize_precision_float16.onnx",
        with_attribute("q_out", "q_out_precision_fp16", precision=TensorProto.FLOAT16), "q_out_precision_fp16")
    add("quantize_output_dtype_mismatch.onnx",
        with_attribute("q_out", "q_out_dtype_mismatch", output_dtype=TensorProto.INT8), "q_out_dtype_mismatch")
    add("dequantize_output_float16.onnx",
        with_attribute("dq_weights", "dq_weights_fp16_out", output_dtype=TensorProto.FLOAT16),
        "dq_weights_fp16_out")
    n, i = qdq_input()
    add("qlinear_softmax_no_opset.onnx",
        make(n[:1] + [helper.make_node("QLinearSoftmax", ["xq", "s_in", "z_in", "s_in", "z_in"], ["y"],
                                       name="softmax_without_opset", domain="com.microsoft", axis=-1)],
             [vi("input", [1, 4])], [vi("y", None, TensorProto.UINT8)], i, ms=True), "softmax_without_opset")
    gn = make([helper.make_node("GroupNormalization", ["input", "gn_s", "gn_b"], ["y"], name="gn_bad_groups",
                                num_groups=3)], [vi("input", [1, 4, 2, 2])], [vi("y", [1, 4, 2, 2])],
               [numpy_helper.from_array(np.ones(3, np.float32), "gn_s"),
                numpy_helper.from_array(np.zeros(3, np.float32), "gn_b")], opset=18)
    add("group_norm_groups_not_dividing.onnx", gn, "gn_bad_groups")
    add("top_k_too_many.onnx",
        make([helper.make_node("TopK", ["input", "k_big"], ["v", "i"], name="topk_k_too_large")],
             [vi("input", [1, 4])], [vi("v", None), vi("i", None, TensorProto.INT64)],
             [numpy_helper.from_array(np.array([5], np.int64), "k_big")]), "topk_k_too_large")
    # Index operators: indices must be integers, shapes must agree, and uint8 tensors have no reductions.
    add("gather_elements_float_indices.onnx",
        make([helper.make_node("GatherElements", ["input", "fi"], ["y"], name="gather_elements_float_idx")],
             [vi("input", [2, 3])], [vi("y", None)], [numpy_helper.from_array(np.zeros((2, 3), np.float32), "fi")]),
        "gather_elements_float_idx")
    add("gather_nd_batch_mismatch.onnx",
        make([helper.make_node("GatherND", ["input", "ti"], ["y"], name="gather_nd_batches", batch_dims=1)],
             [vi("input", [2, 3])], [vi("y", None)], [numpy_helper.from_array(np.zeros((3, 1), np.int64), "ti")]),
        "gather_nd_batches")
    add("gather_constant_index_out_of_range.onnx",
        make([helper.make_node("GatherElements", ["ci", "input"], ["y"], name="gather_elements_far"),
              helper.make_node("Gather", ["input", "gi"], ["z"], name="gather_constant_far")],
             [vi("input", [2, 3], TensorProto.INT64)], [vi("y", None, TensorProto.INT64), vi("z", None, TensorProto.INT64)],
             [numpy_helper.from_array(np.zeros((2, 3), np.int64), "ci"),
              numpy_helper.from_array(np.array([2], np.int64), "gi")]), "gather_constant_far")
    add("scatter_nd_updates_shape.onnx",
        make([helper.make_node("ScatterND", ["input", "si", "su"], ["y"], name="scatter_nd_wrong_updates")],
             [vi("input", [4, 3])], [vi("y", None)],
             [numpy_helper.from_array(np.zeros((2, 1), np.int64), "si"),
              numpy_helper.from_array(np.zeros((2, 4), np.float32), "su")]), "scatter_nd_wrong_updates")
    add("scatter_reduction_on_uint8.onnx",
        make([helper.make_node("ScatterElements", ["input", "ui", "uu"], ["y"], name="scatter_add_uint8",
                               reduction="add")],
             [vi("input", [1, 4], TensorProto.UINT8)], [vi("y", None, TensorProto.UINT8)],
             [numpy_helper.from_array(np.zeros((1, 2), np.int64), "ui"),
              numpy_helper.from_array(np.ones((1, 2), np.uint8), "uu")], opset=16), "scatter_add_uint8")
    add("batch_norm_spatial0.onnx",
        make([helper.make_node("BatchNormalization", ["input", "g", "b", "m", "v"], ["y"], name="bn_per_activation",
                               spatial=0)],
             [vi("input", [1, 2, 2, 2])], [vi("y", [1, 2, 2, 2])],
             [numpy_helper.from_array(np.ones((2, 2, 2), np.float32), n) for n in ("g", "b", "m", "v")], opset=7),
        "bn_per_activation")
    add("einsum_diagonal.onnx",
        make([helper.make_node("Einsum", ["input"], ["y"], name="einsum_trace", equation="ii->i")],
             [vi("input", [3, 3])], [vi("y", None)], opset=13), "einsum_trace")
    add("einsum_contracted_sizes.onnx",
        make([helper.make_node("Einsum", ["input", "e"], ["y"], name="einsum_mismatch", equation="ij,jk->ik")],
             [vi("input", [2, 3])], [vi("y", None)], [numpy_helper.from_array(np.ones((4, 2), np.float32), "e")],
             opset=13), "einsum_mismatch")
    add("slice1_without_ends.onnx",
        make([helper.make_node("Slice", ["input"], ["y"], name="slice_no_ends", starts=[0])],
             [vi("input", [4])], [vi("y", None)], opset=9), "slice_no_ends")
    add("global_lp_pool_p3.onnx",
        make([helper.make_node("GlobalLpPool", ["input"], ["y"], name="lp_pool_cubic", p=3)],
             [vi("input", [1, 2, 3, 3])], [vi("y", None)]), "lp_pool_cubic")
    # Recurrent layers: weights computed at run time, an activation ONNX does not name for them, and a
    # hidden_size that W's rows contradict.
    lstm_w = scalar("w", np.zeros((1, 8, 3)), np.float32)
    lstm_r = scalar("r", np.zeros((1, 8, 2)), np.float32)
    add("lstm_runtime_weights.onnx",
        make([helper.make_node("LSTM", ["input", "w_in", "r"], ["y"], name="lstm_moving_weights")],
             [vi("input", [4, 1, 3]), vi("w_in", [1, 8, 3])], [vi("y", None)], [lstm_r]),
        "octet takes recurrent weights as constants")
    add("gru_activation_gelu.onnx",
        make([helper.make_node("GRU", ["input", "w", "r"], ["y"], name="gru_gelu", activations=["Sigmoid", "Gelu"])],
             [vi("input", [4, 1, 3])], [vi("y", None)],
             [scalar("w", np.zeros((1, 6, 3)), np.float32), scalar("r", np.zeros((1, 6, 2)), np.float32)]),
        "activation 'Gelu' is not supported")
    add("lstm_hidden_size_mismatch.onnx",
        make([helper.make_node("LSTM", ["input", "w", "r"], ["y"], name="lstm_wrong_hidden", hidden_size=3)],
             [vi("input", [4, 1, 3])], [vi("y", None)], [lstm_w, lstm_r]), "lstm_wrong_hidden")
    # Dynamic quantization: DynamicQuantizeLinear's uint8 output only into ConvInteger / MatMulInteger, whose
    # integer input must come from one.
    add("dynamic_quantize_into_dequantize.onnx",
        make([helper.make_node("DynamicQuantizeLinear", ["input"], ["q", "s", "z"], name="dql_elsewhere"),
              helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], name="dq_of_dynamic")],
             [vi("input", [1, 4])], [vi("y", [1, 4])]), "dql_elsewhere")
    add("conv_integer_raw_input.onnx",
        make([helper.make_node("ConvInteger", ["input", "w"], ["y"], name="conv_integer_raw")],
             [vi("input", [1, 1, 3, 3], TensorProto.UINT8)], [vi("y", None, TensorProto.INT32)],
             [numpy_helper.from_array(np.ones((1, 1, 1, 1), np.uint8), "w")]), "conv_integer_raw")
    add("opset6.onnx", make([helper.make_node("Relu", ["input"], ["y"], name="relu")], [vi("input", [1, 4])],
                            [vi("y", [1, 4])], opset=6), "opset 6")

    n, i = qdq_input()
    add("unsupported_op_unique.onnx",
        make(n + [helper.make_node("Unique", ["xd"], ["u"], name="unique_node")], [vi("input", [1, 4])],
             [vi("u", None)], i), "unique_node")
    # NonMaxSuppression: what is wrong with its operands is found at load, on placeholder data.
    nms_inits = [numpy_helper.from_array(np.zeros((1, 4, 4), np.float32), "boxes"),
                 scalar("max_boxes", [2], np.int64)]
    add("nms_center_point_box.onnx",
        make([helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_boxes"], ["sel"], name="nms_box_format",
                               center_point_box=2)],
             [vi("scores", [1, 2, 4])], [vi("sel", None, TensorProto.INT64)], nms_inits), "nms_box_format")
    add("nms_iou_out_of_range.onnx",
        make([helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_boxes", "iou"], ["sel"],
                               name="nms_iou")],
             [vi("scores", [1, 2, 4])], [vi("sel", None, TensorProto.INT64)],
             nms_inits + [scalar("iou", [1.5], np.float32)]), "nms_iou")
    then_only = helper.make_graph([helper.make_node("Identity", ["scores"], ["same"], name="same")], "then", [],
                                  [vi("same", None)])
    add("if_missing_branch.onnx",
        make([helper.make_node("Greater", ["scores", "scores"], ["c"], name="compare"),
              helper.make_node("ReduceMax", ["c_f"], ["c_max"], name="unused_max", keepdims=0),
              helper.make_node("Cast", ["c"], ["c_f"], name="cast", to=TensorProto.FLOAT),
              helper.make_node("Cast", ["c_max"], ["cond"], name="to_bool", to=TensorProto.BOOL),
              helper.make_node("If", ["cond"], ["y"], name="if_one_branch", then_branch=then_only)],
             [vi("scores", [1, 2, 4])], [vi("y", None)]), "if_one_branch")
    unique_g = helper.make_graph([helper.make_node("Unique", ["scores"], ["u"], name="unique_in_branch")], "else", [],
                                 [vi("u", None)])
    add("if_unsupported_branch.onnx",
        make([helper.make_node("ReduceMax", ["scores"], ["m"], name="largest", keepdims=0),
              helper.make_node("Greater", ["m", "zero"], ["cond"], name="positive"),
              helper.make_node("If", ["cond"], ["y"], name="if_unique", then_branch=then_only, else_branch=unique_g)],
             [vi("scores", [1, 2, 4])], [vi("y", None)], [scalar("zero", 0.0, np.float32)]), "unique_in_branch")
    # Loop: what its node and body declare is checked when the model is planned, before anything runs.
    counting = helper.make_graph([helper.make_node("Identity", ["c"], ["c_out"], name="same_cond"),
                                  helper.make_node("Identity", ["v"], ["v_out"], name="same_v")],
                                 "body", [vi("i", [], TensorProto.INT64), vi("c", [], TensorProto.BOOL), vi("v", None)],
                                 [vi("c_out", [], TensorProto.BOOL), vi("v_out", None)])
    add("loop_never_ends.onnx",
        make([helper.make_node("Loop", ["", "", "scores"], ["y"], name="loop_forever", body=counting)],
             [vi("scores", [1, 2, 4])], [vi("y", None)]), "loop_forever")
    add("loop_body_inputs.onnx",
        make([helper.make_node("Loop", ["m", "", "scores", "scores"], ["y", "z"], name="loop_two_carried",
                               body=counting)],
             [vi("scores", [1, 2, 4])], [vi("y", None), vi("z", None)], [scalar("m", 3, np.int64)]),
        "loop_two_carried")
    float_cond = helper.make_graph([helper.make_node("Identity", ["v"], ["v_out"], name="same_v"),
                                    helper.make_node("ReduceMax", ["v"], ["c_out"], name="float_cond", keepdims=0)],
                                   "body", [vi("i", [], TensorProto.INT64), vi("c", [], TensorProto.BOOL),
                                            vi("v", None)], [vi("c_out", []), vi("v_out", None)])
    add("loop_float_condition.onnx",
        make([helper.make_node("Loop", ["", "go", "scores"], ["y"], name="loop_float_cond", body=float_cond)],
             [vi("scores", [1, 2, 4])], [vi("y", None)], [scalar("go", True, np.bool_)]), "loop_float_cond")
    reads_missing = helper.make_graph([helper.make_node("Mul", ["v", "nowhere"], ["v_out"], name="scale_v"),
                                       helper.make_node("Identity", ["c"], ["c_out"], name="keep_going")],
                                      "body", [vi("i", [], TensorProto.INT64), vi("c", [], TensorProto.BOOL),
                                               vi("v", None)], [vi("c_out", [], TensorProto.BOOL), vi("v_out", None)])
    add("loop_reads_missing_outer_tensor.onnx",
        make([helper.make_node("Loop", ["m", "go", "scores"], ["y"], name="loop_missing_outer", body=reads_missing)],
             [vi("scores", [1, 2, 4])], [vi("y", None)], [scalar("m", 2, np.int64), scalar("go", True, np.bool_)]),
        "subgraph reads 'nowhere'")
    add("nms_scores_shape.onnx",
        make([helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_boxes"], ["sel"], name="nms_shapes")],
             [vi("scores", [1, 2, 5])], [vi("sel", None, TensorProto.INT64)], nms_inits), "nms_shapes")
    add("unsupported_op_maxunpool.onnx",
        make([helper.make_node("MaxUnpool", ["input", "indices"], ["y"], name="unpool_node", kernel_shape=[2, 2])],
             [vi("input", [1, 2, 2, 2]), vi("indices", [1, 2, 2, 2], TensorProto.INT64)], [vi("y", None)]),
        "unpool_node")
    add("cycle.onnx",
        make([helper.make_node("Relu", ["b_out"], ["a_out"], name="relu_a"),
              helper.make_node("Relu", ["a_out"], ["b_out"], name="relu_b")], [vi("input", [1, 4])],
             [vi("b_out", [1, 4])]), "cycle")
    n, i = qdq_input()
    # int8 data (zero point 0) dequantized with zero point -3: octet holds int8 as uint8 (+128), the
    # message gives the model's numbers.
    n[0].input[2] = n[1].input[2] = "z_i8"
    n[1].input[2] = "z_i8_dq"
    add("dequantize_int8_zero_point_mismatch.onnx",
        make(n + [helper.make_node("Relu", ["xd"], ["y"], name="relu")], [vi("input", [1, 4])], [vi("y", [1, 4])],
             i + [scalar("z_i8", 0, np.int8), scalar("z_i8_dq", -3, np.int8)]),
        "zero point -3, but tensor 'xq' was quantized with scale 0.020000 / zero point 0")
    int4 = helper.make_tensor("w4", TensorProto.INT8, [4], [1, 2, 3, 4])
    int4.data_type = 22  # INT4 (ONNX 1.16), beyond ONNX 1.12's schema
    add("initializer_int4.onnx",
        make([helper.make_node("Add", ["input", "w4"], ["y"], name="add")], [vi("input", [4])], [vi("y", [4])],
             [int4]), "element type int4")
    add("conv_rank3_weights_rank4_input.onnx",
        make([helper.make_node("Conv", ["input", "w3"], ["y"], name="conv1d_weights")], [vi("input", [1, 2, 4, 4])],
             [vi("y", None)], [numpy_helper.from_array(np.ones((3, 2, 3), np.float32), "w3")]),
        "conv1d_weights' (Conv): weights must be rank 4")
    add("range_infinite_limit.onnx",
        make([helper.make_node("Range", ["start", "limit", "delta"], ["r"], name="range_to_inf"),
              helper.make_node("Add", ["input", "r"], ["y"], name="add")], [vi("input", [4])], [vi("y", [4])],
             [scalar("start", 0, np.float32), scalar("limit", np.inf, np.float32), scalar("delta", 1, np.float32)]),
        "range_to_inf' (Range): start, limit and delta must be finite")
    relu = [helper.make_node("Relu", ["input"], ["y"], name="relu")]
    twice = make(relu, [vi("input", [1, 4])], [vi("y", [1, 4])],
                 [numpy_helper.from_array(np.zeros(4, np.float32), "w"),
                  numpy_helper.from_array(np.ones(4, np.float32), "w")])
    add("initializer_twice.onnx", twice, "initializer 'w' is given twice")
    add("input_twice.onnx", make(relu, [vi("input", [1, 4]), vi("input", [1, 4])], [vi("y", [1, 4])]),
        "graph input 'input': listed twice")
    n, i = qdq_input()
    add("dangling_input.onnx",
        make(n + [helper.make_node("Add", ["xd", "ghost_tensor"], ["sum"], name="add_ghost"),
                  helper.make_node("QuantizeLinear", ["sum", "s_in", "z_in"], ["y"], name="q_out")],
             [vi("input", [1, 4])], [vi("y", None, TensorProto.UINT8)], i), "ghost_tensor")
    n, i = qdq_input()
    add("output_not_produced.onnx", make(n, [vi("input", [1, 4])], [vi("nowhere", [1, 4])], i), "nowhere")

    # Bad quantization params. Each case names its culprit uniquely, so the expected substring (the name)
    # shows that octet blamed the right node or tensor.
    add("zero_scale.onnx", conv_model(dq_scale=0.0, dq_name="dq_zero_scale"), "dq_zero_scale")
    add("negative_scale.onnx", conv_model(dq_scale=-0.02, dq_name="dq_negative_scale"), "dq_negative_scale")
    add("nan_scale.onnx", conv_model(dq_scale=float("nan"), dq_name="dq_nan_scale"), "dq_nan_scale")
    add("inf_scale.onnx", conv_model(dq_scale=float("inf"), dq_name="dq_inf_scale"), "dq_inf_scale")
    m = conv_model(zp_name="zp_300")
    for t in m.graph.initializer:
        if t.name == "zp_300":  # uint8 stored widened in int32_data, where 300 fits
            t.ClearField("raw_data")
            t.int32_data[:] = [300]
    add("zero_point_out_of_range.onnx", m, "zp_300")
    add("weight_scales_wrong_length.onnx", conv_model(scales=[0.01] * 3, dq_weights_name="dq_three_scales"),
        "dq_three_scales")
    # Scales along the input-channel axis of conv weights (valid ONNX, not a per-output-channel scheme).
    add("weight_scales_wrong_axis.onnx",
        conv_model(weight_shape=(8, 4, 3, 3), axis=1, conv_name="conv_input_channel_scales"),
        "conv_input_channel_scales")
    m = conv_model()
    for nd in m.graph.node:
        if nd.name == "q_out":
            nd.input[2] = "z_int32"
    m.graph.initializer.append(scalar("z_int32", 10, np.int32))
    add("activation_zero_point_int32.onnx", m, "q_out")

    # Corrupt tensors.
    add("raw_data_length_mismatch.onnx",
        set_weight(conv_model(weight_name="w_short_raw"), "w_short_raw", raw=b"\x01" * 100), "w_short_raw")
    add("negative_dims.onnx", set_weight(conv_model(weight_name="w_negative_dims"), "w_negative_dims",
                                         dims=[-4, 4, 3, 3]), "w_negative_dims")
    # 2^40 * 2^40 overflows int64: octet must not multiply it out unchecked (or try to allocate it).
    add("dims_overflow.onnx", set_weight(conv_model(weight_name="w_huge_dims"), "w_huge_dims",
                                         dims=[1 << 40, 1 << 40, 3, 3]), "w_huge_dims")
    add("input_zero_dim.onnx", conv_model(input_shape=(1, 4, 0, 8), input_name="input_zero_dim"),
        "input_zero_dim")
    m = conv_model(input_name="input_int64")
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.INT64
    add("input_int64.onnx", m, "input_int64")

    # Valid ONNX that octet cannot run.
    add("conv_channel_mismatch.onnx", conv_model(weight_shape=(4, 3, 3, 3), conv_name="conv_mismatch"),
        "conv_mismatch")
    add("unsupported_attribute.onnx", conv_model(conv_name="conv_attr", attrs={"frobnicate": 1}),
        "frobnicate")
    n, i = qdq_input()
    add("max_pool_storage_order.onnx",
        make(n + [helper.make_node("MaxPool", ["xd"], ["p"], name="pool_storage", kernel_shape=[2, 2],
                                   storage_order=1),
                  helper.make_node("QuantizeLinear", ["p", "s_in", "z_in"], ["y"], name="q_out")],
             [vi("input", [1, 4, 8, 8])], [vi("y", None, TensorProto.UINT8)], i), "pool_storage")

    # Float operators with operands that do not fit: each error must name the node.
    add("float_bad_broadcast.onnx",
        make([helper.make_node("Add", ["a", "b"], ["y"], name="add_bad_broadcast")],
             [vi("a", [1, 3]), vi("b", [1, 4])], [vi("y", None)]), "add_bad_broadcast")
    add("float_matmul_mismatch.onnx",
        make([helper.make_node("MatMul", ["a", "w"], ["y"], name="matmul_mismatch")], [vi("a", [2, 3])],
             [vi("y", None)], [numpy_helper.from_array(np.ones((4, 5), np.float32), "w")]), "matmul_mismatch")
    add("float_where_float_condition.onnx",
        make([helper.make_node("Where", ["a", "a", "a"], ["y"], name="where_float_condition")],
             [vi("a", [2, 3])], [vi("y", None)]), "where_float_condition")
    add("conv_runtime_weights.onnx",
        make([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_runtime_weights")],
             [vi("x", [1, 2, 4, 4]), vi("w", [2, 2, 3, 3])], [vi("y", None)]), "conv_runtime_weights")
    # Shape arithmetic that goes wrong (folded at load): an index past the shape, a zero slice step.
    add("shape_gather_out_of_range.onnx",
        make([helper.make_node("Shape", ["x"], ["s"], name="shape"),
              helper.make_node("Gather", ["s", "i"], ["g"], name="gather_out_of_range", axis=0),
              helper.make_node("Reshape", ["x", "g"], ["y"], name="reshape")],
             [vi("x", [1, 2, 4, 4])], [vi("y", None)], [numpy_helper.from_array(np.array([7], np.int64), "i")]),
        "gather_out_of_range")
    add("shape_slice_zero_step.onnx",
        make([helper.make_node("Shape", ["x"], ["s"], name="shape"),
              helper.make_node("Slice", ["s", "st", "en", "ax", "step"], ["g"], name="slice_zero_step"),
              helper.make_node("Reshape", ["x", "g"], ["y"], name="reshape")],
             [vi("x", [1, 2, 4, 4])], [vi("y", None)],
             [numpy_helper.from_array(np.array([v], np.int64), n) for v, n in
              ((0, "st"), (2, "en"), (0, "ax"), (0, "step"))]), "slice_zero_step")
    add("float_reshape_bad_target.onnx",
        make([helper.make_node("Reshape", ["x", "t"], ["y"], name="reshape_bad_target")],
             [vi("x", [1, 2, 4, 4])], [vi("y", None)], [numpy_helper.from_array(np.array([3, -1], np.int64), "t")]),
        "reshape_bad_target")

    # An accumulator that could wrap: K = 66400 taps of weight 127 on an input with zero point 0 reach
    # 66400 * 255 * 127 > 2^31 - 1. octet must refuse it at load time instead of computing garbage.
    k = 66400
    n, i = qdq_input(zp=0)
    nodes = n + [
        helper.make_node("DequantizeLinear", ["w", "w_scale", "w_zp"], ["wd"], name="dq_weights", axis=0),
        helper.make_node("Gemm", ["xd", "wd"], ["g"], name="gemm_huge_k", transB=1),
        helper.make_node("QuantizeLinear", ["g", "s_out", "z_out"], ["y"], name="q_out")]
    inits = i + [numpy_helper.from_array(np.full((1, k), 127, np.int8), "w"),
                 numpy_helper.from_array(np.array([0.001], np.float32), "w_scale"),
                 numpy_helper.from_array(np.array([0], np.int8), "w_zp"),
                 scalar("s_out", 1.0, np.float32), scalar("z_out", 0, np.uint8)]
    add("accumulator_overflow_gemm.onnx",
        make(nodes, [vi("input", [1, k])], [vi("y", None, TensorProto.UINT8)], inits), "gemm_huge_k")
    # The same bound reached through a huge bias: K = 512 taps add up to 16.6 M, enough to wrap past
    # INT32_MAX from a bias of 2^31 - 1000, and with s_out = 200 the outputs of that range are 215 and 216.
    # (A huge bias with few taps is no risk: every reachable accumulator gives the same byte, and octet
    # computes such a channel exactly; see qdq_conv_tiny_scale_channel.)
    n, i = qdq_input(zp=0)
    nodes = n + [
        helper.make_node("DequantizeLinear", ["w", "w_scale", "w_zp"], ["wd"], name="dq_weights", axis=0),
        helper.make_node("DequantizeLinear", ["b", "b_scale", "b_zp"], ["bd"], name="dq_bias", axis=0),
        helper.make_node("Gemm", ["xd", "wd", "bd"], ["g"], name="gemm_huge_bias", transB=1),
        helper.make_node("QuantizeLinear", ["g", "s_out", "z_out"], ["y"], name="q_out")]
    inits = i + [numpy_helper.from_array(np.full((1, 512), 127, np.int8), "w"),
                 numpy_helper.from_array(np.array([0.001], np.float32), "w_scale"),
                 numpy_helper.from_array(np.array([0], np.int8), "w_zp"),
                 numpy_helper.from_array(np.array([2**31 - 1000], np.int32), "b"),
                 numpy_helper.from_array(np.array([0.02 * 0.001], np.float32), "b_scale"),
                 numpy_helper.from_array(np.array([0], np.int32), "b_zp"),
                 scalar("s_out", 200.0, np.float32), scalar("z_out", 0, np.uint8)]
    add("accumulator_overflow_bias.onnx",
        make(nodes, [vi("input", [1, 512])], [vi("y", None, TensorProto.UINT8)], inits), "gemm_huge_bias")

    # An absent first input (an empty name) on operators whose other inputs, if any, are constants: constant
    # folding took the absent input for an empty constant and read its shape out of bounds.
    add("absent_first_input_relu.onnx",
        make([helper.make_node("Relu", [""], ["y"], name="relu_absent")], [], [vi("y", None)]),
        "relu_absent")
    add("absent_first_input_mul.onnx",
        make([helper.make_node("Mul", ["", "c"], ["y"], name="mul_absent")], [], [vi("y", None)],
             [numpy_helper.from_array(np.array([2.0, 3.0], np.float32), "c")]), "mul_absent")
    add("absent_first_input_transpose.onnx",
        make([helper.make_node("Transpose", [""], ["y"], name="transpose_absent", perm=[0, 2, 1, 3])], [],
             [vi("y", None)]), "transpose_absent")
    # A perm longer than a scalar's rank: the check compared perm with the axes, of which there are none.
    add("transpose_scalar_perm.onnx",
        make([helper.make_node("Transpose", ["c"], ["y"], name="transpose_scalar", perm=[1, 0])], [],
             [vi("y", None)], [scalar("c", 2.0, np.float32)]), "transpose_scalar")
    # Pool pads near 2^62: the padded size overflowed int64 (and the error named the kernel, not the node).
    add("max_pool_pads_overflow.onnx",
        make([helper.make_node("MaxPool", ["input"], ["y"], name="pool_huge_pads", kernel_shape=[3, 3],
                               pads=[2**62] * 4)], [vi("input", [1, 1, 4, 4])], [vi("y", None)]),
        "pool_huge_pads")
    # auto_pad SAME with a zero stride divided by it (SIGFPE) before any check of the stride.
    add("max_pool_same_zero_stride.onnx",
        make([helper.make_node("MaxPool", ["input"], ["y"], name="pool_zero_stride", kernel_shape=[3, 3],
                               strides=[0, 1], auto_pad="SAME_UPPER")], [vi("input", [1, 1, 4, 4])],
             [vi("y", None)]), "pool_zero_stride")
    return cases


# ----------------------------------------------------------------------------------------------------------


def clean(directory, suffixes):
    os.makedirs(directory, exist_ok=True)
    for f in os.listdir(directory):
        if f.endswith(suffixes):
            os.remove(os.path.join(directory, f))


def main():
    clean(ONNX_DIR, (".onnx", ".npy"))
    clean(BAD_DIR, (".onnx", ".txt"))
    for fn in MODELS:
        b = fn()
        assert b.name == fn.__name__, (b.name, fn.__name__)
        write(b)
        for i, e in enumerate(b.expected):
            if e.dtype == np.uint8 and b.quantized_outputs[i]:
                # Calibration sanity: the output should use much of the uint8 range, not sit saturated (raw
                # uint8 results, a class map say, are integers of their own range).
                spread = int(e.max()) - int(e.min())
                assert spread >= 64 or e.size < 16, (b.name, i, spread)
    lines = []
    for name, data, expect in malformed_models():
        with open(os.path.join(BAD_DIR, name), "wb") as f:
            f.write(data)
        lines.append(f"{name}\t{expect}\n")
    with open(os.path.join(BAD_DIR, "EXPECTED.txt"), "w") as f:
        f.write("# FILE<TAB>substring that octet::Model::load's error message must contain\n")
        f.writelines(sorted(lines))
    total = sum(os.path.getsize(os.path.join(d, f)) for d in (ONNX_DIR, BAD_DIR) for f in os.listdir(d))
    print(f"{len(MODELS)} models, {len(lines)} malformed files, {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
