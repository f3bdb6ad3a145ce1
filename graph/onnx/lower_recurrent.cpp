// RNN, GRU and LSTM: the sequence layers after a CNN (CRNN text recognizers and the like), in float with
// constant weights (a DequantizeLinear of a constant is read as its real values). One node per output the
// model uses: Y (every step's hidden state), Y_h or Y_c; each runs the recurrence, which is cheap beside the
// convolutions before it.

#include <map>
#include <string>

#include "graph/onnx/attributes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

namespace {

using ref::RecurrentActivation;
using ref::RecurrentCell;

// Which of alpha and beta each activation ONNX's recurrent operators name takes, with ONNX's defaults
// (those of the operator of the same name); Affine and ScaledTanh have none in the specification, and
// ONNX Runtime's are alpha 1 and beta 0.
struct ActivationSpec {
  RecurrentActivation::Form form;
  UnaryOp op;
  bool alpha, beta;
  float default_alpha, default_beta;
};

const std::map<std::string, ActivationSpec>& activation_specs() {
  using Form = RecurrentActivation::Form;
  static const std::map<std::string, ActivationSpec> specs = {
      {"Sigmoid", {Form::unary, UnaryOp::sigmoid, false, false, 0.0f, 0.0f}},
      {"Tanh", {Form::unary, UnaryOp::tanh, false, false, 0.0f, 0.0f}},
      {"Relu", {Form::unary, UnaryOp::relu, false, false, 0.0f, 0.0f}},
      {"LeakyRelu", {Form::unary, UnaryOp::leaky_relu, true, false, 0.01f, 0.0f}},
      {"ThresholdedRelu", {Form::unary, UnaryOp::thresholded_relu, true, false, 1.0f, 0.0f}},
      {"HardSigmoid", {Form::unary, UnaryOp::hard_sigmoid, true, true, 0.2f, 0.5f}},
      {"Elu", {Form::unary, UnaryOp::elu, true, false, 1.0f, 0.0f}},
      {"Softsign", {Form::unary, UnaryOp::softsign, false, false, 0.0f, 0.0f}},
      {"Softplus", {Form::unary, UnaryOp::softplus, false, false, 0.0f, 0.0f}},
      {"Affine", {Form::affine, UnaryOp::identity, true, true, 1.0f, 0.0f}},
      {"ScaledTanh", {Form::scaled_tanh, UnaryOp::identity, true, true, 1.0f, 1.0f}},
  };
  return specs;
}

std::vector<std::string> string_list(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& attr : node.attribute())
    if (attr.name() == name) return {attr.strings().begin(), attr.strings().end()};
  return {};
}

// The activations of every direction: the model's (by name; alphas and betas consumed in order by the
// functions that take them, as ONNX Runtime reads them), or the cell's defaults.
std::vector<RecurrentActivation> activations(const onnx::NodeProto& node, const Attributes& a,
                                             RecurrentCell cell, int64_t directions,
                                             const std::string& where) {
  std::vector<std::string> names = string_list(node, "activations");
  const size_t per_direction = cell == RecurrentCell::rnn ? 1 : cell == RecurrentCell::gru ? 2 : 3;
  if (names.empty()) {
    names = cell == RecurrentCell::rnn   ? std::vector<std::string>{"Tanh"}
            : cell == RecurrentCell::gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                         : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    if (directions == 2) {
      const std::vector<std::string> forward = names;  // the same for the reverse direction
      names.insert(names.end(), forward.begin(), forward.end());
    }
  }
  if (names.size() != per_direction * static_cast<size_t>(directions))
    throw Error(where + ": activations lists " + std::to_string(names.size()) + " functions, expected " +
                std::to_string(per_direction * static_cast<size_t>(directions)));
  const std::vector<float> alphas =
      a.has("activation_alpha") ? a.get_floats("activation_alpha") : std::vector<float>{};
  const std::vector<float> betas =
      a.has("activation_beta") ? a.get_floats("activation_beta") : std::vector<float>{};
  size_t next_alpha = 0, next_beta = 0;
  std::vector<RecurrentActivation> out;
  for (const std::string& name : names) {
    const auto it = activation_specs().find(name);
    if (it == activation_specs().end()) throw Error(where + ": activation '" + name + "' is not supported");
    const ActivationSpec& spec = it->second;
    RecurrentActivation f;
    f.form = spec.form;
    float alpha = spec.default_alpha, beta = spec.default_beta;
    if (spec.alpha && next_alpha < alphas.size()) alpha = alphas[next_alpha++];
    if (spec.beta && next_beta < betas.size()) beta = betas[next_beta++];
    f.alpha = alpha;
    f.beta = beta;
    f.unary = UnaryParams{spec.op, alpha, beta, 0.0f};
    out.push_back(f);
  }
  return out;
}

}  // namespace

