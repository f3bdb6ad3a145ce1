#!/usr/bin/env python3
"""Selects ONNX's own backend node tests for the operators octet supports and copies them into the tree.

    apt-get install -y libonnx-testdata
    /usr/bin/python3 tests/conformance/select_onnx_node_tests.py

Reads the node tests of Debian's libonnx-testdata package (ONNX 1.12: one folder per case with model.onnx and
test_data_set_0/{input,output}_N.pb), and writes tests/conformance/onnx_node/:

  CASES.txt          every case considered, one per line: NAME<TAB>run or NAME<TAB>skip<TAB>reason
  FOLDED.txt         NAME<TAB>the inputs turned into initializers (see "Folding")
  NAME/model.onnx    every case (a skipped one too: the C++ test checks that octet really rejects it)
  NAME/test_data_set_0/{input,output}_N.pb   run cases only
  NAME/tolerance.txt quantized variants only (see below): the float tolerance and its derivation

so that the C++ test (onnx_node_test.cpp) needs neither Python nor the Debian package.

Considered: every node test whose operators (Constant aside) are all operators octet imports, and every node
test that uses one of the quantization operators (QuantizeLinear, DequantizeLinear, QLinearConv,
QLinearMatMul, ConvInteger, MatMulInteger, DynamicQuantizeLinear).

Folding: ONNX's node tests pass every operand as a graph input, including the ones that are constants in any
real model (scales, zero points, weights, bias, Reshape's shape, Clip's bounds, Resize's scales, Pow's
exponent, ...). octet takes those only as constants, because it prepares weights, multipliers and tables at
load time. So those operands, and only those, become initializers holding exactly the test's values: the
case computes the same function on the same data. The remaining inputs are fed at run time.

Quantized variants (NAME_qdq): octet runs only quantized graphs, so a float node test (float in, float out)
is skipped as such. Its single operator is also tested the way octet meets it in a real model, in QDQ form:
every float input goes through QuantizeLinear -> DequantizeLinear (uint8, params from the input's range),
float weights become int8 symmetric + DequantizeLinear (per output channel from opset 13, per tensor before),
and the output goes through QuantizeLinear -> DequantizeLinear (params from the expected output's range). The
expected output stays ONNX's float result, and tolerance.txt bounds octet's error (see bound_and_note):
the input quantization error propagated through the operator (its Lipschitz constant in the max norm, with
the actual weight quantization error for the convolution family), plus 1.5 output steps: half a step for
rounding the result to the output grid and one step for octet's fixed-point requantization, which rounds
twice (docs/quantization.md).

A skip reason starts with a category that the C++ test acts on:
  "unsupported: "  octet rejects the model at load; the octet::Error must name the node's operator
  "opset: "        octet rejects the model at load: the opset is outside 10..21
  "io type: "      octet rejects the model at load: a graph input or output it does not take
  "constant type: " octet rejects the model at load: an initializer of a type it does not decode
  "KNOWN BUG: "    octet should pass but does not (diagnosed in the reason); not run
"""

import argparse
import math
import os
import shutil
import sys

import numpy as np
import onnx
import onnx.defs
from onnx import TensorProto, helper, numpy_helper

DEFAULT_SOURCE = "/usr/share/libonnx-testdata/data/node"
DEFAULT_DEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx_node")
VARIANT = "_qdq"

# What octet's ONNX importer lowers (graph/onnx/lower_*.cpp).
ELEMENTWISE = {
    "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu", "Elu", "Selu", "Exp", "Log",
    "Sqrt", "Neg", "Abs", "Reciprocal", "Softplus", "Softsign", "Erf", "Add", "Sub", "Mul", "Div", "Pow", "Max",
    "Min", "Identity", "Gelu", "Mish", "Floor", "Ceil", "Round"
}
STRUCTURAL = {
    "MaxPool", "GlobalMaxPool", "AveragePool", "GlobalAveragePool", "Reshape", "Flatten", "Transpose", "Squeeze",
    "Unsqueeze", "Identity", "Concat", "Resize", "Softmax"
}
QDQ_COMPUTE = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
QOPERATOR = {"QLinearConv", "QLinearMatMul"}  # the ONNX-domain ones; the rest are com.microsoft
QDQ = {"QuantizeLinear", "DequantizeLinear"}
OCTET_OPS = ELEMENTWISE | STRUCTURAL | QDQ_COMPUTE | QOPERATOR | QDQ
# Quantization operators octet does not import (integer outputs / runtime-computed params).
QUANT_UNSUPPORTED = {
    "ConvInteger": "ConvInteger (int32 output) is not supported yet",
    "MatMulInteger": "MatMulInteger (int32 output) is not supported yet",
    "DynamicQuantizeLinear": "DynamicQuantizeLinear (params computed at run time) is not supported: octet "
                             "fixes every quantization param at load time",
}
QUANT_OPS = QOPERATOR | QDQ | set(QUANT_UNSUPPORTED)

