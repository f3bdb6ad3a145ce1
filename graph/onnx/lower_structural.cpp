// Operators that move or select values (pooling, reshapes, concatenation, resize) and the uint8 softmax.
// On a dequantized tensor they act on the underlying uint8 value and their result stays "dequantized",
// so DequantizeLinear -> MaxPool -> QuantizeLinear costs one uint8 max pool and no float at all. On a
// float tensor they are the same operators on float data. Averaging ones (AveragePool,
// GlobalAveragePool, Concat of differently quantized inputs) requantize into the QuantizeLinear after
// them, or compute in float when there is none.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "graph/onnx/axes.h"
#include "graph/onnx/importer.h"
#include "graph/onnx/window.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

namespace {

// What an operator that only moves elements makes of its input: the same kind of tensor.
Symbol::Kind passthrough_kind(const Symbol& s) {
  return s.kind == Symbol::Kind::constant ? Symbol::Kind::real : s.kind;
}

}  // namespace

ValueId Importer::build_pool(const onnx::NodeProto& node, OpKind kind, ValueId input,
                             const QuantParams& output, Clamp clamp) {
  const Attributes a(node);
  a.expect_only({"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads",
                 "storage_order", "strides", "channels_last"});
  input = as_nhwc(input, node);
  const Value in = graph_.value(input);
  const auto kernel = a.get_ints("kernel_shape");
  if (kernel.size() != 2) throw Error(describe(node) + ": kernel_shape must have 2 values (2-D pooling)");
  const auto strides = a.get_ints("strides", {1, 1}), dilations = a.get_ints("dilations", {1, 1});
  auto pads = a.get_ints("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    throw Error(describe(node) + ": strides, dilations and pads must describe 2 spatial axes");
  if (a.get_int("storage_order", 0) != 0)
    throw Error(describe(node) + ": storage_order = 1 is not supported");
  // The convolutions' bounds: auto_pad's arithmetic below and the window sizes after it cannot overflow.
  check_range(node, "kernel_shape", kernel, 1, kMaxSpatialSize);
  check_range(node, "strides", strides, 1, kMaxStep);
  check_range(node, "dilations", dilations, 1, kMaxStep);
  check_range(node, "pads", pads, 0, kMaxStep);
  check_range(node, "the input's height and width", {in.shape[1], in.shape[2]}, 0, kMaxSpatialSize);
  const std::string auto_pad = a.get_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t i = 0; i < 2; ++i) {
      const SpatialPads p = auto_pads(auto_pad, in.shape[1 + i], kernel[i], strides[i], dilations[i]);
      pads[i] = p.begin;
      pads[i + 2] = p.end;
    }
  } else if (auto_pad == "VALID") {
    pads = {0, 0, 0, 0};
  } else if (auto_pad != "NOTSET") {
    throw Error(describe(node) + ": unknown auto_pad '" + auto_pad + "'");
  }
  PoolAttrs attrs;
  auto& p = attrs.params;
  p.kernel_h = kernel[0], p.kernel_w = kernel[1], p.stride_h = strides[0], p.stride_w = strides[1];
  p.dilation_h = dilations[0], p.dilation_w = dilations[1];
  p.pad = {pads[0], pads[1], pads[2], pads[3]};
  p.ceil_mode = a.get_int("ceil_mode", 0) != 0;
  p.count_include_pad = a.get_int("count_include_pad", 0) != 0;
  attrs.clamp = clamp;
  Value out = in;
  out.name = node.output(0);
  out.quant = output;
  return emit(node, kind, {input}, attrs, out);
}

ValueId Importer::build_concat(const onnx::NodeProto& node, const std::vector<ValueId>& inputs,
                               int64_t onnx_axis, const QuantParams& output) {
  if (inputs.empty()) throw Error(describe(node) + ": no inputs");
  const bool image = std::any_of(inputs.begin(), inputs.end(),
                                 [&](ValueId v) { return graph_.value(v).layout == Layout::nhwc; });
  std::vector<ValueId> aligned;
  for (ValueId v : inputs)
    aligned.push_back(image ? as_nhwc(v, node) : v);
  const auto rank = static_cast<int64_t>(graph_.value(aligned[0]).shape.size());
  const int64_t axis = normalize_axis(node, onnx_axis, rank);
  Value out = graph_.value(aligned[0]);
  out.name = node.output(0);
  out.quant = output;
  return emit(node, OpKind::concat, aligned, ConcatAttrs{image ? nhwc_axis(axis) : axis}, out);
}

