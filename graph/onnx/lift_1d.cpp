#include "graph/onnx/lift_1d.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace octet::graph::onnx_import {

namespace {

// The spatial attributes of the lifted operators and the value of their new height entry.
struct SpatialAttribute {
  const char* name;
  int64_t height;
  bool pairs;  // begin / end halves (pads): one height entry in each
};
constexpr SpatialAttribute kSpatialAttributes[] = {
    {"kernel_shape", 1, false}, {"strides", 1, false},        {"dilations", 1, false},
    {"pads", 0, true},          {"output_padding", 0, false}, {"output_shape", 1, false},
};

struct Operands {
  int data = 0;     // the [N, C, L] input
  int weight = -1;  // the convolution's weights, -1 for pools
};

const std::map<std::string, Operands>& liftable() {
  static const std::map<std::string, Operands> ops = {
      {"Conv", {0, 1}},     {"ConvTranspose", {0, 1}}, {"QLinearConv", {0, 3}},
      {"MaxPool", {0, -1}}, {"AveragePool", {0, -1}},  {"QLinearAveragePool", {0, -1}},
  };
  return ops;
}

class Lifter {
 public:
  Lifter(const onnx::GraphProto& graph, int64_t opset, std::deque<onnx::NodeProto>& storage)
      : graph_(graph), opset_(opset), storage_(storage) {
    for (const auto& t : graph.initializer()) {
      constant_rank_[t.name()] = t.dims_size();
      if (t.dims_size() == 1) constant_length_[t.name()] = t.dims(0);
    }
    for (const auto& node : graph.node()) {
      for (const auto& out : node.output())
        producer_[out] = &node;
      for (const auto& in : node.input())
        ++uses_[in];
      if (node.op_type() == "Constant" && node.output_size() == 1)
        for (const auto& a : node.attribute())
          if (a.name() == "value" && a.has_t()) {
            constant_rank_[node.output(0)] = a.t().dims_size();
            if (a.t().dims_size() == 1) constant_length_[node.output(0)] = a.t().dims(0);
          }
    }
    for (const auto& out : graph.output())
      graph_outputs_.insert(out.name());
    auto declared = [&](const onnx::ValueInfoProto& v) {
      if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
        declared_rank_[v.name()] = v.type().tensor_type().shape().dim_size();
    };
    for (const auto& v : graph.input())
      declared(v);
    for (const auto& v : graph.value_info())
      declared(v);
  }

  std::vector<const onnx::NodeProto*> run() {
    for (const onnx::NodeProto* p : topological_order()) {
      const onnx::NodeProto& node = *p;
      if (replaced_.count(&node)) continue;
      if (node.output_size() < 1 || node.output(0).empty()) {  // the importer reports it
        out_.push_back(&node);
        continue;
      }
      const auto op = liftable().find(node.op_type());
      // A data input known to be of another rank than 3 is not lifted: the importer then names the
      // mismatch between it and the weights (rank-3 weights read by a rank-4 Conv).
      if (op != liftable().end() && spatial_rank(node, op->second) == 1 &&
          data_may_be_rank_3(node, op->second)) {
        lift(node, op->second);
      } else if (is_global_pool(node) && node.input_size() > 0 && rank_of(node.input(0)) == 3) {
        lift(node, Operands{});
      } else if (const std::optional<ResizeOperands> r = resize_of_rank_3(node)) {
        lift(node, Operands{}, &*r);
      } else {
        out_.push_back(&node);
      }
    }
    return out_;
  }

 private:
  // From kernel_shape, else from the rank of constant weights (directly or through a DequantizeLinear); -1
  // when neither tells.
  int64_t spatial_rank(const onnx::NodeProto& node, Operands operands) const {
    for (const auto& a : node.attribute())
      if (a.name() == "kernel_shape") return a.ints_size();
    if (operands.weight < 0 || operands.weight >= node.input_size()) return -1;
    std::string w = node.input(operands.weight);
    if (const auto p = producer_.find(w);
        p != producer_.end() && p->second->op_type() == "DequantizeLinear" && p->second->input_size() > 0)
      w = p->second->input(0);
    const auto r = constant_rank_.find(w);
    return r == constant_rank_.end() ? -1 : r->second - 2;
  }

  bool data_may_be_rank_3(const onnx::NodeProto& node, Operands operands) const {
    if (operands.data >= node.input_size() || node.input(operands.data).empty()) return true;
    const int64_t rank = rank_of(node.input(operands.data));
    return rank < 0 || rank == 3;
  }