bool Importer::lower_recurrent(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op != "RNN" && op != "GRU" && op != "LSTM") return false;
  const Attributes a(node);
  const std::string where = describe(node);
  const RecurrentCell cell = op == "RNN"   ? RecurrentCell::rnn
                             : op == "GRU" ? RecurrentCell::gru
                                           : RecurrentCell::lstm;
  if (cell == RecurrentCell::rnn)
    a.expect_only(
        {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout"});
  else if (cell == RecurrentCell::gru)
    a.expect_only({"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
                   "layout", "linear_before_reset"});
  else
    a.expect_only({"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
                   "layout", "input_forget"});

  auto p = std::make_shared<ref::RecurrentParams>();
  p->cell = cell;
  const std::string direction = a.get_string("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    throw Error(where + ": direction '" + direction + "' is not forward, reverse or bidirectional");
  p->directions = direction == "bidirectional" ? 2 : 1;
  p->reverse = direction == "reverse";
  const int64_t layout = a.get_int("layout", 0);
  if (layout != 0 && layout != 1) throw Error(where + ": layout must be 0 or 1");
  p->batch_first = layout == 1;
  p->clip = a.has("clip") ? a.get_float("clip", 0.0f) : 0.0f;
  if (a.has("clip") && !(p->clip > 0.0f)) throw Error(where + ": clip must be positive");
  p->input_forget = a.get_int("input_forget", 0) != 0;
  p->linear_before_reset = a.get_int("linear_before_reset", 0) != 0;
  p->activations = activations(node, a, cell, p->directions, where);

  const ValueId x = as_plain(float_input(node, 0), node);
  const Shape& xs = graph_.value(x).shape;
  if (xs.size() != 3) throw Error(where + ": X must have rank 3, got " + to_string(xs));
  p->steps = p->batch_first ? xs[1] : xs[0];
  p->batch = p->batch_first ? xs[0] : xs[1];
  p->input_size = xs[2];
  const int64_t D = p->directions, G = p->gates();

  // The weights: constants (real values), of the shapes ONNX gives them.
  auto weights = [&](int input, const char* what, const Shape& shape, bool required) {
    std::vector<float> values;
    if (!has_input(node, input)) {
      if (required) throw Error(where + ": input " + what + " is required");
      return values;
    }
    const Symbol& s = symbol(node, input);
    if (s.kind != Symbol::Kind::constant)
      throw Error(where + ": " + what + " '" + node.input(input) +
                  "' is computed at run time; octet takes recurrent weights as constants");
    if (s.constant.shape != shape)
      throw Error(where + ": " + what + " has shape " + to_string(s.constant.shape) + ", expected " +
                  to_string(shape));
    const std::vector<double> real = s.quant ? s.real_values() : std::vector<double>();
    values.resize(static_cast<size_t>(s.constant.size()));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = static_cast<float>(s.quant ? real[i] : s.constant.values[i]);
    return values;
  };
  const Symbol& w_symbol = symbol(node, 1);
  if (w_symbol.kind != Symbol::Kind::constant)
    throw Error(where + ": W '" + node.input(1) +
                "' is computed at run time; octet takes recurrent weights as constants");
  if (w_symbol.constant.shape.size() != 3)
    throw Error(where + ": W has shape " + to_string(w_symbol.constant.shape) + ", expected rank 3");
  const int64_t hidden = w_symbol.constant.shape[1] / G;
  if (a.has("hidden_size") && a.get_int("hidden_size", 0) != hidden)
    throw Error(where + ": hidden_size " + std::to_string(a.get_int("hidden_size", 0)) +
                " does not match W's " + std::to_string(w_symbol.constant.shape[1]) + " rows (" +
                std::to_string(G) + " gates)");
  if (hidden < 1) throw Error(where + ": W has no rows");
  p->hidden_size = hidden;
  const int64_t H = hidden;
  p->w = weights(1, "W", {D, G * H, p->input_size}, true);
  p->r = weights(2, "R", {D, G * H, H}, true);
  p->b = weights(3, "B", {D, 2 * G * H}, false);
  if (p->b.empty()) p->b.assign(static_cast<size_t>(D * 2 * G * H), 0.0f);
  if (cell == RecurrentCell::lstm) {
    p->p = weights(7, "P", {D, 3 * H}, false);
    if (p->p.empty()) p->p.assign(static_cast<size_t>(D * 3 * H), 0.0f);
  }

  // The run-time inputs: X, then the initial states and the lengths where the model gives them.
  RecurrentAttrs attrs;
  std::vector<ValueId> inputs = {x};
  if (has_input(node, 4)) {
    const ValueId lengths = index_input(node, 4);
    attrs.sequence_lens = true;
    // Kept for last (RecurrentAttrs' order); pushed after the states below.
    if (has_input(node, 5)) inputs.push_back(as_plain(float_input(node, 5), node)), attrs.initial_h = true;
    if (cell == RecurrentCell::lstm && has_input(node, 6))
      inputs.push_back(as_plain(float_input(node, 6), node)), attrs.initial_c = true;
    inputs.push_back(lengths);
  } else {
    if (has_input(node, 5)) inputs.push_back(as_plain(float_input(node, 5), node)), attrs.initial_h = true;
    if (cell == RecurrentCell::lstm && has_input(node, 6))
      inputs.push_back(as_plain(float_input(node, 6), node)), attrs.initial_c = true;
  }

  const int outputs = cell == RecurrentCell::lstm ? 3 : 2;
  for (int output = 0; output < std::min(node.output_size(), outputs); ++output) {
    if (node.output(output).empty()) continue;
    auto params = std::make_shared<ref::RecurrentParams>(*p);
    params->output = output == 0   ? ref::RecurrentOutput::sequence
                     : output == 1 ? ref::RecurrentOutput::last_hidden
                                   : ref::RecurrentOutput::last_cell;
    attrs.params = params;
    Value out;
    out.name = node.output(output);
    out.type = ElementType::f32;
    out.shape = ref::recurrent_output_shape(*params);
    static const char* const suffixes[] = {"", "#Y_h", "#Y_c"};
    const std::string name = node.name().empty() ? node.output(output) : node.name() + suffixes[output];
    define_real(node, output, emit(name, op, OpKind::recurrent, inputs, attrs, out));
  }
  return true;
}

}  // namespace octet::graph::onnx_import
