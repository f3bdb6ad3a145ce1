// QuantizeLinear / DequantizeLinear, the look-ahead that folds "op -> [Relu|Clip]* -> QuantizeLinear" into
// one quantized operator, and the QDQ form of the convolution family (Conv, ConvTranspose, Gemm, MatMul).

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <set>

#include "graph/onnx/importer.h"
#include "kernels/error.h"
#include "kernels/quantization/quantize.h"
#include "kernels/reference/float_matmul.h"

namespace octet::graph::onnx_import {

namespace {

bool is_integer_8bit(int32_t t) {
  return t == onnx::TensorProto::INT8 || t == onnx::TensorProto::UINT8;
}

// Clip's min or max input, which ONNX defines as a scalar: an empty or longer tensor is an octet::Error,
// not vector::at's std::out_of_range.
double clip_bound(const onnx::NodeProto& clip, const Symbol& s, const char* which) {
  const std::vector<double> v = s.real_values();
  if (v.size() != 1)
    throw Error(describe(clip) + ": its " + which + " must be a single value, got " +
                std::to_string(v.size()));
  return v[0];
}

bool is_quantize_linear(const onnx::NodeProto& node) {
  return node.op_type() == "QuantizeLinear" || node.op_type() == "DequantizeLinear";
}

// QuantizeLinear / DequantizeLinear's attributes. output_dtype (opset 21) and precision (opset 23) are
// accepted where they name what octet computes: float32 arithmetic, float32 out of a DequantizeLinear, and
// out of a QuantizeLinear an 8-bit type (activation_params checks it against the zero point's).
void check_quantize_linear_attributes(const onnx::NodeProto& node) {
  const Attributes a(node);
  a.expect_only({"axis", "saturate", "block_size", "output_dtype", "precision"});
  if (a.get_int("block_size", 0) != 0)
    throw Error(describe(node) + ": blocked quantization is not supported");
  const int64_t precision = a.get_int("precision", 0);
  if (precision != 0 && precision != onnx::TensorProto::FLOAT)
    throw Error(describe(node) + ": precision " + onnx_type_name(static_cast<int32_t>(precision)) +
                " is not supported (octet quantizes in float32)");
  const int64_t output_dtype = a.get_int("output_dtype", 0);
  if (node.op_type() == "DequantizeLinear" && output_dtype != 0 && output_dtype != onnx::TensorProto::FLOAT)
    throw Error(describe(node) + ": output_dtype " + onnx_type_name(static_cast<int32_t>(output_dtype)) +
                " is not supported (octet dequantizes to float32)");
  if (node.op_type() == "QuantizeLinear" && output_dtype != 0 &&
      !is_integer_8bit(static_cast<int32_t>(output_dtype)))
    throw Error(describe(node) + ": output_dtype " + onnx_type_name(static_cast<int32_t>(output_dtype)) +
                " is not supported (uint8 or int8)");
}

}  // namespace

QuantParams Importer::activation_params(const onnx::NodeProto& node, int scale_input,
                                        int zero_point_input) const {
  const double scale = scalar_input(node, scale_input, "activation scale");
  // Every use of a QuantizeLinear's parameters comes here, also where its node is fused into the operator
  // before it and never lowered itself.
  if (is_quantize_linear(node)) check_quantize_linear_attributes(node);
  // Without a zero point, QuantizeLinear's output_dtype (opset 21) names the type, else uint8.
  const auto output_dtype = node.op_type() == "QuantizeLinear"
                                ? static_cast<int32_t>(Attributes(node).get_int("output_dtype", 0))
                                : 0;
  int32_t zp = 0;
  int32_t zp_type = output_dtype != 0 ? output_dtype : onnx::TensorProto::UINT8;
  if (has_input(node, zero_point_input)) {
    const Constant& z = constant_input(node, zero_point_input, "activation zero point");
    if (!z.is_scalar())
      throw Error(describe(node) + ": activations must be quantized per tensor (one zero point), got shape " +
                  to_string(z.shape));
    if (output_dtype != 0 && z.onnx_type != output_dtype)
      throw Error(describe(node) + ": output_dtype " + onnx_type_name(output_dtype) +
                  " differs from the zero point's type " + onnx_type_name(z.onnx_type));
    zp_type = z.onnx_type;
    // Only 8-bit zero points are accepted (below); their values were range-checked when decoded, and
    // converting any other type's value could overflow int32.
    if (is_integer_8bit(zp_type)) zp = static_cast<int32_t>(z.values[0]);
  }
  if (zp_type == onnx::TensorProto::INT8) {
    zp += 128;  // int8 activations run as uint8 with the same real values
  } else if (zp_type != onnx::TensorProto::UINT8) {
    throw Error(describe(node) + ": activation zero point type " + onnx_type_name(zp_type) +
                " is not supported (uint8 or int8)");
  }
  QuantParams q = QuantParams::per_tensor(static_cast<float>(scale), zp);
  validate(q, ElementType::u8, {}, describe(node) + " activation");
  return q;
}

QuantParams Importer::constant_params(const onnx::NodeProto& node, int scale_input, int zero_point_input,
                                      const Constant& data, int64_t axis) const {
  const Constant& scales = constant_input(node, scale_input, "scale");
  const std::string what = describe(node) + " '" + node.input(0) + "'";
  std::vector<double> zps(scales.values.size(), 0.0);
  if (has_input(node, zero_point_input)) {
    const Constant& z = constant_input(node, zero_point_input, "zero point");
    if (z.values.size() != scales.values.size())
      throw Error(what + ": " + std::to_string(scales.values.size()) + " scales but " +
                  std::to_string(z.values.size()) + " zero points");
    if (z.onnx_type != data.onnx_type)
      throw Error(what + ": zero point type " + onnx_type_name(z.onnx_type) + " differs from the data type " +
                  onnx_type_name(data.onnx_type));
    zps = z.values;
  }
  QuantParams q;
  for (double s : scales.values)
    q.scales.push_back(static_cast<float>(s));
  for (double z : zps) {
    // validate() checks the range of the data type; first the conversion itself must be defined.
    if (!(std::abs(z) <= std::numeric_limits<int32_t>::max()))
      throw Error(what + ": zero point " + std::to_string(z) + " is out of range");
    q.zero_points.push_back(static_cast<int32_t>(z));
  }
  if (scales.values.size() == 1 && scales.shape.size() <= 1) {
    q.axis = -1;
  } else {
    const auto rank = static_cast<int64_t>(data.shape.size());
    if (axis < -rank || axis >= rank)
      throw Error(what + ": quantization axis " + std::to_string(axis) + " is outside rank " +
                  std::to_string(rank));
    q.axis = static_cast<int>(axis < 0 ? axis + rank : axis);
  }
  const ElementType type = data.onnx_type == onnx::TensorProto::INT8    ? ElementType::s8
                           : data.onnx_type == onnx::TensorProto::UINT8 ? ElementType::u8
                                                                        : ElementType::s32;
  validate(q, type, data.shape, what);
  return q;
}

bool Importer::lower_quantize_dequantize(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op != "QuantizeLinear" && op != "DequantizeLinear") return false;
  const Attributes attrs(node);
  check_quantize_linear_attributes(node);
  const Symbol& x = symbol(node, 0);

