#include "graph/quantize/prepare.h"

#include <onnx/version_converter/convert.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <map>
#include <set>

#include "graph/onnx/attributes.h"
#include "graph/quantize/model_edit.h"
#include "kernels/error.h"

namespace octet::graph::quantize {

namespace {

using onnx_import::describe;

// Per-channel DequantizeLinear (the axis attribute) arrived in opset 13.
constexpr int64_t kTargetOpset = 13;

void reject_quantized(const onnx::GraphProto& graph) {
  static const std::set<std::string> quantized_ops = {"QuantizeLinear",    "DequantizeLinear",
                                                      "QLinearConv",       "QLinearMatMul",
                                                      "ConvInteger",       "MatMulInteger",
                                                      "QLinearAdd",        "QLinearMul",
                                                      "QLinearConcat",     "QLinearGlobalAveragePool",
                                                      "QLinearSigmoid",    "QLinearLeakyRelu",
                                                      "QLinearSoftmax",    "DynamicQuantizeLinear",
                                                      "QLinearAveragePool"};
  for (const auto& node : graph.node())
    if (quantized_ops.count(node.op_type()))
      throw Error(describe(node) + ": the model is already quantized; octet quantize takes a float model");
}

// A Constant node's value as an initializer named after its output; false for the forms kept as nodes
// (sparse tensors, strings).
bool constant_as_initializer(const onnx::NodeProto& node, onnx::TensorProto& out) {
  if (node.output_size() != 1 || node.attribute_size() != 1) return false;
  const onnx::AttributeProto& a = node.attribute(0);
  out.Clear();
  if (a.name() == "value" && a.has_t()) {
    out = a.t();
  } else if (a.name() == "value_float") {
    out.set_data_type(onnx::TensorProto::FLOAT);
    out.add_float_data(a.f());
  } else if (a.name() == "value_floats") {
    out.set_data_type(onnx::TensorProto::FLOAT);
    out.add_dims(a.floats_size());
    for (const float f : a.floats())
      out.add_float_data(f);
  } else if (a.name() == "value_int") {
    out.set_data_type(onnx::TensorProto::INT64);
    out.add_int64_data(a.i());
  } else if (a.name() == "value_ints") {
    out.set_data_type(onnx::TensorProto::INT64);
    out.add_dims(a.ints_size());
    for (const int64_t i : a.ints())
      out.add_int64_data(i);
  } else {
    return false;
  }
  out.set_name(node.output(0));
  return true;
}

void constants_to_initializers(onnx::GraphProto& graph) {
  std::set<std::string> named;
  for (const auto& init : graph.initializer())
    named.insert(init.name());
  auto* nodes = graph.mutable_node();
  for (int i = 0; i < nodes->size();) {
    const onnx::NodeProto& node = nodes->Get(i);
    onnx::TensorProto value;
    if ((node.domain().empty() || node.domain() == "ai.onnx") && node.op_type() == "Constant" &&
        !named.count(node.output(0)) && constant_as_initializer(node, value)) {
      named.insert(value.name());
      *graph.add_initializer() = std::move(value);
      nodes->DeleteSubrange(i, 1);
    } else {
      ++i;
    }
  }
}

// Identity of an initializer (how PyTorch exports a parameter used twice): its readers read the
// initializer itself, so that weights are found as constants. Kept where it is a graph output or a subgraph
// reads it by name.
void bypass_constant_identities(onnx::GraphProto& graph) {
  std::set<std::string> initializers;
  for (const auto& init : graph.initializer())
    initializers.insert(init.name());
  std::set<std::string> outputs = names_read_in_subgraphs(graph);
  for (const auto& o : graph.output())
    outputs.insert(o.name());
  std::map<std::string, std::string> replaced;
  auto* nodes = graph.mutable_node();
  for (int i = 0; i < nodes->size();) {
    const onnx::NodeProto& node = nodes->Get(i);
    if (node.op_type() == "Identity" && node.domain().empty() && node.input_size() == 1 &&
        node.output_size() == 1 && initializers.count(node.input(0)) && !outputs.count(node.output(0))) {
      replaced[node.output(0)] = node.input(0);
      nodes->DeleteSubrange(i, 1);
    } else {
      ++i;
    }
  }
  for (auto& node : *graph.mutable_node())
    for (auto& in : *node.mutable_input())
      if (const auto it = replaced.find(in); it != replaced.end()) in = it->second;
}

std::map<std::string, std::vector<int>> consumers_of(const onnx::GraphProto& graph) {
  std::map<std::string, std::vector<int>> out;
  for (int i = 0; i < graph.node_size(); ++i)
    for (const auto& in : graph.node(i).input())
      if (!in.empty()) out[in].push_back(i);
  return out;
}

bool is_graph_output(const onnx::GraphProto& graph, const std::string& name) {
  for (const auto& o : graph.output())
    if (o.name() == name) return true;
  return false;
}

// Folds BatchNormalization into the Conv before it when the Conv's output feeds nothing else and every
// parameter is a constant: W'[o] = W[o] * s[o], b'[o] = (b[o] - mean[o]) * s[o] + beta[o],
// s = gamma / sqrt(var + epsilon), in double.
std::vector<std::string> fold_batch_norms(onnx::GraphProto& graph) {
  std::vector<std::string> folded;
  UniqueNames names(graph);
  const auto consumers = consumers_of(graph);
  // The convolution's own output changes: not where a subgraph reads it too.
  const std::set<std::string> read_in_subgraphs = names_read_in_subgraphs(graph);
  std::set<int> removed;
  for (int b = 0; b < graph.node_size(); ++b) {
    const onnx::NodeProto& bn = graph.node(b);
    if (bn.op_type() != "BatchNormalization" || bn.input_size() != 5 || bn.output_size() < 1) continue;
    if (bn.output_size() > 1) {
      bool extra_used = false;
      for (int o = 1; o < bn.output_size(); ++o)
        extra_used |= !bn.output(o).empty();
      if (extra_used) continue;  // training-mode statistics are requested: not an inference BN
    }
    const std::string& x = bn.input(0);
    const auto cs = consumers.find(x);
    if (cs == consumers.end() || cs->second.size() != 1 || is_graph_output(graph, x) ||
        read_in_subgraphs.count(x))
      continue;
    int conv_index = -1;
    for (int n = 0; n < b; ++n)
      for (const auto& o : graph.node(n).output())
        if (o == x) conv_index = n;
    if (conv_index < 0 || removed.count(conv_index)) continue;
    onnx::NodeProto& conv = *graph.mutable_node(conv_index);
    if (conv.op_type() != "Conv" || conv.input_size() < 2) continue;
    const auto w = float_initializer(graph, conv.input(1));
    if (!w || w->shape.size() < 3) continue;
    const int64_t channels = w->shape[0];
    std::vector<std::optional<FloatInitializer>> p;
    for (int i = 1; i <= 4; ++i)
      p.push_back(float_initializer(graph, bn.input(i)));
    bool ok = true;
    for (const auto& v : p)
      ok &= v && static_cast<int64_t>(v->values.size()) == channels;
    std::optional<FloatInitializer> bias;
    if (conv.input_size() > 2 && !conv.input(2).empty()) {
      bias = float_initializer(graph, conv.input(2));
      ok &= bias && static_cast<int64_t>(bias->values.size()) == channels;
    }
    if (!ok) continue;
    const double epsilon = onnx_import::Attributes(bn).get_float("epsilon", 1e-5f);
    const size_t per_channel = w->values.size() / static_cast<size_t>(channels);
    std::vector<float> weights(w->values.size());
    std::vector<float> biases(static_cast<size_t>(channels));
    for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
      const double s = double{p[0]->values[c]} / std::sqrt(double{p[3]->values[c]} + epsilon);
      for (size_t k = 0; k < per_channel; ++k)
        weights[c * per_channel + k] = static_cast<float>(w->values[c * per_channel + k] * s);
      const double b0 = bias ? bias->values[c] : 0.0;
      biases[c] = static_cast<float>((b0 - p[2]->values[c]) * s + p[1]->values[c]);
    }
    const std::string w_name = names.make(conv.input(1) + "_bnfold");
    const std::string b_name =
        names.make((conv.input_size() > 2 && !conv.input(2).empty() ? conv.input(2) : conv.name() + "_bias") +
                   "_bnfold");
    *graph.add_initializer() = make_float_tensor(w_name, w->shape, weights);
    *graph.add_initializer() = make_float_tensor(b_name, {channels}, biases);
    conv.set_input(1, w_name);
    if (conv.input_size() > 2)
      conv.set_input(2, b_name);
    else
      conv.add_input(b_name);
    conv.set_output(0, bn.output(0));
    folded.push_back(bn.name());
    removed.insert(b);
  }
  auto* nodes = graph.mutable_node();
  for (auto it = removed.rbegin(); it != removed.rend(); ++it)
    nodes->DeleteSubrange(*it, 1);
  return folded;
}

}  // namespace