  // The nodes with every producer before its consumers (ties in graph order), so that a rank is known
  // before it is asked for even in an unsorted graph; nodes in a cycle or reading a missing tensor follow
  // in graph order, for the importer to report.
  std::vector<const onnx::NodeProto*> topological_order() const {
    std::map<const onnx::NodeProto*, int> waiting;
    std::map<std::string, std::vector<const onnx::NodeProto*>> readers;
    std::vector<const onnx::NodeProto*> order, ready;
    for (const auto& node : graph_.node()) {
      int count = 0;
      for (const auto& in : node.input())
        if (const auto p = producer_.find(in); !in.empty() && p != producer_.end() && p->second != &node) {
          ++count;
          readers[in].push_back(&node);
        }
      waiting[&node] = count;
      if (count == 0) ready.push_back(&node);
    }
    // A FIFO over `ready` by index keeps the graph's order among the nodes available at the same time.
    for (size_t next = 0; next < ready.size(); ++next) {
      order.push_back(ready[next]);
      for (const auto& out : ready[next]->output())
        if (const auto r = readers.find(out); !out.empty() && r != readers.end())
          for (const onnx::NodeProto* reader : r->second)
            if (--waiting[reader] == 0) ready.push_back(reader);
    }
    for (const auto& node : graph_.node())
      if (waiting[&node] > 0) order.push_back(&node);
    return order;
  }

  // Resize (and the deprecated Upsample) has no spatial attributes but per-dimension operands: the region
  // of interest (two entries per dimension), the scales and the sizes. In a rank-3 Resize they gain the
  // height's entries (scale 1, size 1, region 0 to 1), which resize nothing: with one row in and out every
  // coordinate transformation maps the row onto itself.
  struct ResizeOperands {
    int roi = -1, scales = -1, sizes = -1;
  };
  std::optional<ResizeOperands> resize_of_rank_3(const onnx::NodeProto& node) const {
    const bool upsample = node.op_type() == "Upsample";
    if (node.op_type() != "Resize" && !upsample) return std::nullopt;
    if (upsample && node.input_size() < 2) return std::nullopt;  // Upsample-7 / 8: scales an attribute
    // Opset 18's axes / keep_aspect_ratio_policy speak of the rank-3 dimensions: such a node is not lifted.
    for (const auto& a : node.attribute())
      if (a.name() == "axes" || (a.name() == "keep_aspect_ratio_policy" && a.s() != "stretch"))
        return std::nullopt;
    ResizeOperands r;
    if (upsample || opset_ < 11) {
      r.scales = 1;
    } else {
      r.roi = 1, r.scales = 2, r.sizes = 3;
    }
    // Every per-dimension operand given must be a constant of known length (empty, or 3 entries: 6 for the
    // region); the importer reports anything else as it would for any Resize.
    bool three = node.input_size() > 0 && !node.input(0).empty() && rank_of(node.input(0)) == 3;
    for (const auto& [index, entries] :
         {std::pair{r.roi, 6}, std::pair{r.scales, 3}, std::pair{r.sizes, 3}}) {
      if (index < 0 || index >= node.input_size() || node.input(index).empty()) continue;
      const auto length = constant_length_.find(node.input(index));
      if (length == constant_length_.end() || (length->second != 0 && length->second != entries))
        return std::nullopt;
      three = three || (length->second == entries && index != r.roi);
    }
    return three ? std::optional(r) : std::nullopt;
  }