  if (op == "DequantizeLinear") {
    if (x.kind == Symbol::Kind::constant) {
      if (!is_integer_8bit(x.constant.onnx_type) && x.constant.onnx_type != onnx::TensorProto::INT32)
        throw Error(describe(node) + ": can only dequantize int8, uint8 or int32 data, got " +
                    onnx_type_name(x.constant.onnx_type));
      Symbol s;
      s.quant = constant_params(node, 1, 2, x.constant, attrs.get_int("axis", 1));
      // An initializer read only by this node (the usual weights) moves over instead of being copied:
      // its values are doubles, 8 bytes per weight.
      if (consumers(node.input(0)).size() == 1 && !is_graph_output(node.input(0)))
        s.constant = std::move(symbols_.at(node.input(0)).constant);
      else
        s.constant = x.constant;
      define(node.output(0), std::move(s));
      return true;
    }
    if (x.kind != Symbol::Kind::quantized)
      throw Error(describe(node) + ": input '" + node.input(0) + "' is not a quantized tensor");
    const QuantParams q = activation_params(node, 1, 2);
    Value& v = graph_.value(x.value);
    if (v.quant.scales.empty()) {
      v.quant = q;  // a raw uint8 graph input learns its params from its DequantizeLinear
    } else if (!(v.quant == q)) {
      // octet holds int8 data as uint8 (+128): the zero points as the model writes them.
      const bool int8 = has_input(node, 2) && symbol(node, 2).constant.onnx_type == onnx::TensorProto::INT8;
      auto zero_point = [&](const QuantParams& p) {
        return std::to_string(p.zero_point() - (int8 ? 128 : 0));
      };
      throw Error(describe(node) + ": dequantizes '" + node.input(0) + "' with scale " +
                  std::to_string(q.scale()) + " / zero point " + zero_point(q) + ", but tensor '" + v.name +
                  "' was quantized with scale " + std::to_string(v.quant.scale()) + " / zero point " +
                  zero_point(v.quant));
    }
    define_value(node, 0, Symbol::Kind::dequantized, x.value);
    return true;
  }

