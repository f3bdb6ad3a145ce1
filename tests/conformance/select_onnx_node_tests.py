#!/usr/bin/env python3
"""Selects ONNX's own backend node tests for the operators octet supports and copies them into the tree.

    apt-get install -y libonnx-testdata
    /usr/bin/python3 tests/conformance/select_onnx_node_tests.py

Reads the node tests of Debian's libonnx-testdata package (ONNX 1.12: one folder per case with model.onnx and
test_data_set_0/{input,output}_N.pb), and writes tests/conformance/onnx_node/:

  CASES.txt          every case considered, one per line: NAME<TAB>run or NAME<TAB>skip<TAB>reason
  FOLDED.txt         NAME<TAB>the inputs turned into initializers (see "Folding")
  NAME/model.onnx    every case (a skipped one too: the C++ test checks that octet really rejects it)
  NAME/test_data_set_0/{input,output}_N.pb   run cases only; a quantized variant whose float case runs too
                     has none and reads that case's (the same inputs and expected outputs)
  NAME/tolerance.txt where a float output is not compared exactly: "OUTPUT ABSOLUTE RELATIVE" per output, and
                     the derivation (see "Tolerances")

so that the C++ test (onnx_node_test.cpp) needs neither Python nor the Debian package.

Considered: every node test whose operators (Constant aside) are all operators octet imports (the float ones
included: octet computes in float whatever a model computes in float), and every node test that uses one of
the quantization operators (QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul, ConvInteger,
MatMulInteger, DynamicQuantizeLinear). The _expanded tests (a function operator written out in primitive
operators) are considered like any other.

Folding: ONNX's node tests pass every operand as a graph input, including the ones that are constants in any
real model (scales, zero points, weights, bias, normalization parameters, Reshape's shape, Slice's starts /
ends / axes / steps, Pad's pads, Gather's indices, Expand's shape, Tile's repeats, Split's split, Reduce*'s
axes, Resize's roi / scales / sizes, Clip's bounds, Pow's exponent, ...: CONSTANT_OPERANDS). octet takes most
of those only as constants, because it prepares weights, multipliers, tables and layouts at load time. So
those operands, and only those, become initializers holding exactly the test's values: the case computes the
same function on the same data. The remaining inputs are fed at run time.

Corrected references: ONNX 1.12 wrote the expected outputs of its window cases with pi = 3.1415, up to 7e-5
from the operators' definition; those are rewritten from the definition (correct_window_reference).

Tolerances: float outputs are compared exactly where both sides perform the same correctly rounded IEEE
operations (element moves, comparisons, Add / Mul / Div / Sqrt, ...); elsewhere tolerance.txt bounds
|octet - ONNX| per element by ABSOLUTE + RELATIVE |ONNX|, derived per operator from the case's own data (see
node_tolerance): elementwise functions 8 ulp relative and a few ulp of 1.0 absolute; sums, dot products,
convolutions, pooling, reductions and normalizations 2 gamma_K times the sum of the absolute values of their K
terms (Higham's bound for any summation order, on each side).

Quantized variants (NAME_qdq): a single-operator float test of an operator that octet also runs on uint8
data (lookup-table elementwise operators, pooling, movement, resize, softmax, the convolution family) is also
tested the way octet meets it in a quantized model, in QDQ form: every float input goes through QuantizeLinear
-> DequantizeLinear (uint8, params from the input's range), float weights become int8 symmetric +
DequantizeLinear (per output channel from opset 13, per tensor before), and each output goes through
QuantizeLinear -> DequantizeLinear (params from the expected output's range). Where the operator has no int8
form for these operands (Sub of two tensors, a Gemm with transA, ...), octet dequantizes, computes in float
and quantizes, which the variant then tests. The expected output stays ONNX's float result, and tolerance.txt
bounds octet's error (see bound_and_note): the input quantization error propagated through the operator (its
Lipschitz constant in the max norm, with the actual weight quantization error for the convolution family),
plus 1.5 output steps: half a step for rounding the result to the output grid and one step for octet's
fixed-point requantization, which rounds twice (docs/quantization.md).

A skip reason starts with a category that the C++ test acts on:
  "unsupported: "  octet rejects the model at load; the octet::Error must name the node's operator
  "opset: "        octet rejects the model at load: the opset is outside 10..28
  "io type: "      octet rejects the model at load: a graph input or output it does not take
  "constant type: " octet rejects the model at load: an initializer of a type it does not decode
  "KNOWN BUG: "    octet should pass but does not (diagnosed in the reason); not run

classify() predicts octet's rejection from the model. --probe writes every case as a run case, to check
those predictions against octet itself (each skip reason must match the error octet gives at load).
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

# What octet's ONNX importer lowers (graph/onnx/), by the file that lowers it.
# fold.cpp: evaluated at load (they read constants or shapes; from run-time values, in a later stage: graph/stages.h).
FOLDED_ONLY = {"Shape", "Size", "ConstantOfShape", "Range"}
# graph/stages.h: operators whose output's shape depends on the data, evaluated between compiled stages.
DATA_DEPENDENT = {"NonZero", "NonMaxSuppression", "If", "Compress", "Loop"}
# lower_elementwise.cpp: the quantized forms (lookup tables of one quantized tensor; add / mul of two).
LUT_ELEMENTWISE = {
    "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu", "Elu", "Selu", "Exp", "Log",
    "Sqrt", "Neg", "Abs", "Reciprocal", "Softplus", "Softsign", "Erf", "Add", "Sub", "Mul", "Div", "Pow", "Max",
    "Min", "Identity", "Gelu", "Mish", "Floor", "Ceil", "Round"
}
# lower_structural.cpp: on the uint8 bytes of a quantized tensor, or on floats.
STRUCTURAL = {
    "MaxPool", "GlobalMaxPool", "AveragePool", "GlobalAveragePool", "Reshape", "Flatten", "Transpose", "Squeeze",
    "Unsqueeze", "Identity", "Dropout", "Concat", "Resize", "Softmax"
}
# lower_movement.cpp: any kind of tensor (uint8 bytes keep their params).
MOVEMENT = {"Slice", "Pad", "Gather", "Expand", "Tile", "Split", "DepthToSpace", "SpaceToDepth"}
# lower_indexing.cpp: the same, with indices computed at run time.
INDEXING = {"GatherElements", "GatherND", "ScatterElements", "ScatterND", "Scatter"}
# lower_qdq.cpp: int8 operators when the weights are quantized constants; lower_float*.cpp otherwise.
QDQ_COMPUTE = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
# lower_float.cpp, lower_float_reduce.cpp, lower_float_matmul.cpp: the float operators.
FLOAT_UNARY = {
    "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs",
    "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf", "Gelu", "Softplus", "Softsign", "Elu", "Selu", "Celu",
    "Mish", "ThresholdedRelu", "Shrink", "Sin", "Cos"
}
FLOAT_BINARY = {
    "Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Mod", "Equal", "Less", "LessOrEqual", "Greater",
    "GreaterOrEqual", "And", "Or", "Xor"
}
REDUCE = {
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
    "ReduceLogSum", "ReduceLogSumExp"
}
FLOAT_OTHER = {
    "Clip", "Not", "Sum", "Mean", "Max", "Min", "Where", "Softmax", "LogSoftmax", "ArgMax", "ArgMin", "MatMul",
    "Gemm", "Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "Cast",
    "CastLike", "LRN", "TopK", "CumSum", "Hardmax", "LpNormalization", "GlobalLpPool", "Einsum", "RNN", "GRU",
    "LSTM", "RoiAlign"
} | REDUCE
FLOAT_OPS = FLOAT_UNARY | FLOAT_BINARY | FLOAT_OTHER
QOPERATOR = {"QLinearConv", "QLinearMatMul"}  # the ONNX-domain ones; the rest are com.microsoft
QDQ = {"QuantizeLinear", "DequantizeLinear"}
OCTET_OPS = FOLDED_ONLY | DATA_DEPENDENT | LUT_ELEMENTWISE | STRUCTURAL | MOVEMENT | INDEXING | QDQ_COMPUTE | FLOAT_OPS | QOPERATOR | QDQ
# Quantization operators octet does not import (integer outputs / runtime-computed params).
# octet runs dynamic quantization only in ONNX Runtime's quantize_dynamic form, DynamicQuantizeLinear ->
# ConvInteger / MatMulInteger -> Cast -> Mul (graph/onnx/lower_dynamic.cpp); ONNX's single-operator tests
# have these operators' integer tensors as graph inputs and outputs instead.
QUANT_UNSUPPORTED = {
    "ConvInteger": "ConvInteger of a graph input: octet takes its integer input only from a "
                   "DynamicQuantizeLinear, and gives no int32 graph output",
    "MatMulInteger": "MatMulInteger of a graph input: octet takes its integer input only from a "
                     "DynamicQuantizeLinear, and gives no int32 graph output",
    "DynamicQuantizeLinear": "DynamicQuantizeLinear into graph outputs: octet runs it only into "
                             "ConvInteger / MatMulInteger",
}
QUANT_OPS = QOPERATOR | QDQ | set(QUANT_UNSUPPORTED)
# The operators that have a quantized (uint8) form in octet: their single-operator float tests also get a
# QDQ variant (see "Quantized variants").
QUANTIZED_FORMS = LUT_ELEMENTWISE | STRUCTURAL | MOVEMENT | INDEXING | QDQ_COMPUTE

# Operand positions that are constants in real models and that octet requires (or, for the quantized forms,
# needs) to be constants: weights and normalization parameters, quantization params, and the operands that
# parametrise an operator (shapes, axes, pads, indices, repeats, bounds, exponents).
CONSTANT_OPERANDS = {
    "TopK": {1},
    "RNN": {1, 2, 3},  # the weights (lower_recurrent.cpp)
    "GRU": {1, 2, 3},
    "LSTM": {1, 2, 3, 7},
    "CumSum": {1},
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
    "BatchNormalization": {1, 2, 3, 4},
    "InstanceNormalization": {1, 2},
    "LayerNormalization": {1, 2},
    "PRelu": {1},
    "Clip": {1, 2},
    "Pow": {1},
    "Reshape": {1},
    "Squeeze": {1},
    "Unsqueeze": {1},
    "Resize": {1, 2, 3},
    "Slice": {1, 2, 3, 4},
    "Pad": {1, 2, 3},
    "Gather": {1},
    "Expand": {1},
    "Tile": {1},
    "Split": {1},
    "Dropout": {1, 2},
    "ConstantOfShape": {0},
    "Range": {0, 1, 2},
} | {op: {1} for op in REDUCE}

TYPE_NAMES = {
    TensorProto.FLOAT: "float32", TensorProto.UINT8: "uint8", TensorProto.INT8: "int8",
    TensorProto.INT16: "int16", TensorProto.UINT16: "uint16", TensorProto.INT32: "int32",
    TensorProto.INT64: "int64", TensorProto.UINT32: "uint32", TensorProto.UINT64: "uint64",
    TensorProto.FLOAT16: "float16", TensorProto.DOUBLE: "float64", TensorProto.BOOL: "bool",
    TensorProto.BFLOAT16: "bfloat16", TensorProto.STRING: "string",
}

# Cases octet should pass but does not, with the diagnosis. (The first run of this suite found three: a lookup
# table reading a tensor constant as its first value, Max / Min of one input throwing std::out_of_range, and a
# layout error that did not name its node; the float operators' first run found four more: a graph input
# passed straight to an output was renamed, declared output types were not checked, Cast to float16 / float64
# was an alias, and Resize-11's 'tf_half_pixel_for_nn' was misspelt. All fixed.)
ALIGN_CORNERS_DIFFERENCE = (
    "Resize with coordinate_transformation_mode 'align_corners' and scales whose output length is not an "
    "integer ({example}): ONNX's reference takes x_original = x_resized (length_original - 1) / (length_resized "
    "- 1) with length_resized = scale x length_original unrounded ({length}; onnx/onnx#2462 says it is "
    "intended), while ONNX Runtime, and octet with it, divide by the integer output length minus 1 (ORT's "
    "upsamplebase.h; octet's source_coordinate in kernels/reference/resize.cpp and float_resize.cpp): {effect}. "
    "octet keeps ONNX Runtime's arithmetic, which is what its users' models were made and checked with")
KNOWN_BUGS = {
    "test_resize_downsample_scales_linear_align_corners": ALIGN_CORNERS_DIFFERENCE.format(
        example="width 4 x 0.6", length="2.4", effect="octet outputs [1, 4], ONNX expects [1, 3.142857]"),
    "test_resize_downsample_scales_linear_align_corners_qdq": ALIGN_CORNERS_DIFFERENCE.format(
        example="width 4 x 0.6", length="2.4", effect="octet outputs [1, 4], ONNX expects [1, 3.142857]"),
    "test_resize_downsample_scales_cubic_align_corners": ALIGN_CORNERS_DIFFERENCE.format(
        example="4 x 0.8", length="3.2", effect="octet's outputs differ from ONNX's by up to 1.05"),
    "test_resize_downsample_scales_cubic_align_corners_qdq": ALIGN_CORNERS_DIFFERENCE.format(
        example="4 x 0.8", length="3.2", effect="octet's outputs differ from ONNX's by up to 1.05"),
}


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
# Element types of graph inputs (graph/onnx/importer.cpp) and of what octet's sessions return.
IO_TYPES = {TensorProto.FLOAT, TensorProto.UINT8, TensorProto.BOOL, TensorProto.INT64, TensorProto.INT32}
IO_TYPE_LIST = "float32, uint8, bool, int32 or int64"


def constant_type_problem(model):
    for t in model.graph.initializer:
        if t.data_type not in CONSTANT_TYPES:
            return (f"constant type: initializer '{t.name}' is {TYPE_NAMES.get(t.data_type, str(t.data_type))}; "
                    "octet decodes float32, float64, int64, int32, int8, uint8 and bool constants")
    for n in model.graph.node:
        if n.op_type != "Constant":
            continue
        for a in n.attribute:
            if a.name == "value" and a.t.data_type not in CONSTANT_TYPES:
                return (f"constant type: Constant '{n.output[0]}' is "
                        f"{TYPE_NAMES.get(a.t.data_type, str(a.t.data_type))}; octet decodes float32, float64, "
                        "int64, int32, int8, uint8 and bool constants")
    return None


def classify(model):
    """Returns None to run the case, or the skip reason. The checks follow the order in which octet's
    importer meets the problems (opset, constants, graph inputs, nodes in order, graph outputs), so that the
    reason is the one octet's load error gives."""
    g = model.graph
    ops = [n.op_type for n in compute_nodes(model)]
    opset = opset_of(model)

    if opset < 7 or opset > 28:
        return f"opset: the model uses ONNX opset {opset}; octet supports opsets 7 to 28"
    if constant_type_problem(model):
        return constant_type_problem(model)
    for v in g.input:
        kind, elem = value_type(v)
        if kind != "tensor":
            return f"io type: graph input '{v.name}' is {kind.replace('_type', '')}-typed, not a tensor"
        if elem == TensorProto.INT8:
            return (f"io type: int8 graph input '{v.name}': octet maps int8 activations onto uint8 internally "
                    "(zero point + 128), and its public API (HostTensor) has no int8")
        if elem not in IO_TYPES:
            return (f"io type: graph input '{v.name}' is {TYPE_NAMES.get(elem, str(elem))}; octet's graph "
                    f"inputs are {IO_TYPE_LIST}")
        if any(d.HasField("dim_value") and d.dim_value == 0 for d in v.type.tensor_type.shape.dim):
            return f"io type: graph input '{v.name}' has a zero-sized dimension; octet's tensors are not empty"

    unsupported = [op for op in ops if op in QUANT_UNSUPPORTED]
    if unsupported:
        return "unsupported: " + QUANT_UNSUPPORTED[unsupported[0]]
    others = sorted({op for op in ops if op not in OCTET_OPS})
    if others:
        return "unsupported: operator " + ", ".join(others) + " not imported by octet"
    reason = node_problem(model)
    if reason:
        return reason
    for v in g.output:
        kind, elem = value_type(v)
        if kind != "tensor":
            return f"io type: graph output '{v.name}' is {kind.replace('_type', '')}-typed, not a tensor"
        if elem not in IO_TYPES:
            return (f"io type: graph output '{v.name}' is declared {TYPE_NAMES.get(elem, str(elem))}; octet's "
                    f"graph outputs are {IO_TYPE_LIST}")
    return None


