#include "graph/quantize/qdq_plan.h"

#include <algorithm>
#include <optional>

#include "graph/onnx/attributes.h"
#include "graph/onnx/elementwise_ops.h"
#include "graph/quantize/model_edit.h"
#include "kernels/error.h"

namespace octet::graph::quantize {

namespace {

using onnx_import::Attributes;

// The elementwise operators octet evaluates into lookup tables: the importer's own list.
const std::set<std::string>& elementwise_ops() {
  return onnx_import::table_elementwise_ops();
}

// Operators octet runs on uint8 data that read their data from input 0 (Concat: every input).
const std::set<std::string>& structural_ops() {
  static const std::set<std::string> ops = {"MaxPool", "GlobalMaxPool",  "AveragePool",  "GlobalAveragePool",
                                            "Resize",  "Softmax",        "Reshape",      "Flatten",
                                            "Squeeze", "Unsqueeze",      "Transpose",    "Slice",
                                            "Pad",     "Gather",         "Expand",       "Tile",
                                            "Split",   "DepthToSpace",   "SpaceToDepth", "Dropout",
                                            "Concat",  "GatherElements", "GatherND"};
  return ops;
}

// Of those, the ones whose output values are some of their input's values (or, for Resize, interpolate
// between them): the output takes the input's params, so no requantization happens.
bool shares_input_params(const std::string& op) {
  return op != "AveragePool" && op != "GlobalAveragePool" && op != "Softmax" && op != "Concat";
}

class Planner {
 public:
  Planner(const onnx::GraphProto& graph, const std::set<std::string>& float_tensors,
          const PlanOptions& options)
      : graph_(graph),
        float_tensors_(float_tensors),
        options_(options),
        initializers_(initializers_of(graph)) {
    for (int i = 0; i < graph.node_size(); ++i) {
      for (const auto& in : graph.node(i).input())
        if (!in.empty()) consumers_[in].push_back(i);
      for (const auto& out : graph.node(i).output())
        if (!out.empty()) producer_[out] = i;
    }
    for (const auto& o : graph.output())
      graph_outputs_.insert(o.name());
    std::set<std::string> node_names;
    for (const auto& node : graph.node())
      node_names.insert(node.name());
    for (const auto& name : options.exclude)
      if (!node_names.count(name)) throw Error("--exclude: the model has no node named '" + name + "'");
  }

  QdqPlan run() {
    const auto n = static_cast<size_t>(graph_.node_size());
    plan_.roles.assign(n, NodeRole::float_op);
    for (int i = 0; i < graph_.node_size(); ++i)
      classify(i);
    find_table_groups();
    absorb_activations();
    collect_quantized_tensors();
    return std::move(plan_);
  }

 private:
  bool is_initializer(const std::string& t) const { return initializers_.count(t) > 0; }
  bool is_variable_float(const std::string& t) const {
    return !t.empty() && float_tensors_.count(t) && !is_initializer(t);
  }
  bool is_scalar_initializer(const std::string& t) const {
    const auto it = initializers_.find(t);
    if (it == initializers_.end()) return false;
    int64_t count = 1;
    for (const int64_t d : it->second->dims())
      count *= d;
    return count == 1;
  }
  bool touches_float(const onnx::NodeProto& node) const {
    for (const auto& in : node.input())
      if (is_variable_float(in)) return true;
    for (const auto& out : node.output())
      if (is_variable_float(out)) return true;
    return false;
  }
  // A node left in float is reported when it computes on float values; Shape and Size only read a
  // tensor's dimensions (integer work that no quantizer changes).
  void stay_float(int i, const std::string& reason) {
    plan_.roles[static_cast<size_t>(i)] = NodeRole::float_op;
    const std::string& op = graph_.node(i).op_type();
    if (touches_float(graph_.node(i)) && op != "Shape" && op != "Size") plan_.float_reasons[i] = reason;
  }
  std::vector<int> consumers(const std::string& t) const {
    const auto it = consumers_.find(t);
    return it == consumers_.end() ? std::vector<int>{} : it->second;
  }