bool Importer::lower_structural(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const bool known = op == "MaxPool" || op == "GlobalMaxPool" || op == "AveragePool" ||
                     op == "GlobalAveragePool" || op == "Reshape" || op == "Flatten" || op == "Transpose" ||
                     op == "Squeeze" || op == "Unsqueeze" || op == "Identity" || op == "Dropout" ||
                     op == "Concat" || op == "Resize" || op == "Upsample" || op == "Softmax";
  if (!known) return false;
  // Constant folding's business where every input is a constant; a Concat may join constants to run-time
  // tensors (a column of batch indices before RoI boxes), in any order.
  int first_runtime = 0;
  if (op == "Concat")
    while (first_runtime + 1 < node.input_size() &&
           symbol(node, first_runtime).kind == Symbol::Kind::constant)
      ++first_runtime;
  const Symbol& x = symbol(node, first_runtime);
  if (x.kind == Symbol::Kind::constant) return false;
  const Symbol::Kind kind = passthrough_kind(x);
  const ValueId v = x.value;
  const Value in = graph_.value(v);
  const Attributes a(node);

  if (op == "MaxPool") {
    if (node.output_size() > 1 && !node.output(1).empty())
      throw Error(describe(node) + ": the Indices output is not supported");
    define_value(node, 0, kind, build_pool(node, OpKind::max_pool, v, in.quant, Clamp{}));
    return true;
  }
  if (op == "GlobalMaxPool") {
    const ValueId nv = as_nhwc(v, node);
    PoolAttrs attrs;
    attrs.params.kernel_h = graph_.value(nv).shape[1];
    attrs.params.kernel_w = graph_.value(nv).shape[2];
    Value out = graph_.value(nv);
    out.name = node.output(0);
    define_value(node, 0, kind, emit(node, OpKind::max_pool, {nv}, attrs, out));
    return true;
  }
  if (op == "AveragePool" || op == "GlobalAveragePool") {
    if (kind == Symbol::Kind::quantized)
      throw Error(describe(node) + ": expects a dequantized input (a raw uint8 tensor has no real values)");
    std::optional<OutputStage> stage;
    if (kind == Symbol::Kind::dequantized) stage = find_output_stage(node.output(0));
    // Without a QuantizeLinear after it the model averages in float.
    const ValueId source = stage ? v : float_input(node, 0);
    const QuantParams params = stage ? stage->params : QuantParams{};
    const Clamp clamp = stage ? stage->clamp : Clamp{};
    const std::string name = stage ? stage->output_name : node.output(0);
    ValueId out = -1;
    if (op == "AveragePool") {
      out = build_pool(node, OpKind::average_pool, source, params, clamp);
    } else {
      a.expect_only({});
      const ValueId nv = as_nhwc(source, node);
      Value o = graph_.value(nv);
      o.name = name;
      o.quant = params;
      out = emit(node, OpKind::global_average_pool, {nv}, PoolAttrs{{}, clamp, {}}, o);
    }
    if (stage)
      finish_with_stage(*stage, out);
    else
      define_real(node, 0, out);
    return true;
  }
  if (op == "Concat") {
    std::vector<ValueId> inputs;
    bool all_quantized = true, any_real = false;
    for (int i = 0; i < node.input_size(); ++i) {
      const Symbol& s = symbol(node, i);
      all_quantized = all_quantized && s.kind == Symbol::Kind::quantized;
      any_real = any_real || s.kind == Symbol::Kind::real || s.kind == Symbol::Kind::constant;
      inputs.push_back(s.value);
    }
    const int64_t axis = a.get_int("axis", 0);
    if (all_quantized) {
      // uint8 Concat in the model itself: every input must share the params (there is nothing to requantize
      // to).
      for (ValueId id : inputs)
        if (!(graph_.value(id).quant == in.quant))
          throw Error(describe(node) + ": uint8 inputs '" + in.name + "' and '" + graph_.value(id).name +
                      "' have different quantization params");
      define_value(node, 0, Symbol::Kind::quantized, build_concat(node, inputs, axis, in.quant));
      return true;
    }
    std::optional<OutputStage> stage;
    if (!any_real) stage = find_output_stage(node.output(0));
    if (stage && stage->clamp == Clamp{}) {
      for (int i = 0; i < node.input_size(); ++i)
        inputs[static_cast<size_t>(i)] = runtime_input(node, i);
      finish_with_stage(*stage, build_concat(node, inputs, axis, stage->params));
      return true;
    }
    if (stage) return false;  // a clamp after a concat: the float path handles the Clip
    for (int i = 0; i < node.input_size(); ++i)
      inputs[static_cast<size_t>(i)] = float_input(node, i);
    define_real(node, 0, build_concat(node, inputs, axis, QuantParams{}));
    return true;
  }
  if (op == "Identity" || op == "Dropout") {
    if (op == "Dropout") {
      a.expect_only({"seed", "ratio", "is_test"});
      // Exporters declare the mask output even where nothing reads it (torchvision's Swin attention): only
      // a mask that something reads is refused.
      if (node.output_size() > 1 && !node.output(1).empty() &&
          (!consumers(node.output(1)).empty() || is_graph_output(node.output(1))))
        throw Error(describe(node) + ": the mask output '" + node.output(1) +
                    "' is read, which octet does not support (inference only)");
      if (has_input(node, 2)) {
        const Constant& training = constant_input(node, 2, "training_mode");
        // Training mode drops at random, except with ratio 0, where it is the identity: torchvision's Swin
        // calls F.dropout(attn, p=0.0) with its default training=True, and torch exports just that. The ratio
        // matters (and must be a constant) only then.
        if (!training.values.empty() && training.values[0] != 0.0) {
          double ratio = 0.5;  // ONNX's default
          if (has_input(node, 1)) {
            const Constant& r = constant_input(node, 1, "ratio");
            if (!r.is_scalar()) throw Error(describe(node) + ": ratio must be a scalar");
            ratio = r.values[0];
          }
          if (ratio != 0.0)
            throw Error(describe(node) + ": training mode (random dropping, ratio " + std::to_string(ratio) +
                        ") is not supported");
        }
      }
    }
    define_value(node, 0, kind, v);
    return true;
  }
  if (op == "Resize" || op == "Upsample") {
    // Upsample (deprecated since opset 10, still in models converted then, e.g. YOLOv3's) is Resize-10:
    // (X, scales), asymmetric coordinates and, for nearest, floor (ceil along an axis that shrinks), at any
    // opset.
    const bool upsample = op == "Upsample";
    if (upsample)
      a.expect_only({"mode", "scales"});  // scales: an attribute in Upsample-7 / 8, an input from 9
    else
      a.expect_only({"mode", "coordinate_transformation_mode", "nearest_mode", "antialias", "exclude_outside",
                     "cubic_coeff_a", "extrapolation_value", "keep_aspect_ratio_policy", "axes"});
    const bool resize_10 = upsample || opset_ < 11;
    if (a.get_int("antialias", 0) != 0) throw Error(describe(node) + ": antialias is not supported");
    const std::string policy = a.get_string("keep_aspect_ratio_policy", "stretch");
    if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
      throw Error(describe(node) + ": unknown keep_aspect_ratio_policy '" + policy + "'");
    ResizeAttrs attrs;
    auto& p = attrs.params.base;
    const std::string mode = a.get_string("mode", "nearest");
    if (mode == "nearest")
      p.mode = ref::ResizeMode::nearest, attrs.params.mode = ref::FloatResizeMode::nearest;
    else if (mode == "linear")
      p.mode = ref::ResizeMode::linear, attrs.params.mode = ref::FloatResizeMode::linear;
    else if (mode == "cubic")
      attrs.params.mode = ref::FloatResizeMode::cubic;
    else
      throw Error(describe(node) + ": mode '" + mode + "' is not supported (nearest, linear, cubic)");
    attrs.params.cubic_coeff_a = a.get_float("cubic_coeff_a", -0.75f);
    attrs.params.exclude_outside = a.get_int("exclude_outside", 0) != 0;
    // Resize-10 has neither attribute: it means Upsample's asymmetric coordinates, and for nearest floor, or
    // ceil along an axis that shrinks (ref::NearestRounding::resize_10).
    const std::string ctm =
        a.get_string("coordinate_transformation_mode", resize_10 ? "asymmetric" : "half_pixel");
    if (ctm == "half_pixel")
      p.coordinate_mode = ref::CoordinateMode::half_pixel;
    else if (ctm == "pytorch_half_pixel")
      p.coordinate_mode = ref::CoordinateMode::pytorch_half_pixel;
    else if (ctm == "align_corners")
      p.coordinate_mode = ref::CoordinateMode::align_corners;
    else if (ctm == "asymmetric")
      p.coordinate_mode = ref::CoordinateMode::asymmetric;
    else if (ctm == "tf_half_pixel_for_nn")
      attrs.params.tf_half_pixel_for_nearest = true;
    else
      throw Error(describe(node) + ": coordinate_transformation_mode '" + ctm + "' is not supported");
    const std::string nm = a.get_string("nearest_mode", "round_prefer_floor");
    if (resize_10)
      p.nearest_rounding = ref::NearestRounding::resize_10;
    else if (nm == "round_prefer_floor")
      p.nearest_rounding = ref::NearestRounding::round_prefer_floor;
    else if (nm == "round_prefer_ceil")
      p.nearest_rounding = ref::NearestRounding::round_prefer_ceil;
    else if (nm == "floor")
      p.nearest_rounding = ref::NearestRounding::floor;
    else if (nm == "ceil")
      p.nearest_rounding = ref::NearestRounding::ceil;
    else
      throw Error(describe(node) + ": nearest_mode '" + nm + "' is not supported");
    // Opset 10: (X, scales); opset 11+: (X, roi, scales, sizes).
    const int scales_input = resize_10 ? 1 : 2, sizes_input = 3;
    // uint8 tensors resize with the integer kernels (nearest, linear); cubic and TensorFlow's coordinates
    // run in float: a dequantized input is materialised for them.
    const bool float_only =
        attrs.params.mode == ref::FloatResizeMode::cubic || attrs.params.tf_half_pixel_for_nearest;
    ValueId source = v;
    Symbol::Kind result_kind = kind;
    if (float_only && kind != Symbol::Kind::real) {
      if (kind != Symbol::Kind::dequantized)
        throw Error(describe(node) + ": mode '" + mode + "' needs float data; input '" + node.input(0) +
                    "' is a raw uint8 tensor");
      source = dequantized_value(v);
      result_kind = Symbol::Kind::real;
    }
    const ValueId nv = as_nhwc(source, node);
    const Value img = graph_.value(nv);
    const Shape logical = onnx_shape(img);
    // Opset 18's axes: scales / sizes for those axes only, the others unchanged.
    std::vector<int64_t> axes = {0, 1, 2, 3};
    if (a.has("axes")) {
      axes = a.get_ints("axes");
      for (int64_t& axis : axes)
        axis = normalize_axis(node, axis, 4);
      std::vector<int64_t> sorted = axes;
      std::sort(sorted.begin(), sorted.end());
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
        throw Error(describe(node) + ": an axis is repeated");
    }
    auto spread = [&](const Constant& c, const char* what, double others) {
      if (c.values.size() != axes.size())
        throw Error(describe(node) + ": " + what + " has " + std::to_string(c.values.size()) +
                    " values for " + std::to_string(axes.size()) + " axes");
      std::vector<double> full(4, others);
      if (others < 0)
        for (size_t d = 0; d < 4; ++d)
          full[d] = static_cast<double>(logical[d]);
      for (size_t i = 0; i < axes.size(); ++i)
        full[static_cast<size_t>(axes[i])] = c.values[i];
      return full;
    };
    if (has_input(node, sizes_input)) {
      std::vector<double> sizes = spread(constant_input(node, sizes_input, "sizes"), "sizes", -1.0);
      if (policy != "stretch") {
        // One scale for every listed axis, the smallest (not_larger) or largest (not_smaller) of theirs; each
        // listed axis's size is that scale times its input size, rounded half up (ONNX's definition).
        double scale = policy == "not_larger" ? INFINITY : 0.0;
        for (int64_t axis : axes) {
          const double s =
              sizes[static_cast<size_t>(axis)] / static_cast<double>(logical[static_cast<size_t>(axis)]);
          scale = policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
        }
        if (!(scale > 0.0) || !std::isfinite(scale))
          throw Error(describe(node) + ": sizes give no usable scale");
        for (int64_t axis : axes) {
          const auto d = static_cast<size_t>(axis);
          sizes[d] = std::floor(scale * static_cast<double>(logical[d]) + 0.5);
        }
        // The coordinate transform divides by that scale, not by the rounded size's ratio.
        if (std::find(axes.begin(), axes.end(), 2) != axes.end()) p.scale_h = scale;
        if (std::find(axes.begin(), axes.end(), 3) != axes.end()) p.scale_w = scale;
      }
      if (sizes[0] != static_cast<double>(logical[0]) || sizes[1] != static_cast<double>(logical[1]))
        throw Error(describe(node) + ": resizing the batch or channel dimension is not supported");
      p.out_h = to_dimension(node, sizes[2], "output height");
      p.out_w = to_dimension(node, sizes[3], "output width");
    } else if (has_input(node, scales_input) || (upsample && a.has("scales"))) {
      Constant attribute_scales;
      if (!has_input(node, scales_input)) {
        attribute_scales.onnx_type = onnx::TensorProto::FLOAT;
        std::vector<double> values;
        for (float f : a.get_floats("scales"))
          values.push_back(f);
        attribute_scales.shape = {static_cast<int64_t>(values.size())};
        attribute_scales.values = std::move(values);
      }
      const std::vector<double> scales = spread(
          has_input(node, scales_input) ? constant_input(node, scales_input, "scales") : attribute_scales,
          "scales", 1.0);
      if (scales[0] != 1.0 || scales[1] != 1.0)
        throw Error(describe(node) + ": resizing the batch or channel dimension is not supported");
      for (double s : {scales[2], scales[3]})
        if (!(s > 0.0) || !std::isfinite(s)) throw Error(describe(node) + ": scales must be finite and > 0");
      p.scale_h = scales[2];
      p.scale_w = scales[3];
      p.out_h = to_dimension(node, std::floor(static_cast<double>(logical[2]) * p.scale_h), "output height");
      p.out_w = to_dimension(node, std::floor(static_cast<double>(logical[3]) * p.scale_w), "output width");
    } else {
      throw Error(describe(node) + ": needs scales or sizes");
    }
    if (p.out_h < 1 || p.out_w < 1 || p.out_h > (int64_t{1} << 20) || p.out_w > (int64_t{1} << 20))
      throw Error(describe(node) + ": output size " + std::to_string(p.out_h) + "x" +
                  std::to_string(p.out_w) + " is out of range");
    attrs.real_values = result_kind == Symbol::Kind::dequantized;
    Value out = img;
    out.name = node.output(0);
    // A QDQ Resize whose QuantizeLinear has other params than its input resizes into those params (ONNX
    // Runtime rounds once, from the float32 interpolation; octet's fixed point once from its bilinear blend,
    // and in nearest mode copies the byte, then requantizes it).
    if (attrs.real_values) {
      if (const auto stage = find_output_stage(node.output(0));
          stage && stage->fused.empty() && !(stage->params == img.quant)) {
        out.quant = stage->params;
        finish_with_stage(*stage, emit(node, OpKind::resize, {nv}, attrs, out));
        return true;
      }
    }
    define_value(node, 0, result_kind, emit(node, OpKind::resize, {nv}, attrs, out));
    return true;
  }
  if (op == "Softmax") {
    // The uint8 softmax (a table of exponentials) reads the bytes of a dequantized tensor over its innermost
    // axis; anything else is a float softmax (lower_float.cpp).
    if (kind != Symbol::Kind::dequantized) return false;
    a.expect_only({"axis"});
    const auto rank = static_cast<int64_t>(graph_.value(v).shape.size());
    const int64_t axis = normalize_axis(node, a.get_int("axis", opset_ < 13 ? 1 : -1), rank);
    if (auto stage = find_output_stage(node.output(0))) {
      if (!(stage->clamp == Clamp{}))
        throw Error(describe(node) + ": an activation after softmax is not supported");
      const std::optional<ValueId> result =
          build_u8_softmax(node, v, axis, opset_ < 13, stage->params, stage->output_name);
      if (!result) return false;
      finish_with_stage(*stage, *result);
      return true;
    }
    const std::optional<ValueId> result =
        build_u8_softmax(node, v, axis, opset_ < 13, std::nullopt, node.output(0));
    if (!result) return false;
    define_value(node, 0, Symbol::Kind::real, *result);
    return true;
  }

  if (op == "Reshape" && in.layout == Layout::nhwc) {
    if (const auto shuffle = channel_shuffle_at(node, in, kind == Symbol::Kind::dequantized)) {
      // The whole Reshape -> Transpose -> Reshape in one pass over the NHWC tensor, which stays NHWC for
      // the convolutions, slices and concatenations around it.
      for (const onnx::NodeProto* f : shuffle->fused)
        mark_consumed(f);
      Value out = in;
      out.name = shuffle->output->output(0);
      define_value(*shuffle->output, 0, kind,
                   emit(node, OpKind::channel_shuffle, {v}, ChannelShuffleAttrs{shuffle->groups}, out));
      return true;
    }
  }
  // Shape-only operators work on the ONNX (channel-first) element order.
  const ValueId pv = as_plain(v, node);
  Value out = graph_.value(pv);
  out.name = node.output(0);
  if (op == "Transpose") {
    const std::vector<int64_t> perm = transpose_perm(node, static_cast<int64_t>(out.shape.size()));
    define_value(node, 0, kind, emit(node, OpKind::transpose, {pv}, TransposeAttrs{perm}, out));
    return true;
  }
  const Shape target = reshaped_shape(node, graph_.value(pv).shape);
  define_value(node, 0, kind, emit(node, OpKind::reshape, {pv}, ReshapeAttrs{target}, out));
  return true;
}

