#!/usr/bin/python3
"""Generates test vectors from PyTorch's quantized operators for octet's scalar reference operators.

Run with the system Python (python3-torch 1.13, python3-numpy):

    /usr/bin/python3 scripts/make_torch_vectors.py [--out DIR]

It writes one small text file per case into tests/kernels/data/torch/ (or DIR), read by
tests/kernels/torch_vectors_test.cpp. Everything is seeded, so a rerun on the same PyTorch build rewrites
identical files.

Why PyTorch: octet's unit tests compare each operator with a float64 model written by the same people who
wrote the operator; these vectors come from an independent implementation (QNNPACK, or ATen's own quantized
CPU kernels), so a shared misunderstanding of layouts, padding, groups or parameter conventions shows up.

Every case is also checked here against an exact float64 model computed from octet-layout data (NHWC,
weights [C_out, KH, KW, C_in/groups]): PyTorch must agree with it within 1 LSB, which proves that this
script's layout and parameter conversions are right before octet is ever involved. (On PyTorch 1.13.1 it
agrees exactly in every case: away from exact ties, PyTorch rounds these to nearest.)

Engines: QNNPACK where it is right, else the onednn engine setting, under which PyTorch 1.13 runs ATen's
own quantized kernels for pooling and add, and oneDNN for linear. Two QNNPACK paths are avoided because
they are wrong in PyTorch 1.13: average pooling ignores count_include_pad=False (it always divides by
the full window), and max pooling with dilation and padding takes maxima of the wrong windows. oneDNN
itself rejects per-channel weights and output_padding for transposed convolution, so those use QNNPACK.

File format (version 1), line based, UTF-8:

    # comment                       ignored, as are blank lines
    format: octet-torch-vectors 1   first non-comment line
    op: <name>                      conv2d | conv_transpose2d | linear | add | cat | max_pool2d | avg_pool2d
    engine: <name>                  torch.backends.quantized.engine when the output was computed
    kernel: <text>                  which PyTorch code path computed it (from reading PyTorch's sources)
    torch: <version>
    attr: <name> <int>...           operator attribute, integers only (list below)
    tensor: <name>                  starts a tensor; the keys below, up to the next tensor:, belong to it
    shape: <int>...                 octet's layout: NHWC for images, [C_out, KH, KW, C_in/groups] for
                                    conv and conv_transpose weights, [C_out, K] for linear weights
    dtype: uint8 | int8 | int32
    scale: <float>...               one per tensor, or one per index along `axis`; float32 values written
                                    in the shortest form that round-trips, so strtof gives them back exactly
    zero_point: <int>...            as many as scales
    axis: <int>                     -1 for per-tensor parameters, else the quantized dimension (octet layout)
    values: <int>...                row-major in `shape`; may repeat, the lines concatenate (rank 4: one
                                    line per H row of NHWC data or KH row of weights; else per last dim)

Tensors by op (all image tensors NHWC; `expected` is PyTorch's output):
    conv2d, conv_transpose2d   input (uint8), weight (int8), bias (int32, scale s_in * s_w[c]), expected
    linear                     input (uint8 [N, K]), weight (int8 [C_out, K]), bias (int32), expected
    add                        a, b, expected (uint8)
    cat                        input0, input1, ... (uint8), expected
    max_pool2d, avg_pool2d     input, expected (uint8); the output's params are the input's (PyTorch keeps
                               them for pooling)

Attributes (pairs are (H, W); padding is (top, left, bottom, right), PyTorch pads symmetrically):
    conv2d             stride, padding, dilation, groups, relu (1: fused ReLU, conv2d_relu)
    conv_transpose2d   stride, padding, output_padding, dilation, groups
    linear             relu (0)
    cat                axis (octet's NHWC axis)
    max_pool2d         kernel, stride, padding, dilation, ceil_mode
    avg_pool2d         kernel, stride, padding, ceil_mode, count_include_pad

Conventions for conv-like ops: weights are int8 in the narrow range [-127, 127] with zero point 0
(symmetric), per output channel where PyTorch supports it. PyTorch takes a float bias and quantizes it
itself with scale s_in * s_w[c]; the script draws integer biases, hands PyTorch bias_int * s_in * s_w[c]
(which its rounding maps back to bias_int exactly) and writes bias_int.
"""

import argparse
import os
import sys

import numpy as np
import torch

FORMAT_VERSION = 1
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "kernels", "data", "torch")