  // A 1-D constant `tensor` with `values` inserted before entry `at` (and, with `second_at` >= 0, `second`
  // before entry `second_at`), as Slice / Concat nodes that the importer folds: the lifter reads no tensor
  // data, so any constant works, wherever its bytes are.
  std::string with_entries(const std::string& base, const std::string& tensor, int64_t length, int64_t at,
                           double value, int64_t second_at, double second, bool integer) {
    const std::string prefix = tensor + "#" + base + "_2d";
    auto constant = [&](const std::string& name, std::vector<double> values, bool as_integer) {
      onnx::NodeProto c;
      c.set_op_type("Constant");
      c.set_name(name);
      c.add_output(name);
      auto* a = c.add_attribute();
      a->set_name("value");
      a->set_type(onnx::AttributeProto::TENSOR);
      a->mutable_t()->add_dims(static_cast<int64_t>(values.size()));
      a->mutable_t()->set_data_type(as_integer ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
      for (double v : values) {
        if (as_integer)
          a->mutable_t()->add_int64_data(static_cast<int64_t>(v));
        else
          a->mutable_t()->add_float_data(static_cast<float>(v));
      }
      add(std::move(c));
      return name;
    };
    std::vector<int64_t> cuts = {0, at};
    if (second_at >= 0) cuts.push_back(second_at);
    cuts.push_back(length);
    onnx::NodeProto concat;
    concat.set_op_type("Concat");
    concat.set_name(prefix + "_concat");
    concat.add_output(prefix);
    auto* axis = concat.add_attribute();
    axis->set_name("axis");
    axis->set_type(onnx::AttributeProto::INT);
    axis->set_i(0);
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
      if (k > 0)
        concat.add_input(constant(prefix + "_entry" + std::to_string(k), {k == 1 ? value : second}, integer));
      if (cuts[k] == cuts[k + 1]) continue;
      onnx::NodeProto slice;
      slice.set_op_type("Slice");
      slice.set_name(prefix + "_part" + std::to_string(k));
      slice.add_input(tensor);
      if (opset_ < 10) {  // Slice-1 (an Upsample-9's scales): starts and ends are attributes
        for (const auto& [attribute, value] :
             {std::pair{"starts", cuts[k]}, std::pair{"ends", cuts[k + 1]}}) {
          auto* a = slice.add_attribute();
          a->set_name(attribute);
          a->set_type(onnx::AttributeProto::INTS);
          a->add_ints(value);
        }
      } else {
        slice.add_input(constant(slice.name() + "_starts", {static_cast<double>(cuts[k])}, true));
        slice.add_input(constant(slice.name() + "_ends", {static_cast<double>(cuts[k + 1])}, true));
      }
      slice.add_output(slice.name());
      concat.add_input(slice.output(0));
      add(std::move(slice));
    }
    add(std::move(concat));
    return prefix;
  }

  static bool is_global_pool(const onnx::NodeProto& node) {
    return node.op_type() == "GlobalAveragePool" || node.op_type() == "GlobalMaxPool" ||
           node.op_type() == "QLinearGlobalAveragePool";
  }

  // The rank of `tensor` where the model declares it (graph inputs, value_info) or it is a constant, or
  // where it comes from a lifted operator (rank 3) through operators that keep the rank of their data
  // input (the higher of two broadcast operands'); -1 when unknown.
  // Memoized: a chain of Add(x, x) would otherwise take 2^depth calls.
  int64_t rank_of(const std::string& tensor, int depth = 0) const {
    if (const auto known = ranks_.find(tensor); known != ranks_.end()) return known->second;
    const int64_t rank = find_rank(tensor, depth);
    if (depth <= kMaxRankDepth) ranks_[tensor] = rank;  // not a guess cut short by the depth limit
    return rank;
  }
  static constexpr int kMaxRankDepth = 64;

  int64_t find_rank(const std::string& tensor, int depth) const {
    if (const auto d = declared_rank_.find(tensor); d != declared_rank_.end()) return d->second;
    if (const auto c = constant_rank_.find(tensor); c != constant_rank_.end()) return c->second;
    if (lifted_outputs_.count(tensor)) return 3;
    static const std::set<std::string> keeps_rank = {"Relu",
                                                     "Clip",
                                                     "QuantizeLinear",
                                                     "DequantizeLinear",
                                                     "Sigmoid",
                                                     "HardSigmoid",
                                                     "HardSwish",
                                                     "LeakyRelu",
                                                     "PRelu",
                                                     "BatchNormalization",
                                                     "Identity",
                                                     "Tanh",
                                                     "Elu",
                                                     "QLinearSigmoid",
                                                     "Dropout",
                                                     "Softplus",
                                                     "Mish",
                                                     "Gelu",
                                                     "QLinearLeakyRelu",
                                                     "Erf"};
    // Broadcast operands: ONNX's Add / Mul, and com.microsoft QLinearAdd / QLinearMul (A at 0, B at 3).
    static const std::map<std::string, std::pair<int, int>> broadcasts = {
        {"Add", {0, 1}}, {"Mul", {0, 1}}, {"QLinearAdd", {0, 3}}, {"QLinearMul", {0, 3}}};
    const onnx::NodeProto* p = producer(tensor);
    if (p == nullptr || depth > kMaxRankDepth) return -1;
    if (keeps_rank.count(p->op_type())) return p->input_size() == 0 ? -1 : rank_of(p->input(0), depth + 1);
    const auto b = broadcasts.find(p->op_type());
    if (b == broadcasts.end() || p->input_size() <= b->second.second) return -1;
    const int64_t first = rank_of(p->input(b->second.first), depth + 1),
                  second = rank_of(p->input(b->second.second), depth + 1);
    return first < 0 || second < 0 ? -1 : std::max(first, second);
  }

