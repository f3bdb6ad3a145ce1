// RNN, GRU and LSTM: the sequence layers after a CNN (CRNN text recognizers and the like), in float with
// constant weights (a DequantizeLinear of a constant is read as its real values). One node per output the
// model uses: Y (every step's hidden state), Y_h or Y_c; each runs the recurrence, which is cheap beside the
// convolutions before it.

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include "graph/onnx/attributes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

namespace {

using ref::RecurrentActivation;
using ref::RecurrentCell;

// Which of alpha and beta each activation ONNX's recurrent operators name takes, and the defaults ONNX
// Runtime gives them: LeakyRelu's, HardSigmoid's and Elu's are their operators'; Affine's, ScaledTanh's and
// ThresholdedRelu's are 0 (ONNX's ThresholdedRelu operator has 1, its recurrent operators name none).
// Names are matched without regard to case, as ONNX Runtime does.
struct ActivationSpec {
  RecurrentActivation::Form form;
  UnaryOp op;
  bool alpha, beta;
  float default_alpha, default_beta;
};

const std::map<std::string, ActivationSpec>& activation_specs() {
  using Form = RecurrentActivation::Form;
  static const std::map<std::string, ActivationSpec> specs = {
      {"sigmoid", {Form::unary, UnaryOp::sigmoid, false, false, 0.0f, 0.0f}},
      {"tanh", {Form::unary, UnaryOp::tanh, false, false, 0.0f, 0.0f}},
      {"relu", {Form::unary, UnaryOp::relu, false, false, 0.0f, 0.0f}},
      {"leakyrelu", {Form::unary, UnaryOp::leaky_relu, true, false, 0.01f, 0.0f}},
      {"thresholdedrelu", {Form::unary, UnaryOp::thresholded_relu, true, false, 0.0f, 0.0f}},
      {"hardsigmoid", {Form::unary, UnaryOp::hard_sigmoid, true, true, 0.2f, 0.5f}},
      {"elu", {Form::unary, UnaryOp::elu, true, false, 1.0f, 0.0f}},
      {"softsign", {Form::unary, UnaryOp::softsign, false, false, 0.0f, 0.0f}},
      {"softplus", {Form::unary, UnaryOp::softplus, false, false, 0.0f, 0.0f}},
      {"affine", {Form::affine, UnaryOp::identity, true, true, 0.0f, 0.0f}},
      {"scaledtanh", {Form::scaled_tanh, UnaryOp::identity, true, true, 0.0f, 0.0f}},
  };
  return specs;
}

std::vector<std::string> string_list(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& attr : node.attribute())
    if (attr.name() == name) return {attr.strings().begin(), attr.strings().end()};
  return {};
}

// The activations of every direction: the model's, or the cell's defaults. As ONNX Runtime reads them: a
// GRU's and an LSTM's alphas and betas are consumed in order by the functions that take them; an RNN's are
// one per direction (activation_alpha[d]), and a one-direction RNN may list two functions (ONNX's schema
// default, "Tanh, Tanh"), of which it takes the first.
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
  if (cell == RecurrentCell::rnn && directions == 1 && names.size() == 2) names.resize(1);
  if (names.size() != per_direction * static_cast<size_t>(directions))
    throw Error(where + ": activations lists " + std::to_string(names.size()) + " functions, expected " +
                std::to_string(per_direction * static_cast<size_t>(directions)));
  const std::vector<float> alphas =
      a.has("activation_alpha") ? a.get_floats("activation_alpha") : std::vector<float>{};
  const std::vector<float> betas =
      a.has("activation_beta") ? a.get_floats("activation_beta") : std::vector<float>{};
  size_t next_alpha = 0, next_beta = 0;
  std::vector<RecurrentActivation> out;
  for (size_t k = 0; k < names.size(); ++k) {
    std::string lower = names[k];
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const auto it = activation_specs().find(lower);
    if (it == activation_specs().end())
      throw Error(where + ": activation '" + names[k] + "' is not supported");
    const ActivationSpec& spec = it->second;
    RecurrentActivation f;
    f.form = spec.form;
    float alpha = spec.default_alpha, beta = spec.default_beta;
    if (cell == RecurrentCell::rnn) {
      if (spec.alpha && k < alphas.size()) alpha = alphas[k];
      if (spec.beta && k < betas.size()) beta = betas[k];
    } else {
      if (spec.alpha && next_alpha < alphas.size()) alpha = alphas[next_alpha++];
      if (spec.beta && next_beta < betas.size()) beta = betas[next_beta++];
    }
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
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    throw Error(where + ": operator domain '" + node.domain() + "' is not supported for " + op);
  // ONNX's inputs (X, W, R, B, sequence_lens, initial_h, then an LSTM's initial_c and P) and outputs (Y, Y_h,
  // then an LSTM's Y_c): anything past them is a malformed node, not something to ignore.
  const int max_inputs = op == "LSTM" ? 8 : 6, max_outputs = op == "LSTM" ? 3 : 2;
  if (node.input_size() > max_inputs)
    throw Error(where + ": has " + std::to_string(node.input_size()) + " inputs; " + op + " takes at most " +
                std::to_string(max_inputs));
  if (node.output_size() > max_outputs)
    throw Error(where + ": has " + std::to_string(node.output_size()) + " outputs; " + op +
                " gives at most " + std::to_string(max_outputs));
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
  attrs.initial_h = has_input(node, 5);
  attrs.initial_c = cell == RecurrentCell::lstm && has_input(node, 6);
  attrs.sequence_lens = has_input(node, 4);
  if (attrs.initial_h) inputs.push_back(as_plain(float_input(node, 5), node));
  if (attrs.initial_c) inputs.push_back(as_plain(float_input(node, 6), node));
  if (attrs.sequence_lens) inputs.push_back(index_input(node, 4));  // last, whatever ONNX's order

  // One node per output that something reads (exporters name all three outputs even where the model reads
  // one): each runs the recurrence, all share the weights.
  attrs.params = p;
  for (int output = 0; output < node.output_size(); ++output) {
    const std::string& name_out = node.output(output);
    if (name_out.empty() || (consumers(name_out).empty() && !is_graph_output(name_out))) continue;
    attrs.output = output == 0   ? ref::RecurrentOutput::sequence
                   : output == 1 ? ref::RecurrentOutput::last_hidden
                                 : ref::RecurrentOutput::last_cell;
    Value out;
    out.name = name_out;
    out.type = ElementType::f32;
    out.shape = ref::recurrent_output_shape(*p, attrs.output);
    static const char* const suffixes[] = {"", "#Y_h", "#Y_c"};
    const std::string name = node.name().empty() ? node.output(output) : node.name() + suffixes[output];
    define_real(node, output, emit(name, op, OpKind::recurrent, inputs, attrs, out));
  }
  return true;
}

}  // namespace octet::graph::onnx_import
