// Elementwise float operators between DequantizeLinear and QuantizeLinear, in their quantized forms.
//
// One general rule instead of a kernel per activation: a connected group of elementwise operators whose
// only variable input is one quantized tensor x (everything else scalar constants), ending in a single
// QuantizeLinear, is a function of the 256 possible values of x. It becomes a 256-entry lookup table,
// computed at load time by evaluating the float operators themselves (hard-swish exported as
// Add(3) -> Clip(0, 6) -> Mul(x) -> Div(6) is one table). Add and Mul of two variable tensors become
// quantized add / mul with broadcasting. What does not fit these forms computes in float (lower_float.cpp).

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "graph/onnx/elementwise_ops.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/lut.h"

namespace octet::graph::onnx_import {

const std::set<std::string>& table_elementwise_ops() {
  static const std::set<std::string> ops = {
      "Relu",     "Clip",     "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu",  "Elu",
      "Selu",     "Exp",      "Log",     "Sqrt",        "Neg",       "Abs",  "Reciprocal", "Softplus",
      "Softsign", "Erf",      "Add",     "Sub",         "Mul",       "Div",  "Pow",        "Max",
      "Min",      "Identity", "Gelu",    "Mish",        "Floor",     "Ceil", "Round"};
  return ops;
}

namespace {

bool is_elementwise(const onnx::NodeProto& node) {
  return (node.domain().empty() || node.domain() == "ai.onnx") &&
         table_elementwise_ops().count(node.op_type()) > 0;
}

// One elementwise operator on float32 values, as ONNX defines it (results rounded to float32 like a float
// runtime computes them).
float evaluate(const onnx::NodeProto& node, const std::vector<float>& in, int64_t opset) {
  const std::string& op = node.op_type();
  const Attributes a(node);
  // A malformed node may have fewer inputs than its operator takes: an octet::Error, not at()'s
  // std::out_of_range.
  if (in.empty()) throw Error(describe(node) + ": has no input");
  const float x = in[0];
  double r = 0.0;
  if (op == "Relu")
    r = std::max(x, 0.0f);
  else if (op == "Clip") {
    float lo = -INFINITY, hi = INFINITY;
    if (opset < 11) lo = a.get_float("min", lo), hi = a.get_float("max", hi);
    if (in.size() > 1 && !std::isnan(in[1])) lo = in[1];
    if (in.size() > 2 && !std::isnan(in[2])) hi = in[2];
    r = std::min(std::max(x, lo), hi);
  } else if (op == "Sigmoid")
    r = 1.0 / (1.0 + std::exp(-double{x}));
  else if (op == "HardSigmoid")
    r = std::clamp(a.get_float("alpha", 0.2f) * x + a.get_float("beta", 0.5f), 0.0f, 1.0f);
  else if (op == "HardSwish")
    r = x * std::clamp(x / 6.0 + 0.5, 0.0, 1.0);
  else if (op == "Tanh")
    r = std::tanh(double{x});
  else if (op == "LeakyRelu")
    r = x >= 0 ? x : a.get_float("alpha", 0.01f) * x;
  else if (op == "Elu")
    r = x >= 0 ? x : a.get_float("alpha", 1.0f) * (std::exp(double{x}) - 1.0);
  else if (op == "Selu")
    r = a.get_float("gamma", 1.05070102f) *
        (x > 0 ? x : a.get_float("alpha", 1.67326319f) * (std::exp(double{x}) - 1.0));
  else if (op == "Exp")
    r = std::exp(double{x});
  else if (op == "Log")
    r = std::log(double{x});
  else if (op == "Sqrt")
    r = std::sqrt(double{x});
  else if (op == "Neg")
    r = -x;
  else if (op == "Abs")
    r = std::abs(x);
  else if (op == "Reciprocal")
    r = 1.0 / x;
  else if (op == "Softplus")
    r = std::log1p(std::exp(double{x}));
  else if (op == "Softsign")
    r = x / (1.0 + std::abs(x));
  else if (op == "Erf")
    r = std::erf(double{x});
  else if (op == "Gelu") {
    if (a.get_string("approximate", "none") == "tanh")
      r = 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * double{x} * x * x)));
    else
      r = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  } else if (op == "Mish")
    r = x * std::tanh(std::log1p(std::exp(double{x})));
  else if (op == "Floor")
    r = std::floor(x);
  else if (op == "Ceil")
    r = std::ceil(x);
  else if (op == "Round")
    r = std::nearbyint(x);
  else if (op == "Identity")
    r = x;
  else if (in.size() == 1 && (op == "Max" || op == "Min"))
    r = x;  // variadic Max / Min of one input is the identity
  else {
    if (in.size() < 2) throw Error(describe(node) + ": needs two inputs");
    const float y = in[1];
    if (op == "Add")
      r = x + y;
    else if (op == "Sub")
      r = x - y;
    else if (op == "Mul")
      r = x * y;
    else if (op == "Div")
      r = x / y;
    else if (op == "Pow")
      r = std::pow(double{x}, double{y});
    else if (op == "Max")
      r = *std::max_element(in.begin(), in.end());
    else if (op == "Min")
      r = *std::min_element(in.begin(), in.end());
    else
      throw Error(describe(node) + ": cannot evaluate");
  }
  return static_cast<float>(r);
}

}  // namespace