# Operand positions that are constants in real models and that octet requires to be constants.
CONSTANT_OPERANDS = {
    "QuantizeLinear": {1, 2},
    "DequantizeLinear": {1, 2},
    "QLinearConv": {1, 2, 3, 4, 5, 6, 7, 8},
    "QLinearMatMul": {1, 2, 3, 4, 5, 6, 7},
    "ConvInteger": {1, 2, 3},
    "MatMulInteger": {1, 2, 3},
    "Conv": {1, 2},
    "ConvTranspose": {1, 2},
    "Gemm": {1, 2},
    "MatMul": {1},
    "Clip": {1, 2},
    "Pow": {1},
    "Reshape": {1},
    "Squeeze": {1},
    "Unsqueeze": {1},
    "Resize": {1, 2, 3},
}

# Elementwise operators that compute on their operands' values (not just move them).
ARITHMETIC = ELEMENTWISE - {"Identity"}

# Operators that only move or select values: each output element is one input element.
MOVE = {
    "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity", "MaxPool", "GlobalMaxPool", "Concat"
}

TYPE_NAMES = {
    TensorProto.FLOAT: "float32", TensorProto.UINT8: "uint8", TensorProto.INT8: "int8",
    TensorProto.INT16: "int16", TensorProto.UINT16: "uint16", TensorProto.INT32: "int32",
    TensorProto.INT64: "int64", TensorProto.UINT32: "uint32", TensorProto.UINT64: "uint64",
    TensorProto.FLOAT16: "float16", TensorProto.DOUBLE: "float64", TensorProto.BOOL: "bool",
    TensorProto.BFLOAT16: "bfloat16", TensorProto.STRING: "string",
}

# Cases octet should pass but does not, with the diagnosis: none at present. (The first run of this suite
# found three: a lookup table reading a tensor constant as its first value, Max / Min of one input
# throwing std::out_of_range, and a layout error that did not name its node; all fixed.)
KNOWN_BUGS = {}


def read_tensor(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def data_files(case_dir, kind):
    """input_N.pb / output_N.pb of test_data_set_0, in N order."""
    ds = os.path.join(case_dir, "test_data_set_0")
    files = [f for f in os.listdir(ds) if f.startswith(kind + "_") and f.endswith(".pb")]
    return [os.path.join(ds, f) for f in sorted(files, key=lambda f: int(f[len(kind) + 1:-3]))]


def opset_of(model):
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return 1


def set_opset(model, version):
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = version


def fold_constant_operands(model, inputs):
    """Turns the graph inputs that octet takes only as constants into initializers. Returns their names."""
    g = model.graph
    graph_inputs = {i.name for i in g.input}
    initializers = {i.name for i in g.initializer}
    fold = []
    for node in g.node:
        for pos in sorted(CONSTANT_OPERANDS.get(node.op_type, ())):
            if pos < len(node.input):
                name = node.input[pos]
                if name and name in graph_inputs and name not in initializers and name not in fold:
                    fold.append(name)
    for name in fold:
        t = TensorProto()
        t.CopyFrom(inputs[name])
        t.name = name
        g.initializer.append(t)
    kept = [i for i in g.input if i.name not in fold]
    del g.input[:]
    g.input.extend(kept)
    if fold:
        # Initializers that are not graph inputs need IR version 4; nothing else changed from 3 to 4.
        model.ir_version = max(model.ir_version, 4)
    return fold


def value_type(v):
    """(kind, elem_type) of a graph input / output's type."""
    which = v.type.WhichOneof("value")
    if which != "tensor_type":
        return which or "unknown", None
    return "tensor", v.type.tensor_type.elem_type


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            v = helper.get_attribute_value(a)
            return v.decode() if isinstance(v, bytes) else v
    return default


def compute_nodes(model):
    return [n for n in model.graph.node if n.op_type != "Constant"]


# Element types octet's importer decodes in initializers and Constant nodes (graph/onnx/constant.cpp).
CONSTANT_TYPES = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT64, TensorProto.INT32, TensorProto.INT8,
                  TensorProto.UINT8, TensorProto.BOOL}