std::optional<Importer::ChannelShuffle> Importer::channel_shuffle_at(const onnx::NodeProto& reshape,
                                                                     const Value& nhwc,
                                                                     bool dequantized) const {
  if (nhwc.shape.size() != 4) return std::nullopt;
  const int64_t n = nhwc.shape[0], h = nhwc.shape[1], w = nhwc.shape[2], c = nhwc.shape[3];
  ChannelShuffle shuffle;
  // The only consumer of `tensor`, an ONNX operator, if it has one.
  auto single = [&](const std::string& tensor) -> const onnx::NodeProto* {
    if (is_graph_output(tensor)) return nullptr;
    const auto cs = consumers(tensor);
    if (cs.size() != 1 || !(cs[0]->domain().empty() || cs[0]->domain() == "ai.onnx")) return nullptr;
    return cs[0];
  };
  // The node `op` after `node` when it is the only consumer of its only output; in a QDQ model past a
  // QuantizeLinear -> DequantizeLinear pair with the tensor's own params (which changes nothing here).
  auto only_next = [&](const onnx::NodeProto& node, const char* op) -> const onnx::NodeProto* {
    if (node.output_size() != 1) return nullptr;
    const onnx::NodeProto* next = single(node.output(0));
    if (next && dequantized && next->op_type() == "QuantizeLinear" && next->output_size() == 1) {
      const onnx::NodeProto* dq = single(next->output(0));
      if (!dq || dq->op_type() != "DequantizeLinear" || dq->output_size() != 1) return nullptr;
      try {
        if (!(activation_params(*next, 1, 2) == nhwc.quant) || !(activation_params(*dq, 1, 2) == nhwc.quant))
          return nullptr;
      } catch (const Error&) {
        return nullptr;  // not a plain pair: the operators' own lowering says what is wrong
      }
      shuffle.fused.push_back(next);
      shuffle.fused.push_back(dq);
      next = single(dq->output(0));
    }
    return next && next->op_type() == op ? next : nullptr;
  };
  // A Reshape whose target is a constant known by now.
  auto target_of = [&](const onnx::NodeProto& node, const Shape& from) -> std::optional<Shape> {
    if (node.input_size() != 2) return std::nullopt;
    const auto it = symbols_.find(node.input(1));
    if (it == symbols_.end() || it->second.kind != Symbol::Kind::constant) return std::nullopt;
    return reshaped_shape(node, from);
  };
  const auto split = target_of(reshape, {n, c, h, w});
  if (!split || split->size() != 5) return std::nullopt;
  const int64_t groups = (*split)[1];
  if (*split != Shape{n, groups, c / std::max<int64_t>(groups, 1), h, w} || groups < 1 || c % groups != 0)
    return std::nullopt;
  const onnx::NodeProto* transpose = only_next(reshape, "Transpose");
  if (!transpose || transpose_perm(*transpose, 5) != std::vector<int64_t>{0, 2, 1, 3, 4}) return std::nullopt;
  const onnx::NodeProto* back = only_next(*transpose, "Reshape");
  if (!back) return std::nullopt;
  const auto merged = target_of(*back, {n, c / groups, groups, h, w});
  if (!merged || *merged != Shape{n, c, h, w}) return std::nullopt;
  shuffle.fused.push_back(transpose);
  shuffle.fused.push_back(back);
  shuffle.output = back;
  shuffle.groups = groups;
  return shuffle;
}