# The kernels PyTorch 1.13 runs for each (op, engine), from reading aten/src/ATen/native/quantized/cpu.
KERNEL_QNNPACK_CONV = "QNNPACK q8conv (int32 accumulation, float32 requantization scale, round half to even)"
KERNEL_QNNPACK_DECONV = "QNNPACK q8deconv (int32 accumulation, float32 requantization scale, round half to even)"
KERNEL_QNNPACK_LINEAR = "QNNPACK q8gemm (int32 accumulation, float32 requantization scale, round half to even)"
KERNEL_ONEDNN_LINEAR = "oneDNN int8 inner product (int32 accumulation, float requantization)"
KERNEL_QNNPACK_ADD = "QNNPACK q8add (fixed-point rescaling of both inputs)"
KERNEL_ATEN_ADD = "ATen qadd_stub (dequantize to float32, add, quantize with round half to even)"
KERNEL_ATEN_CAT = "ATen quantized cat (dequantize to float32, concatenate, quantize with round half to even)"
KERNEL_QNNPACK_MAXPOOL = "QNNPACK u8maxpool (integer max)"
KERNEL_ATEN_MAXPOOL = "ATen q_maxpool_2d (integer max)"
KERNEL_QNNPACK_AVGPOOL = "QNNPACK q8avgpool (always divides by the full window, padding included)"
KERNEL_ATEN_AVGPOOL = "ATen avg_pool2d_out_frame (int32 sum, float32 multiplier, round half to even)"


def f32(x):
    """Rounds to the nearest float32 and returns it as a Python float (exact in double)."""
    return float(np.float32(x))


def fmt_float(x):
    # repr of a numpy float32 is the shortest decimal that round-trips to the same float32.
    return repr(np.float32(x)).replace("np.float32(", "").rstrip(")")


def output_params(real, zero_point=None):
    """Per-tensor uint8 params covering `real` (widened to contain 0), like a calibrated observer.

    The scale is rounded to float32 so that octet (float scales) and PyTorch (double scales) see the same
    number. With `zero_point` given, the scale is chosen so that both ends fit around it.
    """
    lo, hi = min(float(real.min()), 0.0), max(float(real.max()), 0.0)
    if zero_point is None:
        scale = f32(max(hi - lo, 1e-6) / 255.0)
        zero_point = int(np.clip(np.round(-lo / scale), 0, 255))
    else:
        scale = f32(max(hi / (255 - zero_point), -lo / max(zero_point, 1), 1e-6))
    return scale, zero_point


def quantize_exact(real, scale, zero_point, lo=0, hi=255):
    """The ideal quantized result: round half to even of real / scale, plus zero point, clamped."""
    return np.clip(np.rint(real / scale) + zero_point, lo, hi).astype(np.int64)


class Rng:
    """Seeded draws of quantized data. Each case gets its own seed, so adding a case changes no other."""

    def __init__(self, seed):
        self.g = np.random.default_rng(seed)

    def scale(self, lo=2e-3, hi=5e-2):
        # Log-uniform, rounded to float32: arbitrary mantissas exercise the requantization rounding.
        return f32(np.exp(self.g.uniform(np.log(lo), np.log(hi))))

    def zero_point(self, lo=20, hi=235):
        return int(self.g.integers(lo, hi + 1))

    def u8(self, shape):
        return self.g.integers(0, 256, size=shape, dtype=np.int64)

    def weights(self, shape):
        return self.g.integers(-127, 128, size=shape, dtype=np.int64)

    def bias(self, n, magnitude):
        return self.g.integers(-magnitude, magnitude + 1, size=n, dtype=np.int64)


# ---- Tensors and file writing ------------------------------------------------------------------------


class Tensor:
    def __init__(self, name, values, dtype, scales, zero_points, axis=-1):
        self.name = name
        self.values = np.asarray(values, dtype=np.int64)
        self.dtype = dtype
        self.scales = [f32(s) for s in np.atleast_1d(scales)]
        self.zero_points = [int(z) for z in np.atleast_1d(zero_points)]
        self.axis = axis
        lo, hi = {"uint8": (0, 255), "int8": (-128, 127), "int32": (-(2**31), 2**31 - 1)}[dtype]
        assert self.values.min() >= lo and self.values.max() <= hi, name
        assert len(self.scales) == len(self.zero_points)
        assert (axis < 0 and len(self.scales) == 1) or len(self.scales) == self.values.shape[axis], name

    def lines(self):
        out = [
            f"tensor: {self.name}",
            "shape: " + " ".join(str(d) for d in self.values.shape),
            f"dtype: {self.dtype}",
            "scale: " + " ".join(fmt_float(s) for s in self.scales),
            "zero_point: " + " ".join(str(z) for z in self.zero_points),
            f"axis: {self.axis}",
        ]
        rows = self.values.reshape(-1, self.values.shape[-1]) if self.values.ndim != 4 else self.values.reshape(
            -1, self.values.shape[2] * self.values.shape[3])
        for row in rows:
            out.append("values: " + " ".join(str(v) for v in row))
        return out