def constant_type_problem(model):
    for t in model.graph.initializer:
        if t.data_type not in CONSTANT_TYPES:
            return (f"constant type: initializer '{t.name}' is {TYPE_NAMES.get(t.data_type, str(t.data_type))}; "
                    "octet decodes float32, float64, int64, int32, int8, uint8 and bool constants")
    return None


def classify(model):
    """Returns None to run the case, or the skip reason. The checks follow the order in which octet's
    importer meets the problems (opset, graph inputs, nodes, graph outputs), so that the reason is the one
    octet's load error gives."""
    g = model.graph
    ops = [n.op_type for n in compute_nodes(model)]
    opset = opset_of(model)
    initial = {i.name: i for i in g.initializer}

    if opset < 10 or opset > 21:
        return f"opset: the model uses ONNX opset {opset}; octet supports opsets 10 to 21"
    if constant_type_problem(model):
        return constant_type_problem(model)
    for v in g.input:
        kind, elem = value_type(v)
        if kind != "tensor":
            return f"io type: graph input '{v.name}' is {kind.replace('_type', '')}-typed, not a tensor"
        if elem == TensorProto.INT8:
            return (f"io type: int8 graph input '{v.name}': octet maps int8 activations onto uint8 internally "
                    "(zero point + 128) and its public API (HostTensor) has float32 and uint8 only")
        if elem not in (TensorProto.FLOAT, TensorProto.UINT8):
            return (f"io type: graph input '{v.name}' is {TYPE_NAMES.get(elem, str(elem))}; octet's graph "
                    "inputs are float32 or uint8")
        if any(d.HasField("dim_value") and d.dim_value == 0 for d in v.type.tensor_type.shape.dim):
            return f"io type: graph input '{v.name}' has a zero-sized dimension; octet's tensors are not empty"

    unsupported = [op for op in ops if op in QUANT_UNSUPPORTED]
    if unsupported:
        return "unsupported: " + QUANT_UNSUPPORTED[unsupported[0]]
    others = sorted({op for op in ops if op not in OCTET_OPS})
    if others:
        return "unsupported: operator(s) " + ", ".join(others) + " not imported by octet"
    runtime = {i.name: i.type.tensor_type.elem_type for i in g.input}
    for node in g.node:
        op = node.op_type
        if op in QDQ and node.input[0] in runtime:
            scale = initial.get(node.input[1])
            if scale is not None and numpy_helper.to_array(scale).size > 1:
                return (f"unsupported: per-axis {op} of a runtime tensor: octet quantizes activations per tensor "
                        "(per-axis params are for constant weights)")
        if op == "QLinearMatMul":
            b = initial.get(node.input[3])
            if b is not None and len(b.dims) != 2:
                return (f"unsupported: QLinearMatMul with a rank-{len(b.dims)} (batched) B: octet's fully "
                        "connected operator takes a 2-D constant weight matrix")
        if op == "MaxPool" and len(node.output) > 1 and node.output[1]:
            return "unsupported: MaxPool's Indices output"
    if not any(op in QUANT_OPS for op in ops):
        if any(t == TensorProto.FLOAT for t in runtime.values()):
            return ("unsupported: float graph without QuantizeLinear / DequantizeLinear: octet runs only "
                    "quantized graphs (no float fallback)")
        if any(op in ARITHMETIC for op in ops):
            return ("unsupported: integer arithmetic on raw uint8 tensors (no scale): octet computes "
                    "elementwise operators on quantized values (through DequantizeLinear)")
    for v in g.output:
        kind, elem = value_type(v)
        if kind != "tensor" or elem not in (TensorProto.FLOAT, TensorProto.UINT8):
            return (f"io type: graph output '{v.name}' is {TYPE_NAMES.get(elem, kind)}; octet's graph outputs "
                    "are float32 or uint8")
    return None


