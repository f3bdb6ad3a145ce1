// Operators driven by indices computed at run time: Gather with run-time indices (or a constant table
// indexed at run time), GatherElements, GatherND, ScatterElements (and opset 10's Scatter) and ScatterND.
// Detection and keypoint heads use them after a TopK or an ArgMax (CenterNet's peaks, a detector's top
// boxes), and exports of in-place tensor writes become ScatterND (YOLOv5's Detect layer). Like the movers
// of lower_movement.cpp they take any kind of tensor: a quantized or dequantized one keeps its uint8 bytes
// and params. Indices are int64 at run time (or int32 / int64 constants) and are checked as the operator
// runs: one out of range is an error that names the node, never a read outside the data.

#include "graph/onnx/axes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

namespace {

ref::ScatterReduction reduction_of(const std::string& name, const std::string& what) {
  if (name == "none") return ref::ScatterReduction::none;
  if (name == "add") return ref::ScatterReduction::add;
  if (name == "mul") return ref::ScatterReduction::mul;
  if (name == "max") return ref::ScatterReduction::max;
  if (name == "min") return ref::ScatterReduction::min;
  throw Error(what + ": unknown reduction '" + name + "'");
}

}  // namespace

ValueId Importer::index_input(const onnx::NodeProto& node, int input) {
  const Symbol& s = symbol(node, input);
  if (s.kind == Symbol::Kind::constant && !s.quant &&
      (s.constant.onnx_type == onnx::TensorProto::INT64 || s.constant.onnx_type == onnx::TensorProto::INT32))
    return constant_value(node.input(input), s.constant);
  if (s.kind == Symbol::Kind::real && graph_.value(s.value).type == ElementType::s64)
    return as_plain(s.value, node);
  throw Error(describe(node) + ": indices '" + node.input(input) + "' must be int64 (or int32 constants)");
}

bool Importer::lower_indexing(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const bool scatter = op == "ScatterElements" || op == "ScatterND" || op == "Scatter";
  if (op != "Gather" && op != "GatherElements" && op != "GatherND" && !scatter) return false;
  const Attributes a(node);
  if (!has_input(node, 1)) throw Error(describe(node) + ": input indices is required");

  // The data as it is (a quantized tensor moves its bytes), a constant as a runtime constant of its type.
  const Symbol& data_symbol = symbol(node, 0);
  Symbol::Kind kind = data_symbol.kind;
  ValueId data = -1;
  if (kind == Symbol::Kind::constant) {
    data = float_input(node, 0);
    kind = Symbol::Kind::real;
  } else {
    data = data_symbol.value;
  }
  const ValueId indices = index_input(node, 1);
  const auto rank = static_cast<int64_t>(graph_.value(data).shape.size());
  auto output_like = [&](ValueId like) {
    Value out = graph_.value(like);
    out.name = node.output(0);
    out.constant.reset();  // the data may be a constant table; the result is computed
    return out;
  };

  if (op == "Gather") {
    a.expect_only({"axis"});
    const int64_t axis = normalize_axis(node, a.get_int("axis", 0), rank);
    // An NHWC image keeps its layout when one index dimension replaces the gathered one.
    if (graph_.value(data).layout == Layout::nhwc && graph_.value(indices).shape.size() != 1)
      data = as_plain(data, node);
    GatherAttrs attrs;
    attrs.axis = graph_.value(data).layout == Layout::nhwc ? nhwc_axis(axis) : axis;
    attrs.index_shape = graph_.value(indices).shape;
    define_value(node, 0, kind,
                 emit(node, OpKind::gather, {data, indices}, std::move(attrs), output_like(data)));
    return true;
  }
  data = as_plain(data, node);
  if (op == "GatherElements" || op == "GatherND") {
    IndexingAttrs attrs;
    if (op == "GatherElements") {
      a.expect_only({"axis"});
      attrs.axis = normalize_axis(node, a.get_int("axis", 0), rank);
    } else {
      a.expect_only({"batch_dims"});
      attrs.batch_dims = a.get_int("batch_dims", 0);
    }
    const OpKind k = op == "GatherND" ? OpKind::gather_nd : OpKind::gather_elements;
    define_value(node, 0, kind, emit(node, k, {data, indices}, attrs, output_like(data)));
    return true;
  }

  IndexingAttrs attrs;
  if (op == "ScatterND") {
    a.expect_only({"reduction"});
  } else {
    if (op == "Scatter")
      a.expect_only({"axis"});
    else
      a.expect_only({"axis", "reduction"});
    attrs.axis = normalize_axis(node, a.get_int("axis", 0), rank);
  }
  attrs.reduction = reduction_of(a.get_string("reduction", "none"), describe(node));
  if (!has_input(node, 2)) throw Error(describe(node) + ": input updates is required");
  const Symbol& update_symbol = symbol(node, 2);
  ValueId updates = -1;
  const bool moves = attrs.reduction == ref::ScatterReduction::none;
  if (kind == Symbol::Kind::quantized) {
    // A uint8 tensor of the model (QOperator form): the scatter moves its integers, whatever params the
    // updates have, and reductions would compute on integers octet has no arithmetic for.
    if (!moves)
      throw Error(describe(node) + ": a " + a.get_string("reduction", "none") +
                  " reduction on the uint8 tensor '" + node.input(0) +
                  "': octet computes scatter reductions on float32 or int64 tensors");
    if (update_symbol.kind == Symbol::Kind::quantized) {
      updates = update_symbol.value;
    } else if (update_symbol.kind == Symbol::Kind::constant && !update_symbol.quant &&
               update_symbol.constant.onnx_type == onnx::TensorProto::UINT8) {
      updates = quantized_constant_value(node.input(2), update_symbol.constant, graph_.value(data).quant,
                                         /*negate=*/false);
    } else {
      throw Error(describe(node) + ": updates '" + node.input(2) + "' must be uint8, as the data is");
    }
  } else if (kind == Symbol::Kind::dequantized && moves && update_symbol.kind == Symbol::Kind::dequantized &&
             graph_.value(update_symbol.value).quant == graph_.value(data).quant) {
    updates = update_symbol.value;  // both dequantized with the same params: their bytes move
  } else {
    // Real values: float (dequantized where quantized), int64 or bool.
    if (kind == Symbol::Kind::dequantized) data = as_plain(dequantized_value(data_symbol.value), node);
    kind = Symbol::Kind::real;
    updates = float_input(node, 2);
  }
  updates = as_plain(updates, node);
  const OpKind k = op == "ScatterND" ? OpKind::scatter_nd : OpKind::scatter_elements;
  const ValueId out = emit(node, k, {data, indices, updates}, attrs, output_like(data));
  if (kind == Symbol::Kind::real)
    define_real(node, 0, out);
  else
    define_value(node, 0, kind, out);
  return true;
}

}  // namespace octet::graph::onnx_import