Shape Importer::reshaped_shape(const onnx::NodeProto& node, const Shape& s) const {
  const std::string& op = node.op_type();
  const Attributes a(node);
  const auto rank = static_cast<int64_t>(s.size());
  Shape target;
  if (op == "Reshape") {
    a.expect_only({"allowzero"});
    const Constant& spec = constant_input(node, 1, "shape");
    const bool allow_zero = a.get_int("allowzero", 0) != 0;
    int64_t infer_at = -1, known = 1;
    for (size_t i = 0; i < spec.values.size(); ++i) {
      auto d = to_dimension(node, spec.values[i], "target dimension");
      if (d == 0 && !allow_zero) {
        if (i >= s.size())
          throw Error(describe(node) + ": shape entry 0 copies a dimension the input does not have");
        d = s[i];
      }
      if (d == -1) {
        if (infer_at >= 0) throw Error(describe(node) + ": more than one -1 in the target shape");
        infer_at = static_cast<int64_t>(i);
      } else if (d < 0) {
        throw Error(describe(node) + ": invalid target dimension " + std::to_string(d));
      } else {
        if (d != 0 && known > std::numeric_limits<int64_t>::max() / d)
          throw Error(describe(node) + ": the target shape's element count overflows");
        known *= d;
      }
      target.push_back(d);
    }
    const int64_t total = element_count(s, describe(node));
    if (infer_at >= 0) {
      if (known == 0 || total % known != 0)
        throw Error(describe(node) + ": cannot reshape " + to_string(s) + " to " + to_string(target));
      target[static_cast<size_t>(infer_at)] = total / known;
    }
  } else if (op == "Flatten") {
    a.expect_only({"axis"});
    const int64_t axis = a.get_int("axis", 1);
    if (axis < -rank || axis > rank) throw Error(describe(node) + ": axis out of range");
    const int64_t ax = axis < 0 ? axis + rank : axis;
    const int64_t outer = std::accumulate(s.begin(), s.begin() + ax, int64_t{1}, std::multiplies<>());
    const int64_t inner = std::accumulate(s.begin() + ax, s.end(), int64_t{1}, std::multiplies<>());
    target = {outer, inner};
  } else if (op == "Squeeze" || op == "Unsqueeze") {
    std::vector<int64_t> axes = a.get_ints("axes");
    if (has_input(node, 1)) {
      const Constant& c = constant_input(node, 1, "axes");
      axes.clear();
      for (double v : c.values)
        axes.push_back(to_dimension(node, v, "axis"));
    }
    if (op == "Squeeze") {
      std::vector<bool> drop(s.size(), axes.empty());
      for (int64_t ax : axes)
        drop[static_cast<size_t>(normalize_axis(node, ax, rank))] = true;
      for (size_t i = 0; i < s.size(); ++i) {
        if (drop[i] && s[i] != 1 && !axes.empty())
          throw Error(describe(node) + ": cannot squeeze dimension " + std::to_string(i) + " of size " +
                      std::to_string(s[i]));
        if (!(drop[i] && s[i] == 1)) target.push_back(s[i]);
      }
    } else {
      const int64_t out_rank = rank + static_cast<int64_t>(axes.size());
      std::vector<bool> added(static_cast<size_t>(out_rank), false);
      for (int64_t ax : axes) {
        const auto at = static_cast<size_t>(normalize_axis(node, ax, out_rank));
        // A repeated axis would leave fewer new dimensions than axes, and too few input dimensions below.
        if (added[at]) throw Error(describe(node) + ": axis " + std::to_string(ax) + " is repeated");
        added[at] = true;
      }
      size_t j = 0;
      for (int64_t i = 0; i < out_rank; ++i)
        target.push_back(added[static_cast<size_t>(i)] ? 1 : s.at(j++));
    }
  }
  return target;
}