def considered(model):
    ops = {n.op_type for n in compute_nodes(model)}
    if not ops:
        return False
    return bool(ops & QUANT_OPS) or ops <= OCTET_OPS | set(QUANT_UNSUPPORTED)


# ---- quantized (QDQ) variants of the float node tests ----


def choose_qparams(values):
    """uint8 asymmetric params covering the values and 0.0, as octet's choose_qparams computes them."""
    finite = values[np.isfinite(values)].astype(np.float64)
    lo = min(float(finite.min()) if finite.size else 0.0, 0.0)
    hi = max(float(finite.max()) if finite.size else 0.0, 0.0)
    if hi == lo:
        return np.float32(1.0), 0
    scale = np.float32((hi - lo) / 255.0)
    return scale, int(np.clip(np.rint(0.0 - lo / float(scale)), 0, 255))


def fake_quantize(x, scale, zp):
    """DequantizeLinear(QuantizeLinear(x)) in float32, as ONNX defines them and octet computes them."""
    q = np.clip(np.rint(x.astype(np.float32) / scale) + np.float32(zp), 0, 255)
    return (q.astype(np.float32) - np.float32(zp)) * scale


def quantize_weights(w, axis):
    """int8 symmetric narrow-range weights (octet's convention), per channel along axis, or per tensor."""
    if axis is None:
        m = float(np.abs(w).max())
        scale = np.array(m / 127 if m > 0 else 1.0, dtype=np.float32)
        view = scale
    else:
        m = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(axis=1)
        scale = np.where(m > 0, m / 127, 1.0).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        view = scale.reshape(shape)
    q = np.clip(np.rint(w / view), -127, 127).astype(np.int8)
    return q, scale, q.astype(np.float32) * view


def weight_axis(node, rank):
    """The output-channel axis of the node's weights (what octet requires for per-channel weights)."""
    if node.op_type == "Conv":
        return 0
    if node.op_type == "ConvTranspose":
        return 1
    if node.op_type == "Gemm":
        return 0 if attr(node, "transB", 0) else 1
    return rank - 1  # MatMul: B is [K, N]


def opset_for_variant(model, node):
    """The variant's opset: QuantizeLinear needs 10, per-axis DequantizeLinear (per-channel weights) 13. The
    model moves up only where its operator's definition is the same in the new opset."""
    opset = opset_of(model)
    since = onnx.defs.get_schema(node.op_type, opset).since_version
    for target in ([13] if node.op_type in QDQ_COMPUTE else []) + [10]:
        new = max(opset, target)
        if onnx.defs.get_schema(node.op_type, new).since_version == since:
            return new
    return None