  // QuantizeLinear
  if (x.kind == Symbol::Kind::constant) {
    const QuantParams q = activation_params(node, 1, 2);
    Symbol s;
    s.constant = x.constant;
    s.constant.onnx_type = onnx::TensorProto::UINT8;
    for (double& v : s.constant.values.doubles())
      v = quantize_value(static_cast<float>(v), q.scale(), q.zero_point(), range_of(ElementType::u8));
    s.quant = q;
    define(node.output(0), std::move(s));
    return true;
  }
  const QuantParams q = activation_params(node, 1, 2);
  if (x.kind == Symbol::Kind::real) {
    Value out = graph_.value(x.value);
    out.name = node.output(0);
    out.type = ElementType::u8;
    out.quant = q;
    // An image changes layout in the same pass that quantizes it: NCHW floats in, NHWC bytes out. A 4-D
    // tensor that no convolution or pooling reads (a transformer's [B, H, W, C] activations, an attention
    // map) stays in ONNX's layout, which its reshapes, softmax and matmuls want.
    if (out.shape.size() == 4 && out.layout == Layout::plain && reaches_image_operator(node.output(0)))
      out.layout = Layout::nhwc;
    define_value(node, 0, Symbol::Kind::quantized, emit(node, OpKind::quantize, {x.value}, {}, out));
    return true;
  }
  if (x.kind == Symbol::Kind::dequantized) {
    const Value in = graph_.value(x.value);
    if (in.quant == q) {
      define_value(node, 0, Symbol::Kind::quantized, x.value);  // DQ -> Q with the same params: identity
      return true;
    }
    Value out = in;
    out.name = node.output(0);
    out.quant = q;
    define_value(node, 0, Symbol::Kind::quantized,
                 emit(node, OpKind::requantize, {x.value}, ClampAttrs{}, out));
    return true;
  }
  throw Error(describe(node) + ": input '" + node.input(0) + "' is already quantized");
}

bool Importer::reaches_image_operator(const std::string& tensor) const {
  static const std::set<std::string> image_ops = {"Conv",
                                                  "ConvTranspose",
                                                  "ConvInteger",
                                                  "QLinearConv",
                                                  "QLinearConvTranspose",
                                                  "MaxPool",
                                                  "AveragePool",
                                                  "LpPool",
                                                  "GlobalAveragePool",
                                                  "GlobalMaxPool",
                                                  "QLinearAveragePool",
                                                  "QLinearGlobalAveragePool",
                                                  "Resize",
                                                  "Upsample",
                                                  "BatchNormalization",
                                                  "InstanceNormalization",
                                                  "DepthToSpace",
                                                  "SpaceToDepth"};
  // Operators whose output takes their input's layout: the search goes on through them.
  static const std::set<std::string> follow = {"QuantizeLinear",
                                               "DequantizeLinear",
                                               "Relu",
                                               "Clip",
                                               "LeakyRelu",
                                               "Sigmoid",
                                               "HardSigmoid",
                                               "HardSwish",
                                               "Tanh",
                                               "Add",
                                               "Sub",
                                               "Mul",
                                               "Div",
                                               "QLinearAdd",
                                               "QLinearMul",
                                               "QLinearLeakyRelu",
                                               "QLinearSigmoid",
                                               "Pad",
                                               "Concat",
                                               "QLinearConcat",
                                               "Identity",
                                               "Dropout",
                                               "Slice",
                                               "Split",
                                               "Max",
                                               "Min",
                                               "Neg",
                                               "Abs"};
  constexpr int kMaxVisits = 64;  // enough for the blocks between convolutions; bounded on huge graphs
  std::deque<std::string> pending = {tensor};
  std::set<std::string> seen = {tensor};
  for (int visits = 0; !pending.empty() && visits < kMaxVisits; ++visits) {
    const std::string t = pending.front();
    pending.pop_front();
    for (const onnx::NodeProto* c : consumers(t)) {
      if (image_ops.count(c->op_type())) return true;
      if (!follow.count(c->op_type())) continue;
      for (const std::string& o : c->output())
        if (!o.empty() && seen.insert(o).second) pending.push_back(o);
    }
  }
  return false;
}