  const onnx::NodeProto* producer(const std::string& tensor) const {
    const auto p = producer_.find(tensor);
    return p == producer_.end() ? nullptr : p->second;
  }

  // The single consumer of `tensor`, or null (several, none, or a graph output).
  const onnx::NodeProto* only_consumer(const std::string& tensor) const {
    if (graph_outputs_.count(tensor)) return nullptr;
    const auto u = uses_.find(tensor);
    if (u == uses_.end() || u->second != 1) return nullptr;
    for (const auto& node : graph_.node())
      for (const auto& in : node.input())
        if (in == tensor) return &node;
    return nullptr;
  }

  onnx::NodeProto& add(onnx::NodeProto node) {
    storage_.push_back(std::move(node));
    out_.push_back(&storage_.back());
    return storage_.back();
  }

  // Unsqueeze or Squeeze of axis 2: axes an attribute before opset 13, a Constant node's output from 13.
  const onnx::NodeProto* axis_two(const std::string& op, const std::string& base, const std::string& in,
                                  const std::string& out) {
    onnx::NodeProto n;
    n.set_op_type(op);
    n.set_name(base + "#" + (op == "Unsqueeze" ? "unsqueeze" : "squeeze") + "_1d");
    n.add_input(in);
    n.add_output(out);
    if (opset_ < 13) {
      auto* a = n.add_attribute();
      a->set_name("axes");
      a->set_type(onnx::AttributeProto::INTS);
      a->add_ints(2);
    } else {
      onnx::NodeProto axes;
      axes.set_op_type("Constant");
      axes.set_name(n.name() + "_axes");
      axes.add_output(n.name() + "_axes");
      auto* a = axes.add_attribute();
      a->set_name("value");
      a->set_type(onnx::AttributeProto::TENSOR);
      a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
      a->mutable_t()->add_dims(1);
      a->mutable_t()->add_int64_data(2);
      n.add_input(axes.output(0));
      add(std::move(axes));
    }
    return &add(std::move(n));
  }

  void lift(const onnx::NodeProto& node, Operands operands, const ResizeOperands* resize = nullptr) {
    const std::string base = node.name().empty() ? node.output(0) : node.name();
    onnx::NodeProto lifted = node;
    if (resize != nullptr) {
      for (const auto& [index, entries] :
           {std::pair{resize->roi, 6}, std::pair{resize->scales, 3}, std::pair{resize->sizes, 3}}) {
        if (index < 0 || index >= node.input_size() || node.input(index).empty()) continue;
        if (constant_length_.at(node.input(index)) == 0) continue;  // not given
        if (index == resize->roi)  // starts then ends: the height's region is the whole row, 0 to 1
          lifted.set_input(index, with_entries(base, node.input(index), 6, 2, 0.0, 5, 1.0, false));
        else
          lifted.set_input(index,
                           with_entries(base, node.input(index), 3, 2, 1.0, -1, 0.0, index == resize->sizes));
      }
    }
    for (int i : {operands.data, operands.weight}) {
      if (i < 0 || i >= node.input_size() || node.input(i).empty()) continue;
      if (i == operands.data) {
        if (std::optional<std::string> direct = still_lifted(node, node.input(i))) {
          lifted.set_input(i, *direct);
          continue;
        }
      }
      const std::string lifted_input = node.input(i) + "#" + base + "_2d";
      const onnx::NodeProto* dq = i == operands.weight ? producer(node.input(i)) : nullptr;
      if (dq != nullptr && dq->op_type() == "DequantizeLinear" && dq->input_size() > 0) {
        // Quantized weights: the int8 data gains the dimension before its DequantizeLinear (a copy of it:
        // the original may have other consumers), so that they stay int8 weights with their scales.
        onnx::NodeProto weights = *dq;
        const std::string data = dq->input(0) + "#" + base + "_2d";
        axis_two("Unsqueeze", base + "_" + std::to_string(i), dq->input(0), data);
        weights.set_input(0, data);
        weights.set_name(dq->name() + "#" + base + "_2d");
        weights.set_output(0, lifted_input);
        add(std::move(weights));
      } else {
        axis_two("Unsqueeze", base + "_" + std::to_string(i), node.input(i), lifted_input);
      }
      lifted.set_input(i, lifted_input);
    }
    for (auto& a : *lifted.mutable_attribute())
      for (const SpatialAttribute& s : kSpatialAttributes) {
        if (a.name() != s.name) continue;
        auto old = a.ints();
        a.clear_ints();
        const int half = s.pairs ? old.size() / 2 : old.size();
        a.add_ints(s.height);
        for (int k = 0; k < old.size(); ++k) {
          if (s.pairs && k == half) a.add_ints(s.height);
          a.add_ints(old[k]);
        }
      }
    // The fused chain after a float-output operator: [Relu | Clip]* -> QuantizeLinear, each the only
    // consumer of the tensor before it.
    std::vector<const onnx::NodeProto*> chain;
    if (node.op_type() != "QLinearConv" && node.op_type() != "QLinearAveragePool") {
      std::string t = node.output(0);
      std::vector<const onnx::NodeProto*> steps;
      while (const onnx::NodeProto* next = only_consumer(t)) {
        if (next->input_size() < 1 || next->input(0) != t || next->output_size() < 1) break;
        if (next->op_type() == "Relu" || next->op_type() == "Clip") {
          steps.push_back(next);
          t = next->output(0);
          continue;
        }
        if (next->op_type() == "QuantizeLinear") {
          steps.push_back(next);
          chain = steps;
        }
        break;
      }
    }
    const std::string final_output = chain.empty() ? node.output(0) : chain.back()->output(0);
    std::string t = node.output(0) + "#2d";
    lifted.set_output(0, t);
    add(std::move(lifted));
    for (const onnx::NodeProto* step : chain) {
      onnx::NodeProto renamed = *step;
      renamed.set_input(0, t);
      t = step->output(0) + "#2d";
      renamed.set_output(0, t);
      add(std::move(renamed));
      drop(step);  // also where it came before the operator in an unsorted graph
    }
    lifted_[final_output] = {t, axis_two("Squeeze", base, t, final_output)};
    lifted_outputs_.insert(final_output);
  }