def variant_reject(node, shapes, initial):
    """The reason octet rejects the quantized variant (a design limit), or None if it should run it."""
    op = node.op_type
    rank = len(shapes[node.input[0]])
    runtime_operands = [i for i in node.input if i in shapes]
    if op in ELEMENTWISE and any(i in initial and numpy_helper.to_array(initial[i]).size != 1 for i in node.input):
        return ("unsupported: elementwise operation with a non-scalar constant operand (a lookup table needs "
                "one value per input value)")
    if op in ELEMENTWISE and len(runtime_operands) > 1 and op not in ("Add", "Mul"):
        return (f"unsupported: {op} of {len(runtime_operands)} quantized tensors: the only elementwise "
                "operators octet runs on two runtime tensors are Add and Mul")
    if op in ("MaxPool", "AveragePool") and rank != 4:
        return f"unsupported: {rank - 2}-D pooling: octet pools 2-D (NCHW) images"
    if op in ("Conv", "ConvTranspose") and rank != 4:
        return f"unsupported: {rank - 2}-D {op}: octet convolves 2-D (NCHW) images"
    if op == "ConvTranspose" and rank == 4 and attr(node, "output_shape"):
        # ONNX: total padding = stride (in - 1) + output_padding + (k - 1) dilation + 1 - output_shape; where
        # that is negative, ONNX's expected output is zero-extended. octet refuses that at load.
        kernel = numpy_helper.to_array(initial[node.input[1]]).shape[2:]
        size = shapes[node.input[0]][2:]
        target = list(attr(node, "output_shape"))[-2:]
        strides = attr(node, "strides", [1, 1])
        dil = attr(node, "dilations", [1, 1])
        out_pad = attr(node, "output_padding", [0, 0])
        for i in range(2):
            total = strides[i] * (size[i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1 - target[i]
            if total < 0:
                return (f"unsupported: ConvTranspose output_shape {target} is larger than the transposed "
                        "convolution produces (negative total padding, which ONNX fills with zeros); octet "
                        "refuses it")
    if op == "Resize":
        mode = attr(node, "mode", "nearest")
        ctm = attr(node, "coordinate_transformation_mode", "half_pixel")
        if mode not in ("nearest", "linear"):
            return f"unsupported: Resize mode '{mode}' (octet: nearest, linear)"
        if ctm not in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"):
            return f"unsupported: Resize coordinate_transformation_mode '{ctm}'"
    if op == "Softmax":
        axis = attr(node, "axis", -1)
        if axis % rank != rank - 1:
            return (f"unsupported: Softmax over axis {axis} of a rank-{rank} tensor: octet's softmax runs over "
                    "the innermost axis")
    if op == "Gemm":
        if attr(node, "transA", 0):
            return "unsupported: Gemm with transA = 1 (octet's fully connected takes A as is)"
        if len(node.input) > 2 and node.input[2]:
            c = numpy_helper.to_array(initial[node.input[2]])
            b = numpy_helper.to_array(initial[node.input[1]])
            n = b.shape[0] if attr(node, "transB", 0) else b.shape[1]
            if c.size not in (1, n):
                return (f"unsupported: Gemm with a {list(c.shape)} bias C: octet's bias holds one value per "
                        "output channel")
    if op == "MatMul":
        b = initial[node.input[1]]
        if len(b.dims) != 2:
            return f"unsupported: MatMul with a rank-{len(b.dims)} B: octet's weights are a 2-D matrix"
    return None


def lipschitz(node, x, e):
    """Max-norm Lipschitz constant of a one-input elementwise operator over [min x - e, max x + e], or None
    where there is no useful bound (discontinuous, or unbounded near 0, which octet's uint8 grid holds)."""
    op = node.op_type
    constant = {"Relu": 1.0, "Abs": 1.0, "Neg": 1.0, "Identity": 1.0, "Clip": 1.0, "Softsign": 1.0,
                "Softplus": 1.0, "Tanh": 1.0, "Sigmoid": 0.25, "Erf": 2 / math.sqrt(math.pi), "Max": 1.0,
                "Min": 1.0,
                # d/dx x * clamp(x / 6 + 1/2, 0, 1) = x / 3 + 1/2 on (-3, 3), 0 or 1 outside: at most 1.5.
                "HardSwish": 1.5}
    if op in constant:
        return constant[op]
    if op == "LeakyRelu":
        return max(1.0, abs(attr(node, "alpha", 0.01)))
    if op == "HardSigmoid":
        return abs(attr(node, "alpha", 0.2))
    if op == "Elu":
        return max(1.0, abs(attr(node, "alpha", 1.0)))
    if op == "Selu":
        return abs(attr(node, "gamma", 1.0507)) * max(1.0, abs(attr(node, "alpha", 1.67326)))
    if op == "Exp":
        return math.exp(float(np.max(x)) + e)
    return None


def bound_and_note(node, runtime, weights, initial):
    """Bound on |octet - ONNX| before the output rounding, and how it was derived; None if no bound.

    runtime: input name -> (float data, scale, max quantization error e); weights: name -> (w, w_q, scales)."""
    op = node.op_type
    es = [runtime[i][2] for i in node.input if i in runtime]
    e = max(es) if es else 0.0
    x0, s0, e0 = runtime[node.input[0]]
    if op in MOVE or (op in ("Max", "Min") and len(es) == 1):
        return e, f"moves values: error = the input quantization error e = {e:.6g}"
    if op in ("AveragePool", "GlobalAveragePool"):
        return e, f"an average of values each off by at most e = {e:.6g}"
    if op == "Resize":
        if attr(node, "mode", "nearest") == "linear":
            return e + float(s0), (f"interpolation (convex weights) of values off by e = {e:.6g}, plus one input "
                                   f"step {float(s0):.6g} for octet's 11-bit taps and rounding on the input grid")
        return e, f"nearest: copies values off by e = {e:.6g}"
    if op == "Softmax":
        # Row sums of |d softmax_i / d x_j| are 2 s_i (1 - s_i) <= 1/2.
        return 0.5 * e, f"softmax is 1/2-Lipschitz in the max norm; e = {e:.6g}"
    if op == "Add" and len(es) == 2:
        return es[0] + es[1], f"sum of the two input errors {es[0]:.6g} + {es[1]:.6g}"
    if op == "Mul" and len(es) == 2:
        a, b = (runtime[i] for i in node.input)
        m = float(np.max(np.abs(b[0]))) * a[2] + float(np.max(np.abs(a[0]))) * b[2] + a[2] * b[2]
        return m, "max|y| e_x + max|x| e_y + e_x e_y"
    if op == "Pow":
        p = np.broadcast_to(numpy_helper.to_array(initial[node.input[1]]).astype(np.float64), x0.shape)
        if np.any(p < 1) or np.any(x0 < 0):
            return None, ""
        lip = float(np.max(p * (np.abs(x0) + e0) ** (p - 1)))
        return lip * e0, f"per element |p| (|x| + e)^(p - 1) <= {lip:.6g}, times e = {e0:.6g}"
    if op in ELEMENTWISE and len(es) == 1:
        lip = lipschitz(node, x0, e0)
        if lip is None:
            return None, ""
        return lip * e0, f"Lipschitz constant {lip:.6g} times the input error e = {e0:.6g}"
    if op in QDQ_COMPUTE:
        # y_q - y = W_q (x_q - x) + (W_q - W) x: per output channel, the L1 norm of its quantized weights times
        # e, plus max|x| times the L1 norm of its weights' quantization error; plus the bias, rounded to int32
        # in units of s_x * s_w.
        w, wq, scales = weights[node.input[1]]
        if op == "Conv":
            per = lambda a: np.abs(a).reshape(a.shape[0], -1).sum(axis=1)  # noqa: E731
        elif op == "ConvTranspose":
            groups = attr(node, "group", 1)
            cin_g = w.shape[0] // groups

            def per(a):  # output channel g * (C_out / group) + j sums W[C_in of group g, j]
                return np.array([np.abs(a[g * cin_g:(g + 1) * cin_g, j]).sum()
                                 for g in range(groups) for j in range(a.shape[1])])
        else:
            trans = op == "Gemm" and attr(node, "transB", 0)
            per = (lambda a: np.abs(a).sum(axis=1)) if trans else (lambda a: np.abs(a).sum(axis=0))  # noqa: E731
        alpha = abs(attr(node, "alpha", 1.0)) if op == "Gemm" else 1.0
        xmax = float(np.max(np.abs(x0)))
        per_channel = alpha * (per(wq) * e0 + per(wq - w) * xmax)
        has_bias = len(node.input) > 2 and node.input[2]
        bias = 0.5 * float(s0) * alpha * float(np.max(scales)) if has_bias else 0.0
        return float(np.max(per_channel)) + bias, (f"per output channel alpha (|W_q|_1 e + |W_q - W|_1 max|x|) "
                                                   f"with e = {e0:.6g}, max|x| = {xmax:.6g}, plus bias "
                                                   f"rounding {bias:.3g}")
    return None, ""


def make_variant(name, model, inputs, outputs):
    """The QDQ form of a single-operator float test: (model, skip reason or None, tolerance text), or None
    when there is no meaningful quantized form."""
    nodes = compute_nodes(model)
    if len(nodes) != 1:
        return None
    node = nodes[0]
    g = model.graph
    if any(value_type(v) != ("tensor", TensorProto.FLOAT) for v in list(g.input) + list(g.output)):
        return None
    if node.op_type in QDQ or node.op_type in QOPERATOR:
        return None
    opset = opset_for_variant(model, node)
    if opset is None:
        return None

    v = onnx.ModelProto()
    v.CopyFrom(model)
    set_opset(v, opset)
    v.ir_version = max(v.ir_version, 5)  # what opset 10 (QuantizeLinear) needs
    vg = v.graph
    initial = {i.name: i for i in vg.initializer}
    shapes = {i.name: numpy_helper.to_array(inputs[i.name]).shape for i in vg.input}
    reject = constant_type_problem(v) or variant_reject(node, shapes, initial)

    new_nodes, new_inits = [], []

    def qparam_inits(prefix, scale, zp):
        new_inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), prefix + "_scale"))
        new_inits.append(numpy_helper.from_array(np.array(zp, dtype=np.uint8), prefix + "_zero_point"))
        return [prefix + "_scale", prefix + "_zero_point"]

    # Float weights -> int8 + DequantizeLinear, under the weights' own name.
    weights = {}
    if node.op_type in QDQ_COMPUTE:
        wname = node.input[1]
        w = numpy_helper.to_array(initial[wname]).astype(np.float32)
        axis = weight_axis(node, w.ndim) if opset >= 13 else None
        wq, scales, wdq = quantize_weights(w, axis)
        weights[wname] = (w, wdq, scales)
        vg.initializer.remove(initial[wname])
        new_inits.append(numpy_helper.from_array(wq, wname + "_int8"))
        new_inits.append(numpy_helper.from_array(scales, wname + "_scale"))
        new_inits.append(numpy_helper.from_array(np.zeros(scales.shape, dtype=np.int8), wname + "_zero_point"))
        kwargs = {"axis": axis} if axis is not None else {}
        new_nodes.append(helper.make_node("DequantizeLinear", [wname + "_int8", wname + "_scale",
                                                               wname + "_zero_point"], [wname],
                                          name=wname + "_dequantize", **kwargs))

    # Each runtime input: QuantizeLinear -> DequantizeLinear with params from its data.
    runtime = {}
    renamed = {}
    for i in vg.input:
        x = numpy_helper.to_array(inputs[i.name]).astype(np.float32)
        scale, zp = choose_qparams(x)
        params = qparam_inits(i.name + "_q", scale, zp)
        new_nodes.append(helper.make_node("QuantizeLinear", [i.name] + params, [i.name + "_q"],
                                          name=i.name + "_quantize"))
        new_nodes.append(helper.make_node("DequantizeLinear", [i.name + "_q"] + params, [i.name + "_dq"],
                                          name=i.name + "_dequantize"))
        renamed[i.name] = i.name + "_dq"
        error = np.abs(fake_quantize(x, scale, zp).astype(np.float64) - x)
        runtime[i.name] = (x, scale, float(np.max(error)))
    # The operator's output: QuantizeLinear -> DequantizeLinear with params from ONNX's expected output.
    out = node.output[0]
    y = numpy_helper.to_array(outputs[out]).astype(np.float32)
    if not np.all(np.isfinite(y)):
        return None
    y_scale, y_zp = choose_qparams(y)
    params = qparam_inits(out + "_q", y_scale, y_zp)
    op_node = onnx.NodeProto()
    op_node.CopyFrom(node)
    for k, inp in enumerate(op_node.input):
        if inp in renamed:
            op_node.input[k] = renamed[inp]
    op_node.output[0] = out + "_float"
    tail = [helper.make_node("QuantizeLinear", [out + "_float"] + params, [out + "_q"], name=out + "_quantize"),
            helper.make_node("DequantizeLinear", [out + "_q"] + params, [out], name=out + "_dequantize")]
    consts = [n for n in vg.node if n.op_type == "Constant"]
    del vg.node[:]
    vg.node.extend(consts + new_nodes + [op_node] + tail)
    vg.initializer.extend(new_inits)

    tolerance = None
    if reject is None:
        bound, note = bound_and_note(node, runtime, weights, initial)
        if bound is None:
            return None
        slack = 1e-6 * max(1.0, float(np.max(np.abs(y))))
        tol = bound + 1.5 * float(y_scale) + slack
        tolerance = (f"{tol:.9g}\n# {name}: bound on |octet - ONNX| for every output element =\n"
                     f"#   {bound:.6g}  ({note})\n"
                     f"# + {1.5 * float(y_scale):.6g}  (1.5 output steps of {float(y_scale):.6g}: half a step to "
                     "round to the output grid, one for octet's twice-rounding requantization)\n"
                     f"# + {slack:.3g}  (float32 evaluation slack)\n")
    onnx.checker.check_model(v)
    return v, reject, tolerance