std::vector<int64_t> Importer::transpose_perm(const onnx::NodeProto& node, int64_t rank) const {
  const Attributes a(node);
  a.expect_only({"perm"});
  std::vector<int64_t> perm = a.get_ints("perm");
  if (perm.empty())
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  // (The length is checked on its own: a rank-0 input has no axis for a loop over them to compare.)
  bool permutation = static_cast<int64_t>(sorted.size()) == rank;
  for (int64_t i = 0; permutation && i < rank; ++i)
    permutation = sorted[static_cast<size_t>(i)] == i;
  if (!permutation)
    throw Error(describe(node) + ": perm is not a permutation of the input's " + std::to_string(rank) +
                " axes");
  return perm;
}

std::optional<ValueId> Importer::build_u8_softmax(const onnx::NodeProto& node, ValueId v, int64_t axis,
                                                  bool legacy, const std::optional<QuantParams>& output,
                                                  const std::string& output_name, bool onnxruntime_int8) {
  ValueId pv = v;
  Value val = graph_.value(pv);
  const auto rank = static_cast<int64_t>(val.shape.size());
  Shape restore;  // set when the softmax runs on a flattened view that must be reshaped back
  if (legacy) {
    // Before opset 13, Softmax normalizes over all dimensions from `axis` on, flattened in ONNX order.
    pv = as_plain(pv, node);
    val = graph_.value(pv);
    const Shape plain = val.shape;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d)
      (d < axis ? outer : inner) *= plain[static_cast<size_t>(d)];
    if (rank != 2 || axis != 1) {
      Value flat = val;
      flat.name = val.name + "#2d";
      pv = emit(node.name() + "#2d", "(flatten)", OpKind::reshape, {pv}, ReshapeAttrs{{outer, inner}}, flat);
      val = graph_.value(pv);
      restore = plain;
    }
  } else if (val.layout == Layout::nhwc && nhwc_axis(axis) != rank - 1) {
    // The table kernel reads rows along the innermost axis. A softmax over an image's last ONNX axis (an
    // attention map that the int8 add before it left in NHWC) gets it innermost in the plain layout.
    if (axis != rank - 1) return std::nullopt;
    pv = as_plain(pv, node);
    val = graph_.value(pv);
  } else if (val.layout != Layout::nhwc && axis != rank - 1) {
    return std::nullopt;
  }
  Value out = val;
  out.name = output_name + (restore.empty() ? "" : "#2d");
  if (output) {
    out.quant = *output;
  } else {
    out.type = ElementType::f32;
    out.quant = {};
  }
  const SoftmaxAttrs attrs{.axis = static_cast<int64_t>(val.shape.size()) - 1,
                           .onnxruntime_int8 = onnxruntime_int8};
  const ValueId result = emit(node, OpKind::softmax, {pv}, attrs, out);
  if (restore.empty()) return result;
  // Back to the input's shape.
  Value back = graph_.value(result);
  back.name = output_name;
  return emit(node.name() + "#nd", "(reshape)", OpKind::reshape, {result}, ReshapeAttrs{restore}, back);
}

}  // namespace octet::graph::onnx_import