  // Consecutive lifted operators: where `tensor` is the Squeeze of a lifted operator's result (directly, or
  // through a DequantizeLinear) read by `node` alone, `node` may read the [N, C, 1, L] tensor before the
  // Squeeze instead, and the Squeeze (and the DequantizeLinear, then taken over by a copy) goes: without it,
  // each layer would convert the layout out of channel-last and back.
  std::optional<std::string> still_lifted(const onnx::NodeProto& node, const std::string& tensor) {
    if (only_consumer(tensor) != &node) return std::nullopt;
    if (const auto l = lifted_.find(tensor); l != lifted_.end()) {
      drop(l->second.squeeze);
      return l->second.four_d;
    }
    const onnx::NodeProto* dq = producer(tensor);
    if (dq == nullptr || dq->op_type() != "DequantizeLinear" || dq->input_size() < 1) return std::nullopt;
    const auto l = lifted_.find(dq->input(0));
    if (l == lifted_.end() || only_consumer(dq->input(0)) != dq) return std::nullopt;
    drop(l->second.squeeze);
    drop(dq);
    onnx::NodeProto copy = *dq;
    copy.set_input(0, l->second.four_d);
    const std::string out = tensor + "#2d";
    copy.set_output(0, out);
    add(std::move(copy));
    return out;
  }

  // Removes `node` from the output, or keeps it out if it comes later.
  void drop(const onnx::NodeProto* node) {
    std::erase(out_, node);
    replaced_.insert(node);
  }

  const onnx::GraphProto& graph_;
  const int64_t opset_;
  std::deque<onnx::NodeProto>& storage_;
  std::map<std::string, int> constant_rank_;
  std::map<std::string, int64_t> constant_length_;  // of the 1-D constants
  std::map<std::string, const onnx::NodeProto*> producer_;
  std::map<std::string, int> uses_;
  std::set<std::string> graph_outputs_;
  std::set<const onnx::NodeProto*> replaced_;
  std::map<std::string, int64_t> declared_rank_;
  mutable std::map<std::string, int64_t> ranks_;  // rank_of's answers
  std::set<std::string> lifted_outputs_;          // the [N, C, L] results of lifted operators
  struct Lifted {
    std::string four_d;              // the tensor before the Squeeze
    const onnx::NodeProto* squeeze;  // in storage_
  };
  std::map<std::string, Lifted> lifted_;
  std::vector<const onnx::NodeProto*> out_;
};

}  // namespace

std::vector<const onnx::NodeProto*> lift_one_dimensional(const onnx::GraphProto& graph, int64_t opset,
                                                         std::deque<onnx::NodeProto>& storage) {
  return Lifter(graph, opset, storage).run();
}

}  // namespace octet::graph::onnx_import