def write_case(dest, name, model, inputs, output_files, tolerance=None):
    """A run case: the model, its runtime inputs renumbered in graph-input order, ONNX's outputs."""
    os.makedirs(dest)
    onnx.save(model, os.path.join(dest, "model.onnx"))
    ds = os.path.join(dest, "test_data_set_0")
    os.makedirs(ds)
    for i, v in enumerate(model.graph.input):
        with open(os.path.join(ds, f"input_{i}.pb"), "wb") as f:
            f.write(inputs[v.name].SerializeToString())
    for path in output_files:
        shutil.copyfile(path, os.path.join(ds, os.path.basename(path)))
    if tolerance:
        with open(os.path.join(dest, "tolerance.txt"), "w") as f:
            f.write(tolerance)


def write_skipped(dest, model):
    os.makedirs(dest)
    onnx.save(model, os.path.join(dest, "model.onnx"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=DEFAULT_SOURCE, help="ONNX node test folder (default: %(default)s)")
    ap.add_argument("--dest", default=DEFAULT_DEST, help="output folder (default: %(default)s)")
    args = ap.parse_args()
    if not os.path.isdir(args.source):
        sys.exit(f"{args.source} not found: apt-get install -y libonnx-testdata")

    if os.path.isdir(args.dest):
        shutil.rmtree(args.dest)
    os.makedirs(args.dest)
    lines, folded_lines = [], []

    def record(name, reason):
        if reason is None and name in KNOWN_BUGS:
            reason = "KNOWN BUG: " + KNOWN_BUGS[name]
        lines.append(f"{name}\trun" if reason is None else f"{name}\tskip\t{reason}")
        return reason

    for name in sorted(os.listdir(args.source)):
        src = os.path.join(args.source, name)
        model = onnx.load(os.path.join(src, "model.onnx"))
        if not considered(model):
            continue
        inputs = {}
        for path in data_files(src, "input"):
            t = read_tensor(path)
            inputs[t.name] = t
        outputs = {}
        for path in data_files(src, "output"):
            t = read_tensor(path)
            outputs[t.name] = t
        folded = fold_constant_operands(model, inputs)
        if folded:
            folded_lines.append(f"{name}\t{' '.join(folded)}")
        reason = classify(model)
        variant = None
        if reason is not None and (reason.startswith("unsupported: float graph") or reason.startswith("opset: ")):
            variant = make_variant(name + VARIANT, model, inputs, outputs)
            if variant is not None:
                reason += f"; {name + VARIANT} is its quantized form"
        reason = record(name, reason)
        if reason is None:
            write_case(os.path.join(args.dest, name), name, model, inputs, data_files(src, "output"))
        else:
            write_skipped(os.path.join(args.dest, name), model)
        if variant is not None:
            vmodel, vreason, tolerance = variant
            vname = name + VARIANT
            vreason = record(vname, vreason)
            if vreason is None:
                write_case(os.path.join(args.dest, vname), vname, vmodel, inputs, data_files(src, "output"),
                           tolerance)
            else:
                write_skipped(os.path.join(args.dest, vname), vmodel)

    with open(os.path.join(args.dest, "CASES.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.dest, "FOLDED.txt"), "w") as f:
        f.write("\n".join(folded_lines) + "\n")

    runs = sum(1 for line in lines if line.endswith("\trun"))
    total = 0
    for root, _, files in os.walk(args.dest):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"{len(lines)} cases considered, {runs} to run, {len(lines) - runs} skipped; "
          f"{total / 1024:.0f} KiB in {args.dest}")
    if total > 2 * 1024 * 1024:
        sys.exit("the selection exceeds 2 MiB")


if __name__ == "__main__":
    main()
