// Operators that move or select elements without arithmetic: Slice, Pad, Gather (constant indices; run-time
// ones: lower_indexing.cpp), Expand,
// Tile, Split, DepthToSpace, SpaceToDepth. They take any kind of tensor: on a quantized or dequantized one
// they move its uint8 bytes and keep its params (so DequantizeLinear -> Slice -> QuantizeLinear stays
// int8), on a float one its floats. Axes map to the physical layout where the operator allows it, so an
// NHWC image is sliced or padded in place.

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "graph/onnx/axes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"
#include "kernels/quantization/quantize.h"
#include "kernels/reference/broadcast.h"

namespace octet::graph::onnx_import {

namespace {

// The ONNX axis of each physical dimension of `v`.
std::vector<int64_t> onnx_axes_of(const Value& v) {
  std::vector<int64_t> axes(v.shape.size());
  std::iota(axes.begin(), axes.end(), int64_t{0});
  if (v.layout == Layout::nhwc)
    for (int64_t p = 0; p < 4; ++p)
      axes[static_cast<size_t>(p)] = onnx_axis_of_nhwc(p);
  return axes;
}

// `per_onnx_axis[a]` rearranged into physical order.
std::vector<int64_t> to_physical(const Value& v, const std::vector<int64_t>& per_onnx_axis) {
  const std::vector<int64_t> axes = onnx_axes_of(v);
  std::vector<int64_t> out(axes.size());
  for (size_t p = 0; p < axes.size(); ++p)
    out[p] = per_onnx_axis[static_cast<size_t>(axes[p])];
  return out;
}

// One element with real value `real` in `v`'s element type: quantized with v's params for uint8 data.
std::vector<std::byte> element_bytes(const Value& v, double real) {
  std::vector<std::byte> bytes(size_of(v.type));
  switch (v.type) {
    case ElementType::f32: {
      const auto f = static_cast<float>(real);
      std::memcpy(bytes.data(), &f, 4);
      break;
    }
    case ElementType::u8: {
      const int32_t q = v.quant.scales.empty()
                            ? static_cast<int32_t>(std::clamp(real, 0.0, 255.0))
                            : quantize_value(static_cast<float>(real), v.quant.scale(), v.quant.zero_point(),
                                             range_of(ElementType::u8));
      bytes[0] = static_cast<std::byte>(q);
      break;
    }
    case ElementType::b8:
      bytes[0] = std::byte{real != 0.0};
      break;
    case ElementType::s64: {
      const auto i = static_cast<int64_t>(real);
      std::memcpy(bytes.data(), &i, 8);
      break;
    }
    default:
      throw Error("tensor '" + v.name + "': unsupported element type for padding");
  }
  return bytes;
}

// Whether `real` (as float) is a value of `v`'s elements: any for float data; for quantized data one of
// the values its bytes dequantize to.
bool representable(const Value& v, double real) {
  if (v.type != ElementType::u8 || v.quant.scales.empty()) return true;
  const auto x = static_cast<float>(real);
  const int32_t q = quantize_value(x, v.quant.scale(), v.quant.zero_point(), range_of(ElementType::u8));
  return dequantize_value(q, v.quant.scale(), v.quant.zero_point()) == x;
}

}  // namespace

bool Importer::lower_movement(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const bool known = op == "Slice" || op == "Pad" || op == "Gather" || op == "Expand" || op == "Tile" ||
                     op == "Split" || op == "DepthToSpace" || op == "SpaceToDepth";
  if (!known) return false;
  const Symbol& x = symbol(node, 0);
  if (x.kind == Symbol::Kind::constant) return false;  // constant folding's business
  const Symbol::Kind kind = x.kind;
  const ValueId v = x.value;
  const Attributes a(node);
  auto output_like = [&](ValueId like, const std::string& name) {
    Value out = graph_.value(like);
    out.name = name;
    return out;
  };

  if (op == "Slice") {
    const Value in = graph_.value(v);
    const auto rank = static_cast<int64_t>(in.shape.size());
    std::vector<int64_t> starts, ends, axes, steps;
    if (opset_ < 10) {  // Slice-1: attributes, no steps
      a.expect_only({"starts", "ends", "axes"});
      if (!a.has("starts") || !a.has("ends"))
        throw Error(describe(node) + ": attributes starts and ends are required");
      starts = a.get_ints("starts"), ends = a.get_ints("ends"), axes = a.get_ints("axes", {});
    } else {
      a.expect_only({});
      starts = slice_bounds(node, constant_input(node, 1, "starts"), "start");
      ends = slice_bounds(node, constant_input(node, 2, "ends"), "end");
      if (has_input(node, 3)) axes = int_values(node, constant_input(node, 3, "axes"), "axis");
      if (has_input(node, 4)) steps = int_values(node, constant_input(node, 4, "steps"), "step");
    }
    if (axes.empty()) {
      axes.resize(starts.size());
      std::iota(axes.begin(), axes.end(), int64_t{0});
    }
    for (int64_t& axis : axes) {
      axis = normalize_axis(node, axis, rank);
      if (in.layout == Layout::nhwc) axis = nhwc_axis(axis);
    }
    SliceAttrs attrs{ref::slice_axes(in.shape, starts, ends, axes, steps, describe(node))};
    define_value(node, 0, kind,
                 emit(node, OpKind::slice, {v}, std::move(attrs), output_like(v, node.output(0))));
    return true;
  }
  if (op == "Pad") {
    const Value in = graph_.value(v);
    const auto rank = static_cast<int64_t>(in.shape.size());
    std::vector<int64_t> pads;
    double value = 0.0;
    std::string mode;
    if (opset_ < 11) {
      a.expect_only({"mode", "pads", "value"});
      pads = a.get_ints("pads");
      value = a.get_float("value", 0.0f);
    } else {
      a.expect_only({"mode"});
      pads = int_values(node, constant_input(node, 1, "pads"), "pad");
      if (has_input(node, 2)) {
        const Symbol& c = symbol(node, 2);
        if (c.kind != Symbol::Kind::constant || c.constant.values.size() != 1)
          throw Error(describe(node) + ": constant_value must be a single constant value");
        value = c.real_values()[0];
      }
    }
    mode = a.get_string("mode", "constant");
    // Opset 18's axes input: pads for those axes only.
    std::vector<int64_t> axes(static_cast<size_t>(rank));
    std::iota(axes.begin(), axes.end(), int64_t{0});
    if (has_input(node, 3)) {
      axes = int_values(node, constant_input(node, 3, "axes"), "axis");
      for (int64_t& axis : axes)
        axis = normalize_axis(node, axis, rank);
    }
    if (pads.size() != 2 * axes.size())
      throw Error(describe(node) + ": pads has " + std::to_string(pads.size()) + " values for " +
                  std::to_string(axes.size()) + " axes");
    std::vector<int64_t> begin(static_cast<size_t>(rank), 0), end(static_cast<size_t>(rank), 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      begin[static_cast<size_t>(axes[i])] = pads[i];
      end[static_cast<size_t>(axes[i])] = pads[i + axes.size()];
    }
    PadAttrs attrs;
    if (mode == "constant")
      attrs.mode = ref::PadMode::constant;
    else if (mode == "reflect")
      attrs.mode = ref::PadMode::reflect;
    else if (mode == "edge")
      attrs.mode = ref::PadMode::edge;
    else if (mode == "wrap")
      attrs.mode = ref::PadMode::wrap;
    else
      throw Error(describe(node) + ": unknown mode '" + mode + "'");
    // What the mode needs of each padded dimension (after any cropping), checked here so that a model that
    // cannot run fails at load: reflect mirrors around an edge element (2 elements), edge and wrap repeat
    // (1).
    const int64_t needed = attrs.mode == ref::PadMode::reflect    ? 2
                           : attrs.mode == ref::PadMode::constant ? 0
                                                                  : 1;
    const Shape logical = onnx_shape(in);
    for (size_t d = 0; d < logical.size(); ++d) {
      const int64_t kept = logical[d] + std::min<int64_t>(begin[d], 0) + std::min<int64_t>(end[d], 0);
      if ((begin[d] > 0 || end[d] > 0) && kept < needed)
        throw Error(describe(node) + ": " + mode + " padding of dimension " + std::to_string(d) +
                    " needs at least " + std::to_string(needed) + " elements, it has " +
                    std::to_string(kept));
    }
    // Quantized data pads with the value's byte in its params, which is the value itself only where the
    // value is on their grid. One off it (outside the input's range, or between two of its steps) pads the
    // dequantized input in float, as the model computes it, and the QuantizeLinear after it (if any)
    // quantizes the pad value with its own params; unless every reader is a QuantizeLinear with the
    // input's params, which gives the value the byte it pads with (a max pool's -inf padding, say).
    auto quantized_as_input = [&] {
      const std::vector<const onnx::NodeProto*> readers = consumers(node.output(0));
      return !is_graph_output(node.output(0)) && !readers.empty() &&
             std::all_of(readers.begin(), readers.end(), [&](const onnx::NodeProto* r) {
               if (r->op_type() != "QuantizeLinear" || r->input_size() < 2 || r->input(0) != node.output(0))
                 return false;
               // Params not known yet (a scale computed by a later node) or not per-tensor: the float path,
               // and the QuantizeLinear reports anything wrong with them itself.
               try {
                 return activation_params(*r, 1, 2) == in.quant;
               } catch (const Error&) {
                 return false;
               }
             });
    };
    ValueId data = v;
    Symbol::Kind data_kind = kind;
    if (attrs.mode == ref::PadMode::constant && kind == Symbol::Kind::dequantized &&
        !representable(in, value) && !quantized_as_input()) {
      data = dequantized_value(v);
      data_kind = Symbol::Kind::real;
    }
    const Value& padded = graph_.value(data);
    attrs.begin = to_physical(padded, begin);
    attrs.end = to_physical(padded, end);
    attrs.value = element_bytes(padded, value);
    define_value(node, 0, data_kind,
                 emit(node, OpKind::pad, {data}, std::move(attrs), output_like(data, node.output(0))));
    return true;
  }
  if (op == "Gather") {
    a.expect_only({"axis"});
    const Symbol& idx = symbol(node, 1);
    if (idx.kind != Symbol::Kind::constant) return false;  // run-time indices: lower_indexing.cpp
    if (!idx.constant.is_integer()) throw Error(describe(node) + ": indices must be integers");
    ValueId in_v = v;
    const Value* in = &graph_.value(in_v);
    const int64_t axis = normalize_axis(node, a.get_int("axis", 0), static_cast<int64_t>(in->shape.size()));
    // An NHWC image keeps its layout when one index dimension replaces the gathered one.
    if (in->layout == Layout::nhwc && idx.constant.shape.size() != 1) {
      in_v = as_plain(in_v, node);
      in = &graph_.value(in_v);
    }
    GatherAttrs attrs;
    attrs.axis = in->layout == Layout::nhwc ? nhwc_axis(axis) : axis;
    attrs.indices = std::make_shared<const std::vector<int64_t>>(int_values(node, idx.constant, "index"));
    attrs.index_shape = idx.constant.shape;
    const int64_t extent = in->shape[static_cast<size_t>(attrs.axis)];
    for (int64_t i : *attrs.indices)
      if (i < -extent || i >= extent)
        throw Error(describe(node) + ": index " + std::to_string(i) + " is out of range for a dimension of " +
                    std::to_string(extent));
    define_value(node, 0, kind,
                 emit(node, OpKind::gather, {in_v}, std::move(attrs), output_like(in_v, node.output(0))));
    return true;
  }
  if (op == "Expand" || op == "Tile") {
    a.expect_only({});
    ValueId in_v = v;
    if (op == "Tile") {
      const Value& in = graph_.value(in_v);
      std::vector<int64_t> repeats = int_values(node, constant_input(node, 1, "repeats"), "repeat");
      if (repeats.size() != in.shape.size())
        throw Error(describe(node) + ": repeats has " + std::to_string(repeats.size()) + " values for rank " +
                    std::to_string(in.shape.size()));
      for (int64_t r : repeats)
        if (r < 0) throw Error(describe(node) + ": negative repeat count");
      TileAttrs attrs{to_physical(in, repeats)};
      define_value(node, 0, kind,
                   emit(node, OpKind::tile, {in_v}, std::move(attrs), output_like(in_v, node.output(0))));
      return true;
    }
    const Shape target = int_values(node, constant_input(node, 1, "shape"), "dimension");
    Shape logical = broadcast_shape(describe(node), onnx_shape(graph_.value(in_v)), target);
    Shape physical = logical;
    if (graph_.value(in_v).layout == Layout::nhwc) {
      if (logical.size() == 4)
        physical = {logical[0], logical[2], logical[3], logical[1]};
      else
        in_v = as_plain(in_v, node);
    }
    Value out = output_like(in_v, node.output(0));
    define_value(node, 0, kind, emit(node, OpKind::expand, {in_v}, ReshapeAttrs{physical}, out));
    return true;
  }
  if (op == "Split") {
    a.expect_only({"axis", "split", "num_outputs"});
    const Value in = graph_.value(v);
    const auto rank = static_cast<int64_t>(in.shape.size());
    const int64_t axis = normalize_axis(node, a.get_int("axis", 0), rank);
    const int64_t physical = in.layout == Layout::nhwc ? nhwc_axis(axis) : axis;
    const int64_t extent = in.shape[static_cast<size_t>(physical)];
    std::vector<int64_t> sizes = a.get_ints("split", {});
    if (has_input(node, 1)) sizes = int_values(node, constant_input(node, 1, "split"), "split size");
    const auto outputs = static_cast<int64_t>(node.output_size());
    if (sizes.empty()) {
      // Equal parts; opset 18's num_outputs allows a smaller last part.
      const int64_t parts = a.get_int("num_outputs", outputs);
      if (parts != outputs || parts < 1)
        throw Error(describe(node) + ": num_outputs does not match the node's " + std::to_string(outputs) +
                    " outputs");
      const int64_t part = a.has("num_outputs") ? (extent + parts - 1) / parts : extent / parts;
      if (!a.has("num_outputs") && extent % parts != 0)
        throw Error(describe(node) + ": cannot split " + std::to_string(extent) + " into " +
                    std::to_string(parts) + " equal parts");
      for (int64_t i = 0; i < parts; ++i)
        sizes.push_back(std::max<int64_t>(0, std::min(part, extent - i * part)));
    }
    if (static_cast<int64_t>(sizes.size()) != outputs)
      throw Error(describe(node) + ": " + std::to_string(sizes.size()) + " split sizes for " +
                  std::to_string(outputs) + " outputs");
    if (std::any_of(sizes.begin(), sizes.end(), [](int64_t s) { return s < 0; }) ||
        std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != extent)
      throw Error(describe(node) + ": split sizes do not add up to the dimension's " +
                  std::to_string(extent));
    int64_t start = 0;
    for (int64_t i = 0; i < outputs; ++i) {
      const int64_t size = sizes[static_cast<size_t>(i)];
      SliceAttrs attrs;
      for (size_t d = 0; d < in.shape.size(); ++d)
        attrs.axes.push_back({0, 1, in.shape[d]});
      attrs.axes[static_cast<size_t>(physical)] = {start, 1, size};
      start += size;
      if (node.output(static_cast<int>(i)).empty()) continue;
      const std::string& name = node.output(static_cast<int>(i));
      define_value(node, static_cast<int>(i), kind,
                   emit(node.name() + "#" + std::to_string(i), node.op_type(), OpKind::slice, {v},
                        std::move(attrs), output_like(v, name)));
    }
    return true;
  }
  // DepthToSpace / SpaceToDepth: defined on NCHW element order.
  const bool to_space = op == "DepthToSpace";
  if (to_space)
    a.expect_only({"blocksize", "mode"});
  else
    a.expect_only({"blocksize"});
  DepthToSpaceAttrs attrs;
  attrs.block = a.get_int("blocksize", 0);
  attrs.to_space = to_space;
  const std::string mode = a.get_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") throw Error(describe(node) + ": unknown mode '" + mode + "'");
  attrs.crd = mode == "CRD";
  if (attrs.block < 1) throw Error(describe(node) + ": blocksize must be >= 1");
  const ValueId pv = as_plain(v, node);
  define_value(node, 0, kind,
               emit(node, OpKind::depth_to_space, {pv}, attrs, output_like(pv, node.output(0))));
  return true;
}

}  // namespace octet::graph::onnx_import