class Case:
    def __init__(self, name, op, engine, kernel, description):
        self.name, self.op, self.engine, self.kernel, self.description = name, op, engine, kernel, description
        self.attrs = []
        self.tensors = []

    def attr(self, name, *values):
        self.attrs.append((name, [int(v) for v in values]))

    def write(self, out_dir):
        lines = [
            f"# {self.name}: {self.description}",
            "# Generated by scripts/make_torch_vectors.py; do not edit by hand.",
            f"format: octet-torch-vectors {FORMAT_VERSION}",
            f"op: {self.op}",
            f"engine: {self.engine}",
            f"kernel: {self.kernel}",
            f"torch: {torch.__version__}",
        ]
        lines += [f"attr: {n} " + " ".join(str(v) for v in vs) for n, vs in self.attrs]
        for t in self.tensors:
            lines += t.lines()
        path = os.path.join(out_dir, self.name + ".txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return path


# ---- Conversions between octet (NHWC) and PyTorch (NCHW) ---------------------------------------------


def nhwc_to_nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def nchw_to_nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def q_activation(values, scale, zero_point):
    """A torch quint8 tensor holding exactly `values` (any layout the caller already chose)."""
    return torch._make_per_tensor_quantized_tensor(torch.from_numpy(values.astype(np.uint8)), scale, zero_point)


def q_weight(values, scales, axis):
    """A torch qint8 tensor with zero points 0: per-tensor when axis < 0, else per-channel along `axis`."""
    w = torch.from_numpy(values.astype(np.int8))
    if axis < 0:
        return torch._make_per_tensor_quantized_tensor(w, scales[0], 0)
    return torch._make_per_channel_quantized_tensor(
        w, torch.tensor(scales, dtype=torch.double), torch.zeros(len(scales), dtype=torch.long), axis)


def float_bias(bias_int, s_in, w_scales):
    # float64 product rounded once to float32; PyTorch divides by s_in * s_w[c] and rounds half to even,
    # which lands back on bias_int because the relative error (2^-24) times |bias| is far below 0.5.
    return torch.tensor([f32(b * s_in * s) for b, s in zip(bias_int, w_scales)], dtype=torch.float)


def int_repr(q):
    return q.int_repr().numpy().astype(np.int64)


# ---- Exact float64 models on octet-layout data ---------------------------------------------------------


def conv2d_acc(x, w, bias, stride, pad, dilation, groups):
    """int64 accumulators of a conv on NHWC x (zero point already removed), w [C_out, KH, KW, C_in/g]."""
    n, h, wd, _ = x.shape
    cout, kh, kw, cig = w.shape
    (sh, sw), (dh, dw), (pt, pl, pb, pr) = stride, dilation, pad
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    acc = np.zeros((n, oh, ow, cout), dtype=np.int64)
    cog = cout // groups
    for oc in range(cout):
        g = oc // cog
        for ky in range(kh):
            for kx in range(kw):
                patch = xp[:, ky * dh:ky * dh + sh * (oh - 1) + 1:sh, kx * dw:kx * dw + sw * (ow - 1) + 1:sw,
                           g * cig:(g + 1) * cig]
                acc[..., oc] += patch @ w[oc, ky, kx, :]
    return acc + bias


def conv_transpose2d_acc(x, w, bias, stride, pad, output_padding, dilation, groups):
    """Scatter form: input pixel (iy, ix) reaches output (iy*s - pad_top + ky*d, ...) through tap (ky, kx)."""
    n, h, wd, _ = x.shape
    cout, kh, kw, cig = w.shape
    (sh, sw), (dh, dw), (pt, pl, pb, pr), (oph, opw) = stride, dilation, pad, output_padding
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((n, full_h, full_w, cout), dtype=np.int64)
    cog = cout // groups
    for oc in range(cout):
        g = oc // cog
        for ky in range(kh):
            for kx in range(kw):
                full[:, ky * dh:ky * dh + sh * (h - 1) + 1:sh, kx * dw:kx * dw + sw * (wd - 1) + 1:sw, oc] += (
                    x[..., g * cig:(g + 1) * cig] @ w[oc, ky, kx, :])
    oh, ow = full_h - pt - pb, full_w - pl - pr
    return full[:, pt:pt + oh, pl:pl + ow, :] + bias


def pool_windows(h, k, s, p, ceil_mode):
    """Window starts along one axis, PyTorch's output-size rule (a ceil_mode window must start inside the
    input or the leading padding)."""
    span = h + 2 * p - k
    o = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= h + p:
        o -= 1
    return [i * s - p for i in range(o)]


def max_pool2d_exact(x, kernel, stride, pad, dilation, ceil_mode):
    n, h, w, c = x.shape
    ys = pool_windows(h, dilation[0] * (kernel[0] - 1) + 1, stride[0], pad[0], ceil_mode)
    xs = pool_windows(w, dilation[1] * (kernel[1] - 1) + 1, stride[1], pad[1], ceil_mode)
    out = np.zeros((n, len(ys), len(xs), c), dtype=np.int64)
    for i, y0 in enumerate(ys):
        for j, x0 in enumerate(xs):
            best = np.full((n, c), -1, dtype=np.int64)
            for ky in range(kernel[0]):
                for kx in range(kernel[1]):
                    y, xx = y0 + ky * dilation[0], x0 + kx * dilation[1]
                    if 0 <= y < h and 0 <= xx < w:
                        best = np.maximum(best, x[:, y, xx, :])
            out[:, i, j, :] = best
    return out


def avg_pool2d_mean(x, zp, kernel, stride, pad, ceil_mode, count_include_pad):
    """Window means of q - zp, in input LSB (exact in float64 where they are halves, so ties stay ties)."""
    n, h, w, c = x.shape
    ys = pool_windows(h, kernel[0], stride[0], pad[0], ceil_mode)
    xs = pool_windows(w, kernel[1], stride[1], pad[1], ceil_mode)
    out = np.zeros((n, len(ys), len(xs), c))
    for i, y0 in enumerate(ys):
        for j, x0 in enumerate(xs):
            # The window is first clipped to the padded input (overhang of ceil_mode is never counted).
            y1, x1 = min(y0 + kernel[0], h + pad[0]), min(x0 + kernel[1], w + pad[1])
            vy0, vx0, vy1, vx1 = max(y0, 0), max(x0, 0), min(y1, h), min(x1, w)
            count = (y1 - y0) * (x1 - x0) if count_include_pad else (vy1 - vy0) * (vx1 - vx0)
            total = (x[:, vy0:vy1, vx0:vx1, :] - zp).sum(axis=(1, 2))
            out[:, i, j, :] = total / count
    return out


# ---- Checking and bookkeeping ---------------------------------------------------------------------------

SUMMARY = []


def check_against_exact(case, torch_out, exact):
    """PyTorch must be within 1 LSB of the exact result; anything more means this script is wrong."""
    diff = np.abs(torch_out - exact)
    worst = int(diff.max())
    n_diff = int((diff != 0).sum())
    SUMMARY.append((case.name, case.engine, torch_out.size, worst, n_diff))
    if worst > 1:
        idx = np.unravel_index(int(diff.argmax()), diff.shape)
        sys.exit(f"{case.name}: PyTorch differs from the exact float64 model by {worst} LSB at {idx} "
                 f"(torch {torch_out[idx]}, exact {exact[idx]}): the script's conversion is wrong")


# ---- Cases ---------------------------------------------------------------------------------------------


def conv2d_case(out_dir, name, seed, description, n, h, w, cin, cout, kernel, stride, pad, dilation, groups,
                per_channel, relu=False):
    torch.backends.quantized.engine = "qnnpack"
    case = Case(name, "conv2d", "qnnpack", KERNEL_QNNPACK_CONV, description)
    r = Rng(seed)
    s_in, z_in = r.scale(), r.zero_point()
    x = r.u8((n, h, w, cin))
    kh, kw = kernel
    cig = cin // groups
    w_oct = r.weights((cout, kh, kw, cig))  # octet layout
    w_scales = [r.scale(1e-3, 2e-2) for _ in range(cout if per_channel else 1)]
    w_axis = 0 if per_channel else -1
    ws = w_scales if per_channel else w_scales * cout
    reduction = kh * kw * cig
    bias = r.bias(cout, int(40 * 60 * np.sqrt(reduction)))  # about the spread of the accumulators

    acc = conv2d_acc(x - z_in, w_oct, bias, stride, pad, dilation, groups)
    real = acc * (s_in * np.array(ws))
    if relu:
        s_out, z_out = output_params(real, zero_point=r.zero_point(90, 150))
    else:
        s_out, z_out = output_params(real)
    exact = quantize_exact(real, s_out, z_out, lo=z_out if relu else 0)

    # PyTorch: NCHW input, weight [C_out, C_in/groups, KH, KW]; per-channel along its axis 0 (= C_out).
    w_torch = np.ascontiguousarray(w_oct.transpose(0, 3, 1, 2))
    packed = torch.ops.quantized.conv2d_prepack(
        q_weight(w_torch, w_scales, w_axis), float_bias(bias, s_in, ws), list(stride), [pad[0], pad[1]],
        list(dilation), groups)
    assert pad[0] == pad[2] and pad[1] == pad[3], "PyTorch pads symmetrically"
    qx = q_activation(nhwc_to_nchw(x), s_in, z_in)
    fn = torch.ops.quantized.conv2d_relu if relu else torch.ops.quantized.conv2d
    y = nchw_to_nhwc(int_repr(fn(qx, packed, s_out, z_out)))
    check_against_exact(case, y, exact)

    case.attr("stride", *stride)
    case.attr("padding", *pad)
    case.attr("dilation", *dilation)
    case.attr("groups", groups)
    case.attr("relu", int(relu))
    case.tensors = [
        Tensor("input", x, "uint8", s_in, z_in),
        Tensor("weight", w_oct, "int8", w_scales, [0] * len(w_scales), w_axis),
        Tensor("bias", bias, "int32", [s_in * s for s in ws], [0] * cout, 0),
        Tensor("expected", y, "uint8", s_out, z_out),
    ]
    return case.write(out_dir)


def conv_transpose2d_case(out_dir, name, seed, description, n, h, w, cin, cout, kernel, stride, pad,
                          output_padding, dilation, groups, per_channel):
    # oneDNN in PyTorch 1.13 rejects per-channel weights and output_padding for transposed convolutions;
    # QNNPACK takes both (per-channel only with groups == 1), so every case runs on QNNPACK.
    torch.backends.quantized.engine = "qnnpack"
    case = Case(name, "conv_transpose2d", "qnnpack", KERNEL_QNNPACK_DECONV, description)
    r = Rng(seed)
    s_in, z_in = r.scale(), r.zero_point()
    x = r.u8((n, h, w, cin))
    kh, kw = kernel
    cig, cog = cin // groups, cout // groups
    w_oct = r.weights((cout, kh, kw, cig))  # octet layout
    w_scales = [r.scale(1e-3, 2e-2) for _ in range(cout if per_channel else 1)]
    w_axis = 0 if per_channel else -1
    ws = w_scales if per_channel else w_scales * cout
    bias = r.bias(cout, int(40 * 60 * np.sqrt(kh * kw * cig)))

    acc = conv_transpose2d_acc(x - z_in, w_oct, bias, stride, pad, output_padding, dilation, groups)
    real = acc * (s_in * np.array(ws))
    s_out, z_out = output_params(real)
    exact = quantize_exact(real, s_out, z_out)

    # PyTorch's transposed weight is [C_in, C_out/groups, KH, KW]: w_t[g*cig + i, j, ky, kx] is octet's
    # w[g*cog + j, ky, kx, i]. Per-channel scales then lie along PyTorch's axis 1 (output channel in group).
    w_torch = np.zeros((cin, cog, kh, kw), dtype=np.int64)
    for g in range(groups):
        block = w_oct[g * cog:(g + 1) * cog]  # [cog, kh, kw, cig]
        w_torch[g * cig:(g + 1) * cig] = block.transpose(3, 0, 1, 2)
    assert not per_channel or groups == 1, "PyTorch's per-channel axis 1 only covers all outputs when groups == 1"
    packed = torch.ops.quantized.conv_transpose2d_prepack(
        q_weight(w_torch, w_scales, 1 if per_channel else -1), float_bias(bias, s_in, ws), list(stride),
        [pad[0], pad[1]], list(output_padding), list(dilation), groups)
    assert pad[0] == pad[2] and pad[1] == pad[3], "PyTorch pads symmetrically"
    qx = q_activation(nhwc_to_nchw(x), s_in, z_in)
    y = nchw_to_nhwc(int_repr(torch.ops.quantized.conv_transpose2d(qx, packed, s_out, z_out)))
    check_against_exact(case, y, exact)

    case.attr("stride", *stride)
    case.attr("padding", *pad)
    case.attr("output_padding", *output_padding)
    case.attr("dilation", *dilation)
    case.attr("groups", groups)
    case.tensors = [
        Tensor("input", x, "uint8", s_in, z_in),
        Tensor("weight", w_oct, "int8", w_scales, [0] * len(w_scales), w_axis),
        Tensor("bias", bias, "int32", [s_in * s for s in ws], [0] * cout, 0),
        Tensor("expected", y, "uint8", s_out, z_out),
    ]
    return case.write(out_dir)


def linear_case(out_dir, name, seed, description, engine, batch, k, cout, per_channel):
    torch.backends.quantized.engine = engine
    kernel = KERNEL_QNNPACK_LINEAR if engine == "qnnpack" else KERNEL_ONEDNN_LINEAR
    case = Case(name, "linear", engine, kernel, description)
    r = Rng(seed)
    s_in, z_in = r.scale(), r.zero_point()
    x = r.u8((batch, k))
    w = r.weights((cout, k))
    w_scales = [r.scale(1e-3, 2e-2) for _ in range(cout if per_channel else 1)]
    w_axis = 0 if per_channel else -1
    ws = w_scales if per_channel else w_scales * cout
    bias = r.bias(cout, int(40 * 60 * np.sqrt(k)))

    acc = (x - z_in) @ w.T + bias
    real = acc * (s_in * np.array(ws))
    s_out, z_out = output_params(real)
    exact = quantize_exact(real, s_out, z_out)

    packed = torch.ops.quantized.linear_prepack(q_weight(w, w_scales, w_axis), float_bias(bias, s_in, ws))
    y = int_repr(torch.ops.quantized.linear(q_activation(x, s_in, z_in), packed, s_out, z_out))
    check_against_exact(case, y, exact)

    case.attr("relu", 0)
    case.tensors = [
        Tensor("input", x, "uint8", s_in, z_in),
        Tensor("weight", w, "int8", w_scales, [0] * len(w_scales), w_axis),
        Tensor("bias", bias, "int32", [s_in * s for s in ws], [0] * cout, 0),
        Tensor("expected", y, "uint8", s_out, z_out),
    ]
    return case.write(out_dir)


def add_case(out_dir, name, seed, description, engine, shape):
    torch.backends.quantized.engine = engine
    kernel = KERNEL_QNNPACK_ADD if engine == "qnnpack" else KERNEL_ATEN_ADD
    case = Case(name, "add", engine, kernel, description)
    r = Rng(seed)
    sa, za, sb, zb = r.scale(), r.zero_point(), r.scale(), r.zero_point()
    a, b = r.u8(shape), r.u8(shape)
    real = (a - za) * sa + (b - zb) * sb
    s_out, z_out = output_params(real)
    exact = quantize_exact(real, s_out, z_out)
    y = nchw_to_nhwc(int_repr(torch.ops.quantized.add(
        q_activation(nhwc_to_nchw(a), sa, za), q_activation(nhwc_to_nchw(b), sb, zb), s_out, z_out)))
    check_against_exact(case, y, exact)
    case.tensors = [
        Tensor("a", a, "uint8", sa, za),
        Tensor("b", b, "uint8", sb, zb),
        Tensor("expected", y, "uint8", s_out, z_out),
    ]
    return case.write(out_dir)


def cat_case(out_dir, name, seed, description, shapes, axis_nhwc, same_as_output=None):
    """Concatenation along octet's NHWC `axis_nhwc`. Input `same_as_output` (an index) shares the output's
    params, so octet's copy path is exercised next to its requantizing path."""
    torch.backends.quantized.engine = "qnnpack"
    case = Case(name, "cat", "qnnpack", KERNEL_ATEN_CAT, description)
    r = Rng(seed)
    params = [(r.scale(), r.zero_point()) for _ in shapes]
    xs = [r.u8(s) for s in shapes]
    reals = [(x - z) * s for x, (s, z) in zip(xs, params)]
    s_out, z_out = output_params(np.concatenate([v.ravel() for v in reals]))
    if same_as_output is not None:
        # Keep that input's data as drawn but relabel it with the output's params.
        params[same_as_output] = (s_out, z_out)
        reals[same_as_output] = (xs[same_as_output] - z_out) * s_out
    exact = quantize_exact(np.concatenate(reals, axis=axis_nhwc), s_out, z_out)
    torch_dim = {0: 0, 1: 2, 2: 3, 3: 1}[axis_nhwc]  # NHWC axis -> NCHW dim
    qs = [q_activation(nhwc_to_nchw(x), s, z) for x, (s, z) in zip(xs, params)]
    y = nchw_to_nhwc(int_repr(torch.ops.quantized.cat(qs, torch_dim, s_out, z_out)))
    check_against_exact(case, y, exact)
    case.attr("axis", axis_nhwc)
    case.tensors = [Tensor(f"input{i}", x, "uint8", s, z) for i, (x, (s, z)) in enumerate(zip(xs, params))]
    case.tensors.append(Tensor("expected", y, "uint8", s_out, z_out))
    return case.write(out_dir)


def max_pool2d_case(out_dir, name, seed, description, engine, shape, kernel, stride, pad, dilation, ceil_mode):
    # PyTorch 1.13 sends quint8 max pooling to QNNPACK whenever the engine is qnnpack and ceil_mode is off,
    # else to ATen's kernel. QNNPACK's is wrong when dilation and padding meet (it returns maxima of
    # undilated windows near the border: up to 122 LSB off on the dilation case below), so dilated cases
    # run with the onednn engine, which takes ATen's kernel.
    assert engine == "onednn" or dilation == (1, 1), "QNNPACK max pooling mishandles dilation with padding"
    torch.backends.quantized.engine = engine
    kernel_text = KERNEL_QNNPACK_MAXPOOL if engine == "qnnpack" and not ceil_mode else KERNEL_ATEN_MAXPOOL
    case = Case(name, "max_pool2d", engine, kernel_text, description)
    r = Rng(seed)
    s, z = r.scale(), r.zero_point()
    x = r.u8(shape)
    exact = max_pool2d_exact(x, kernel, stride, pad, dilation, ceil_mode)
    y = nchw_to_nhwc(int_repr(torch.nn.functional.max_pool2d(
        q_activation(nhwc_to_nchw(x), s, z), list(kernel), list(stride), list(pad), list(dilation),
        ceil_mode=ceil_mode)))
    check_against_exact(case, y, exact)
    case.attr("kernel", *kernel)
    case.attr("stride", *stride)
    case.attr("padding", pad[0], pad[1], pad[0], pad[1])
    case.attr("dilation", *dilation)
    case.attr("ceil_mode", int(ceil_mode))
    case.tensors = [Tensor("input", x, "uint8", s, z), Tensor("expected", y, "uint8", s, z)]
    return case.write(out_dir)


def avg_pool2d_case(out_dir, name, seed, description, engine, shape, kernel, stride, pad, ceil_mode,
                    count_include_pad):
    # PyTorch 1.13 sends quint8 average pooling to QNNPACK whenever the engine is qnnpack and ceil_mode is
    # off, and QNNPACK ignores count_include_pad (it always divides by the full window). So cases without
    # count_include_pad, and ceil_mode cases, run with the onednn engine, which takes ATen's own kernel.
    assert engine == "onednn" or (count_include_pad and not ceil_mode), "QNNPACK would ignore count_include_pad"
    torch.backends.quantized.engine = engine
    kernel_text = KERNEL_QNNPACK_AVGPOOL if engine == "qnnpack" else KERNEL_ATEN_AVGPOOL
    case = Case(name, "avg_pool2d", engine, kernel_text, description)
    r = Rng(seed)
    s, z = r.scale(), r.zero_point()
    x = r.u8(shape)
    # The output keeps the input's params, so the exact result is the mean in input LSB, unscaled. Exact
    # ties are common (even counts); ATen rounds after adding the zero point (nearbyint(sum * m + z)), so
    # its ties go to even in the output's integer domain, and the model does the same.
    mean = avg_pool2d_mean(x, z, kernel, stride, pad, ceil_mode, count_include_pad)
    exact = np.clip(np.rint(mean + z), 0, 255).astype(np.int64)
    y = nchw_to_nhwc(int_repr(torch.nn.functional.avg_pool2d(
        q_activation(nhwc_to_nchw(x), s, z), list(kernel), list(stride), list(pad), ceil_mode=ceil_mode,
        count_include_pad=count_include_pad)))
    check_against_exact(case, y, exact)
    case.attr("kernel", *kernel)
    case.attr("stride", *stride)
    case.attr("padding", pad[0], pad[1], pad[0], pad[1])
    case.attr("ceil_mode", int(ceil_mode))
    case.attr("count_include_pad", int(count_include_pad))
    case.tensors = [Tensor("input", x, "uint8", s, z), Tensor("expected", y, "uint8", s, z)]
    return case.write(out_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    args = parser.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)  # nothing below draws from torch's generator; this only guards against that changing
    torch.set_num_threads(1)  # one thread: no dependence on how work is split

    paths = []
    # conv2d: (n, h, w, cin, cout, kernel, stride, pad (t, l, b, r), dilation, groups, per_channel)
    paths.append(conv2d_case(out, "conv2d_3x3_pad1", 101, "3x3, stride 1, padding 1, per-tensor weights",
                             1, 6, 6, 4, 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, False))
    paths.append(conv2d_case(out, "conv2d_3x3_stride2_per_channel", 102,
                             "3x3, stride 2, padding 1, per-channel weights, batch 2",
                             2, 7, 8, 5, 6, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1, True))
    paths.append(conv2d_case(out, "conv2d_dilation2", 103, "3x3, dilation 2, padding 2, per-channel weights",
                             1, 7, 7, 3, 5, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 1, True))
    paths.append(conv2d_case(out, "conv2d_groups2_rect", 104,
                             "groups 2, 3x2 kernel, stride (1, 2), padding (1, 0), per-channel weights",
                             1, 5, 7, 6, 4, (3, 2), (1, 2), (1, 0, 1, 0), (1, 1), 2, True))
    paths.append(conv2d_case(out, "conv2d_depthwise_mult2", 105,
                             "depthwise (groups = C_in = 4), channel multiplier 2, 3x3, padding 1, per-channel",
                             1, 6, 6, 4, 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 4, True))
    paths.append(conv2d_case(out, "conv2d_depthwise_stride2", 106,
                             "depthwise (groups = C_in = 6), 3x3, stride 2, padding 1, per-channel",
                             1, 7, 7, 6, 6, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 6, True))
    paths.append(conv2d_case(out, "conv2d_relu", 107, "3x3, padding 1, fused ReLU (conv2d_relu), per-channel",
                             1, 5, 5, 4, 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, True, relu=True))
    # conv_transpose2d: (n, h, w, cin, cout, kernel, stride, pad, output_padding, dilation, groups, per_channel)
    paths.append(conv_transpose2d_case(out, "conv_transpose2d_unet_2x2_s2", 201,
                                       "U-Net up-sampling: 2x2, stride 2, per-channel weights",
                                       1, 4, 4, 8, 4, (2, 2), (2, 2), (0, 0, 0, 0), (0, 0), (1, 1), 1, True))
    paths.append(conv_transpose2d_case(out, "conv_transpose2d_3x3_s2_pad1_outpad1", 202,
                                       "3x3, stride 2, padding 1, output_padding 1, per-channel weights",
                                       1, 3, 4, 5, 3, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (1, 1), 1, True))
    paths.append(conv_transpose2d_case(out, "conv_transpose2d_groups2", 203,
                                       "groups 2 (C_in 4, C_out 6), 3x3, stride 2, padding 1, output_padding 1, "
                                       "per-tensor weights (PyTorch has no per-channel grouped deconv)",
                                       1, 3, 3, 4, 6, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (1, 1), 2, False))
    paths.append(conv_transpose2d_case(out, "conv_transpose2d_dilation2_rect", 204,
                                       "3x2 kernel, stride (2, 1), padding (2, 1), dilation 2, per-channel",
                                       1, 3, 4, 3, 4, (3, 2), (2, 1), (2, 1, 2, 1), (0, 0), (2, 2), 1, True))
    # linear
    paths.append(linear_case(out, "linear_per_channel", 301, "K 32, C_out 10, batch 3, per-channel weights",
                             "qnnpack", 3, 32, 10, True))
    paths.append(linear_case(out, "linear_per_tensor_onednn", 302, "K 24, C_out 7, batch 2, per-tensor weights",
                             "onednn", 2, 24, 7, False))
    # add
    paths.append(add_case(out, "add_qnnpack", 401, "a + b, three different scales and zero points",
                          "qnnpack", (1, 4, 5, 6)))
    paths.append(add_case(out, "add_aten", 402, "a + b, three different scales and zero points",
                          "onednn", (1, 5, 4, 6)))
    # cat
    paths.append(cat_case(out, "cat_channels", 501, "two inputs along C, each with its own params",
                          [(1, 3, 4, 3), (1, 3, 4, 5)], 3))
    paths.append(cat_case(out, "cat_height_three", 502,
                          "three inputs along H; input1 already has the output's params (copied unchanged)",
                          [(1, 2, 4, 3), (1, 3, 4, 3), (1, 1, 4, 3)], 1, same_as_output=1))
    # max_pool2d: (engine, shape, kernel, stride, pad (h, w), dilation, ceil_mode)
    paths.append(max_pool2d_case(out, "max_pool2d_3x3_s2_p1", 601, "3x3, stride 2, padding 1", "qnnpack",
                                 (1, 7, 8, 4), (3, 3), (2, 2), (1, 1), (1, 1), False))
    paths.append(max_pool2d_case(out, "max_pool2d_2x2_s2_ceil", 602, "2x2, stride 2, ceil_mode, odd input",
                                 "qnnpack", (1, 7, 5, 3), (2, 2), (2, 2), (0, 0), (1, 1), True))
    paths.append(max_pool2d_case(out, "max_pool2d_dilation2", 603, "3x3, stride 1, padding 1, dilation 2",
                                 "onednn", (1, 6, 6, 3), (3, 3), (1, 1), (1, 1), (2, 2), False))
    # avg_pool2d: (engine, shape, kernel, stride, pad (h, w), ceil_mode, count_include_pad)
    paths.append(avg_pool2d_case(out, "avg_pool2d_3x3_s2_p1_include_pad", 701,
                                 "3x3, stride 2, padding 1, count_include_pad", "qnnpack",
                                 (1, 7, 7, 4), (3, 3), (2, 2), (1, 1), False, True))
    paths.append(avg_pool2d_case(out, "avg_pool2d_3x3_s2_p1_exclude_pad", 702,
                                 "3x3, stride 2, padding 1, count_include_pad off", "onednn",
                                 (1, 7, 7, 4), (3, 3), (2, 2), (1, 1), False, False))
    paths.append(avg_pool2d_case(out, "avg_pool2d_3x3_s2_p1_ceil_include_pad", 703,
                                 "3x3, stride 2, padding 1, ceil_mode, count_include_pad: the last window "
                                 "overhangs the padding, and the overhang is not counted", "onednn",
                                 (1, 8, 6, 3), (3, 3), (2, 2), (1, 1), True, True))
    paths.append(avg_pool2d_case(out, "avg_pool2d_2x2_s2_ceil_exclude_pad", 704,
                                 "2x2, stride 2, ceil_mode, count_include_pad off, odd input", "onednn",
                                 (1, 5, 7, 3), (2, 2), (2, 2), (0, 0), True, False))

    total = sum(os.path.getsize(p) for p in paths)
    print(f"{'case':45s} {'engine':8s} {'elems':>6s} {'max':>4s} {'!=':>4s}   (PyTorch vs exact float64)")
    for name, engine, size, worst, n_diff in SUMMARY:
        print(f"{name:45s} {engine:8s} {size:6d} {worst:4d} {n_diff:4d}")
    print(f"wrote {len(paths)} files, {total} bytes, to {out}")


if __name__ == "__main__":
    main()