PreparedModel prepare_float_model(std::span<const std::byte> bytes) {
  PreparedModel out;
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) throw Error("model file is larger than 2 GiB");
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  if (!out.proto.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    throw Error("not a valid ONNX model: the protobuf could not be parsed (truncated or corrupt file?)");
  if (!out.proto.has_graph() || out.proto.graph().node_size() == 0) throw Error("the model has no nodes");
  reject_quantized(out.proto.graph());
  out.original_opset = default_opset(out.proto);
  if (out.original_opset < kTargetOpset) {
    try {
      out.proto = onnx::version_conversion::ConvertVersion(out.proto, static_cast<int>(kTargetOpset));
    } catch (const std::exception& e) {
      throw Error("the model's opset " + std::to_string(out.original_opset) +
                  " could not be converted to opset 13, which per-channel quantization needs: " + e.what());
    }
  }
  constants_to_initializers(*out.proto.mutable_graph());
  bypass_constant_identities(*out.proto.mutable_graph());
  out.folded_batch_norms = fold_batch_norms(*out.proto.mutable_graph());
  drop_unused_initializers(*out.proto.mutable_graph());
  return out;
}

std::vector<std::byte> serialize_with_outputs(const onnx::ModelProto& model,
                                              const std::vector<std::string>& extra_outputs,
                                              const std::map<std::string, std::string>& described_by) {
  onnx::ModelProto copy = model;
  std::set<std::string> present;
  for (const auto& o : copy.graph().output())
    present.insert(o.name());
  // A dequantized copy is declared as the value_info of the float tensor it copies says, where that is a
  // float32 tensor (its type and shape describe an output computed after a stage that placeholders cannot
  // compile); everything else by name only: a declared type octet does not compute (a Cast to double in
  // shape arithmetic) would make the observing run fail.
  std::map<std::string, const onnx::ValueInfoProto*> known;
  for (const auto& v : model.graph().value_info())
    known[v.name()] = &v;
  for (const auto& name : extra_outputs) {
    if (!present.insert(name).second) continue;
    const auto like = described_by.find(name);
    const auto it = like == described_by.end() ? known.end() : known.find(like->second);
    if (it != known.end() && it->second->type().tensor_type().elem_type() == onnx::TensorProto::FLOAT) {
      *copy.mutable_graph()->add_output() = *it->second;
      copy.mutable_graph()->mutable_output()->rbegin()->set_name(name);
    } else {
      copy.mutable_graph()->add_output()->set_name(name);
    }
  }

  std::vector<std::byte> bytes(copy.ByteSizeLong());
  if (!copy.SerializeToArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error("the model could not be serialized (larger than 2 GiB?)");
  return bytes;
}

std::vector<std::string> computed_tensors(const onnx::ModelProto& model) {
  std::vector<std::string> out;
  std::set<std::string> initializers;
  for (const auto& init : model.graph().initializer())
    initializers.insert(init.name());
  // A node output that nothing reads needs no range, and may be one octet does not compute (a Dropout's
  // mask, which torch declares in Swin's attention): exposing it would make the observing run fail.
  std::set<std::string> read = names_read_in_subgraphs(model.graph());
  for (const auto& node : model.graph().node())
    read.insert(node.input().begin(), node.input().end());
  for (const auto& o : model.graph().output())
    read.insert(o.name());
  for (const auto& in : model.graph().input())
    if (!initializers.count(in.name())) out.push_back(in.name());
  for (const auto& node : model.graph().node())
    for (const auto& o : node.output())
      if (!o.empty() && !initializers.count(o) && read.count(o)) out.push_back(o);
  return out;
}

std::vector<std::string> computed_constant_weights(const onnx::GraphProto& graph) {
  std::set<std::string> reached;  // tensors that depend on a graph input
  for (const auto& in : graph.input())
    reached.insert(in.name());
  for (const auto& init : graph.initializer())
    reached.erase(init.name());  // older models list initializers as inputs too
  std::set<std::string> produced;
  for (const auto& node : graph.node()) {
    bool from_input = false;
    for (const auto& in : node.input())
      from_input |= reached.count(in) > 0;
    // A node with no inputs is a constant only if it is one (random generators are not).
    if (node.input_size() == 0 && node.op_type() != "Constant") from_input = true;
    for (const auto& out : node.output()) {
      if (from_input) reached.insert(out);
      produced.insert(out);
    }
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& node : graph.node()) {
    const std::string& op = node.op_type();
    if (!(node.domain().empty() || node.domain() == "ai.onnx")) continue;
    if (op != "Conv" && op != "ConvTranspose" && op != "Gemm" && op != "MatMul") continue;
    for (int k = 1; k < std::min(node.input_size(), 3); ++k) {
      const std::string& t = node.input(k);
      if (!t.empty() && produced.count(t) && !reached.count(t) && seen.insert(t).second) out.push_back(t);
    }
  }
  return out;
}

void materialize_constants(onnx::GraphProto& graph, const std::map<std::string, ConstantValue>& values) {
  if (values.empty()) return;
  for (const auto& [name, v] : values)
    *graph.add_initializer() = make_float_tensor(name, v.shape, v.values);
  // Each materialized tensor's producer no longer produces it; then drop nodes whose outputs nothing reads.
  for (auto& node : *graph.mutable_node())
    for (auto& out : *node.mutable_output())
      if (values.count(out)) out.clear();
  std::set<std::string> graph_outputs;
  for (const auto& o : graph.output())
    graph_outputs.insert(o.name());
  for (bool removed = true; removed;) {
    removed = false;
    std::set<std::string> read;
    for (const auto& node : graph.node())
      for (const auto& in : node.input())
        read.insert(in);
    auto* nodes = graph.mutable_node();
    for (int i = nodes->size() - 1; i >= 0; --i) {
      bool used = false;
      for (const auto& out : nodes->Get(i).output())
        used |= !out.empty() && (read.count(out) || graph_outputs.count(out));
      if (!used) {
        nodes->DeleteSubrange(i, 1);
        removed = true;
      }
    }
  }
  drop_unused_initializers(graph);
}

}  // namespace octet::graph::quantize