# Operators that fold.cpp evaluates at load time when all their inputs are constants.
FOLDABLE = {
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "PRelu", "Equal", "Less", "LessOrEqual", "Greater",
    "GreaterOrEqual", "And", "Or", "Xor", "Mod", "Not", "Neg", "Abs", "Sign", "Floor", "Ceil", "Round", "Sqrt",
    "Exp", "Log", "Reciprocal", "Relu", "Sigmoid", "Tanh", "Erf", "Identity", "Cast", "CastLike", "Where",
    "ConstantOfShape", "Range", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Gather",
    "Slice", "Expand", "Tile", "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax", "Split"
}
# Operators that compute on real values at run time: octet's float kernels take float32 (the logical
# operators bool) and nothing else; integers are computed only when folding constants.
COMPUTING = (FLOAT_OPS | {"AveragePool", "GlobalAveragePool", "Resize"}) - {"Where", "Cast", "CastLike"}
LOGICAL = {"And", "Or", "Xor", "Not"}
# Operators octet also computes on int64 tensors (index arithmetic, kernels/reference/integer_elementwise.h).
INT64_FORMS = {"Add", "Sub", "Mul", "Div", "Mod", "Min", "Max", "Sum", "Equal", "Less", "LessOrEqual", "Greater",
               "GreaterOrEqual"}