  void classify(int i) {
    const onnx::NodeProto& node = graph_.node(i);
    const std::string& op = node.op_type();
    if (!(node.domain().empty() || node.domain() == "ai.onnx"))
      return stay_float(i, "operator of domain '" + node.domain() + "'");
    if (options_.exclude.count(node.name())) return stay_float(i, "excluded by the user (--exclude)");
    if (op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul") return classify_weighted(i);
    if (elementwise_ops().count(op)) return classify_elementwise(i);
    if (structural_ops().count(op)) return classify_structural(i);
    stay_float(i, "octet has no int8 kernel for " + op);
  }

  void classify_weighted(int i) {
    const onnx::NodeProto& node = graph_.node(i);
    const std::string& op = node.op_type();
    if (node.input_size() < 2 || !is_variable_float(node.input(0)))
      return stay_float(i, "its input is not a float tensor computed by the model");
    const auto w = float_initializer(graph_, node.input(1));
    if (!w) return stay_float(i, "its weights are not a float constant");
    const Attributes a(node);
    WeightedNode wn;
    int64_t channels = 0;
    int64_t taps = 1;
    for (size_t d = 2; d < w->shape.size(); ++d)
      taps *= w->shape[d];
    if (op == "Conv") {
      if (w->shape.size() < 3) return stay_float(i, "its weights are not a convolution kernel");
      wn.axis = 0, channels = w->shape[0];
      wn.reduction = w->shape[1] * taps;
    } else if (op == "ConvTranspose") {
      if (w->shape.size() < 3) return stay_float(i, "its weights are not a convolution kernel");
      const int64_t groups = a.get_int("group", 1);
      wn.axis = groups == 1 ? 1 : -1, channels = w->shape[1] * groups;
      wn.reduction = w->shape[0] / std::max<int64_t>(groups, 1) * taps;
    } else {
      if (w->shape.size() != 2) return stay_float(i, "its weights are not a 2-D matrix");
      if (op == "Gemm") {
        if (a.get_int("transA", 0) != 0) return stay_float(i, "Gemm with transA = 1");
        if (a.get_float("alpha", 1.0f) != 1.0f ||
            (node.input_size() > 2 && a.get_float("beta", 1.0f) != 1.0f))
          return stay_float(i, "Gemm with alpha or beta other than 1");
        wn.axis = a.get_int("transB", 0) != 0 ? 0 : 1;
      } else {
        wn.axis = 1;
      }
      channels = w->shape[static_cast<size_t>(wn.axis)];
      wn.reduction = w->shape[wn.axis == 0 ? 1 : 0];
    }
    if (op != "MatMul" && node.input_size() > 2 && !node.input(2).empty()) {
      const auto b = float_initializer(graph_, node.input(2));
      if (!b || static_cast<int64_t>(b->values.size()) != channels)
        return stay_float(i, "its bias is not a float constant with one value per output channel");
      wn.bias_input = 2;
    }
    if (!options_.per_channel_weights) wn.axis = -1;
    plan_.roles[static_cast<size_t>(i)] = NodeRole::weighted;
    plan_.weighted[i] = wn;
  }

  void classify_elementwise(int i) {
    const onnx::NodeProto& node = graph_.node(i);
    int variables = 0;
    bool constants_scalar = true;
    for (const auto& in : node.input()) {
      if (in.empty()) continue;
      if (is_variable_float(in)) {
        ++variables;
      } else if (is_initializer(in)) {
        constants_scalar &= is_scalar_initializer(in);
      } else {
        return stay_float(i, "an input is neither a float tensor nor a constant");
      }
    }
    if (variables == 0) return stay_float(i, "computes on constants only");
    if (node.output_size() != 1 || !is_variable_float(node.output(0)))
      return stay_float(i, "its output is not a float tensor");
    table_candidate_[i] = constants_scalar;
    if (!constants_scalar)
      classify_binary(i);  // a tensor with a constant of any shape
    else
      plan_.roles[static_cast<size_t>(i)] = NodeRole::table;  // groups are settled in find_table_groups()
  }

  // Add / Mul of two different tensors, or of a tensor and a constant of any shape (Sub: tensor - constant).
  void classify_binary(int i) {
    const onnx::NodeProto& node = graph_.node(i);
    const std::string& op = node.op_type();
    const bool ok = node.input_size() == 2 &&
                    (op == "Add" || op == "Mul" ||
                     (op == "Sub" && is_variable_float(node.input(0)) && is_initializer(node.input(1))));
    if (!ok) {
      table_candidate_.erase(i);
      return stay_float(i, "octet has no int8 kernel for " + op + " of these operands");
    }
    table_candidate_.erase(i);
    plan_.roles[static_cast<size_t>(i)] = NodeRole::quantized;
  }

  void classify_structural(int i) {
    const onnx::NodeProto& node = graph_.node(i);
    const std::string& op = node.op_type();
    if (node.input_size() == 0) return stay_float(i, "has no input");
    const int data_inputs = op == "Concat" ? node.input_size() : 1;
    for (int k = 0; k < data_inputs; ++k)
      if (!is_variable_float(node.input(k)))
        return stay_float(i, "its data is not a float tensor computed by the model");
    for (int k = data_inputs; k < node.input_size(); ++k)
      if (is_variable_float(node.input(k))) return stay_float(i, "a float parameter computed at run time");
    int float_outputs = 0;
    for (const auto& out : node.output())
      float_outputs += is_variable_float(out);
    if (float_outputs == 0) return stay_float(i, "its output is not a float tensor");
    if (op == "MaxPool" && node.output_size() > 1 && !node.output(1).empty())
      return stay_float(i, "MaxPool with an indices output");
    if (op == "Dropout" && node.output_size() > 1 && !node.output(1).empty())
      return stay_float(i, "Dropout with a mask output");
    if (op == "Pad" && node.input_size() > 2 && !node.input(2).empty()) {
      const auto v = float_initializer(graph_, node.input(2));
      if (!v || v->values.size() != 1 || v->values[0] != 0.0f)
        return stay_float(i, "Pad with a value other than 0");
    }
    plan_.roles[static_cast<size_t>(i)] = NodeRole::quantized;
  }

  // Groups of elementwise operators that compute from one tensor: each group's tensors trace back to one
  // root; a tensor leaving its group (read by anything else, or a graph output) is an exit, quantized, and
  // the root of what computes from it next. Exits and roots depend on each other, so this settles by
  // repetition (a handful of rounds on any real graph).
  void find_table_groups() {
    std::set<std::string> exits;
    for (int round = 0; round < 8; ++round) {
      root_.clear();
      for (const auto& [i, scalar_only] : table_candidate_) {
        (void)scalar_only;
        const onnx::NodeProto& node = graph_.node(i);
        std::set<std::string> roots;
        for (const auto& in : node.input())
          if (is_variable_float(in)) roots.insert(exits.count(in) || !root_.count(in) ? in : root_.at(in));
        if (roots.size() == 1) {
          plan_.roles[static_cast<size_t>(i)] = NodeRole::table;
          plan_.float_reasons.erase(i);
          root_[node.output(0)] = *roots.begin();
        } else {
          const std::string& op = node.op_type();
          if (op == "Add" || op == "Mul") {
            plan_.roles[static_cast<size_t>(i)] = NodeRole::quantized;
            plan_.float_reasons.erase(i);
          } else {
            stay_float(i, "octet has no int8 kernel for " + op + " of two different tensors");
          }
        }
      }
      std::set<std::string> next;
      for (const auto& [t, r] : root_) {
        bool leaves = graph_outputs_.count(t) > 0;
        for (const int c : consumers(t)) {
          const bool continues = plan_.roles[static_cast<size_t>(c)] == NodeRole::table &&
                                 root_.count(graph_.node(c).output(0)) &&
                                 root_.at(graph_.node(c).output(0)) == (exits.count(t) ? t : r);
          leaves |= !continues;
        }
        if (leaves) next.insert(t);
      }
      if (next == exits) break;
      exits = std::move(next);
    }
    exits_ = std::move(exits);
  }

  // A quantized operator's output that runs through Relu / Clip nodes alone: they join the operator (its
  // quantized output's range clamps), and the pair goes after the last of them.
  void absorb_activations() {
    for (int i = 0; i < graph_.node_size(); ++i) {
      const NodeRole role = plan_.roles[static_cast<size_t>(i)];
      if (role != NodeRole::weighted && role != NodeRole::quantized) continue;
      const onnx::NodeProto& node = graph_.node(i);
      if (node.output_size() != 1) continue;
      std::string t = node.output(0);
      while (!graph_outputs_.count(t)) {
        const auto cs = consumers(t);
        if (cs.size() != 1) break;
        const onnx::NodeProto& next = graph_.node(cs[0]);
        const bool activation = (next.op_type() == "Relu" || next.op_type() == "Clip") &&
                                next.input(0) == t && !options_.exclude.count(next.name()) &&
                                plan_.roles[static_cast<size_t>(cs[0])] == NodeRole::table;
        if (!activation) break;
        bool constant_bounds = true;
        for (int k = 1; k < next.input_size(); ++k)
          constant_bounds &= next.input(k).empty() || is_initializer(next.input(k));
        if (!constant_bounds) break;
        plan_.roles[static_cast<size_t>(cs[0])] = NodeRole::absorbed;
        t = next.output(0);
      }
      output_of_[i] = t;
    }
  }

  void add_quantized(const std::string& t) {
    if (quantized_.insert(t).second) plan_.quantized_tensors.push_back(t);
  }

  void collect_quantized_tensors() {
    for (int i = 0; i < graph_.node_size(); ++i) {
      const onnx::NodeProto& node = graph_.node(i);
      switch (plan_.roles[static_cast<size_t>(i)]) {
        case NodeRole::weighted:
          add_quantized(node.input(0));
          add_quantized(output_of_.at(i));
          plan_.produced_quantized.insert(output_of_.at(i));
          break;
        case NodeRole::quantized: {
          const std::string& op = node.op_type();
          const bool structural = structural_ops().count(op) > 0;
          const int data_inputs = !structural || op == "Concat" ? node.input_size() : 1;
          for (int k = 0; k < data_inputs; ++k)
            if (is_variable_float(node.input(k))) add_quantized(node.input(k));
          if (output_of_.count(i)) {
            const std::string& out = output_of_.at(i);
            add_quantized(out);
            plan_.produced_quantized.insert(out);
            if (out == node.output(0)) {
              if (structural && shares_input_params(op)) plan_.shares_params_of[out] = node.input(0);
              if (op == "Softmax") plan_.fixed_unit_range.insert(out);
            }
          } else {
            for (const auto& out : node.output()) {
              if (!is_variable_float(out)) continue;
              add_quantized(out);
              plan_.produced_quantized.insert(out);
              if (structural && shares_input_params(op)) plan_.shares_params_of[out] = node.input(0);
            }
          }
          break;
        }
        case NodeRole::table:
          for (const auto& in : node.input())
            if (is_variable_float(in) && (exits_.count(in) || !root_.count(in))) add_quantized(in);
          if (exits_.count(node.output(0))) {
            add_quantized(node.output(0));
            plan_.produced_quantized.insert(node.output(0));
          }
          break;
        case NodeRole::absorbed:
        case NodeRole::float_op:
          break;
      }
    }
    // Graph order: inputs first, then each node's outputs.
    std::map<std::string, size_t> order;
    for (const auto& in : graph_.input())
      order.emplace(in.name(), order.size());
    for (const auto& node : graph_.node())
      for (const auto& out : node.output())
        order.emplace(out, order.size());
    std::stable_sort(plan_.quantized_tensors.begin(), plan_.quantized_tensors.end(),
                     [&](const std::string& a, const std::string& b) { return order[a] < order[b]; });
  }

  const onnx::GraphProto& graph_;
  const std::set<std::string>& float_tensors_;
  const PlanOptions& options_;
  std::map<std::string, const onnx::TensorProto*> initializers_;
  std::map<std::string, std::vector<int>> consumers_;
  std::map<std::string, int> producer_;
  std::set<std::string> graph_outputs_;
  std::map<int, bool> table_candidate_;      // elementwise nodes with scalar constants only
  std::map<std::string, std::string> root_;  // table outputs -> the tensor their group computes from
  std::set<std::string> exits_;
  std::map<int, std::string> output_of_;  // quantized node -> its output after absorbed activations
  std::set<std::string> quantized_;
  QdqPlan plan_;
};

}  // namespace

QdqPlan plan_qdq(const onnx::GraphProto& graph, const std::set<std::string>& float_tensors,
                 const PlanOptions& options) {
  return Planner(graph, float_tensors, options).run();
}

}  // namespace octet::graph::quantize