std::optional<OutputStage> Importer::find_output_stage(const std::string& tensor) {
  RealRange range;
  std::vector<const onnx::NodeProto*> fused;
  std::string t = tensor;
  while (true) {
    if (is_graph_output(t)) return std::nullopt;
    const auto cs = consumers(t);
    if (cs.size() != 1) return std::nullopt;
    const onnx::NodeProto& next = *cs[0];
    if (next.op_type() == "QuantizeLinear" && next.input(0) == t) {
      OutputStage stage;
      stage.quantize = &next;
      stage.fused = fused;
      stage.params = activation_params(next, 1, 2);
      const IntRange u8 = range_of(ElementType::u8);
      stage.clamp = {
          quantize_value(static_cast<float>(range.lo), stage.params.scale(), stage.params.zero_point(), u8),
          quantize_value(static_cast<float>(range.hi), stage.params.scale(), stage.params.zero_point(), u8)};
      if (stage.clamp.min > stage.clamp.max)
        throw Error(describe(next) + ": the fused Clip range is empty after quantization");
      stage.output_name = next.output(0);
      return stage;
    }
    if (next.op_type() == "Relu") {
      range.lo = std::max(range.lo, 0.0);
    } else if (next.op_type() == "Clip") {
      const Attributes a(next);
      double lo = a.get_float("min", -INFINITY), hi = a.get_float("max", INFINITY);
      if (has_input(next, 1)) {
        const Symbol& s = symbol(next, 1);
        if (s.kind != Symbol::Kind::constant) return std::nullopt;
        lo = clip_bound(next, s, "min");
      }
      if (has_input(next, 2)) {
        const Symbol& s = symbol(next, 2);
        if (s.kind != Symbol::Kind::constant) return std::nullopt;
        hi = clip_bound(next, s, "max");
      }
      range.lo = std::max(range.lo, lo);
      range.hi = std::min(range.hi, hi);
    } else {
      return std::nullopt;
    }
    fused.push_back(&next);
    t = next.output(0);
  }
}

BatchNormFactors Importer::batch_norm_factors(const onnx::NodeProto& bn, int64_t channels) const {
  const Attributes a(bn);
  a.expect_only({"epsilon", "momentum", "training_mode", "spatial"});
  if (a.get_int("training_mode", 0) != 0) throw Error(describe(bn) + ": training mode is not supported");
  // BatchNormalization-7 / 8: spatial = 0 normalizes per activation (parameters of shape [C, H, W]).
  if (a.get_int("spatial", 1) != 1)
    throw Error(describe(bn) + ": spatial = 0 (parameters per activation) is not supported");
  for (int i = 1; i < bn.output_size(); ++i)
    if (!bn.output(i).empty()) throw Error(describe(bn) + ": running statistics outputs are not supported");
  if (channels < 1) throw Error(describe(bn) + ": needs at least one channel");
  for (int i = 1; i <= 4; ++i)
    if (symbol(bn, i).kind != Symbol::Kind::constant)
      throw Error(describe(bn) + ": parameters must be constants");
  const std::vector<double> gamma = symbol(bn, 1).real_values(), beta = symbol(bn, 2).real_values();
  const std::vector<double> mean = symbol(bn, 3).real_values(), var = symbol(bn, 4).real_values();
  for (const auto* v : {&gamma, &beta, &mean, &var})
    if (static_cast<int64_t>(v->size()) != channels)
      throw Error(describe(bn) + ": has " + std::to_string(v->size()) + " values per parameter for " +
                  std::to_string(channels) + " channels");
  const double epsilon = a.get_float("epsilon", 1e-5f);
  BatchNormFactors f;
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    if (!(var[c] + epsilon > 0.0)) throw Error(describe(bn) + ": variance + epsilon must be > 0");
    const double factor = gamma[c] / std::sqrt(var[c] + epsilon);
    f.scale.push_back(factor);
    f.shift.push_back(beta[c] - factor * mean[c]);
  }
  return f;
}

