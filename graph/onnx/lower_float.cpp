// Float execution: the operators a model computes in float (what its quantizer left out, or a whole float
// model). They run on float values with the float kernels, in the same graph, planner and sessions as the
// int8 operators; a dequantized tensor is materialised (one dequantize node per value) only when a float
// operator reads it, and a QuantizeLinear of a float value is a quantize node.
//
// The lowering rules here are the float twins of the quantized ones: the same ONNX attribute handling,
// NHWC for image operators, physical axes for axis-parametrised ones.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>

#include "graph/onnx/axes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"
#include "kernels/reference/integer_elementwise.h"

namespace octet::graph::onnx_import {

namespace {

bool is_float_type(int32_t t) {
  return t == onnx::TensorProto::FLOAT || t == onnx::TensorProto::DOUBLE || t == onnx::TensorProto::FLOAT16;
}

ElementType runtime_type_of(const Constant& c) {
  if (is_float_type(c.onnx_type)) return ElementType::f32;
  if (c.onnx_type == onnx::TensorProto::BOOL) return ElementType::b8;
  return ElementType::s64;
}

// The constant's elements as bytes of its runtime type, in `perm` order (output dimension i is input
// dimension perm[i]); an empty perm keeps the order.
std::vector<std::byte> constant_bytes(const std::vector<double>& values, const Shape& shape, ElementType type,
                                      const std::vector<int64_t>& perm) {
  std::vector<double> ordered = values;
  if (!perm.empty()) ref::transpose(values.data(), shape, perm, sizeof(double), ordered.data());
  std::vector<std::byte> bytes(ordered.size() * size_of(type));
  for (size_t i = 0; i < ordered.size(); ++i) {
    if (type == ElementType::f32) {
      const auto f = static_cast<float>(ordered[i]);
      std::memcpy(bytes.data() + i * 4, &f, 4);
    } else if (type == ElementType::b8) {
      bytes[i] = std::byte{ordered[i] != 0.0};
    } else {
      // int64 constants are held as doubles: INT64_MAX (an exporter's "no limit", e.g. NonMaxSuppression's
      // max_output_boxes_per_class = sys.maxsize) reads as 2^63, which must not wrap to INT64_MIN.
      const double d = ordered[i];
      const int64_t v = d >= 0x1p63                    ? INT64_MAX
                        : d < -0x1p63 || std::isnan(d) ? INT64_MIN
                                                       : static_cast<int64_t>(d);
      std::memcpy(bytes.data() + i * 8, &v, 8);
    }
  }
  return bytes;
}

// ONNX unary operators as UnaryParams; nullopt for any other operator.
std::optional<UnaryParams> unary_params(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const Attributes a(node);
  UnaryParams p;
  auto expect = [&](std::initializer_list<const char*> known) { a.expect_only(known); };
  if (op == "Relu")
    p.op = UnaryOp::relu, expect({});
  else if (op == "LeakyRelu")
    p.op = UnaryOp::leaky_relu, p.alpha = a.get_float("alpha", 0.01f), expect({"alpha"});
  else if (op == "Sigmoid")
    p.op = UnaryOp::sigmoid, expect({});
  else if (op == "HardSigmoid")
    p.op = UnaryOp::hard_sigmoid, p.alpha = a.get_float("alpha", 0.2f), p.beta = a.get_float("beta", 0.5f),
    expect({"alpha", "beta"});
  else if (op == "HardSwish")
    p.op = UnaryOp::hard_swish, expect({});
  else if (op == "Tanh")
    p.op = UnaryOp::tanh, expect({});
  else if (op == "Exp")
    p.op = UnaryOp::exp, expect({});
  else if (op == "Log")
    p.op = UnaryOp::log, expect({});
  else if (op == "Sqrt")
    p.op = UnaryOp::sqrt, expect({});
  else if (op == "Neg")
    p.op = UnaryOp::neg, expect({});
  else if (op == "Abs")
    p.op = UnaryOp::abs, expect({});
  else if (op == "Reciprocal")
    p.op = UnaryOp::reciprocal, expect({});
  else if (op == "Floor")
    p.op = UnaryOp::floor, expect({});
  else if (op == "Ceil")
    p.op = UnaryOp::ceil, expect({});
  else if (op == "Round")
    p.op = UnaryOp::round, expect({});
  else if (op == "Sign")
    p.op = UnaryOp::sign, expect({});
  else if (op == "Erf")
    p.op = UnaryOp::erf, expect({});
  else if (op == "Gelu") {
    expect({"approximate"});
    const std::string approximate = a.get_string("approximate", "none");
    if (approximate != "none" && approximate != "tanh")
      throw Error(describe(node) + ": unknown approximate '" + approximate + "'");
    p.op = approximate == "tanh" ? UnaryOp::gelu_tanh : UnaryOp::gelu;
  } else if (op == "Softplus")
    p.op = UnaryOp::softplus, expect({});
  else if (op == "Softsign")
    p.op = UnaryOp::softsign, expect({});
  else if (op == "Elu")
    p.op = UnaryOp::elu, p.alpha = a.get_float("alpha", 1.0f), expect({"alpha"});
  else if (op == "Selu")
    p.op = UnaryOp::selu, p.alpha = a.get_float("alpha", 1.67326319217681884765625f),
    p.gamma = a.get_float("gamma", 1.05070102214813232421875f), expect({"alpha", "gamma"});
  else if (op == "Celu")
    p.op = UnaryOp::celu, p.alpha = a.get_float("alpha", 1.0f), expect({"alpha"});
  else if (op == "Mish")
    p.op = UnaryOp::mish, expect({});
  else if (op == "ThresholdedRelu")
    p.op = UnaryOp::thresholded_relu, p.alpha = a.get_float("alpha", 1.0f), expect({"alpha"});
  else if (op == "Shrink")
    p.op = UnaryOp::shrink, p.alpha = a.get_float("lambd", 0.5f), p.beta = a.get_float("bias", 0.0f),
    expect({"lambd", "bias"});
  else if (op == "Sin")
    p.op = UnaryOp::sin, expect({});
  else if (op == "Cos")
    p.op = UnaryOp::cos, expect({});
  else
    return std::nullopt;
  return p;
}

std::optional<BinaryOp> binary_op(const std::string& op) {
  static const std::map<std::string, BinaryOp> ops = {{"Add", BinaryOp::add},
                                                      {"Sub", BinaryOp::sub},
                                                      {"Mul", BinaryOp::mul},
                                                      {"Div", BinaryOp::div},
                                                      {"Pow", BinaryOp::pow},
                                                      {"PRelu", BinaryOp::prelu},
                                                      {"Equal", BinaryOp::equal},
                                                      {"Less", BinaryOp::less},
                                                      {"LessOrEqual", BinaryOp::less_equal},
                                                      {"Greater", BinaryOp::greater},
                                                      {"GreaterOrEqual", BinaryOp::greater_equal},
                                                      {"And", BinaryOp::logical_and},
                                                      {"Or", BinaryOp::logical_or},
                                                      {"Xor", BinaryOp::logical_xor}};
  const auto it = ops.find(op);
  return it == ops.end() ? std::nullopt : std::optional(it->second);
}

}  // namespace

// ---- materialising float operands ----

ValueId Importer::dequantized_value(ValueId quantized) {
  if (const auto it = dequantized_.find(quantized); it != dequantized_.end()) return it->second;
  Value f = graph_.value(quantized);
  f.name = f.name + "#float";
  f.type = ElementType::f32;
  f.quant = {};
  const ValueId v = emit(graph_.value(quantized).name + "#dequantize", "DequantizeLinear", OpKind::dequantize,
                         {quantized}, {}, f);
  dequantized_[quantized] = v;
  return v;
}

ValueId Importer::constant_value(const std::string& name, const Constant& c, Layout layout) {
  Value v;
  v.name = name;
  v.type = runtime_type_of(c);
  v.layout = layout;
  v.shape = c.shape;
  std::vector<int64_t> perm;
  if (layout == Layout::nhwc) {
    if (c.shape.size() != 4) throw Error("constant '" + name + "': an image constant must have rank 4");
    v.shape = {c.shape[0], c.shape[2], c.shape[3], c.shape[1]};
    perm = {0, 2, 3, 1};
  }
  v.constant =
      std::make_shared<const std::vector<std::byte>>(constant_bytes(c.values, c.shape, v.type, perm));
  return graph_.add_value(std::move(v));
}

ValueId Importer::quantized_constant_value(const std::string& name, const Constant& c, QuantParams params,
                                           bool negate) {
  const int32_t offset = c.onnx_type == onnx::TensorProto::INT8 ? 128 : 0;
  Value v;
  v.name = name;
  v.type = ElementType::u8;
  v.shape = c.shape;
  auto bytes = std::make_shared<std::vector<std::byte>>(c.values.size());
  for (size_t i = 0; i < c.values.size(); ++i) {
    const auto q = static_cast<int32_t>(c.values[i]) + offset;
    (*bytes)[i] = static_cast<std::byte>(negate ? 255 - q : q);
  }
  if (negate) params.zero_points[0] = 255 - params.zero_points[0];
  v.quant = std::move(params);
  v.constant = std::move(bytes);
  return graph_.add_value(std::move(v));
}

ValueId Importer::float_input(const onnx::NodeProto& node, int input) {
  const Symbol& s = symbol(node, input);
  switch (s.kind) {
    case Symbol::Kind::real:
      return s.value;
    case Symbol::Kind::dequantized:
      return dequantized_value(s.value);
    case Symbol::Kind::constant: {
      Constant c = s.constant;
      if (s.quant) {
        c.values = s.real_values();
        c.onnx_type = onnx::TensorProto::FLOAT;
      }
      return constant_value(node.input(input), c);
    }
    case Symbol::Kind::quantized:
      break;
  }
  throw Error(describe(node) + ": input '" + node.input(input) +
              "' is a uint8 tensor without a DequantizeLinear: it has no real values to compute on in float");
}

bool Importer::holds_int32(ValueId v) const {
  for (size_t i = 0; i < graph_.inputs.size(); ++i)
    if (graph_.inputs[i] == v) return graph_.int32_input(i);
  for (const Node& n : graph_.nodes)
    if (n.output == v) {
      const auto* cast = std::get_if<CastAttrs>(&n.attrs);
      return cast && cast->int32;
    }
  return false;
}

void Importer::define_real(const onnx::NodeProto& node, int output, ValueId v) {
  if (output >= node.output_size())
    throw Error(describe(node) + ": missing output " + std::to_string(output));
  graph_.value(v).name = node.output(output);
  define_value(node, output, Symbol::Kind::real, v);
}

std::vector<ValueId> Importer::align_layouts(const onnx::NodeProto& node, std::vector<ValueId> values) {
  const bool image = std::any_of(values.begin(), values.end(),
                                 [&](ValueId v) { return graph_.value(v).layout == Layout::nhwc; });
  if (!image) return values;
  // ONNX broadcasting aligns trailing dimensions: lower-rank operands gain leading 1s, then go NHWC.
  for (ValueId& v : values) {
    const Value val = graph_.value(v);
    if (val.layout == Layout::nhwc) continue;
    if (val.shape.size() > 4)
      throw Error(describe(node) + ": cannot broadcast '" + val.name + "' of rank " +
                  std::to_string(val.shape.size()) + " against an image tensor");
    Shape s = val.shape;
    s.insert(s.begin(), 4 - s.size(), 1);
    if (val.is_constant()) {
      // Constants change layout here, once, not at run time.
      Value c = val;
      c.shape = {s[0], s[2], s[3], s[1]};
      c.layout = Layout::nhwc;
      auto data = std::make_shared<std::vector<std::byte>>(val.constant->size());
      ref::transpose(val.constant->data(), s, {0, 2, 3, 1}, size_of(val.type), data->data());
      c.constant = std::move(data);
      v = graph_.add_value(std::move(c));
      continue;
    }
    if (s.size() != val.shape.size()) {
      Value r = val;
      r.name = val.name + "#rank4";
      v = emit(node.name() + "#rank4", "(broadcast)", OpKind::reshape, {v}, ReshapeAttrs{s}, r);
    }
    v = as_nhwc(v, node);
  }
  return values;
}

// ---- the float operators ----

namespace {

bool in_onnx_domain(const onnx::NodeProto& node) {
  return node.domain().empty() || node.domain() == "ai.onnx";
}

}  // namespace

std::optional<Importer::ResidualAdd> Importer::fusable_residual_add(const std::string& tensor,
                                                                    ValueId conv_output) const {
  if (is_graph_output(tensor)) return std::nullopt;
  const auto cs = consumers(tensor);
  if (cs.size() != 1) return std::nullopt;
  const onnx::NodeProto& add = *cs[0];
  if (add.op_type() != "Add" || !in_onnx_domain(add) || add.input_size() != 2 || add.output_size() != 1 ||
      add.attribute_size() != 0 || add.input(0) == add.input(1))
    return std::nullopt;
  // The other operand: a float tensor computed already (a later one makes its own convolution, if any, the
  // one that adds), of the output's shape and layout (no broadcasting).
  const auto it = symbols_.find(add.input(add.input(0) == tensor ? 1 : 0));
  if (it == symbols_.end() || it->second.kind != Symbol::Kind::real) return std::nullopt;
  const Value& other = graph_.value(it->second.value);
  const Value& out = graph_.value(conv_output);
  if (other.type != ElementType::f32 || other.layout != out.layout || other.shape != out.shape)
    return std::nullopt;
  return ResidualAdd{&add, it->second.value};
}

std::optional<Importer::GatedProduct> Importer::gated_product(const onnx::NodeProto& gate) const {
  if (!in_onnx_domain(gate) || gate.input_size() != 1 || gate.output_size() != 1) return std::nullopt;
  UnaryParams params;
  if (gate.op_type() == "Sigmoid" && gate.attribute_size() == 0) {
    params.op = UnaryOp::silu;
  } else if (gate.op_type() == "HardSigmoid") {
    for (const auto& attribute : gate.attribute())
      if (attribute.name() != "alpha" && attribute.name() != "beta") return std::nullopt;
    const Attributes a(gate);
    // HardSwish's own constants only: its operator computes x * HardSigmoid(x) with these.
    if (a.get_float("alpha", 0.2f) != 1.0f / 6.0f || a.get_float("beta", 0.5f) != 0.5f) return std::nullopt;
    params.op = UnaryOp::hard_swish;
  } else {
    return std::nullopt;
  }
  const std::string& x = gate.input(0);
  const std::string& gated = gate.output(0);
  if (x.empty() || x == gated || is_graph_output(gated)) return std::nullopt;
  const auto cs = consumers(gated);
  if (cs.size() != 1) return std::nullopt;
  const onnx::NodeProto& mul = *cs[0];
  if (mul.op_type() != "Mul" || !in_onnx_domain(mul) || mul.input_size() != 2 || mul.output_size() != 1 ||
      mul.attribute_size() != 0)
    return std::nullopt;
  const bool by_x =
      (mul.input(0) == x && mul.input(1) == gated) || (mul.input(0) == gated && mul.input(1) == x);
  if (!by_x) return std::nullopt;
  return GatedProduct{&mul, params};
}

std::optional<Importer::GeluChain> Importer::gelu_chain(const std::string& x) const {
  if (x.empty()) return std::nullopt;
  // The only consumer of `t`, which is no graph output.
  auto only_consumer = [&](const std::string& t) -> const onnx::NodeProto* {
    if (is_graph_output(t)) return nullptr;
    const auto cs = consumers(t);
    return cs.size() == 1 ? cs[0] : nullptr;
  };
  auto binary = [&](const onnx::NodeProto* n, const char* op) {
    return n != nullptr && n->op_type() == op && in_onnx_domain(*n) && n->input_size() == 2 &&
           n->output_size() == 1 && n->attribute_size() == 0 && n->input(0) != n->input(1);
  };
  // The value of n's other operand than `t` where it is a single constant of rank 0 or 1 (which broadcasts
  // no tensor of rank 1 or more to a higher rank).
  auto constant_with = [&](const onnx::NodeProto& n, const std::string& t) -> std::optional<double> {
    if (n.input(0) != t && n.input(1) != t) return std::nullopt;
    const auto it = symbols_.find(n.input(n.input(0) == t ? 1 : 0));
    // A float32 constant only: the operators with another type are refused by their own lowering, which
    // the fusion must not bypass.
    if (it == symbols_.end() || it->second.kind != Symbol::Kind::constant || it->second.quant ||
        it->second.constant.onnx_type != onnx::TensorProto::FLOAT || !it->second.constant.is_scalar() ||
        it->second.constant.shape.size() > 1)
      return std::nullopt;
    return it->second.real_values()[0];
  };
  auto close_to = [](std::optional<double> v, double want) {
    return v && std::abs(*v - want) <= 1e-6 * want;  // the float32 roundings of sqrt 2 and its inverse
  };
  // n multiplies x by t.
  auto x_times = [&](const onnx::NodeProto* n, const std::string& t) {
    return binary(n, "Mul") &&
           ((n->input(0) == x && n->input(1) == t) || (n->input(0) == t && n->input(1) == x));
  };
  for (const onnx::NodeProto* scaled : consumers(x)) {
    if (!binary(scaled, "Div") && !binary(scaled, "Mul")) continue;
    const std::optional<double> scale = constant_with(*scaled, x);
    const bool divides = binary(scaled, "Div") && scaled->input(0) == x && close_to(scale, std::sqrt(2.0));
    const bool multiplies = binary(scaled, "Mul") && close_to(scale, 1.0 / std::sqrt(2.0));
    if (!divides && !multiplies) continue;
    const onnx::NodeProto* erf = only_consumer(scaled->output(0));
    if (erf == nullptr || erf->op_type() != "Erf" || !in_onnx_domain(*erf) || erf->input_size() != 1 ||
        erf->output_size() != 1 || erf->attribute_size() != 0)
      continue;
    const onnx::NodeProto* plus_one = only_consumer(erf->output(0));
    if (!binary(plus_one, "Add") || constant_with(*plus_one, erf->output(0)) != 1.0) continue;
    const std::string& e = plus_one->output(0);
    const onnx::NodeProto* next = only_consumer(e);
    if (!binary(next, "Mul")) continue;
    // The constant as the float the operator computes with, and the order of the products.
    auto chain = [&](std::vector<const onnx::NodeProto*> nodes, int order) {
      return GeluChain{std::move(nodes), UnaryParams{UnaryOp::gelu_written_out, static_cast<float>(*scale),
                                                     divides ? 1.0f : 0.0f, static_cast<float>(order)}};
    };
    const std::string& after = next->output(0);
    if (x_times(next, e)) {  // (x * e) * 0.5
      const onnx::NodeProto* half = only_consumer(after);
      if (binary(half, "Mul") && constant_with(*half, after) == 0.5)
        return chain({scaled, erf, plus_one, next, half}, 0);
    } else if (constant_with(*next, e) == 0.5) {  // x * (e * 0.5)
      const onnx::NodeProto* product = only_consumer(after);
      if (x_times(product, after)) return chain({scaled, erf, plus_one, next, product}, 1);
    } else {  // (x * 0.5) * e
      const std::string& half_x = next->input(0) == e ? next->input(1) : next->input(0);
      for (const onnx::NodeProto* half : consumers(x))
        if (binary(half, "Mul") && half->output(0) == half_x && constant_with(*half, x) == 0.5 &&
            only_consumer(half_x) == next)
          return chain({scaled, erf, plus_one, half, next}, 2);
    }
  }
  return std::nullopt;
}

Importer::FloatActivation Importer::float_activation(const std::string& tensor) const {
  FloatActivation act;
  act.last = tensor;
  while (!is_graph_output(act.last)) {
    const auto cs = consumers(act.last);
    if (cs.size() != 1) break;
    const onnx::NodeProto& next = *cs[0];
    // Only a node that reads the result as its operand (a malformed Clip(min, result) is left to fail
    // in its own lowering).
    if (!in_onnx_domain(next) || next.input_size() < 1 || next.input(0) != act.last) break;
    float lo = -INFINITY, hi = INFINITY;
    if (next.op_type() == "Relu") {
      lo = 0.0f;
    } else if (next.op_type() == "Clip") {
      if (opset_ < 11) {
        const Attributes ca(next);
        lo = ca.get_float("min", lo), hi = ca.get_float("max", hi);
      }
      bool constant_bounds = true;
      for (int i : {1, 2}) {
        if (!has_input(next, i)) continue;
        const Symbol& b = symbol(next, i);
        if (b.kind != Symbol::Kind::constant || b.constant.values.size() != 1) {
          constant_bounds = false;
          break;
        }
        (i == 1 ? lo : hi) = static_cast<float>(b.real_values()[0]);
      }
      if (!constant_bounds || std::isnan(lo) || std::isnan(hi) || lo > hi) break;
    } else {
      break;
    }
    // Ranges that do not overlap are not one range (Relu then Clip(max -1) gives -1, not a clamp to an
    // empty interval): fusion stops there and the rest runs as operators.
    if (std::max(act.clamp.lo, lo) > std::min(act.clamp.hi, hi)) break;
    act.clamp.lo = std::max(act.clamp.lo, lo);
    act.clamp.hi = std::min(act.clamp.hi, hi);
    act.fused.push_back(&next);
    act.last = next.output(0);
  }
  // Then one unary operator: alone after the result, or the gate of x * gate(x) (SiLU, HardSwish), whose
  // Mul is then the result's other consumer.
  if (is_graph_output(act.last)) return act;
  const auto cs = consumers(act.last);
  if (cs.size() == 1 && in_onnx_domain(*cs[0]) && cs[0]->input_size() == 1 && cs[0]->output_size() == 1) {
    if (const auto p = unary_params(*cs[0]); p && p->op != UnaryOp::identity) {
      act.unary = *p;
      act.fused.push_back(cs[0]);
      act.last = cs[0]->output(0);
    }
  } else if (cs.size() == 2 && cs[0] != cs[1]) {
    for (int i = 0; i < 2; ++i)
      if (const auto gated = gated_product(*cs[i]); gated && gated->mul == cs[1 - i]) {
        act.unary = gated->params;
        act.fused.push_back(cs[i]);
        act.fused.push_back(gated->mul);
        act.last = gated->mul->output(0);
        return act;
      }
    // GELU, when the result feeds nothing but the chain.
    if (const auto gelu = gelu_chain(act.last)) {
      const auto in_chain = [&](const onnx::NodeProto* n) {
        return std::find(gelu->nodes.begin(), gelu->nodes.end(), n) != gelu->nodes.end();
      };
      if (in_chain(cs[0]) && in_chain(cs[1])) {
        act.unary = gelu->params;
        act.fused.insert(act.fused.end(), gelu->nodes.begin(), gelu->nodes.end());
        act.last = gelu->nodes.back()->output(0);
      }
    }
  }
  return act;
}

void Importer::finish_activation(const FloatActivation& act, ValueId v) {
  for (const auto* f : act.fused)
    mark_consumed(f);
  graph_.value(v).name = act.last;
  define(act.last, make_value_symbol(Symbol::Kind::real, v));
}

bool Importer::lower_float(const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") return false;
  const std::string& op = node.op_type();
  const Attributes a(node);

  // Output value of the same shape and layout as `like`, float (or `type`).
  auto same_as = [&](ValueId like, ElementType type = ElementType::f32) {
    Value out = graph_.value(like);
    out.name = node.output(0);
    out.type = type;
    out.quant = {};
    out.constant = nullptr;
    return out;
  };
  // The float operators compute on float32 (logical ones on bool): an int64 tensor here is integer
  // arithmetic octet does not run, reported at its node rather than later.
  auto require = [&](ValueId v, ElementType type) {
    if (graph_.value(v).type != type)
      throw Error(describe(node) + ": operand '" + graph_.value(v).name + "' is " +
                  std::string(name_of(graph_.value(v).type)) + "; octet runs " + node.op_type() + " on " +
                  std::string(name_of(type)) + " tensors only");
  };
  auto emit_unary = [&](ValueId x, const UnaryParams& p) {
    require(x, ElementType::f32);
    return emit(node, OpKind::unary, {x}, UnaryAttrs{p}, same_as(x));
  };
  auto emit_binary = [&](BinaryOp bop, ValueId lhs, ValueId rhs) {
    // Index arithmetic on int64 tensors (ref::int64_binary), float32 otherwise (bool for logical operators).
    const ElementType operand = takes_bool(bop) ? ElementType::b8
                                : graph_.value(lhs).type == ElementType::s64 && ref::int64_computes(bop)
                                    ? ElementType::s64
                                    : ElementType::f32;
    require(lhs, operand);
    require(rhs, operand);
    const auto aligned = align_layouts(node, {lhs, rhs});
    Value out = same_as(aligned[0], produces_bool(bop) ? ElementType::b8 : operand);
    if (graph_.value(aligned[1]).shape.size() > out.shape.size())
      out.layout = graph_.value(aligned[1]).layout;
    return emit(node, OpKind::binary, aligned, BinaryAttrs{bop}, out);
  };

  if (op == "Identity" || op == "Dropout") return false;  // lower_structural
  if (auto p = unary_params(node)) {
    if (const auto gated = gated_product(node)) {
      // x * Sigmoid(x) (SiLU) or x * HardSigmoid(x) (HardSwish) in one pass over x, not two operators and a
      // tensor between them.
      mark_consumed(gated->mul);
      define_real(*gated->mul, 0, emit_unary(float_input(node, 0), gated->params));
      return true;
    }
    define_real(node, 0, emit_unary(float_input(node, 0), *p));
    return true;
  }
  if (op == "Div" || op == "Mul") {
    // GELU's chain as one pass over x, from whichever of its nodes reading x comes first.
    for (int i = 0; i < std::min(node.input_size(), 2); ++i) {
      const auto x = symbols_.find(node.input(i));
      if (x == symbols_.end() || x->second.kind != Symbol::Kind::real) continue;
      const Value& xv = graph_.value(x->second.value);
      if (xv.type != ElementType::f32 || xv.shape.empty()) continue;
      const auto gelu = gelu_chain(node.input(i));
      if (!gelu || std::find(gelu->nodes.begin(), gelu->nodes.end(), &node) == gelu->nodes.end()) continue;
      for (const onnx::NodeProto* n : gelu->nodes)
        if (n != &node) mark_consumed(n);
      define_real(*gelu->nodes.back(), 0, emit_unary(float_input(node, i), gelu->params));
      return true;
    }
  }
  if (op == "Clip") {
    ValueId x = float_input(node, 0);
    UnaryParams p{UnaryOp::clip, -INFINITY, INFINITY, 0.0f};
    if (opset_ < 11) {
      a.expect_only({"min", "max"});
      p.alpha = a.get_float("min", p.alpha), p.beta = a.get_float("max", p.beta);
      define_real(node, 0, emit_unary(x, p));
      return true;
    }
    a.expect_only({});
    // Constant bounds make one clip; bounds computed at run time become max / min operators.
    for (int i : {1, 2}) {
      if (!has_input(node, i)) continue;
      const Symbol& b = symbol(node, i);
      if (b.kind == Symbol::Kind::constant) {
        if (b.constant.values.size() != 1)
          throw Error(describe(node) + ": its " + (i == 1 ? "min" : "max") + " must be a single value");
        (i == 1 ? p.alpha : p.beta) = static_cast<float>(b.real_values()[0]);
      } else {
        x = emit_binary(i == 1 ? BinaryOp::max : BinaryOp::min, x, float_input(node, i));
      }
    }
    define_real(node, 0, emit_unary(x, p));
    return true;
  }
  if (op == "Pow") {
    const Symbol& e = symbol(node, 1);
    if (e.kind == Symbol::Kind::constant && e.constant.values.size() == 1) {
      UnaryParams p{UnaryOp::pow_constant, static_cast<float>(e.real_values()[0]), 0.0f, 0.0f};
      ValueId y = emit_unary(float_input(node, 0), p);
      // An exponent of higher rank still broadcasts: its leading 1s lead the output's shape too.
      const size_t rank = e.constant.shape.size();
      if (rank > graph_.value(y).shape.size()) {
        y = as_plain(y, node);
        Shape shape(rank - graph_.value(y).shape.size(), 1);
        const Shape& inner = graph_.value(y).shape;
        shape.insert(shape.end(), inner.begin(), inner.end());
        y = plain_reshape(node, y, std::move(shape), "#broadcast");
      }
      define_real(node, 0, y);
      return true;
    }
  }
  if (op == "Mod") {
    a.expect_only({"fmod"});
    const BinaryOp bop = a.get_int("fmod", 0) != 0 ? BinaryOp::fmod : BinaryOp::mod;
    define_real(node, 0, emit_binary(bop, float_input(node, 0), float_input(node, 1)));
    return true;
  }
  if (auto bop = binary_op(op)) {
    a.expect_only({});
    define_real(node, 0, emit_binary(*bop, float_input(node, 0), float_input(node, 1)));
    return true;
  }
  if (op == "Not") {
    // not x == x xor true: no operator of its own for a rarely computed operation.
    Constant one{onnx::TensorProto::BOOL, {}, {1.0}};
    define_real(node, 0,
                emit_binary(BinaryOp::logical_xor, float_input(node, 0),
                            constant_value(node.output(0) + "#true", one)));
    return true;
  }
  if (op == "Sum" || op == "Mean" || op == "Max" || op == "Min") {
    a.expect_only({});
    if (node.input_size() < 1) throw Error(describe(node) + ": needs at least one input");
    const BinaryOp bop = op == "Max" ? BinaryOp::max : op == "Min" ? BinaryOp::min : BinaryOp::add;
    ValueId acc = float_input(node, 0);
    for (int i = 1; i < node.input_size(); ++i)
      acc = emit_binary(bop, acc, float_input(node, i));
    if (op == "Mean" && node.input_size() > 1) {
      Constant n{onnx::TensorProto::FLOAT, {}, {static_cast<double>(node.input_size())}};
      acc = emit_binary(BinaryOp::div, acc, constant_value(node.output(0) + "#count", n));
    } else if (node.input_size() == 1) {
      acc = emit_unary(acc, UnaryParams{});  // the output is a value of its own
    }
    define_real(node, 0, acc);
    return true;
  }
  if (op == "Where") {
    const auto aligned =
        align_layouts(node, {float_input(node, 0), float_input(node, 1), float_input(node, 2)});
    Value out = same_as(aligned[1], graph_.value(aligned[1]).type);
    for (ValueId v : aligned)
      if (graph_.value(v).shape.size() > out.shape.size()) out.layout = graph_.value(v).layout;
    define_real(node, 0, emit(node, OpKind::where, aligned, {}, out));
    return true;
  }
  if (op == "Softmax" || op == "LogSoftmax") {
    a.expect_only({"axis"});
    ValueId x = float_input(node, 0);
    const auto rank = static_cast<int64_t>(graph_.value(x).shape.size());
    const int64_t axis = normalize_axis(node, a.get_int("axis", opset_ < 13 ? 1 : -1), rank);
    SoftmaxAttrs attrs{axis, op == "LogSoftmax"};
    if (opset_ < 13) {
      // Before opset 13 the operator normalizes over all dimensions from `axis` on, flattened.
      x = as_plain(x, node);
      const Shape plain = graph_.value(x).shape;
      const int64_t outer =
          std::accumulate(plain.begin(), plain.begin() + axis, int64_t{1}, std::multiplies<>());
      const int64_t inner =
          std::accumulate(plain.begin() + axis, plain.end(), int64_t{1}, std::multiplies<>());
      Value flat = graph_.value(x);
      flat.name += "#2d";
      x = emit(node.name() + "#2d", "(flatten)", OpKind::reshape, {x}, ReshapeAttrs{{outer, inner}}, flat);
      attrs.axis = 1;
      Value y = same_as(x);
      y.name += "#2d";
      const ValueId s = emit(node, OpKind::softmax, {x}, attrs, y);
      Value back = same_as(s);
      back.shape = plain;
      define_real(node, 0,
                  emit(node.name() + "#nd", "(reshape)", OpKind::reshape, {s}, ReshapeAttrs{plain}, back));
      return true;
    }
    if (graph_.value(x).layout == Layout::nhwc) {
      // Over the last ONNX axis of an NHWC tensor with few channels (an attention map), the columns the
      // kernel would normalize side by side are too few to fill a vector: the plain layout has the axis
      // innermost, in rows, for the cost of one transpose.
      const int64_t channels = graph_.value(x).shape.back();
      if (axis == rank - 1 && channels < 16)
        x = as_plain(x, node);
      else
        attrs.axis = nhwc_axis(axis);
    }
    define_real(node, 0, emit(node, OpKind::softmax, {x}, attrs, same_as(x)));
    return true;
  }
  if (op.rfind("Reduce", 0) == 0 || op == "ArgMax" || op == "ArgMin" || op == "TopK" || op == "CumSum" ||
      op == "GlobalLpPool" || op == "LpNormalization" || op == "Hardmax")
    return lower_float_reduce(node);
  if (op == "MatMul" || op == "Gemm") return lower_float_matmul(node);
  if (op == "Einsum") return lower_einsum(node);
  if (op == "Conv" || op == "ConvTranspose") {
    const Symbol& w = symbol(node, 1);
    if (w.kind != Symbol::Kind::constant)
      throw Error(describe(node) +
                  ": weights computed at run time are not supported (they must be constant)");
    std::optional<std::vector<double>> bias;
    if (has_input(node, 2)) {
      const Symbol& b = symbol(node, 2);
      if (b.kind != Symbol::Kind::constant) throw Error(describe(node) + ": bias must be a constant");
      bias = b.real_values();
    }
    RealValues weights(w);
    std::string result = node.output(0);
    if (op == "Conv") {
      // Conv -> BatchNormalization folds into the float weights and bias.
      const auto cs = consumers(result);
      if (cs.size() == 1 && cs[0]->op_type() == "BatchNormalization" && !is_graph_output(result)) {
        fold_float_batch_norm(*cs[0], w.constant.shape, weights.doubles(), bias);
        mark_consumed(cs[0]);
        result = cs[0]->output(0);
      }
    }
    FloatActivation act = float_activation(result);
    const ValueId out = build_float_conv(node, float_input(node, 0), w.constant.shape, weights, bias,
                                         act.clamp, op == "ConvTranspose", act.last, act.unary);
    if (op == "Conv" && act.fused.empty()) {
      if (const auto add = fusable_residual_add(result, out)) {
        // Conv -> Add(result, other) [-> Relu / Clip -> activation]: the add, and what follows it, run on
        // each block of the convolution's output as it is written (a residual connection: ResNet,
        // MobileNetV2's inverted residuals).
        mark_consumed(add->node);
        act = float_activation(add->node->output(0));
        const auto conv = std::find_if(graph_.nodes.rbegin(), graph_.nodes.rend(),
                                       [&](const Node& n) { return n.output == out; });
        auto& attrs = std::get<FloatConvAttrs>(conv->attrs);
        attrs.residual = true;
        attrs.clamp = act.clamp;
        attrs.activation = act.unary;
        conv->inputs.push_back(add->other);
      }
    }
    finish_activation(act, out);
    return true;
  }
  if (op == "BatchNormalization" || op == "InstanceNormalization" || op == "LayerNormalization" ||
      op == "GroupNormalization" || op == "LRN")
    return lower_float_normalization(node);
  if (op == "Cast" || op == "CastLike") {
    // A uint8 tensor of the model (a uint8 image input, a QLinear operator's output) casts its integers.
    const Symbol& source = symbol(node, 0);
    ValueId x = source.kind == Symbol::Kind::quantized ? source.value : float_input(node, 0);
    int64_t to = 0;
    if (op == "Cast") {
      a.expect_only({"to", "saturate"});
      to = a.get_int("to", 0);
    } else {
      a.expect_only({"saturate"});
      to = symbol(node, 1).kind == Symbol::Kind::constant ? symbol(node, 1).constant.onnx_type : 0;
      if (to == 0) {
        // A run-time target: its own type (an int32 one is held as int64: CastLike to it is to int64).
        const ValueId target = float_input(node, 1);
        const ElementType like = graph_.value(target).type;
        to = like == ElementType::f32 ? onnx::TensorProto::FLOAT
             : like == ElementType::s64
                 ? (holds_int32(target) ? onnx::TensorProto::INT32 : onnx::TensorProto::INT64)
             : like == ElementType::b8 ? onnx::TensorProto::BOOL
                                       : 0;
      }
    }
    ElementType target;
    if (to == onnx::TensorProto::FLOAT)
      target = ElementType::f32;
    else if (to == onnx::TensorProto::BOOL)
      target = ElementType::b8;
    else if (to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32)
      target = ElementType::s64;
    else if (to == onnx::TensorProto::UINT8)
      target = ElementType::u8;
    else
      throw Error(describe(node) + ": casting a runtime tensor to " +
                  onnx_type_name(static_cast<int32_t>(to)) +
                  " is not supported (float32, bool, uint8, int32 / int64)");
    // A uint8 result is raw integers (no quantization params), as a uint8 graph input is.
    const Symbol::Kind kind = target == ElementType::u8 ? Symbol::Kind::quantized : Symbol::Kind::real;
    // int32 is held as int64 (Graph::int32_inputs): from float or int64 its values wrap to int32's range;
    // from bool or uint8 they are in it already.
    const ElementType from = graph_.value(x).type;
    const bool int32 =
        to == onnx::TensorProto::INT32 && (from == ElementType::f32 || from == ElementType::s64);
    if (from == target && !int32) {
      define_value(node, 0, kind, x);
      return true;
    }
    Value out = same_as(x, target);
    out.quant = {};
    out.name = node.output(0);
    define_value(node, 0, kind, emit(node, OpKind::cast, {x}, CastAttrs{target, int32}, out));
    return true;
  }
  return false;
}

void Importer::fold_float_batch_norm(const onnx::NodeProto& bn, const Shape& weight_shape,
                                     std::vector<double>& weights,
                                     std::optional<std::vector<double>>& bias) const {
  const int64_t channels = weight_shape.at(0);
  const BatchNormFactors f = batch_norm_factors(bn, channels);
  const int64_t per_channel = static_cast<int64_t>(weights.size()) / channels;
  if (!bias) bias = std::vector<double>(static_cast<size_t>(channels), 0.0);
  if (bias->size() == 1) bias->assign(static_cast<size_t>(channels), (*bias)[0]);
  if (static_cast<int64_t>(bias->size()) != channels)
    throw Error(describe(bn) + ": bias size does not match");
  for (int64_t c = 0; c < channels; ++c) {
    const auto i = static_cast<size_t>(c);
    for (int64_t k = 0; k < per_channel; ++k)
      weights[static_cast<size_t>(c * per_channel + k)] *= f.scale[i];
    (*bias)[i] = f.scale[i] * (*bias)[i] + f.shift[i];
  }
}

}  // namespace octet::graph::onnx_import
