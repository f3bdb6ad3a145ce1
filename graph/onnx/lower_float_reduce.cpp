// Float reductions (Reduce*, ArgMax / ArgMin) and normalizations (BatchNormalization,
// InstanceNormalization, LayerNormalization). Axes are mapped to the physical layout, so an NHWC image is
// reduced in place, without a layout change.

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "graph/onnx/axes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/integer_reduce.h"
#include "kernels/reference/movement.h"

namespace octet::graph::onnx_import {

namespace {

// The physical axes of ONNX axes (sorted, distinct) of value `v`.
std::vector<int64_t> physical_axes(const Value& v, const std::vector<int64_t>& onnx_axes) {
  std::vector<int64_t> out;
  for (int64_t a : onnx_axes)
    out.push_back(v.layout == Layout::nhwc ? nhwc_axis(a) : a);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// Removes the (size-1) ONNX axes `dropped` of `v`: the keepdims = 0 form of a reduction. An NHWC value
// whose remaining dimensions are not in ONNX order goes back to the plain layout first.
static ValueId drop_axes(Importer& im, const onnx::NodeProto& node, ValueId v,
                         const std::vector<int64_t>& dropped) {
  if (dropped.empty()) return v;
  Value val = im.graph().value(v);
  if (val.layout == Layout::nhwc) {
    std::vector<int64_t> remaining;  // ONNX axes in physical order
    for (int64_t p = 0; p < 4; ++p) {
      const int64_t a = onnx_axis_of_nhwc(p);
      if (std::find(dropped.begin(), dropped.end(), a) == dropped.end()) remaining.push_back(a);
    }
    if (!std::is_sorted(remaining.begin(), remaining.end())) v = im.as_plain(v, node);
    val = im.graph().value(v);
  }
  const Shape logical = onnx_shape(val);
  Shape target;
  for (size_t d = 0; d < logical.size(); ++d)
    if (std::find(dropped.begin(), dropped.end(), static_cast<int64_t>(d)) == dropped.end())
      target.push_back(logical[d]);
  Value out = val;
  out.layout = Layout::plain;
  return im.emit(node.name() + "#squeeze", "(reshape)", OpKind::reshape, {v}, ReshapeAttrs{target}, out);
}

ValueId Importer::order_input(const onnx::NodeProto& node) {
  // QOperator models (ONNX Runtime's quantizer) take ArgMax straight on the uint8 output of an int8
  // operator. Dequantizing is strictly increasing (scale > 0), so the order is that of the real values.
  const Symbol& s = symbol(node, 0);
  if (s.kind == Symbol::Kind::quantized && !graph_.value(s.value).quant.scales.empty())
    return dequantized_value(s.value);
  return float_input(node, 0);
}

bool Importer::lower_float_reduce(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const Attributes a(node);
  if (op == "TopK") {
    const ValueId x = order_input(node);
    const Value in = graph_.value(x);
    const auto rank = static_cast<int64_t>(in.shape.size());
    Symbol k_attribute;  // TopK-1: k is an attribute (and there are no largest / sorted)
    if (opset_ < 10) {
      a.expect_only({"axis", "k"});
      if (!a.has("k")) throw Error(describe(node) + ": attribute k is required");
      k_attribute.constant =
          Constant{onnx::TensorProto::INT64, {1}, {static_cast<double>(a.get_int("k", 0))}};
    } else {
      a.expect_only({"axis", "largest", "sorted"});
      if (!has_input(node, 1)) throw Error(describe(node) + ": input K is required");
    }
    const Symbol& k = opset_ < 10 ? k_attribute : symbol(node, 1);
    if (k.kind != Symbol::Kind::constant || k.constant.values.size() != 1)
      throw Error(describe(node) + ": K must be a constant with one value (octet plans shapes at load)");
    TopKAttrs attrs;
    const int64_t axis = normalize_axis(node, a.get_int("axis", -1), rank);
    attrs.axis = physical_axes(in, {axis})[0];
    attrs.largest = a.get_int("largest", 1) != 0;
    // sorted = 0 leaves the order to the implementation: octet's is the sorted one.
    const int64_t length = onnx_shape(in)[static_cast<size_t>(axis)];
    // Checked as a double first: a value beyond int64 (or a NaN, in a mistyped K) must not be converted.
    const double k_value = k.constant.values[0];
    if (k.constant.onnx_type != onnx::TensorProto::INT64 || !(k_value >= 0.0) ||
        !(k_value <= static_cast<double>(length)))
      throw Error(describe(node) + ": K must be an int64 in [0, " + std::to_string(length) +
                  "], the length of axis " + std::to_string(axis));
    attrs.k = static_cast<int64_t>(k_value);
    for (int output = 0; output < std::min(node.output_size(), 2); ++output) {
      if (node.output(output).empty()) continue;
      Value out = in;
      out.name = node.output(output);
      out.shape[static_cast<size_t>(attrs.axis)] = attrs.k;
      out.type = output == 1 ? ElementType::s64 : ElementType::f32;
      out.quant = {};
      out.constant = nullptr;
      attrs.indices = output == 1;
      // Two nodes for the two outputs, each ordering the axis itself (TopK is cheap beside a model).
      define_real(node, output,
                  emit(node.name() + (output == 1 ? "#indices" : ""), node.op_type(), OpKind::top_k, {x},
                       attrs, out));
    }
    return true;
  }
  if (op == "CumSum") {
    a.expect_only({"exclusive", "reverse"});
    const Symbol& s = symbol(node, 0);
    const ValueId x = s.kind == Symbol::Kind::real && graph_.value(s.value).type == ElementType::s64
                          ? s.value
                          : float_input(node, 0);
    const Value in = graph_.value(x);
    const std::vector<int64_t> axis_values = int_values(node, constant_input(node, 1, "axis"), "axis");
    if (axis_values.size() != 1) throw Error(describe(node) + ": axis must be a single value");
    CumSumAttrs attrs;
    attrs.axis =
        physical_axes(in, {normalize_axis(node, axis_values[0], static_cast<int64_t>(in.shape.size()))})[0];
    attrs.exclusive = a.get_int("exclusive", 0) != 0;
    attrs.reverse = a.get_int("reverse", 0) != 0;
    Value out = in;
    out.name = node.output(0);
    out.constant = nullptr;
    define_real(node, 0, emit(node, OpKind::cumulative_sum, {x}, attrs, out));
    return true;
  }
  if (op == "GlobalLpPool" || op == "LpNormalization") {
    // ||x||_p over the spatial dimensions (GlobalLpPool) or one axis (LpNormalization) is ReduceL1 /
    // ReduceL2; octet has those two norms, which are the p ONNX's LpNormalization allows and every
    // GlobalLpPool in use.
    const bool pool = op == "GlobalLpPool";
    a.expect_only(pool ? std::initializer_list<const char*>{"p"}
                       : std::initializer_list<const char*>{"axis", "p"});
    const int64_t p = a.get_int("p", 2);
    if (p != 1 && p != 2)
      throw Error(describe(node) + ": p = " + std::to_string(p) +
                  "; octet computes the L1 and L2 norms (p = 1, 2)");
    const ValueId x = float_input(node, 0);
    const Value in = graph_.value(x);
    const auto rank = static_cast<int64_t>(in.shape.size());
    std::vector<int64_t> axes;
    if (pool) {
      if (rank < 3) throw Error(describe(node) + ": input must be [N, C, spatial...] (rank >= 3)");
      for (int64_t d = 2; d < rank; ++d)
        axes.push_back(d);
    } else {
      axes.push_back(normalize_axis(node, a.get_int("axis", -1), rank));
    }
    Value norm_value = in;
    norm_value.name = node.output(0) + (pool ? "" : "#norm");
    norm_value.constant = nullptr;
    const ValueId norm =
        emit(node.name() + (pool ? "" : "#norm"), node.op_type(), OpKind::reduce, {x},
             ReduceAttrs{p == 1 ? ReduceOp::l1 : ReduceOp::l2, physical_axes(in, axes)}, norm_value);
    if (pool) {
      define_real(node, 0, norm);
      return true;
    }
    // x / ||x||, and 0 where the norm is 0 (ONNX Runtime's LpNormalization), not 0 / 0.
    Value quotient = in;
    quotient.name = node.output(0) + "#quotient";
    quotient.constant = nullptr;
    const ValueId divided = emit(node.name() + "#divide", node.op_type(), OpKind::binary, {x, norm},
                                 BinaryAttrs{BinaryOp::div}, quotient);
    const ValueId zero =
        constant_value(node.output(0) + "#zero", Constant{onnx::TensorProto::FLOAT, {}, {0.0}});
    Value is_zero = norm_value;
    is_zero.name = node.output(0) + "#zero_norm";
    is_zero.type = ElementType::b8;
    const ValueId zero_norm = emit(node.name() + "#zero_norm", node.op_type(), OpKind::binary, {norm, zero},
                                   BinaryAttrs{BinaryOp::equal}, is_zero);
    Value out = in;
    out.name = node.output(0);
    out.constant = nullptr;
    define_real(node, 0, emit(node, OpKind::where, {zero_norm, zero, divided}, {}, out));
    return true;
  }
  if (op == "Hardmax") {
    // One-hot of the first maximum: ArgMax (keeping the axis) compared with the positions along the axis.
    a.expect_only({"axis"});
    ValueId x = float_input(node, 0);
    Shape restore;
    int64_t axis = 0;
    if (opset_ < 13) {
      // Before opset 13 the input is flattened to [outer, inner] at `axis` and the maximum taken over inner.
      x = as_plain(x, node);
      const Shape plain = graph_.value(x).shape;
      axis = normalize_axis(node, a.get_int("axis", 1), static_cast<int64_t>(plain.size()));
      const int64_t outer =
          std::accumulate(plain.begin(), plain.begin() + axis, int64_t{1}, std::multiplies<>());
      const int64_t inner =
          std::accumulate(plain.begin() + axis, plain.end(), int64_t{1}, std::multiplies<>());
      x = plain_reshape(node, x, {outer, inner}, "#2d");
      restore = plain;
      axis = 1;
    } else {
      axis = normalize_axis(node, a.get_int("axis", -1), static_cast<int64_t>(graph_.value(x).shape.size()));
    }
    const Value in = graph_.value(x);
    ArgReduceAttrs arg;
    arg.axis = physical_axes(in, {axis})[0];
    arg.max = true;
    Value index_value = in;
    index_value.name = node.output(0) + "#argmax";
    index_value.type = ElementType::s64;
    index_value.constant = nullptr;
    const ValueId index =
        emit(node.name() + "#argmax", node.op_type(), OpKind::arg_reduce, {x}, arg, index_value);
    // The positions 0 .. length - 1 along the axis, as a constant broadcast against the indices.
    const Shape logical = onnx_shape(in);
    Constant positions{onnx::TensorProto::INT64, Shape(logical.size(), 1), {}};
    positions.shape[static_cast<size_t>(axis)] = logical[static_cast<size_t>(axis)];
    std::vector<double> counting(static_cast<size_t>(logical[static_cast<size_t>(axis)]));
    std::iota(counting.begin(), counting.end(), 0.0);
    positions.values = std::move(counting);
    const ValueId iota = constant_value(node.output(0) + "#positions", positions, in.layout);
    Value hit = in;
    hit.name = node.output(0) + "#hit";
    hit.type = ElementType::b8;
    hit.constant = nullptr;
    const ValueId hits = emit(node.name() + "#hit", node.op_type(), OpKind::binary, {index, iota},
                              BinaryAttrs{BinaryOp::equal}, hit);
    Value out = in;
    out.name = node.output(0);
    out.constant = nullptr;
    ValueId y = emit(node, OpKind::cast, {hits}, CastAttrs{ElementType::f32}, out);
    if (!restore.empty()) y = plain_reshape(node, y, restore, "#nd");
    define_real(node, 0, y);
    return true;
  }
  if (op == "ArgMax" || op == "ArgMin") {
    a.expect_only({"axis", "keepdims", "select_last_index"});
    const ValueId x = order_input(node);
    const Value in = graph_.value(x);
    const int64_t axis = normalize_axis(node, a.get_int("axis", 0), static_cast<int64_t>(in.shape.size()));
    ArgReduceAttrs attrs;
    attrs.axis = physical_axes(in, {axis})[0];
    attrs.max = op == "ArgMax";
    attrs.select_last_index = a.get_int("select_last_index", 0) != 0;
    Value out = in;
    out.name = node.output(0);
    out.type = ElementType::s64;
    out.constant = nullptr;
    ValueId v = emit(node, OpKind::arg_reduce, {x}, attrs, out);
    if (a.get_int("keepdims", 1) == 0) v = drop_axes(*this, node, v, {axis});
    define_real(node, 0, v);
    return true;
  }
  static const std::map<std::string, ReduceOp> ops = {
      {"ReduceSum", ReduceOp::sum},        {"ReduceMean", ReduceOp::mean},
      {"ReduceMax", ReduceOp::max},        {"ReduceMin", ReduceOp::min},
      {"ReduceProd", ReduceOp::prod},      {"ReduceL1", ReduceOp::l1},
      {"ReduceL2", ReduceOp::l2},          {"ReduceSumSquare", ReduceOp::sum_square},
      {"ReduceLogSum", ReduceOp::log_sum}, {"ReduceLogSumExp", ReduceOp::log_sum_exp}};
  const auto it = ops.find(op);
  if (it == ops.end()) return false;
  a.expect_only({"axes", "keepdims", "noop_with_empty_axes"});
  // int64 data (shape arithmetic computed at run time) reduces as int64 where the operation is exact.
  const Symbol& data = symbol(node, 0);
  const bool integer = data.kind == Symbol::Kind::real && graph_.value(data.value).type == ElementType::s64 &&
                       ref::int64_reduces(it->second);
  const ValueId x = integer ? data.value : float_input(node, 0);
  const Value in = graph_.value(x);
  const auto rank = static_cast<int64_t>(in.shape.size());
  const bool axes_input = reduce_axes_are_input(node, a);
  std::vector<int64_t> axes;
  if (axes_input) {
    if (a.has("axes")) throw Error(describe(node) + ": axes is an input in this opset, not an attribute");
    if (has_input(node, 1)) axes = int_values(node, constant_input(node, 1, "axes"), "axis");
  } else {
    axes = a.get_ints("axes", {});
  }
  for (int64_t& axis : axes)
    axis = normalize_axis(node, axis, rank);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw Error(describe(node) + ": an axis is repeated");
  if (axes.empty()) {
    if (a.get_int("noop_with_empty_axes", 0) != 0) {
      // Each element reduced alone (ref::float_reduce with no axes): a copy for the sum, mean, max, min and
      // product, the operator's own functions of one element for the others (|x| for ReduceL1, x * x for
      // ReduceSumSquare, ...), as ONNX says since onnx/onnx#7394 and ONNX Runtime computes.
      const ReduceOp r = it->second;
      const bool copy = r == ReduceOp::sum || r == ReduceOp::mean || r == ReduceOp::max ||
                        r == ReduceOp::min || r == ReduceOp::prod;
      Value out = in;
      out.name = node.output(0);
      out.constant = nullptr;
      const ValueId y = integer ? emit(node, OpKind::reshape, {x}, ReshapeAttrs{in.shape}, out)
                        : copy  ? emit(node, OpKind::unary, {x}, UnaryAttrs{}, out)
                                : emit(node, OpKind::reduce, {x}, ReduceAttrs{r, {}}, out);
      define_real(node, 0, y);
      return true;
    }
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  Value out = in;
  out.name = node.output(0);
  out.constant = nullptr;
  ValueId v = emit(node, OpKind::reduce, {x}, ReduceAttrs{it->second, physical_axes(in, axes)}, out);
  if (a.get_int("keepdims", 1) == 0) v = drop_axes(*this, node, v, axes);
  define_real(node, 0, v);
  return true;
}

bool Importer::reduce_axes_are_input(const onnx::NodeProto& node, const Attributes& a) const {
  // Opset 13 moved ReduceSum's axes to an input, opset 18 every other reduction's.
  const bool axes_input = opset_ >= 18 || (node.op_type() == "ReduceSum" && opset_ >= 13);
  if (!axes_input && a.has("noop_with_empty_axes"))
    throw Error(describe(node) + ": noop_with_empty_axes is not an attribute of " + node.op_type() +
                " in opset " + std::to_string(opset_) + " (it came with the axes input)");
  return axes_input;
}

bool Importer::lower_float_normalization(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const Attributes a(node);
  ValueId x = float_input(node, 0);
  const Value in = graph_.value(x);
  const auto rank = static_cast<int64_t>(in.shape.size());
  auto params = [&](int input, const char* what, int64_t count) {
    const Symbol& s = symbol(node, input);
    if (s.kind != Symbol::Kind::constant) throw Error(describe(node) + ": " + what + " must be a constant");
    std::vector<double> v = s.real_values();
    if (static_cast<int64_t>(v.size()) != count)
      throw Error(describe(node) + ": " + what + " has " + std::to_string(v.size()) + " values, expected " +
                  std::to_string(count));
    return v;
  };
  auto to_tensor = [](const std::vector<double>& v) {
    auto t = std::make_shared<TensorF32>(Shape{static_cast<int64_t>(v.size())});
    std::transform(v.begin(), v.end(), t->data.begin(), [](double d) { return static_cast<float>(d); });
    return t;
  };
  NormAttrs attrs;
  if (op == "LRN") {
    a.expect_only({"alpha", "beta", "bias", "size"});
    if (rank < 3) throw Error(describe(node) + ": input must be [N, C, spatial...] (rank >= 3)");
    if (!a.has("size")) throw Error(describe(node) + ": attribute 'size' is required");
    attrs.kind = NormKind::lrn;
    attrs.axis = in.layout == Layout::nhwc ? 3 : 1;
    attrs.lrn.size = a.get_int("size", 1);
    attrs.lrn.alpha = a.get_float("alpha", 1e-4f);
    attrs.lrn.beta = a.get_float("beta", 0.75f);
    attrs.lrn.bias = a.get_float("bias", 1.0f);
    if (attrs.lrn.size < 1)
      throw Error(describe(node) + ": size must be >= 1, got " + std::to_string(attrs.lrn.size));
  } else if (op == "GroupNormalization") {
    a.expect_only({"epsilon", "num_groups", "stash_type"});
    if (rank < 3) throw Error(describe(node) + ": input must be [N, C, spatial...] (rank >= 3)");
    if (!a.has("num_groups")) throw Error(describe(node) + ": attribute 'num_groups' is required");
    // stash_type names the precision of the statistics: float32 (1, the default) or better is what octet
    // computes for a float32 input.
    const int64_t channels = onnx_shape(in)[1], groups = a.get_int("num_groups", 1);
    if (groups < 1 || channels % groups != 0)
      throw Error(describe(node) + ": num_groups " + std::to_string(groups) + " does not divide the " +
                  std::to_string(channels) + " channels");
    attrs.kind = NormKind::group;
    attrs.axis = in.layout == Layout::nhwc ? 3 : 1;
    attrs.groups = groups;
    attrs.epsilon = a.get_float("epsilon", 1e-5f);
    // Opset 21 gives scale and bias per channel; opset 18 (since deprecated) per group.
    const int64_t given = opset_ >= 21 ? channels : groups;
    std::vector<double> scale = params(1, "scale", given), bias = params(2, "bias", given);
    if (given != channels) {
      std::vector<double> per_channel_scale, per_channel_bias;
      for (int64_t c = 0; c < channels; ++c) {
        per_channel_scale.push_back(scale[static_cast<size_t>(c / (channels / groups))]);
        per_channel_bias.push_back(bias[static_cast<size_t>(c / (channels / groups))]);
      }
      scale = std::move(per_channel_scale);
      bias = std::move(per_channel_bias);
    }
    attrs.scale = to_tensor(scale);
    attrs.shift = to_tensor(bias);
  } else if (op == "BatchNormalization" || op == "InstanceNormalization") {
    if (rank < 2) throw Error(describe(node) + ": input must have a channel dimension (rank >= 2)");
    const int64_t channels = onnx_shape(in)[1];
    attrs.axis = in.layout == Layout::nhwc ? 3 : 1;
    if (op == "BatchNormalization") {
      const BatchNormFactors f = batch_norm_factors(node, channels);
      attrs.kind = NormKind::channel_affine;
      attrs.scale = to_tensor(f.scale);
      attrs.shift = to_tensor(f.shift);
    } else {
      a.expect_only({"epsilon"});
      if (rank < 3) throw Error(describe(node) + ": input must have spatial dimensions (rank >= 3)");
      attrs.kind = NormKind::instance;
      attrs.epsilon = a.get_float("epsilon", 1e-5f);
      attrs.scale = to_tensor(params(1, "scale", channels));
      attrs.shift = to_tensor(params(2, "bias", channels));
    }
  } else {  // LayerNormalization
    a.expect_only({"axis", "epsilon", "stash_type"});
    for (int i = 1; i < node.output_size(); ++i)
      if (!node.output(i).empty())
        throw Error(describe(node) + ": the Mean / InvStdDev outputs are not supported");
    x = as_plain(x, node);
    const Shape s = graph_.value(x).shape;
    const int64_t axis = normalize_axis(node, a.get_int("axis", -1), rank);
    const Shape inner(s.begin() + axis, s.end());
    // Scale and bias broadcast to the normalized dimensions: expanded here, once.
    auto expanded = [&](int input, const char* what) -> std::shared_ptr<TensorF32> {
      const Symbol& p = symbol(node, input);
      if (p.kind != Symbol::Kind::constant) throw Error(describe(node) + ": " + what + " must be a constant");
      if (broadcast_shape(describe(node), p.constant.shape, inner) != inner)
        throw Error(describe(node) + ": " + what + " of shape " + to_string(p.constant.shape) +
                    " does not broadcast to the normalized shape " + to_string(inner));
      std::vector<double> values = p.real_values(), full(static_cast<size_t>(element_count(inner, what)));
      ref::expand(values.data(), p.constant.shape, inner, sizeof(double), full.data());
      return to_tensor(full);
    };
    attrs.kind = NormKind::layer;
    attrs.axis = axis;
    attrs.epsilon = a.get_float("epsilon", 1e-5f);
    attrs.scale = expanded(1, "scale");
    if (has_input(node, 2)) attrs.shift = expanded(2, "bias");
  }
  Value out = graph_.value(x);
  out.name = node.output(0);
  out.constant = nullptr;
  if (attrs.kind == NormKind::channel_affine && node.output_size() > 0 && !node.output(0).empty()) {
    // BatchNormalization -> Relu / Clip [-> activation] (pre-activation blocks: DenseNet, ResNet v2): one
    // pass over the tensor, the steps applied to each block while it is in cache.
    const FloatActivation act = float_activation(node.output(0));
    attrs.clamp = act.clamp;
    attrs.activation = act.unary;
    finish_activation(act, emit(node, OpKind::normalize, {x}, std::move(attrs), out));
    return true;
  }
  define_real(node, 0, emit(node, OpKind::normalize, {x}, std::move(attrs), out));
  return true;
}

}  // namespace octet::graph::onnx_import