void Importer::fold_batch_norm(const onnx::NodeProto& bn, Constant& weights, QuantParams& params,
                               std::optional<std::vector<double>>& bias) const {
  if (!params.is_per_tensor() && params.axis != 0)
    throw Error(describe(bn) + ": the convolution's weights must be quantized per output channel (axis 0)");
  const int64_t channels = weights.shape.at(0);
  const BatchNormFactors bnf = batch_norm_factors(bn, channels);
  const int64_t per_channel = weights.size() / channels;
  if (!bias) bias = std::vector<double>(static_cast<size_t>(channels), 0.0);
  if (bias->size() == 1) bias->assign(static_cast<size_t>(channels), (*bias)[0]);
  if (static_cast<int64_t>(bias->size()) != channels)
    throw Error(describe(bn) + ": bias size does not match");
  QuantParams folded;
  folded.axis = 0;
  const bool signed_weights = weights.onnx_type == onnx::TensorProto::INT8;
  for (int64_t c = 0; c < channels; ++c) {
    const auto i = static_cast<size_t>(c);
    const double factor = bnf.scale[i];
    double scale = params.scale(params.is_per_tensor() ? 0 : c) * std::abs(factor);
    int32_t zp = params.zero_point(params.is_per_tensor() ? 0 : c);
    double* row = weights.values.doubles().data() + c * per_channel;
    if (factor < 0.0) {
      // A negative factor negates the channel: the integers flip sign, the scale stays positive.
      if (!signed_weights) throw Error(describe(bn) + ": cannot fold a negative scale into uint8 weights");
      for (int64_t k = 0; k < per_channel; ++k) {
        if (row[k] == -128.0)
          throw Error(describe(bn) + ": cannot fold a negative scale into a weight of -128");
        row[k] = -row[k];
      }
      zp = -zp;
    } else if (factor == 0.0) {
      std::fill(row, row + per_channel, static_cast<double>(zp));  // the channel's output is the shift alone
      scale = params.scale(params.is_per_tensor() ? 0 : c);
    }
    folded.scales.push_back(static_cast<float>(scale));
    folded.zero_points.push_back(zp);
    (*bias)[i] = factor * (*bias)[i] + bnf.shift[i];
  }
  validate(folded, signed_weights ? ElementType::s8 : ElementType::u8, weights.shape,
           describe(bn) + " folded weights");
  params = folded;
}

OutputStage Importer::require_output_stage(const onnx::NodeProto& node) {
  return require_output_stage(node, node.output(0));
}

OutputStage Importer::require_output_stage(const onnx::NodeProto& node, const std::string& tensor) {
  auto stage = find_output_stage(tensor);
  if (!stage)
    throw Error(describe(node) + ": its float output '" + tensor +
                "' must feed exactly one QuantizeLinear (optionally through Relu / Clip)");
  return *stage;
}

void Importer::finish_with_stage(const OutputStage& stage, ValueId value) {
  mark_consumed(stage.quantize);
  for (const auto* f : stage.fused)
    mark_consumed(f);
  graph_.value(value).name = stage.output_name;
  define(stage.output_name, make_value_symbol(Symbol::Kind::quantized, value));
}