ValueId Importer::build_lut(const onnx::NodeProto& node, ValueId input,
                            const std::function<double(double)>& f, const QuantParams& output,
                            const std::string& output_name) {
  Value out = graph_.value(input);
  out.name = output_name;
  out.quant = output;
  LutAttrs attrs;
  attrs.table = ref::make_lut(f, graph_.value(input).quant, output);
  return emit(node, OpKind::lut, {input}, attrs, out);
}

std::optional<ref::Lut> Importer::float_mode_scalar_binary(const onnx::NodeProto& node, ValueId x,
                                                           const QuantParams& output) const {
  const std::string& op = node.op_type();
  if (options_.requant != RequantMode::float_scale || (op != "Add" && op != "Mul") || node.input_size() != 2)
    return std::nullopt;
  const int x_input = symbol(node, 0).kind == Symbol::Kind::dequantized ? 0 : 1;
  const Symbol& c = symbol(node, 1 - x_input);
  const int32_t type = c.constant.onnx_type;
  if (symbol(node, x_input).value != x || c.kind != Symbol::Kind::constant || !c.quant ||
      !c.quant->is_per_tensor() || !c.constant.is_scalar() ||
      (type != onnx::TensorProto::UINT8 && type != onnx::TensorProto::INT8))
    return std::nullopt;
  // ONNX Runtime runs the node as QLinearAdd / QLinearMul of two uint8 tensors; an int8 constant is the same
  // real values as a uint8 one 128 higher with its zero point 128 higher.
  QuantParams cq = *c.quant;
  auto cv = static_cast<int32_t>(c.constant.values[0]);
  if (type == onnx::TensorProto::INT8) cv += 128, cq.zero_points[0] += 128;
  const QuantParams& xq = graph_.value(x).quant;
  const QuantParams& aq = x_input == 0 ? xq : cq;
  const QuantParams& bq = x_input == 0 ? cq : xq;
  // The constant is the operand that repeats: ONNX Runtime folds it first when it is input A.
  const ref::FloatAddConstants add = ref::float_add_constants(aq, bq, output, x_input == 1);
  const ref::FloatMulConstants mul = ref::float_mul_constants(aq, bq, output);
  ref::Lut table{};
  for (int32_t v = 0; v < 256; ++v) {
    const int32_t a = x_input == 0 ? v : cv, b = x_input == 0 ? cv : v;
    table[static_cast<size_t>(v)] =
        static_cast<uint8_t>(op == "Add" ? ref::float_add_value(add, a, b) : ref::float_mul_value(mul, a, b));
  }
  return table;
}