# The element types each ONNX element type has at run time in octet (constants included).
RUNTIME_TYPE = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float32", TensorProto.FLOAT16: "float32",
                TensorProto.BOOL: "bool", TensorProto.INT64: "int64", TensorProto.INT32: "int64",
                TensorProto.INT8: "int64", TensorProto.UINT8: "int64"}
# Cast targets of a runtime tensor (lower_float.cpp).
CAST_TARGETS = {TensorProto.FLOAT, TensorProto.BOOL, TensorProto.INT64, TensorProto.INT32, TensorProto.UINT8}


def tensor_info(model):
    """name -> (ONNX element type, dims or None) of every tensor the model names, from ONNX's shape
    inference, and the set of tensors that are constant at load time (initializers, Constant nodes, and
    what fold.cpp computes from them or from shapes)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    info = {}
    for v in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim] \
            if t.HasField("shape") else None
        info[v.name] = (t.elem_type, dims)
    constant = set()
    for i in model.graph.initializer:
        info[i.name] = (i.data_type, list(i.dims))
        constant.add(i.name)
    for n in model.graph.node:
        if n.op_type == "Constant":
            constant.add(n.output[0])
        elif n.op_type in ("Shape", "Size") or (n.op_type in FOLDABLE and all(not i or i in constant
                                                                                 for i in n.input)):
            constant.update(o for o in n.output if o)
    return info, constant


def node_problem(model):
    """The first node, in graph order, that octet's lowering rejects, as a skip reason; None if none."""
    g = model.graph
    initial = {i.name: i for i in g.initializer}
    runtime = {i.name: i.type.tensor_type.elem_type for i in g.input}
    info, constant = tensor_info(model)

    def rank(name):
        dims = info.get(name, (None, None))[1]
        return None if dims is None else len(dims)

    def type_name(name):
        t = info.get(name, (None, None))[0]
        return TYPE_NAMES.get(t, str(t))

    for node in g.node:
        op = node.op_type
        if op == "Constant" or all(o in constant for o in node.output if o):
            continue  # folded at load time
        inputs = [i for i in node.input if i]
        if op in QDQ and node.input[0] in runtime:
            scale = initial.get(node.input[1])
            if scale is not None and numpy_helper.to_array(scale).size > 1:
                return (f"unsupported: per-axis {op} of a runtime tensor: octet quantizes activations per tensor "
                        "(per-axis params are for constant weights)")
        if op in QDQ:
            params = [i for i in node.input[1:3] if i]
            computed = [i for i in params if i not in constant]
            if computed:
                return (f"unsupported: {op} with the scale or zero point '{computed[0]}' computed at run time: "
                        "octet's quantization params are constants (activation scale must be a constant)")
        if op == "QLinearMatMul":
            b = initial.get(node.input[3])
            if b is not None and len(b.dims) != 2:
                return (f"unsupported: QLinearMatMul with a rank-{len(b.dims)} (batched) B: octet's fully "
                        "connected operator takes a 2-D constant weight matrix")
        if op in QUANT_OPS:
            continue
        raw = [i for i in inputs if runtime.get(i) == TensorProto.UINT8]
        if raw and op not in MOVE and op not in ("Cast", "CastLike"):
            return (f"unsupported: {op} of the raw uint8 graph input '{raw[0]}': without a DequantizeLinear it "
                    "has no scale, so no real values to compute on (octet's uint8 tensors are quantized ones)")
        if op in COMPUTING:
            params = CONSTANT_OPERANDS.get(op, set()) - {1} if op in ("Pow", "PRelu") else \
                CONSTANT_OPERANDS.get(op, set())
            for k, name in enumerate(node.input):
                if not name or (k in params and name in constant):
                    continue
                if op in ("RNN", "GRU", "LSTM") and k == 4:
                    continue  # sequence_lens: int32 / int64
                if op == "RoiAlign" and k == 2:
                    continue  # batch_indices: int64
                if op == "Pow" and k == 1 and name in constant and \
                        int(np.prod(info[name][1] or [1])) == 1:
                    continue  # a scalar constant exponent: a unary power
                want = "bool" if op in LOGICAL else "float32"
                first = RUNTIME_TYPE.get(info.get(node.input[0], (None,))[0])
                if op in INT64_FORMS and first == "int64" and len(inputs) > 1:
                    want = "int64"
                if RUNTIME_TYPE.get(info.get(name, (None,))[0]) != want:
                    forms = "float32 and int64" if op in INT64_FORMS else want
                    return (f"unsupported: {op} of the {type_name(name)} tensor '{name}': octet computes {op} on "
                            f"{forms} tensors")
        # Rank 3 (1-D) runs as [N, C, 1, L] (graph/onnx/lift_1d.h); Resize is not lifted.
        if op in ("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool", "Conv", "ConvTranspose") and \
                rank(node.input[0]) not in (None, 3, 4) or op == "Resize" and rank(node.input[0]) not in (None, 4):
            r = rank(node.input[0])
            return (f"unsupported: {r - 2}-D {op}: octet's image operators take rank-4 (NCHW, 2-D image) "
                    f"tensors, this input has rank {r}")
        if op == "MaxPool" and len(node.output) > 1 and node.output[1]:
            return "unsupported: MaxPool's Indices output"
        if op == "ConvTranspose" and attr(node, "output_shape"):
            # ONNX: total padding = stride (in - 1) + output_padding + (k - 1) dilation + 1 - output_shape;
            # where that is negative, ONNX's expected output is zero-extended. octet refuses that at load.
            kernel = info[node.input[1]][1][2:]
            size = info[node.input[0]][1][2:]
            target = list(attr(node, "output_shape"))[-2:]
            strides = attr(node, "strides", [1, 1])
            dil = attr(node, "dilations", [1, 1])
            out_pad = attr(node, "output_padding", [0, 0])
            for i in range(2):
                total = strides[i] * (size[i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1 - target[i]
                if total < 0:
                    return (f"unsupported: ConvTranspose output_shape {target} is larger than the transposed "
                            "convolution produces (negative total padding, which ONNX fills with zeros); "
                            "octet refuses it")
        if op == "BatchNormalization" and (attr(node, "training_mode", 0) or
                                           any(o for o in node.output[1:])):
            return ("unsupported: BatchNormalization in training mode (training_mode = 1, running statistics "
                    "outputs): octet runs inference")
        if op == "LayerNormalization" and any(o for o in node.output[1:]):
            return ("unsupported: LayerNormalization's Mean and InvStdDev outputs (training outputs): octet "
                    "computes Y only")
        if op == "Dropout":
            if len(node.output) > 1 and node.output[1]:
                return "unsupported: Dropout's mask output (octet runs inference, where Dropout is the identity)"
            # Training mode with ratio 0 drops nothing: the identity, which octet runs.
            ratio = numpy_helper.to_array(initial[node.input[1]]).reshape(-1)[0] \
                if len(node.input) > 1 and node.input[1] in initial else 0.5
            if len(node.input) > 2 and node.input[2] in initial and \
                    numpy_helper.to_array(initial[node.input[2]]).reshape(-1)[0] and ratio != 0:
                return "unsupported: Dropout in training mode (training_mode = true): octet runs inference"
        if op == "Resize":
            mode = attr(node, "mode", "nearest")
            ctm = attr(node, "coordinate_transformation_mode", "half_pixel")
            if mode not in ("nearest", "linear", "cubic"):
                return f"unsupported: Resize mode '{mode}'"
            # What lower_structural.cpp accepts.
            if ctm not in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                           "tf_half_pixel_for_nn"):
                return f"unsupported: Resize coordinate_transformation_mode '{ctm}'"
        if op == "Cast" and node.input[0] not in constant and attr(node, "to") not in CAST_TARGETS:
            return (f"unsupported: Cast of a runtime tensor to {TYPE_NAMES.get(attr(node, 'to'))}: octet's "
                    "runtime tensors are float32, bool, uint8 and int64 (int32 is held as int64)")
    return None


def considered(model):
    """Every test whose operators octet all imports (a graph of Constant nodes only included: its outputs are
    constants), and every test of a quantization operator."""
    if not model.graph.node:
        return False
    ops = {n.op_type for n in compute_nodes(model)}
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


# Operators that only move or select values: each output element is one input element (or, for Pad, the
# pad value).
MOVE = {
    "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Dropout", "MaxPool", "GlobalMaxPool",
    "Concat"
} | MOVEMENT


def cubic_weight_sum(a):
    """The max-norm Lipschitz constant of cubic interpolation with coefficient a: the largest sum of the
    absolute tap weights over all positions t in [0, 1), also where exclude_outside drops the taps outside
    the image (1 or 2 at either end) and renormalizes the others to sum to 1."""
    def w(x):
        x = abs(x)
        if x <= 1:
            return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1
        if x < 2:
            return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a
        return 0.0
    best = 0.0
    for i in range(1001):
        t = i / 1000
        taps = [w(t + 1), w(t), w(1 - t), w(2 - t)]
        for lo, hi in ((0, 4), (1, 4), (2, 4), (0, 3), (0, 2), (1, 3)):
            kept = taps[lo:hi]
            if abs(sum(kept)) > 1e-9:
                best = max(best, sum(abs(v) for v in kept) / abs(sum(kept)))
    return best


def bound_and_note(node, runtime, weights, initial):
    """Bound on |octet - ONNX| before the output rounding, and how it was derived; None if no bound.

    runtime: input name -> (float data, scale, max quantization error e); weights: name -> (w, w_q, scales)."""
    op = node.op_type
    es = [runtime[i][2] for i in node.input if i in runtime]
    e = max(es) if es else 0.0
    x0, s0, e0 = runtime[node.input[0]]
    if op == "Pad":
        value = 0.0
        if len(node.input) > 2 and node.input[2] in initial:
            value = float(numpy_helper.to_array(initial[node.input[2]]).reshape(-1)[0])
        pad_error = abs(float(fake_quantize(np.array([value], np.float32), s0, choose_qparams(x0)[1])[0]) - value)
        return max(e, pad_error), (f"moves values off by e = {e:.6g}; the pad value {value:.6g} is stored on "
                                   f"the input's grid, off by {pad_error:.6g}")
    if op in MOVE or (op in ("Max", "Min") and len(es) >= 1):
        return e, f"moves (or selects among) values each off by at most e = {e:.6g}"
    if op in ("AveragePool", "GlobalAveragePool"):
        return e, f"an average of values each off by at most e = {e:.6g}"
    if op == "Resize":
        mode = attr(node, "mode", "nearest")
        if mode == "linear":
            return e + float(s0), (f"interpolation (convex weights) of values off by e = {e:.6g}, plus one input "
                                   f"step {float(s0):.6g} for octet's 11-bit taps and rounding on the input grid")
        if mode == "cubic":
            lip = cubic_weight_sum(attr(node, "cubic_coeff_a", -0.75))
            return lip * e, (f"cubic interpolation (computed in float): the sum of the absolute weights, at most "
                             f"{lip:.6g}, times e = {e:.6g}")
        return e, f"nearest: copies values off by e = {e:.6g}"
    if op == "Softmax":
        # Row sums of |d softmax_i / d x_j| are 2 s_i (1 - s_i) <= 1/2.
        return 0.5 * e, f"softmax is 1/2-Lipschitz in the max norm; e = {e:.6g}"
    if op in ("Add", "Sub") and len(es) == 2:
        return es[0] + es[1], f"sum of the two input errors {es[0]:.6g} + {es[1]:.6g}"
    if op == "Mul" and len(es) == 2:
        a, b = (runtime[i] for i in node.input)
        m = float(np.max(np.abs(b[0]))) * a[2] + float(np.max(np.abs(a[0]))) * b[2] + a[2] * b[2]
        return m, "max|y| e_x + max|x| e_y + e_x e_y"
    if op == "Div" and len(es) == 2:
        (x, _, ex), (y, _, ey) = (runtime[i] for i in node.input)
        x, y = np.broadcast_arrays(np.abs(x.astype(np.float64)), np.abs(y.astype(np.float64)))
        if np.any(y <= ey):
            return None, ""
        m = float(np.max((ex * y + x * ey) / (y * (y - ey))))
        return m, ("per element |x/y - x'/y'| <= (e_x |y| + |x| e_y) / (|y| (|y| - e_y)) with e_x = "
                   f"{ex:.6g}, e_y = {ey:.6g}")
    if op == "Pow":
        p = np.broadcast_to(numpy_helper.to_array(initial[node.input[1]]).astype(np.float64), x0.shape)
        if np.any(p < 1) or np.any(x0 < 0):
            return None, ""
        lip = float(np.max(p * (np.abs(x0) + e0) ** (p - 1)))
        return lip * e0, f"per element |p| (|x| + e)^(p - 1) <= {lip:.6g}, times e = {e0:.6g}"
    if op in LUT_ELEMENTWISE and len(es) == 1:
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
        elif op == "Gemm" and attr(node, "transB", 0):
            per = lambda a: np.abs(a).sum(axis=1)  # noqa: E731
        else:  # Gemm's [K, N] B, MatMul's [..., K, N] or [K] B: sum over K
            per = lambda a: np.abs(a).sum(axis=-2) if a.ndim > 1 else np.abs(a).sum()  # noqa: E731
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
    """The QDQ form of a single-operator float test of an operator with a quantized form: (model, skip reason
    or None, tolerance text), or None when there is no meaningful quantized form."""
    nodes = compute_nodes(model)
    if len(nodes) != 1:
        return None
    node = nodes[0]
    g = model.graph
    if any(value_type(v) != ("tensor", TensorProto.FLOAT) for v in list(g.input) + list(g.output)):
        return None
    if node.op_type not in QUANTIZED_FORMS:
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
        if x.size == 0:
            return None  # octet's tensors are not empty
        scale, zp = choose_qparams(x)
        params = qparam_inits(i.name + "_q", scale, zp)
        new_nodes.append(helper.make_node("QuantizeLinear", [i.name] + params, [i.name + "_q"],
                                          name=i.name + "_quantize"))
        new_nodes.append(helper.make_node("DequantizeLinear", [i.name + "_q"] + params, [i.name + "_dq"],
                                          name=i.name + "_dequantize"))
        renamed[i.name] = i.name + "_dq"
        error = np.abs(fake_quantize(x, scale, zp).astype(np.float64) - x)
        runtime[i.name] = (x, scale, float(np.max(error)))
    if not runtime:
        return None
    # Each output: QuantizeLinear -> DequantizeLinear with params from ONNX's expected output.
    op_node = onnx.NodeProto()
    op_node.CopyFrom(node)
    for k, inp in enumerate(op_node.input):
        if inp in renamed:
            op_node.input[k] = renamed[inp]
    tail, y_scales, y_max = [], [], 0.0
    for k, out in enumerate(node.output):
        if not out:
            continue
        y = numpy_helper.to_array(outputs[out]).astype(np.float32)
        if y.size == 0 or not np.all(np.isfinite(y)):
            return None
        y_scale, y_zp = choose_qparams(y)
        y_scales.append(float(y_scale))
        y_max = max(y_max, float(np.max(np.abs(y))))
        params = qparam_inits(out + "_q", y_scale, y_zp)
        op_node.output[k] = out + "_float"
        tail += [helper.make_node("QuantizeLinear", [out + "_float"] + params, [out + "_q"],
                                  name=out + "_quantize"),
                 helper.make_node("DequantizeLinear", [out + "_q"] + params, [out], name=out + "_dequantize")]
    consts = [n for n in vg.node if n.op_type == "Constant"]
    del vg.node[:]
    vg.node.extend(consts + new_nodes + [op_node] + tail)
    vg.initializer.extend(new_inits)
    onnx.checker.check_model(v)
    reject = classify(v)

    tolerance = None
    if reject is None:
        bound, note = bound_and_note(node, runtime, weights, initial)
        if bound is None:
            return None
        y_scale = max(y_scales)
        slack = 1e-6 * max(1.0, y_max)
        tol = bound + 1.5 * y_scale + slack
        tolerance = (f"# {name}: bound on |octet - ONNX| for every output element =\n"
                     f"#   {bound:.6g}  ({note})\n"
                     f"# + {1.5 * y_scale:.6g}  (1.5 output steps of {y_scale:.6g}: half a step to "
                     "round to the output grid, one for octet's twice-rounding requantization)\n"
                     f"# + {slack:.3g}  (float32 evaluation slack)\n")
        tolerance += "".join(f"{out} {tol:.9g} 0\n" for out in node.output if out)
    return v, reject, tolerance


# ---- float tolerances of the float cases ----
#
# octet computes in float32 with its own exp / log / tanh / erf / ... (within 2 ulp of the correctly rounded
# result, kernels/reference/float_math.h) and fused multiply-adds; ONNX's expected outputs come from NumPy
# (float32 loops within a few ulp, some in float64 then rounded). Each tolerance below bounds |octet - ONNX|
# by the sum of two worst-case errors, octet's and the reference's, each against the exact result.

U = 2.0 ** -24  # float32 unit roundoff: half an ulp of 1.0


def gamma(n):
    """Higham's gamma_n = n u / (1 - n u): a sum of n + 1 terms (or a product of n + 1 factors) computed in
    float32, in any order, with or without fused multiply-adds, is within gamma_n * sum |terms| of the exact
    result (relatively, for a product)."""
    return n * U / (1 - n * U)


# Elementwise functions: octet within 2 ulp, the reference within 4 ulp (NumPy's float32 loops) plus up to 2
# ulp where one side fuses a multiply-add the other rounds twice (HardSigmoid, HardSwish) or composes two
# roundings (Selu's gamma alpha expm1): 8 ulp, relative 8 * 2^-23 = 2^-20. Absolute: the references evaluate
# e^x - 1 (Elu, Selu, Celu) and log(e^x + 1) (Softplus) with a cancellation near 0 that costs up to half an
# ulp of 1.0 times the operator's factors (alpha, alpha gamma): 4 ulp of 1.0, 2^-21, times max(1, factors).
ELEMENTWISE_REL = 2.0 ** -20
ELEMENTWISE_ABS = 2.0 ** -21
# ONNX's window functions (function operators whose _expanded cases octet runs): the coefficients a_i of
# a_0 - a_1 cos(2 pi k / N) + a_2 cos(4 pi k / N).
WINDOWS = {"BlackmanWindow": [0.42, 0.5, 0.08], "HammingWindow": [25 / 46, 21 / 46], "HannWindow": [0.5, 0.5]}
# Operators whose float32 results are exactly determined (element moves, selections, comparisons, one
# correctly rounded IEEE operation evaluated in the same order on both sides): compared exactly.
EXACT_OPS = MOVE | FOLDED_ONLY | DATA_DEPENDENT | INDEXING | {"Hardmax"} | {  # scatters: in index order, as the reference
    "Relu", "LeakyRelu", "PRelu", "ThresholdedRelu", "Shrink", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign",
    "Clip", "Max", "Min", "Add", "Sub", "Mul", "Div", "Mod", "Reciprocal", "Sqrt", "Equal", "Less",
    "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Not", "Where", "Cast", "CastLike",
    "ArgMax", "ArgMin", "ReduceMax", "ReduceMin", "QuantizeLinear", "DequantizeLinear", "QLinearConv",
    "QLinearMatMul", "TopK"
}
TRANSCENDENTAL = {
    "Exp", "Log", "Tanh", "Sigmoid", "Erf", "Gelu", "Softplus", "Softsign", "Elu", "Selu", "Celu", "Mish", "Sin",
    "Cos", "Pow", "HardSigmoid", "HardSwish"
}


def reduce_axes(node, x, value):
    """The normalized, sorted axes a Reduce* node reduces over (all when none are given)."""
    axes = attr(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = [int(v) for v in value(node.input[1]).reshape(-1)]
    if not axes:
        return list(range(x.ndim)) if not attr(node, "noop_with_empty_axes", 0) else []
    return sorted(a % x.ndim for a in axes)


def node_tolerance(node, value, opset):
    """(absolute, relative, derivation) for the float outputs of one operator, from the case's own data
    (value(name): the float64 array of a graph input or initializer); None if its outputs are exact."""
    op = node.op_type
    if op in EXACT_OPS or (op == "Resize" and attr(node, "mode", "nearest") == "nearest"):
        return None
    if op == "RoiAlign":
        # Each output averages k bilinear samples of 4 weighted terms (weights summing to 1): the sums to
        # gamma_(4k+2) max|x| on each side; the sample positions carry a few roundings of coordinates up to C
        # (4 u C on each side), which move a sample's value by at most 2 max|x| per pixel.
        rois = value(node.input[1])
        spatial_scale = attr(node, "spatial_scale", 1.0)
        ratio = attr(node, "sampling_ratio", 0)
        oh, ow = attr(node, "output_height", 1), attr(node, "output_width", 1)
        if ratio > 0:
            k = ratio * ratio
        else:
            sizes = (rois[:, 2:] - rois[:, :2]) * spatial_scale
            k = int(max(math.ceil(max(h, 1.0) / oh) * math.ceil(max(w, 1.0) / ow) for w, h in sizes))
        a = float(np.max(np.abs(value(node.input[0]))))
        c = float(np.max(np.abs(rois))) * spatial_scale + 1.0
        # ONNX 1.12's expected outputs are literals with 4 decimals (onnx/backend/test/case/node/roialign.py),
        # from another implementation: up to 8.4e-5 from this algorithm in float64, whose float32 form octet
        # shares bit for bit with ONNX Runtime. They add 1e-4.
        absolute = 2 * a * (gamma(4 * k + 2) + 8 * U * c * 2) + 1e-4
        return absolute, 0.0, (f"RoiAlign: k = {k} samples of 4 terms, max|x| = {a:.6g} (2 gamma_(4k+2) max|x|), "
                               f"sample positions from coordinates up to C = {c:.6g} (2 x 8 u C max|x|), + 1e-4 "
                               "for ONNX's expected values, 4-decimal literals of another implementation")
    if op in WINDOWS:
        # a_0 - a_1 cos(x) + a_2 cos(2 x), x = k (tau / N): its argument i x carries two roundings (tau / N,
        # then the product) on each side, 2 u i tau each, which a cosine passes on at most 1:1; each cosine
        # its own elementwise error; 4 u for the products and sums that combine them.
        terms = WINDOWS[op]
        absolute = sum(a * (2 * 2 * U * i * 2 * math.pi + ELEMENTWISE_ABS) for i, a in enumerate(terms) if i > 0)
        absolute += 4 * U
        return absolute, 0.0, (f"{op}: the coefficients {terms} times each cosine's argument error (two roundings "
                               "of i tau on each side) and its own, + 4 u for the combination")
    x = value(node.input[0])
    if op in TRANSCENDENTAL:
        factor = 1.0
        if op in ("Elu", "Celu"):
            factor = abs(attr(node, "alpha", 1.0))
        elif op == "Selu":
            factor = abs(attr(node, "alpha", 1.67326319217681884765625) *
                         attr(node, "gamma", 1.05070102214813232421875))
        absolute = ELEMENTWISE_ABS * max(1.0, factor)
        return absolute, ELEMENTWISE_REL, (f"elementwise {op}: 8 ulp relative (octet 2, reference 4, 2 for fused or "
                                           f"composed roundings) + 4 ulp of 1.0 times max(1, |factors|) = "
                                           f"{absolute:.3g} absolute (the reference's e^x - 1 / log(1 + e^x) "
                                           "near 0)")
    if op in ("Conv", "ConvTranspose"):
        w = value(node.input[1])
        b = np.abs(value(node.input[2])) if len(node.input) > 2 and node.input[2] else np.zeros(1)
        if op == "Conv":
            per = np.abs(w).reshape(w.shape[0], -1).sum(axis=1)
            k = w[0].size + 1
        else:
            groups = attr(node, "group", 1)
            cin_g = w.shape[0] // groups
            per = np.array([np.abs(w[g * cin_g:(g + 1) * cin_g, j]).sum() for g in range(groups)
                            for j in range(w.shape[1])])
            k = cin_g * w[0, 0].size + 1
        total = float(np.max(per * float(np.max(np.abs(x))) + b))
        return 2 * gamma(k) * total, 0.0, (f"{op}: 2 gamma_K S with K = {k} terms (taps and bias) and S = max over "
                                           f"output channels of |W_c|_1 max|x| + |b_c| = {total:.6g}")
    if op in ("MatMul", "Gemm"):
        bm = value(node.input[1])
        alpha = beta = 1.0
        if op == "Gemm":
            if attr(node, "transA", 0):
                x = x.T
            if attr(node, "transB", 0):
                bm = bm.T
            alpha, beta = abs(attr(node, "alpha", 1.0)), abs(attr(node, "beta", 1.0))
        total = alpha * np.matmul(np.abs(x), np.abs(bm))
        if op == "Gemm" and len(node.input) > 2 and node.input[2]:
            total = total + beta * np.abs(value(node.input[2]))
        # Gemm: + 2 for the bias addition and the alpha scaling octet folds into the weights.
        k = x.shape[-1] + (2 if op == "Gemm" else 0)
        total = float(np.max(total))
        return 2 * gamma(k) * total, 0.0, (f"{op}: 2 gamma_K S with K = {k} and S = max of alpha |A| |B| + beta |C| "
                                           f"= {total:.6g}")
    if op in ("AveragePool", "GlobalAveragePool"):
        k = int(np.prod(attr(node, "kernel_shape"))) if op == "AveragePool" else int(np.prod(x.shape[2:]))
        m = float(np.max(np.abs(x)))
        return 2 * gamma(k) * m, 2.0 ** -22, (f"{op}: a sum of at most K = {k} values divided by their count: "
                                              f"2 gamma_K max|x| = 2 gamma_K {m:.6g}, + 2 ulp for the division")
    if op in REDUCE:
        axes = reduce_axes(node, x, value)
        if not axes:
            return None
        k = int(np.prod([x.shape[a] for a in axes]))

        def total(t):
            return float(np.max(np.sum(np.abs(t), axis=tuple(axes))))
        if op in ("ReduceSum", "ReduceL1"):
            return 2 * gamma(k) * total(x), 0.0, f"{op}: 2 gamma_K S, K = {k}, S = max sum|x| = {total(x):.6g}"
        if op == "ReduceMean":
            m = total(x) / k
            return 2 * gamma(k) * m, 2.0 ** -22, (f"{op}: 2 gamma_K S, K = {k}, S = max sum|x| / K = {m:.6g}, + 2 ulp "
                                                  "for the division")
        if op == "ReduceSumSquare":
            return 2 * gamma(k + 1) * total(x * x), 0.0, (f"{op}: 2 gamma_(K+1) S (squares rounded too), K = {k}, "
                                                           f"S = max sum x^2 = {total(x * x):.6g}")
        if op == "ReduceL2":
            return 0.0, gamma(k + 1) + 2.0 ** -22, (f"{op}: the sum of K = {k} squares is within gamma_(K+1) "
                                                    "relatively, its square root half that plus one rounding; "
                                                    "twice: gamma_(K+1) + 2 ulp relative")
        if op == "ReduceProd":
            return 0.0, 2 * gamma(k), f"{op}: a product of K = {k} factors: 2 gamma_K relative"
        if op in ("ReduceLogSum", "ReduceLogSumExp"):
            t = np.exp(x) if op == "ReduceLogSumExp" else x
            ratio = float(np.max(np.sum(np.abs(t), axis=tuple(axes)) / np.abs(np.sum(t, axis=tuple(axes)))))
            e = 2.0 ** -21 if op == "ReduceLogSumExp" else 0.0
            return 2 * (gamma(k) + e) * ratio, ELEMENTWISE_REL, (f"{op}: log of a sum of K = {k} terms known to "
                                                                 f"gamma_K sum|t| / |sum t| (<= {ratio:.6g} times) "
                                                                 "relatively: that much absolute, twice, plus the "
                                                                 "elementwise 8 ulp of log")
    if op in ("Softmax", "LogSoftmax"):
        axis = attr(node, "axis", 1 if opset < 13 else -1) % x.ndim
        if opset < 13:  # the dimensions from axis on, flattened
            x = x.reshape(int(np.prod(x.shape[:axis])), -1)
            axis = 1
        k = x.shape[axis]
        shifted = x - np.max(x, axis=axis, keepdims=True)
        if op == "Softmax":
            rel = 2 * gamma(k) + 4 * 2.0 ** -21 + 2.0 ** -23
            return 2.0 ** -126, rel, (f"Softmax: each side within gamma_K (the sum of K = {k} exponentials) + 2 x 4 "
                                      "ulp (the exponentials, octet's and NumPy's) + 1 ulp (the division), "
                                      "relatively")
        log_sum = float(np.max(np.abs(np.log(np.sum(np.exp(shifted), axis=axis)))))
        absolute = 2 * (gamma(k) + 2.0 ** -21) + 2.0 ** -20 * log_sum
        return absolute, 2.0 ** -22, (f"LogSoftmax: x - max - log(sum e^(x - max)), the sum of K = {k} terms known "
                                      "to gamma_K + 4 ulp relatively (an absolute error of the log), the log itself "
                                      f"to 8 ulp of |log sum| <= {log_sum:.6g}; + 2 ulp relative for the "
                                      "subtractions")
    if op == "LRN":
        size, beta = attr(node, "size"), attr(node, "beta", 0.75)
        rel = 2 * (beta * (size + 4) + 8) * 2.0 ** -24
        return 2.0 ** -126, rel, (f"LRN: bias + alpha / size times a sum of size = {size} squares within (size + 4) "
                                  f"ulp relatively, to the power beta = {beta:.6g}, plus 4 ulp for the power and 1 "
                                  "for the division, on each side")
    if op == "BatchNormalization":
        shape = [1, -1] + [1] * (x.ndim - 2)
        g, b, mean, var = (value(node.input[i]).reshape(shape) for i in range(1, 5))
        scale = g / np.sqrt(var + attr(node, "epsilon", 1e-5))
        m = float(np.max(np.abs(x * scale) + np.abs(mean * scale) + np.abs(b)))
        return 2.0 ** -20 * m, 0.0, ("BatchNormalization: (x - mean) scale + bias with scale = gamma / sqrt(var + "
                                     "eps): at most 8 roundings of terms bounded by |x scale| + |mean scale| + "
                                     f"|bias| <= {m:.6g} on each side: 16 u of that")
    if op in ("LayerNormalization", "MeanVarianceNormalization"):
        if op == "LayerNormalization":
            axes = tuple(range(attr(node, "axis", -1) % x.ndim, x.ndim))
            g = value(node.input[1])
            b = value(node.input[2]) if len(node.input) > 2 and node.input[2] else np.zeros(1)
            eps = attr(node, "epsilon", 1e-5)
        else:
            axes = tuple(attr(node, "axes", [0, 2, 3]))
            g, b, eps = np.ones(1), np.zeros(1), 0.0
        k = int(np.prod([x.shape[a] for a in axes]))
        mu = np.mean(x, axis=axes, keepdims=True)
        sq = np.mean(x * x, axis=axes, keepdims=True)
        sigma = np.sqrt(np.mean((x - mu) ** 2, axis=axes, keepdims=True) + eps)
        # Per side: the mean to gamma_K mean|x| + u |mean|; the variance, computed as E[x^2] - E[x]^2 by the
        # expanded graphs, to 2 gamma_(K+2) E[x^2]; sigma relatively to half the variance's relative error
        # plus one rounding.
        d_mu = gamma(k) * np.mean(np.abs(x), axis=axes, keepdims=True) + U * np.abs(mu)
        rel_sigma = gamma(k + 2) * sq / sigma ** 2 + U
        centered = np.abs(x - mu)
        y_err = (np.abs(g) * ((d_mu + U * centered) / sigma + centered / sigma * (rel_sigma + 2 * U))
                 + U * np.abs(b))
        # By output position: Y, and the expanded graphs' Mean and InvStdDev.
        bounds = [2 * float(np.max(y_err)), 2 * float(np.max(d_mu)), 2 * float(np.max((rel_sigma + U) / sigma))]
        per_output = {o: bounds[i] for i, o in enumerate(node.output) if o}
        return per_output, 2.0 ** -22, (f"{op} over K = {k} elements: the mean to gamma_K mean|x|, the variance "
                                        "(E[x^2] - E[x]^2 in the expanded graphs) to 2 gamma_(K+2) E[x^2], "
                                        "propagated through (x - mean) / sigma * scale + bias per element; twice "
                                        "(octet and the reference), + 2 ulp relative")
    if op == "Resize":
        scales = value(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if len(node.input) > 3 and node.input[3]:
            scales = value(node.input[3]) / np.array(x.shape)
        d = int(np.sum(np.abs(scales - 1.0) > 0)) if scales is not None else 2
        linear = attr(node, "mode") == "linear"
        lip = 1.0 if linear else cubic_weight_sum(attr(node, "cubic_coeff_a", -0.75))
        taps = (2 if linear else 4) ** d
        total = lip ** d * float(np.max(np.abs(x)))
        absolute = 2 * (gamma(taps + 2 * d) + 4 * U) * total
        return absolute, 0.0, (f"Resize ({attr(node, 'mode')}): a weighted sum of {taps} taps (separable: + {2 * d} "
                               "roundings), its weights known to 4 u: 2 (gamma + 4 u) S with S = (sum |weights|)^"
                               f"{d} max|x| = {total:.6g}")
    if op in ("NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"):
        # Terms -x[n, target] w[target] (SCE: of the log-softmax of x), summed over k = N d1 d2 ... positions and
        # for "mean" divided by the sum W of the picked weights.
        c = x.shape[1]
        k = x.size // c
        w = np.abs(value(node.input[2])) if len(node.input) > 2 and node.input[2] else np.ones(c)
        target = value(node.input[1]).astype(np.int64)
        ignore = attr(node, "ignore_index", None)
        picked = [w[t] for t in target.ravel() if t != ignore and 0 <= t < c]
        a = float(np.max(np.abs(x)))
        per_term = 0.0
        if op == "SoftmaxCrossEntropyLoss":
            # |log softmax| <= 2 max|x| + log C, computed to gamma_(C+2) of that plus 4 ulp for exp / log.
            a = 2 * a + float(np.log(c))
            per_term = (gamma(c + 2) + 8 * U) * a * float(np.max(w))
        total = k * a * float(np.max(w))
        reduction = attr(node, "reduction", "mean")
        scale = 1.0
        if reduction == "mean" and picked and sum(picked) > 0:
            scale = 1.0 / float(sum(picked))
        absolute = 4 * (gamma(k + 4) * total + k * per_term) * scale + per_term
        return absolute, 2.0 ** -20, (f"{op} ({reduction}): k = {k} terms of at most A = {a:.6g} max|w| "
                                      "summed in float32 (4 gamma_(k+4) k A max|w|, twice for the two sides and "
                                      "the weight sum), each term's own error (log-softmax: gamma_(C+2) + 8 u) "
                                      "times k, over the weight sum for mean; + 2^-20 relative")
    if op in ("Sum", "Mean"):
        xs = np.broadcast_arrays(*(np.abs(value(i)) for i in node.input))
        n = len(xs)
        total = float(np.max(sum(xs))) / (n if op == "Mean" else 1)
        return 2 * gamma(n - 1) * total, 2.0 ** -22 if op == "Mean" else 0.0, (
            f"{op} of {n} inputs: 2 gamma_{n - 1} S with S = max sum|x_i| {'/ n ' if op == 'Mean' else ''}= "
            f"{total:.6g}")
    if op in ("RNN", "GRU", "LSTM"):
        if attr(node, "activations") is not None or attr(node, "clip") is not None:
            raise ValueError(f"{op} with activations or clip given: derive a rule for them")

        def optional(i, default):
            return value(node.input[i]) if len(node.input) > i and node.input[i] else default

        w, r = value(node.input[1]), value(node.input[2])
        b = optional(3, np.zeros((w.shape[0], 2 * w.shape[1])))
        steps = x.shape[1] if attr(node, "layout", 0) else x.shape[0]
        h_max = max(1.0, float(np.max(np.abs(optional(5, np.zeros(1))))))
        # |C_t| <= |C_(t-1)| + 1 (forget and input gates in [0, 1], the candidate in [-1, 1]).
        c_max = float(np.max(np.abs(optional(6, np.zeros(1))))) + steps if op == "LSTM" else 0.0
        peep = float(np.max(np.abs(optional(7, np.zeros(1))))) if op == "LSTM" else 0.0
        half = b.shape[1] // 2
        rows = (np.abs(w).sum(axis=2) * float(np.max(np.abs(x))) + np.abs(r).sum(axis=2) * h_max +
                np.abs(b[:, :half]) + np.abs(b[:, half:]))
        s = float(np.max(rows)) + peep * c_max
        k = w.shape[2] + r.shape[2] + 3
        # One step's own error: each gate's input to gamma_k S, its activation 8 u (values at most 1), then
        # the products and sums that combine the gates (LSTM's through the cell state, up to c_max).
        gates = {"RNN": 1.0, "GRU": 3.0, "LSTM": 3.0 + 2.0 * c_max}[op]
        local = (gamma(k) * s + 8 * U) * gates
        # A state error e becomes at most gain e one step later (the activations are 1-Lipschitz).
        gain = 1.0 + (float(np.max(np.abs(r).sum(axis=2))) + peep) * (1.0 + c_max)
        total = local * sum(gain ** t for t in range(steps))
        return 2 * total, 2.0 ** -22, (f"{op} over {steps} steps: each gate input a sum of k = {k} terms of at most "
                                       f"S = {s:.6g} (gamma_k S), activations and gate products 8 u, times {gates:g} "
                                       f"gates; state errors grow by at most {gain:.6g} a step; twice (octet and the "
                                       "reference), + 2 ulp relative")
    raise ValueError(f"no float tolerance rule for {op}: add one to node_tolerance")


def float_tolerance(name, model, inputs, source):
    """tolerance.txt for a float case: a line "OUTPUT ABSOLUTE RELATIVE" per float output (see onnx_node_test.cpp)
    and its derivation; None where every output is exact. An _expanded case computes the same function as its
    single-operator test on the same data: its tolerance is that operator's."""
    outputs = [o.name for o in model.graph.output if value_type(o) == ("tensor", TensorProto.FLOAT)]
    if not outputs:
        return None
    reference = model
    if name.endswith("_expanded"):
        reference = onnx.load(os.path.join(source, name[:-len("_expanded")], "model.onnx"))
    initial = {i.name: numpy_helper.to_array(i) for i in list(model.graph.initializer) +
               list(reference.graph.initializer)}
    for n in reference.graph.node:
        if n.op_type == "Constant":
            initial[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)

    def value(v):
        return (numpy_helper.to_array(inputs[v]) if v in inputs else initial[v]).astype(np.float64)

    rules = []
    for node in compute_nodes(reference):
        rule = node_tolerance(node, value, opset_of(reference))
        if rule is not None:
            rules.append((node, rule))
    if not rules:
        return None
    if len(rules) > 1:
        raise ValueError(f"{name}: several inexact operators; derive a rule for their composition")
    node, (absolute, relative, note) = rules[0]
    lines = [f"# {name}: |octet - ONNX| <= ABSOLUTE + RELATIVE |ONNX| per element, from the case's data:",
             f"# {note}"]
    for out in outputs:
        a = absolute.get(out, max(absolute.values())) if isinstance(absolute, dict) else absolute
        lines.append(f"{out} {a:.9g} {relative:.9g}")
    return "\n".join(lines) + "\n"


def write_case(dest, name, model, inputs, output_files, tolerance=None, data=True):
    """A run case: the model, its runtime inputs renumbered in graph-input order, ONNX's outputs (unless data
    is False: a quantized variant whose float case is run too reads that case's identical files)."""
    os.makedirs(dest)
    onnx.save(model, os.path.join(dest, "model.onnx"))
    if tolerance:
        with open(os.path.join(dest, "tolerance.txt"), "w") as f:
            f.write(tolerance)
    if not data:
        return
    ds = os.path.join(dest, "test_data_set_0")
    os.makedirs(ds)
    for i, v in enumerate(model.graph.input):
        if v.name not in inputs:  # --probe only: a case whose load is expected to fail
            continue
        with open(os.path.join(ds, f"input_{i}.pb"), "wb") as f:
            f.write(inputs[v.name].SerializeToString())
    for path in output_files:
        shutil.copyfile(path, os.path.join(ds, os.path.basename(path)))


def correct_window_reference(dest, name, model, inputs):
    """ONNX 1.12 generated the expected outputs of its window cases with pi = 3.1415
    (onnx/backend/test/case/node/{blackman,hamming,hann}window.py), so they lie up to 7e-5 from the operators'
    definition, which their _expanded graphs compute with a float32 tau. Such a case's expected output is
    rewritten from the definition in float64, rounded to float32."""
    op = next((w for w in WINDOWS if name.startswith("test_" + w.lower())), None)
    if op is None:
        return
    size = int(numpy_helper.to_array(inputs[model.graph.input[0].name]))
    periodic = "_symmetric" not in name
    n = size if periodic else size - 1
    k = np.arange(size, dtype=np.float64)
    y = np.zeros(size)
    for i, a in enumerate(WINDOWS[op]):
        y += (-1) ** i * a * np.cos(2 * math.pi * i * k / n)
    out = numpy_helper.from_array(y.astype(np.float32), model.graph.output[0].name)
    with open(os.path.join(dest, "test_data_set_0", "output_0.pb"), "wb") as f:
        f.write(out.SerializeToString())


def write_skipped(dest, model):
    os.makedirs(dest)
    onnx.save(model, os.path.join(dest, "model.onnx"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=DEFAULT_SOURCE, help="ONNX node test folder (default: %(default)s)")
    ap.add_argument("--dest", default=DEFAULT_DEST, help="output folder (default: %(default)s)")
    ap.add_argument("--probe", action="store_true",
                    help="maintainers: write every considered case as a run case with exact float comparison "
                         "and its predicted reason in PREDICTED.txt, to check the predictions against octet "
                         "(run onnx_node_tests on it; do not commit the result)")
    args = ap.parse_args()
    if not os.path.isdir(args.source):
        sys.exit(f"{args.source} not found: apt-get install -y libonnx-testdata")

    if os.path.isdir(args.dest):
        shutil.rmtree(args.dest)
    os.makedirs(args.dest)
    lines, folded_lines, predicted = [], [], []

    def record(name, reason):
        if name in KNOWN_BUGS:  # the diagnosis replaces whatever classify() saw first
            reason = "KNOWN BUG: " + KNOWN_BUGS[name]
        predicted.append(f"{name}\t{reason or 'run'}")
        if args.probe:
            reason = None
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
        original = onnx.ModelProto()
        original.CopyFrom(model)
        folded = fold_constant_operands(model, inputs)
        if folded:
            folded_lines.append(f"{name}\t{' '.join(folded)}")
        reason = record(name, classify(model))
        if reason is None:
            tolerance = None if args.probe else float_tolerance(name, model, inputs, args.source)
            write_case(os.path.join(args.dest, name), name, model, inputs, data_files(src, "output"), tolerance)
            correct_window_reference(os.path.join(args.dest, name), name, model, inputs)
        else:
            write_skipped(os.path.join(args.dest, name), model)
        variant = make_variant(name + VARIANT, model, inputs, outputs)
        if variant is not None:
            vmodel, vreason, tolerance = variant
            vname = name + VARIANT
            vreason = record(vname, vreason)
            if vreason is None:
                # The variant keeps the float case's graph inputs, in the same order, and its expected outputs.
                assert [i.name for i in vmodel.graph.input] == [i.name for i in model.graph.input]
                write_case(os.path.join(args.dest, vname), vname, vmodel, inputs, data_files(src, "output"),
                           None if args.probe else tolerance, data=reason is not None or args.probe)
            else:
                write_skipped(os.path.join(args.dest, vname), vmodel)

    unused = set(KNOWN_BUGS) - {line.split("\t")[0] for line in lines}
    if unused:
        sys.exit(f"KNOWN_BUGS names cases that are not considered: {sorted(unused)}")
    with open(os.path.join(args.dest, "CASES.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.dest, "FOLDED.txt"), "w") as f:
        f.write("\n".join(folded_lines) + "\n")
    if args.probe:
        with open(os.path.join(args.dest, "PREDICTED.txt"), "w") as f:
            f.write("\n".join(predicted) + "\n")

    runs = sum(1 for line in lines if line.endswith("\trun"))
    total = 0
    for root, _, files in os.walk(args.dest):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"{len(lines)} cases considered, {runs} to run, {len(lines) - runs} skipped; "
          f"{total / 1024:.0f} KiB in {args.dest}")
    if total > 2 * 1024 * 1024 and not args.probe:
        sys.exit("the selection exceeds 2 MiB")


if __name__ == "__main__":
    main()