bool Importer::lower_u8_matmul(const onnx::NodeProto& node) {
  const ValueId x = symbol(node, 0).value, y = symbol(node, 1).value;
  const Value &vx = graph_.value(x), &vy = graph_.value(y);
  if (vx.shape.size() < 2 || vy.shape.size() < 2 || !vx.quant.is_per_tensor() || !vy.quant.is_per_tensor())
    return false;
  const std::optional<OutputStage> stage = find_output_stage(node.output(0));
  if (!stage) return false;
  Attributes(node).expect_only({});
  const ValueId a = as_plain(x, node), b = as_plain(y, node);
  Value out = graph_.value(a);
  try {
    out.shape = ref::float_matmul_shape(graph_.value(a).shape, graph_.value(b).shape);
  } catch (const Error& e) {
    throw Error(describe(node) + ": " + e.what());
  }
  out.quant = stage->params;
  finish_with_stage(*stage, emit(node, OpKind::matmul, {a, b}, ClampAttrs{stage->clamp}, out));
  return true;
}

bool Importer::lower_qdq_compute(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const bool conv = op == "Conv" || op == "ConvTranspose";
  if (!conv && op != "Gemm" && op != "MatMul") return false;
  if (symbol(node, 0).kind != Symbol::Kind::dequantized) return false;
  if (op == "MatMul" && symbol(node, 1).kind == Symbol::Kind::dequantized) return lower_u8_matmul(node);
  // The int8 operator applies when the weights are quantized constants, the bias is constant and the
  // result reaches a QuantizeLinear; anything else is the model computing in float (lower_float.cpp).
  const Symbol& w = symbol(node, 1);
  if (w.kind != Symbol::Kind::constant || !w.quant || !is_integer_8bit(w.constant.onnx_type)) return false;
  std::optional<std::vector<double>> bias;
  const int bias_input = 2;
  if (has_input(node, bias_input)) {
    const Symbol& b = symbol(node, bias_input);
    if (b.kind != Symbol::Kind::constant) return false;
    bias = b.real_values();
  }
  const Attributes a(node);
  if (!conv) {
    // A fully connected layer: a constant matrix, Gemm's C a per-column bias.
    if (w.constant.shape.size() != 2) return false;
    if (op == "Gemm" && (a.get_int("transA", 0) != 0 || !(a.get_float("alpha", 1.0f) > 0.0f))) return false;
    const int64_t n = op == "Gemm" && a.get_int("transB", 0) != 0 ? w.constant.shape[0] : w.constant.shape[1];
    if (bias && bias->size() != 1 && static_cast<int64_t>(bias->size()) != n) return false;
  }
  std::string result = node.output(0);
  const onnx::NodeProto* batch_norm = nullptr;
  if (op == "Conv") {
    // Conv -> BatchNormalization (inference form) folds into the weights' scales and the bias.
    const auto cs = consumers(result);
    if (cs.size() == 1 && cs[0]->op_type() == "BatchNormalization" && !is_graph_output(result)) {
      batch_norm = cs[0];
      result = cs[0]->output(0);
    }
  }
  const std::optional<OutputStage> stage = find_output_stage(result);
  if (!stage) return false;
  const ValueId x = runtime_input(node, 0);
  // The weights are copied only to fold a batch norm into them.
  std::optional<Constant> folded;
  const Constant* weights = &w.constant;
  QuantParams weight_params = *w.quant;
  if (batch_norm) {
    folded = w.constant;
    fold_batch_norm(*batch_norm, *folded, weight_params, bias);
    weights = &*folded;
    mark_consumed(batch_norm);
  }
  ValueId out = -1;
  if (conv) {
    out = build_conv(node, x, *weights, weight_params, bias, stage->params, stage->clamp,
                     op == "ConvTranspose");
  } else if (op == "Gemm") {
    a.expect_only({"alpha", "beta", "transA", "transB"});
    const bool transposed_b = a.get_int("transB", 0) != 0;
    const double alpha = a.get_float("alpha", 1.0f), beta = a.get_float("beta", 1.0f);
    QuantParams wq = *w.quant;
    for (float& s : wq.scales)
      s = static_cast<float>(s * alpha);
    if (bias)
      for (double& b : *bias)
        b *= beta;
    out = build_fully_connected(node, x, w.constant, wq, transposed_b, bias, stage->params, stage->clamp);
  } else {
    out = build_fully_connected(node, x, w.constant, *w.quant, false, std::nullopt, stage->params,
                                stage->clamp);
  }
  finish_with_stage(*stage, out);
  return true;
}

}  // namespace octet::graph::onnx_import