bool Importer::lower_constant_binary(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if ((op != "Add" && op != "Mul" && op != "Sub") || node.input_size() != 2) return false;
  const int x_input = symbol(node, 0).kind == Symbol::Kind::dequantized ? 0 : 1;
  const Symbol& c = symbol(node, 1 - x_input);
  if (op == "Sub" && x_input != 0) return false;  // c - x would negate the runtime operand
  const bool eight_bit =
      c.constant.onnx_type == onnx::TensorProto::UINT8 || c.constant.onnx_type == onnx::TensorProto::INT8;
  if (c.kind != Symbol::Kind::constant || !c.quant || !c.quant->is_per_tensor() || !eight_bit) return false;
  const std::optional<OutputStage> stage = find_output_stage(node.output(0));
  if (!stage) return false;
  QuantParams params = *c.quant;
  if (c.constant.onnx_type == onnx::TensorProto::INT8) params.zero_points[0] += 128;
  const ValueId k = quantized_constant_value(node.input(1 - x_input), c.constant, params, op == "Sub");
  const ValueId x = runtime_input(node, x_input);
  const ValueId v = build_binary(node, op == "Mul" ? OpKind::mul : OpKind::add, x, k, stage->params,
                                 stage->clamp, stage->output_name);
  finish_with_stage(*stage, v);
  return true;
}

ValueId Importer::build_binary(const onnx::NodeProto& node, OpKind kind, ValueId a, ValueId b,
                               const QuantParams& output, Clamp clamp, const std::string& output_name) {
  // Both operands to a common layout (an NHWC image makes the other one rank-4 NHWC too).
  const std::vector<ValueId> aligned = align_layouts(node, {a, b});
  Value out = graph_.value(aligned[0]);
  out.name = output_name;
  out.quant = output;
  out.constant = nullptr;
  return emit(node, kind, aligned, ClampAttrs{clamp}, out);
}

