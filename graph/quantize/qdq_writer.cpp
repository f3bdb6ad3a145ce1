#include "graph/quantize/qdq_writer.h"

#include <algorithm>
#include <optional>
#include <set>
#include <span>

#include "graph/quantize/model_edit.h"
#include "kernels/error.h"
#include "kernels/quantization/element_type.h"
#include "kernels/quantization/quantize.h"

namespace octet::graph::quantize {

namespace {

onnx::NodeProto make_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                          const std::string& output) {
  onnx::NodeProto node;
  node.set_op_type(op);
  node.set_name(name);
  for (auto& in : inputs)
    node.add_input(std::move(in));
  node.add_output(output);
  return node;
}

void set_axis(onnx::NodeProto& node, int64_t axis) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name("axis");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(axis);
}

class Writer {
 public:
  Writer(const onnx::ModelProto& prepared, const QdqPlan& plan,
         const std::map<std::string, calibration::ActivationParams>& params)
      : source_(prepared.graph()), plan_(plan), params_(params), names_(prepared.graph()) {
    result_.proto = prepared;
    for (const auto& o : source_.output())
      graph_outputs_.insert(o.name());
  }

  QdqModel run() {
    onnx::GraphProto& graph = *result_.proto.mutable_graph();
    std::vector<onnx::NodeProto> nodes(source_.node().begin(), source_.node().end());
    // Where each quantized tensor's pair goes: after its producer, or first for graph inputs.
    std::map<std::string, int> producer;
    for (int i = 0; i < source_.node_size(); ++i)
      for (const auto& out : source_.node(i).output())
        producer[out] = i;
    std::map<int, std::vector<onnx::NodeProto>> after;  // node index (-1: graph start) -> pair nodes
    for (const std::string& t : plan_.quantized_tensors) {
      const auto p = params_.find(t);
      if (p == params_.end()) throw Error("quantize: no params for tensor '" + t + "'");
      const bool produced_quantized = plan_.produced_quantized.count(t) > 0;
      std::string source = t;
      std::string dequantized = names_.make(t + "_dequantized");
      const auto prod = producer.find(t);
      if (graph_outputs_.count(t) && produced_quantized && prod != producer.end()) {
        // The graph output keeps its name and becomes the dequantized int8 result.
        source = names_.make(t + "_float");
        for (auto& out : *nodes[static_cast<size_t>(prod->second)].mutable_output())
          if (out == t) out = source;
        dequantized = t;
      }
      const std::string scale = names_.make(t + "_scale");
      const std::string zero_point = names_.make(t + "_zero_point");
      const std::string quantized = names_.make(t + "_quantized");
      *graph.add_initializer() = make_float_tensor(scale, {}, {p->second.scale});
      *graph.add_initializer() =
          make_uint8_tensor(zero_point, {}, {static_cast<uint8_t>(p->second.zero_point)});
      auto& slot = after[prod == producer.end() ? -1 : prod->second];
      slot.push_back(make_node("QuantizeLinear", names_.make(t + "_QuantizeLinear"),
                               {source, scale, zero_point}, quantized));
      slot.push_back(make_node("DequantizeLinear", names_.make(t + "_DequantizeLinear"),
                               {quantized, scale, zero_point}, dequantized));
      result_.dequantized_name[t] = dequantized;
      // Consumers: quantized operators read the dequantized tensor; float ones too when the producer is
      // quantized (the float tensor no longer exists), else the exact float tensor.
      for (size_t i = 0; i < nodes.size(); ++i) {
        const bool quantized_reader = plan_.roles[i] != NodeRole::float_op;
        if (!quantized_reader && !produced_quantized) continue;
        for (auto& in : *nodes[i].mutable_input())
          if (in == t) in = dequantized;
      }
    }
    std::map<int, std::vector<onnx::NodeProto>> before;  // weight and bias DequantizeLinear nodes
    for (const auto& [i, w] : plan_.weighted)
      quantize_weights(source_.node(i), nodes[static_cast<size_t>(i)], w, before[i]);
    for (int i = 0; i < source_.node_size(); ++i) {
      const std::string& op = source_.node(i).op_type();
      if (plan_.roles[static_cast<size_t>(i)] == NodeRole::quantized &&
          (op == "Add" || op == "Mul" || op == "Sub"))
        quantize_constant_operands(nodes[static_cast<size_t>(i)], before[i]);
    }

    graph.clear_node();
    for (auto& n : after[-1])
      *graph.add_node() = std::move(n);
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (auto& n : before[static_cast<int>(i)])
        *graph.add_node() = std::move(n);
      *graph.add_node() = std::move(nodes[i]);
      for (auto& n : after[static_cast<int>(i)])
        *graph.add_node() = std::move(n);
    }
    drop_unused_initializers(graph);
    return std::move(result_);
  }

 private:
  // `original` is the node as the float model has it, `node` its copy being rewritten.
  void quantize_weights(const onnx::NodeProto& original, onnx::NodeProto& node, const WeightedNode& w,
                        std::vector<onnx::NodeProto>& dq_nodes) {
    onnx::GraphProto& graph = *result_.proto.mutable_graph();
    const auto p = params_.find(original.input(0));
    if (p == params_.end()) throw Error("quantize: no params for the input of node '" + node.name() + "'");
    const auto weights = float_initializer(source_, node.input(w.weight_input));
    std::optional<FloatInitializer> bias;
    if (w.bias_input >= 0) bias = float_initializer(source_, node.input(w.bias_input));
    if (!weights || (w.bias_input >= 0 && !bias))
      throw Error("quantize: node '" + node.name() + "' lost its constant weights");
    const calibration::QuantizedWeights q = calibration::quantize_weights(
        weights->values, weights->shape, w.axis,
        bias ? std::span<const float>(bias->values) : std::span<const float>{}, p->second.scale, w.reduction);
    if (!q.raised_channels.empty()) result_.raised_weight_scales[node.name()] = q.raised_channels;

    const std::string w_name = node.input(w.weight_input);
    const bool per_channel = w.axis >= 0;
    const std::vector<int64_t> scale_shape =
        per_channel ? std::vector<int64_t>{static_cast<int64_t>(q.scales.size())} : std::vector<int64_t>{};
    const std::string wq = names_.make(w_name + "_quantized");
    const std::string ws = names_.make(w_name + "_scale");
    const std::string wz = names_.make(w_name + "_zero_point");
    const std::string wd = names_.make(w_name + "_dequantized");
    *graph.add_initializer() = make_int8_tensor(wq, weights->shape, q.values);
    *graph.add_initializer() = make_float_tensor(ws, scale_shape, q.scales);
    *graph.add_initializer() = make_int8_tensor(wz, scale_shape, std::vector<int8_t>(q.scales.size(), 0));
    onnx::NodeProto dq =
        make_node("DequantizeLinear", names_.make(w_name + "_DequantizeLinear"), {wq, ws, wz}, wd);
    if (per_channel) set_axis(dq, w.axis);
    dq_nodes.push_back(std::move(dq));
    node.set_input(w.weight_input, wd);

    if (!bias) return;
    const std::string b_name = node.input(w.bias_input);
    const std::string bq = names_.make(b_name + "_quantized");
    const std::string bs = names_.make(b_name + "_scale");
    const std::string bz = names_.make(b_name + "_zero_point");
    const std::string bd = names_.make(b_name + "_dequantized");
    // One scale when the weights have one (every channel's bias scale is then the same).
    const std::vector<float> bias_scales =
        per_channel ? q.bias_scales : std::vector<float>{q.bias_scales.at(0)};
    const std::vector<int64_t> bias_scale_shape =
        per_channel ? std::vector<int64_t>{static_cast<int64_t>(bias_scales.size())} : std::vector<int64_t>{};
    *graph.add_initializer() = make_int32_tensor(bq, bias->shape, q.bias);
    *graph.add_initializer() = make_float_tensor(bs, bias_scale_shape, bias_scales);
    *graph.add_initializer() =
        make_int32_tensor(bz, bias_scale_shape, std::vector<int32_t>(bias_scales.size(), 0));
    onnx::NodeProto bdq =
        make_node("DequantizeLinear", names_.make(b_name + "_DequantizeLinear"), {bq, bs, bz}, bd);
    // The channel axis of the bias is its last (Conv [C]; Gemm [N] or [1, N]).
    if (per_channel) set_axis(bdq, static_cast<int64_t>(bias->shape.size()) - 1);
    dq_nodes.push_back(std::move(bdq));
    node.set_input(w.bias_input, bd);
  }

  // A float constant operand of a quantized Add / Mul / Sub (a per-channel bias or scale, say) becomes
  // uint8 with its own per-tensor params (its range widened to hold 0) behind a DequantizeLinear: octet's
  // quantized add and mul take 8-bit operands.
  void quantize_constant_operands(onnx::NodeProto& node, std::vector<onnx::NodeProto>& dq_nodes) {
    onnx::GraphProto& graph = *result_.proto.mutable_graph();
    for (auto& input : *node.mutable_input()) {
      const auto c = float_initializer(source_, input);
      if (!c) continue;
      calibration::Range range;
      for (const float v : c->values)
        range.lo = std::min(range.lo, double{v}), range.hi = std::max(range.hi, double{v});
      const calibration::ActivationParams p = calibration::uint8_params(range);
      std::vector<uint8_t> q(c->values.size());
      for (size_t k = 0; k < q.size(); ++k)
        q[k] = static_cast<uint8_t>(
            quantize_value(c->values[k], p.scale, p.zero_point, range_of(ElementType::u8)));
      const std::string cq = names_.make(input + "_quantized");
      const std::string cs = names_.make(input + "_scale");
      const std::string cz = names_.make(input + "_zero_point");
      const std::string cd = names_.make(input + "_dequantized");
      *graph.add_initializer() = make_uint8_tensor(cq, c->shape, q);
      *graph.add_initializer() = make_float_tensor(cs, {}, {p.scale});
      *graph.add_initializer() = make_uint8_tensor(cz, {}, {static_cast<uint8_t>(p.zero_point)});
      dq_nodes.push_back(
          make_node("DequantizeLinear", names_.make(input + "_DequantizeLinear"), {cq, cs, cz}, cd));
      input = cd;
    }
  }

  const onnx::GraphProto& source_;
  const QdqPlan& plan_;
  const std::map<std::string, calibration::ActivationParams>& params_;
  UniqueNames names_;
  std::set<std::string> graph_outputs_;
  QdqModel result_;
};

}  // namespace

QdqModel write_qdq(const onnx::ModelProto& prepared, const QdqPlan& plan,
                   const std::map<std::string, calibration::ActivationParams>& params) {
  return Writer(prepared, plan, params).run();
}

}  // namespace octet::graph::quantize