bool Importer::lower_elementwise(const onnx::NodeProto& node) {
  if (!is_elementwise(node)) return false;
  // The quantized forms need every input to be a dequantized tensor or a constant; a float input (or a
  // raw uint8 one) makes this a float operator (lower_float.cpp).
  std::set<ValueId> variables;
  std::vector<const Constant*> constants;
  for (int i = 0; i < node.input_size(); ++i) {
    if (!has_input(node, i)) continue;
    const Symbol& s = symbol(node, i);
    if (s.kind == Symbol::Kind::dequantized)
      variables.insert(s.value);
    else if (s.kind == Symbol::Kind::constant)
      constants.push_back(&s.constant);
    else
      return false;
  }
  if (variables.empty() || variables.size() > 2) return false;
  // A one-element constant is a scalar to the data only where its rank is at most the data's: [1, 1, 1]
  // added to a [2, 8] tensor makes a [1, 2, 8] one, which a table (the input's shape out) would not.
  const size_t data_rank = graph_.value(*variables.begin()).shape.size();
  auto scalar_to_data = [&](const Constant& k) { return k.is_scalar() && k.shape.size() <= data_rank; };
  const bool tensor_constant =
      std::any_of(constants.begin(), constants.end(), [&](const Constant* k) { return !scalar_to_data(*k); });

  if (variables.size() == 2) {
    const std::string& op = node.op_type();
    if (op != "Add" && op != "Mul") return false;
    const std::optional<OutputStage> stage = find_output_stage(node.output(0));
    if (!stage) return false;
    const ValueId v = build_binary(node, op == "Add" ? OpKind::add : OpKind::mul, runtime_input(node, 0),
                                   runtime_input(node, 1), stage->params, stage->clamp, stage->output_name);
    finish_with_stage(*stage, v);
    return true;
  }
  // A lookup table maps each of the 256 input values to one output value: a constant operand that differs
  // from element to element (a per-channel scale, say) or adds dimensions cannot be one. x + c, x - c and
  // x * c with c a quantized constant of any broadcastable shape are the quantized add / mul with a
  // constant operand (x - c adds -c); anything else with such constants computes in float.
  if (tensor_constant) return lower_constant_binary(node);

  // Grow the region of elementwise nodes fed only by x, scalar constants and the region itself.
  const ValueId x = *variables.begin();
  auto feeds_region = [&](const onnx::NodeProto& n, const std::set<std::string>& produced) {
    for (int i = 0; i < n.input_size(); ++i) {
      if (!has_input(n, i)) continue;
      if (produced.count(n.input(i))) continue;
      const auto it = symbols_.find(n.input(i));
      if (it == symbols_.end()) return false;
      const Symbol& s = it->second;
      if (s.kind == Symbol::Kind::dequantized && s.value == x) continue;
      if (s.kind == Symbol::Kind::constant && scalar_to_data(s.constant)) continue;
      return false;
    }
    return true;
  };
  std::vector<const onnx::NodeProto*> region = {&node};
  std::set<std::string> produced = {node.output(0)};
  const onnx::NodeProto* terminal = nullptr;
  std::set<const onnx::NodeProto*> pending;
  bool progress = true;
  while (progress) {
    progress = false;
    for (const std::string& t : std::set<std::string>(produced)) {
      if (is_graph_output(t)) return false;  // the model outputs a float tensor of the chain
      for (const onnx::NodeProto* c : consumers(t)) {
        if (std::find(region.begin(), region.end(), c) != region.end() || c == terminal) continue;
        if (c->op_type() == "QuantizeLinear") {
          if (terminal && terminal != c) return false;  // several quantized results: compute in float
          terminal = c;
          progress = true;
        } else if (is_elementwise(*c) && feeds_region(*c, produced)) {
          region.push_back(c);
          produced.insert(c->output(0));
          pending.erase(c);
          progress = true;
        } else {
          pending.insert(c);
        }
      }
    }
  }
  // The chain is one table only if all of it ends in one QuantizeLinear of its final result; otherwise the
  // model computes (part of) it in float.
  if (!pending.empty() || !terminal) return false;
  for (const std::string& t : produced)
    if (t != terminal->input(0))
      for (const onnx::NodeProto* c : consumers(t))
        if (c == terminal) return false;

  // Evaluate the region in graph order on each of the 256 input values.
  std::sort(region.begin(), region.end(), [&](const auto* l, const auto* r) {
    return std::find(order_.begin(), order_.end(), l) < std::find(order_.begin(), order_.end(), r);
  });
  const int64_t opset = opset_;
  const auto f = [&, region, opset](double real_x) {
    std::map<std::string, float> env;
    for (const onnx::NodeProto* n : region) {
      std::vector<float> in;
      for (int i = 0; i < n->input_size(); ++i) {
        if (!has_input(*n, i)) {
          in.push_back(NAN);  // omitted optional input (Clip's min or max)
          continue;
        }
        const auto e = env.find(n->input(i));
        if (e != env.end()) {
          in.push_back(e->second);
          continue;
        }
        const Symbol& s = symbols_.at(n->input(i));
        in.push_back(s.kind == Symbol::Kind::dequantized ? static_cast<float>(real_x)
                                                         : static_cast<float>(s.real_values()[0]));
      }
      env[n->output(0)] = evaluate(*n, in, opset);
    }
    return static_cast<double>(env.at(terminal->input(0)));
  };
  const QuantParams out = activation_params(*terminal, 1, 2);
  ValueId v = -1;
  if (region.size() == 1) {
    if (const std::optional<ref::Lut> table = float_mode_scalar_binary(*region[0], x, out)) {
      Value value = graph_.value(x);
      value.name = terminal->output(0);
      value.quant = out;
      v = emit(node, OpKind::lut, {x}, LutAttrs{*table}, value);
    }
  }
  if (v < 0) v = build_lut(node, x, f, out, terminal->output(0));
  for (const onnx::NodeProto* n : region)
    mark_consumed(n);
  mark_consumed(terminal);
  define(terminal->output(0), make_value_symbol(Symbol::Kind::quantized, v));
  return true;
}

}  // namespace octet::graph::onnx_import
