// Stage planning of models with data-dependent shapes (graph/stages.h).

#include "graph/stages.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "graph/onnx/attributes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph {

namespace {

using onnx_import::describe;

bool default_domain(const onnx::NodeProto& node) {
  return node.domain().empty() || node.domain() == "ai.onnx";
}

bool is_data_dependent(const onnx::NodeProto& node) {
  return default_domain(node) &&
         (node.op_type() == "NonZero" || node.op_type() == "NonMaxSuppression" || node.op_type() == "If" ||
          node.op_type() == "Compress" || node.op_type() == "Loop");
}

// The tensors of the enclosing scope that a subgraph reads (its nested subgraphs' reads included): names
// it reads that neither it nor a subgraph inside it defines.
void defined_in(const onnx::GraphProto& g, std::set<std::string>& names) {
  for (const auto& in : g.input())
    names.insert(in.name());
  for (const auto& init : g.initializer())
    names.insert(init.name());
  for (const auto& n : g.node()) {
    names.insert(n.output().begin(), n.output().end());
    for (const auto& a : n.attribute()) {
      if (a.has_g()) defined_in(a.g(), names);
      for (const auto& sub : a.graphs())
        defined_in(sub, names);
    }
  }
}

void read_in(const onnx::GraphProto& g, std::vector<std::string>& names) {
  for (const auto& out : g.output())  // a branch may give an enclosing tensor as it is
    names.push_back(out.name());
  for (const auto& n : g.node()) {
    names.insert(names.end(), n.input().begin(), n.input().end());
    for (const auto& a : n.attribute()) {
      if (a.has_g()) read_in(a.g(), names);
      for (const auto& sub : a.graphs())
        read_in(sub, names);
    }
  }
}

std::vector<std::string> outer_reads(const onnx::GraphProto& g) {
  std::set<std::string> defined;
  defined_in(g, defined);
  std::vector<std::string> read, out;
  read_in(g, read);
  for (const std::string& name : read)
    if (!name.empty() && !defined.count(name) && std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(name);
  return out;
}

// Everything a node reads: its inputs, then what its subgraphs read from the enclosing scope.
std::vector<std::string> all_reads(const onnx::NodeProto& node) {
  std::vector<std::string> reads(node.input().begin(), node.input().end());
  for (const auto& a : node.attribute()) {
    std::vector<const onnx::GraphProto*> subgraphs;
    if (a.has_g()) subgraphs.push_back(&a.g());
    for (const auto& sub : a.graphs())
      subgraphs.push_back(&sub);
    for (const onnx::GraphProto* sub : subgraphs)
      for (const std::string& name : outer_reads(*sub))
        if (std::find(reads.begin(), reads.end(), name) == reads.end()) reads.push_back(name);
  }
  return reads;
}

// Whether input `input` of `node` is an operand the importer needs as a constant because it sets the output's
// shape or the operator's layout (Reshape's shape, Slice's starts, TopK's K, Resize's sizes, Range's
// bounds, ...). Where such an operand is computed from run-time data, the node goes to a later stage that
// is compiled for the operand's value (graph/stages.h).
bool sets_shape(const onnx::NodeProto& node, int input, int64_t opset) {
  if (!default_domain(node)) return false;
  const std::string& op = node.op_type();
  if (op == "Reshape" || op == "Expand" || op == "Tile" || op == "Squeeze" || op == "Unsqueeze" ||
      op == "Split" || op == "TopK" || op == "CumSum" || op == "Upsample" || op.rfind("Reduce", 0) == 0)
    return input == 1;
  if (op == "Slice") return input >= 1 && input <= 4;
  if (op == "Pad") return input >= 1 && input <= 3;
  // Opset 10's Resize takes scales second; from opset 11 roi (which octet's modes do not read), scales,
  // sizes.
  if (op == "Resize") return opset < 11 ? input == 1 : input == 2 || input == 3;
  if (op == "ConstantOfShape") return input == 0;
  if (op == "Range") return input <= 2;
  return false;
}

bool reads_shape_only(const onnx::NodeProto& node) {
  return default_domain(node) && (node.op_type() == "Shape" || node.op_type() == "Size");
}

// What planning knows of a tensor.
struct TensorPlace {
  int level = 0;           // the stage from which it exists
  bool is_static = false;  // computed from constants and shapes alone: a compile folds it
  int producer = -1;       // node index, -1 for graph inputs and initializers
};

// What writing an If's branches or a Loop's body as models of their own reads from the enclosing model and
// its plan.
struct Enclosing {
  const onnx::ModelProto& model;
  const onnx_import::InitializerRawData& raw;
  const std::map<std::string, int>& producer;
  const std::map<std::string, TensorPlace>& places;
  const std::vector<bool>& anchored;                   // per node: Shape / Size of a run-time tensor
  const std::vector<std::vector<std::string>>& reads;  // per node: all it reads
};

// An If's branch or a Loop's body as a model. What it reads from the enclosing graph: initializers and
// Constant nodes are copied in, and so are nodes computed from constants alone (with what they read), so
// that the branch folds them as the enclosing graph would; a Shape or Size of a run-time tensor comes in
// as a constant when the branch runs (constant_inputs); anything else is a run-time input (inputs). The
// subgraph's own inputs (a Loop body's) are left for the caller to declare.
DynamicNode::Branch write_branch(const onnx::NodeProto& node, const onnx::GraphProto& body,
                                 const Enclosing& e) {
  const onnx::GraphProto& g = e.model.graph();
  DynamicNode::Branch branch;
  onnx::ModelProto m;
  m.set_ir_version(e.model.ir_version());
  *m.mutable_opset_import() = e.model.opset_import();
  onnx::GraphProto& out = *m.mutable_graph();
  out.set_name(body.name().empty() ? node.name() + "_branch" : body.name());
  std::set<std::string> brought;
  std::function<void(const std::string&)> bring = [&](const std::string& name) {
    if (name.empty() || !brought.insert(name).second) return;
    for (int i = 0; i < g.initializer_size(); ++i) {
      if (g.initializer(i).name() != name) continue;
      onnx::TensorProto& t = *out.add_initializer() = g.initializer(i);
      if (const auto& raw = e.raw[static_cast<size_t>(i)]; raw && !t.has_raw_data())
        t.set_raw_data(raw->data(), raw->size());
      return;
    }
    const auto it = e.producer.find(name);
    if (it == e.producer.end()) {
      branch.inputs.push_back(name);  // a graph input
      return;
    }
    const auto p = static_cast<size_t>(it->second);
    const onnx::NodeProto& source = g.node(it->second);
    const auto place = e.places.find(name);
    const bool constant_only = place != e.places.end() && place->second.is_static && !e.anchored[p];
    if (source.op_type() == "Constant" || constant_only) {
      for (const auto& in : e.reads[p])
        bring(in);
      brought.insert(source.output().begin(), source.output().end());
      *out.add_node() = source;
    } else if (e.anchored[p]) {
      branch.constant_inputs.push_back(name);
    } else {
      branch.inputs.push_back(name);
    }
  };
  for (const std::string& name : outer_reads(body))
    bring(name);
  for (const auto& init : body.initializer())  // the branch's own constants
    *out.add_initializer() = init;
  for (const auto& n : body.node())
    *out.add_node() = n;
  *out.mutable_output() = body.output();
  // A subgraph may give one tensor as two of its outputs (a Loop's carried value and its scan output); a
  // model's outputs are distinct, so the repeats become copies.
  std::set<std::string> given;
  for (int k = 0; k < out.output_size(); ++k) {
    onnx::ValueInfoProto& o = *out.mutable_output(k);
    if (given.insert(o.name()).second) continue;
    const std::string copy = o.name() + "#output" + std::to_string(k);
    onnx::NodeProto& identity = *out.add_node();
    identity.set_op_type("Identity");
    identity.set_name(copy);
    identity.add_input(o.name());
    identity.add_output(copy);
    o.set_name(copy);
  }
  branch.model = m.SerializeAsString();
  return branch;
}

// The enclosing tensors that a node's subgraphs read, added once each to its inputs.
void add_subgraph_reads(DynamicNode& d, const DynamicNode::Branch& b, size_t own_inputs = 0) {
  for (const auto* names : {&b.inputs, &b.constant_inputs})
    for (size_t i = names == &b.inputs ? own_inputs : 0; i < names->size(); ++i)
      if (std::find(d.inputs.begin(), d.inputs.end(), (*names)[i]) == d.inputs.end())
        d.inputs.push_back((*names)[i]);
}

DynamicNode if_node(const onnx::NodeProto& node, const Enclosing& e) {
  if (node.input_size() != 1 || node.input(0).empty())
    throw Error(describe(node) + ": takes one input (cond)");
  if (node.output_size() < 1) throw Error(describe(node) + ": has no output");
  const onnx::GraphProto* then_body = nullptr;
  const onnx::GraphProto* else_body = nullptr;
  for (const auto& a : node.attribute()) {
    if (a.name() == "then_branch" && a.has_g()) then_body = &a.g();
    if (a.name() == "else_branch" && a.has_g()) else_body = &a.g();
  }
  if (!then_body || !else_body) throw Error(describe(node) + ": needs both then_branch and else_branch");
  DynamicNode d;
  d.op = DynamicNode::Op::if_branch;
  d.name = node.name().empty() ? node.output(0) : node.name();
  d.onnx_op = node.op_type();
  d.outputs.assign(node.output().begin(), node.output().end());
  for (const onnx::GraphProto* body : {then_body, else_body})
    if (body->output_size() != node.output_size())
      throw Error(describe(node) + ": a branch has " + std::to_string(body->output_size()) +
                  " outputs, the If " + std::to_string(node.output_size()));
  d.then_branch = write_branch(node, *then_body, e);
  d.else_branch = write_branch(node, *else_body, e);
  d.inputs = {node.input(0)};
  add_subgraph_reads(d, d.then_branch);
  add_subgraph_reads(d, d.else_branch);
  return d;
}

// The loop-carried values that `body` only appends to (DynamicNode::appended_by): v_out = Concat(v, piece)
// with axis 0, v read by no other node (nor any subgraph inside the body) and not given as an output, v_out
// read by no node and given once, as v's next value. Each such Concat is taken out and the body gives
// `piece` in v_out's place.
std::vector<std::string> take_appends(onnx::GraphProto& body, int carried) {
  std::vector<std::string> appended_by(static_cast<size_t>(carried));
  auto readers = [&](const std::string& name) {
    std::vector<int> found;
    for (int n = 0; n < body.node_size(); ++n) {
      const std::vector<std::string> reads = all_reads(body.node(n));
      if (std::find(reads.begin(), reads.end(), name) != reads.end()) found.push_back(n);
    }
    return found;
  };
  auto given = [&](const std::string& name) {
    return std::count_if(body.output().begin(), body.output().end(),
                         [&](const onnx::ValueInfoProto& o) { return o.name() == name; });
  };
  for (int k = 0; k < carried; ++k) {
    const std::string& v = body.input(2 + k).name();
    const std::string v_out = body.output(1 + k).name();
    const std::vector<int> v_readers = readers(v);
    if (v_readers.size() != 1 || given(v) != 0) continue;
    const onnx::NodeProto& concat = body.node(v_readers[0]);
    if (concat.op_type() != "Concat" || !concat.domain().empty() || concat.input_size() != 2 ||
        concat.input(0) != v || concat.input(1).empty() || concat.input(1) == v ||
        concat.output_size() != 1 || concat.output(0) != v_out)
      continue;
    try {  // (an axis of the wrong type is the importer's to report, on the Concat left in place)
      const onnx_import::Attributes attrs(concat);
      if (!attrs.has("axis") || attrs.get_int("axis", -1) != 0) continue;
    } catch (const Error&) {
      continue;
    }
    if (!readers(v_out).empty() || given(v_out) != 1) continue;
    appended_by[static_cast<size_t>(k)] = concat.name().empty() ? v_out : concat.name();
    const std::string piece = concat.input(1);
    body.mutable_node()->DeleteSubrange(v_readers[0], 1);
    onnx::ValueInfoProto& out = *body.mutable_output(1 + k);
    const int elem_type = out.type().has_tensor_type() ? out.type().tensor_type().elem_type() : 0;
    out.Clear();
    out.set_name(piece);
    if (elem_type != 0) out.mutable_type()->mutable_tensor_type()->set_elem_type(elem_type);
  }
  return appended_by;
}

// Loop(M, cond, v_initial...): the body runs while the iteration number is below M and its condition holds
// (either may be absent, not both); it takes (iteration_num, cond, v...) and gives (cond, v..., scan...).
DynamicNode loop_node(const onnx::NodeProto& node, const Enclosing& e) {
  if (node.input_size() < 2)
    throw Error(describe(node) + ": takes at least two inputs (M and cond, either of them \"\")");
  const onnx::GraphProto* body = nullptr;
  for (const auto& a : node.attribute())
    if (a.name() == "body" && a.has_g()) body = &a.g();
  if (!body) throw Error(describe(node) + ": has no body graph");
  if (node.input(0).empty() && node.input(1).empty())
    throw Error(describe(node) + ": has neither a trip count (M) nor a condition, so it would never end");
  const int carried = node.input_size() - 2;
  for (int i = 2; i < node.input_size(); ++i)
    if (node.input(i).empty())
      throw Error(describe(node) + ": loop-carried input " + std::to_string(i - 2) + " is empty");
  if (body->input_size() != carried + 2)
    throw Error(describe(node) + ": its body takes " + std::to_string(body->input_size()) + " inputs; with " +
                std::to_string(carried) + " loop-carried values it must take " + std::to_string(carried + 2) +
                " (iteration number, condition, then the values)");
  if (body->output_size() < carried + 1)
    throw Error(describe(node) + ": its body gives " + std::to_string(body->output_size()) +
                " outputs; it must give the condition and the " + std::to_string(carried) +
                " loop-carried values, then any scan outputs");
  const int scans = body->output_size() - 1 - carried;
  if (node.output_size() < 1 || node.output(0).empty())
    throw Error(describe(node) + ": has no output (its first output must be named)");
  if (node.output_size() != carried + scans)
    throw Error(describe(node) + ": has " + std::to_string(node.output_size()) + " outputs; its body gives " +
                std::to_string(carried) + " loop-carried values and " + std::to_string(scans) +
                " scan outputs");
  std::vector<std::string> own;
  for (const auto& in : body->input()) {
    if (in.name().empty() || std::find(own.begin(), own.end(), in.name()) != own.end())
      throw Error(describe(node) + ": its body's inputs need distinct, non-empty names");
    own.push_back(in.name());
  }
  DynamicNode d;
  d.op = DynamicNode::Op::loop;
  d.name = node.name().empty() ? node.output(0) : node.name();
  d.onnx_op = node.op_type();
  d.outputs.assign(node.output().begin(), node.output().end());
  d.loop_carried = static_cast<size_t>(carried);
  // What the model declares each output to be: the enclosing graph's outputs and value_info, else the body's.
  const onnx::GraphProto& g = e.model.graph();
  auto declared_type = [&](const std::string& name, const onnx::ValueInfoProto& in_body) {
    for (const auto* list : {&g.output(), &g.value_info()})
      for (const auto& v : *list)
        if (v.name() == name && v.type().has_tensor_type()) return v.type().tensor_type().elem_type();
    return in_body.type().has_tensor_type() ? in_body.type().tensor_type().elem_type() : 0;
  };
  for (int k = 0; k < node.output_size(); ++k)
    d.int32_outputs.push_back(declared_type(node.output(k), body->output(1 + k)) == onnx::TensorProto::INT32);
  onnx::GraphProto written = *body;
  d.appended_by = take_appends(written, carried);
  d.body = write_branch(node, written, e);
  d.body.inputs.insert(d.body.inputs.begin(), own.begin(), own.end());
  d.inputs.assign(node.input().begin(), node.input().end());
  add_subgraph_reads(d, d.body, own.size());
  return d;
}

DynamicNode compress_node(const onnx::NodeProto& node) {
  if (node.input_size() != 2 || node.input(0).empty() || node.input(1).empty())
    throw Error(describe(node) + ": takes two inputs (input, condition)");
  if (node.output_size() != 1 || node.output(0).empty()) throw Error(describe(node) + ": has one output");
  DynamicNode d;
  d.op = DynamicNode::Op::compress;
  d.name = node.name().empty() ? node.output(0) : node.name();
  d.onnx_op = node.op_type();
  d.inputs.assign(node.input().begin(), node.input().end());
  d.outputs = {node.output(0)};
  const onnx_import::Attributes attrs(node);
  if (attrs.has("axis")) d.axis = attrs.get_int("axis", 0);
  return d;
}

DynamicNode dynamic_node(const onnx::NodeProto& node, const Enclosing& e) {
  if (node.op_type() == "If") return if_node(node, e);
  if (node.op_type() == "Loop") return loop_node(node, e);
  if (node.op_type() == "Compress") return compress_node(node);
  const onnx::GraphProto& g = e.model.graph();
  const std::map<std::string, int>& producer = e.producer;
  const bool nms = node.op_type() == "NonMaxSuppression";
  if (node.output_size() != 1 || node.output(0).empty()) throw Error(describe(node) + ": has one output");
  if (node.input_size() < (nms ? 2 : 1) || node.input_size() > (nms ? 5 : 1))
    throw Error(describe(node) + ": takes " + (nms ? "2 to 5 inputs (boxes, scores, ...)" : "one input") +
                ", got " + std::to_string(node.input_size()));
  if (node.input(0).empty() || (nms && node.input(1).empty()))
    throw Error(describe(node) + ": input " + (node.input(0).empty() ? "0" : "1") + " is required");
  DynamicNode d;
  d.name = node.name().empty() ? node.output(0) : node.name();
  d.onnx_op = node.op_type();
  d.inputs.assign(node.input().begin(), node.input().end());
  d.outputs = {node.output(0)};
  d.op = nms ? DynamicNode::Op::non_max_suppression : DynamicNode::Op::non_zero;
  // NonZero tests ONNX's integers. An int8 tensor from a QuantizeLinear is held as uint8 q + 128 inside
  // octet, whose bytes are not those integers.
  if (const auto it = producer.find(node.input(0)); !nms && it != producer.end()) {
    const onnx::NodeProto& q = g.node(it->second);
    if (q.op_type() == "QuantizeLinear" && q.input_size() > 2)
      for (const auto& init : g.initializer())
        if (init.name() == q.input(2) && init.data_type() == onnx::TensorProto::INT8)
          throw Error(describe(node) + ": reads the int8 output of QuantizeLinear '" + q.name() +
                      "'; octet evaluates NonZero on float32, int32, int64, bool and uint8 tensors");
  }
  const onnx_import::Attributes attrs(node);
  if (nms) {
    d.center_point_box = attrs.get_int("center_point_box", 0);
    if (d.center_point_box != 0 && d.center_point_box != 1)
      throw Error(describe(node) + ": center_point_box must be 0 or 1, got " +
                  std::to_string(d.center_point_box));
  }
  return d;
}

StagePlan::Declared declared(const onnx::ValueInfoProto& v) {
  StagePlan::Declared d;
  if (!v.type().has_tensor_type()) return d;
  const auto& t = v.type().tensor_type();
  switch (t.elem_type()) {
    case onnx::TensorProto::FLOAT:
      d.type = ElementType::f32;
      break;
    case onnx::TensorProto::INT64:
      d.type = ElementType::s64;
      break;
    case onnx::TensorProto::INT32:
      d.type = ElementType::s32;
      break;
    case onnx::TensorProto::BOOL:
      d.type = ElementType::b8;
      break;
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT8:
      d.type = ElementType::u8;
      break;
    default:
      break;
  }
  if (t.has_shape()) d.rank = t.shape().dim_size();
  return d;
}

void add_once(std::vector<std::string>& list, const std::string& name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

}  // namespace

StagePlan plan_stages(std::span<const std::byte> bytes) {
  onnx::ModelProto model;
  onnx_import::InitializerRawData raw;
  try {
    model = onnx_import::parse_model_file(bytes, raw);
  } catch (const Error&) {
    return {};  // importing reports it
  }
  const onnx::GraphProto& g = model.graph();
  const int node_count = g.node_size();
  int64_t opset = 1;
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = entry.version();
  std::map<std::string, TensorPlace> places;
  for (const auto& init : g.initializer())
    places[init.name()] = {0, true, -1};
  std::vector<std::string> graph_inputs;
  for (const auto& in : g.input())
    if (!places.count(in.name())) {
      places[in.name()] = {0, false, -1};
      graph_inputs.push_back(in.name());
    }
  std::map<std::string, int> producer;
  for (int i = 0; i < node_count; ++i)
    for (const auto& out : g.node(i).output()) {
      if (out.empty()) continue;
      if (producer.count(out) || places.count(out)) return {};
      producer[out] = i;
    }

  // What each node reads, its subgraphs' reads of this graph included (an If's branches).
  std::vector<std::vector<std::string>> reads;
  for (int i = 0; i < node_count; ++i)
    reads.push_back(all_reads(g.node(i)));

  // Topological order (Kahn); a cycle or an input nothing produces is left to the importer to report.
  std::vector<int> waiting(static_cast<size_t>(node_count), 0);
  std::map<std::string, std::vector<int>> readers;
  std::deque<int> ready;
  for (int i = 0; i < node_count; ++i) {
    const onnx::NodeProto& node = g.node(i);
    for (const auto& in : reads[static_cast<size_t>(i)]) {
      if (in.empty() || places.count(in)) continue;
      if (!producer.count(in)) {
        // An operand of the node itself is the importer's to report; a name only a subgraph reads is not
        // (the node would be lowered whole and refused for its type).
        if (std::find(node.input().begin(), node.input().end(), in) != node.input().end()) return {};
        throw Error(describe(node) + ": a subgraph reads '" + in +
                    "', which no node, initializer or graph input of the enclosing graph produces");
      }
      ++waiting[static_cast<size_t>(i)];
      readers[in].push_back(i);
    }
    if (waiting[static_cast<size_t>(i)] == 0) ready.push_back(i);
  }
  std::vector<int> order;
  while (!ready.empty()) {
    const int i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (const auto& out : g.node(i).output())
      for (int r : readers[out])
        if (--waiting[static_cast<size_t>(r)] == 0) ready.push_back(r);
  }
  if (static_cast<int>(order.size()) != node_count) return {};

  // Levels, in topological order.
  std::vector<int> node_level(static_cast<size_t>(node_count), 0);
  std::vector<bool> node_static(static_cast<size_t>(node_count), false);
  std::vector<bool> anchored(static_cast<size_t>(node_count), false);  // Shape / Size of a run-time tensor
  // Tensors computed from run-time data that set a shape, and the nodes that read each so: it crosses to
  // those nodes' stages as a constant.
  std::set<std::string> data_constants;
  std::map<std::string, std::vector<int>> shape_readers;
  int last_level = 0;
  for (int i : order) {
    const onnx::NodeProto& node = g.node(i);
    int level = 0;
    bool all_static = true;
    for (const auto& in : reads[static_cast<size_t>(i)]) {
      if (in.empty()) continue;
      const TensorPlace& p = places.at(in);
      level = std::max(level, p.level);
      all_static = all_static && p.is_static;
    }
    for (int j = 0; j < node.input_size(); ++j) {
      const std::string& in = node.input(j);
      if (in.empty() || !sets_shape(node, j, opset)) continue;
      const TensorPlace& p = places.at(in);
      if (p.is_static) continue;
      data_constants.insert(in);
      shape_readers[in].push_back(i);
      // A data-dependent operator's output exists before the stage at its level is compiled; anything
      // else is known once the stage that computes it (or the caller, for a graph input) has run.
      const bool between_stages = p.producer >= 0 && is_data_dependent(g.node(p.producer));
      level = std::max(level, between_stages ? p.level : p.level + 1);
    }
    const bool dynamic = is_data_dependent(node);
    const auto u = static_cast<size_t>(i);
    node_static[u] = !dynamic && (all_static || reads_shape_only(node));
    anchored[u] = reads_shape_only(node) && !all_static;
    node_level[u] = level;
    const int out_level = dynamic ? level + 1 : level;
    last_level = std::max(last_level, out_level);
    for (const auto& out : node.output())
      if (!out.empty()) places[out] = {out_level, node_static[u], i};
  }

  if (last_level == 0) return {};  // nothing depends on data: one program

  // An If may give a sequence or an optional, which octet does not have: say so before a branch is run.
  for (const auto& out : g.output())
    if (out.type().value_case() != onnx::TypeProto::VALUE_NOT_SET && !out.type().has_tensor_type())
      throw Error("graph output '" + out.name() +
                  "' is not a tensor (a sequence, map or optional); octet's " + "outputs are tensors");

  // A DequantizeLinear of a run-time tensor moves to the first stage that reads it (graph/stages.h).
  std::set<std::string> outputs_of_graph;
  for (const auto& out : g.output())
    outputs_of_graph.insert(out.name());
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const int i = *it;
    const onnx::NodeProto& node = g.node(i);
    const auto u = static_cast<size_t>(i);
    if (!default_domain(node) || node.op_type() != "DequantizeLinear" || node_static[u]) continue;
    if (node.output_size() < 1 || node.output(0).empty()) continue;  // the importer names it
    if (outputs_of_graph.count(node.output(0))) continue;
    if (data_constants.count(node.output(0))) continue;  // its readers' stage takes its value, computed here
    int first_reader = -1;
    for (int r : readers[node.output(0)]) {
      const int need = node_level[static_cast<size_t>(r)];
      first_reader = first_reader < 0 ? need : std::min(first_reader, need);
    }
    if (first_reader > node_level[u]) {
      node_level[u] = first_reader;
      places[node.output(0)].level = first_reader;
    }
  }

  StagePlan plan;
  plan.stages.resize(static_cast<size_t>(last_level) + 1);
  plan.stages[0].inputs = graph_inputs;
  // The stage a placed node computes in; -1 for static nodes that are not anchored (imported wherever
  // needed) and for data-dependent nodes (evaluated between stages).
  auto stage_of = [&](int i) {
    const auto u = static_cast<size_t>(i);
    if (is_data_dependent(g.node(i))) return -1;
    if (node_static[u] && !anchored[u]) return -1;
    return node_level[u];
  };
  std::vector<std::set<int>> members(plan.stages.size());
  for (int i : order)
    if (stage_of(i) >= 0) members[static_cast<size_t>(stage_of(i))].insert(i);

  // Makes `name` available to stage k: imported there (static), read from the stage that computes it, or
  // given to it as an input.
  std::function<void(size_t, const std::string&)> need = [&](size_t k, const std::string& name) {
    const TensorPlace& p = places.at(name);
    Stage& stage = plan.stages[k];
    // A constant where a node of this stage sets a shape from it; a stage that only computes on it takes it
    // as an input (and is not compiled again for each of its values).
    const auto readers = shape_readers.find(name);
    const bool as_constant = readers != shape_readers.end() &&
                             std::any_of(readers->second.begin(), readers->second.end(),
                                         [&](int r) { return stage_of(r) == static_cast<int>(k); });
    if (p.producer < 0) {
      if (p.is_static || k == 0) return;
      add_once(as_constant ? stage.constant_inputs : stage.inputs, name);  // a graph input read later
      if (as_constant) add_once(stage.data_constants, name);
      return;
    }
    const auto u = static_cast<size_t>(p.producer);
    const int home = stage_of(p.producer);
    if (home < 0 && p.is_static) {
      // Imported into this stage with whatever it reads.
      if (members[k].insert(p.producer).second)
        for (const auto& in : reads[u])
          if (!in.empty()) need(k, in);
      return;
    }
    if (home == static_cast<int>(k)) return;
    if (as_constant) add_once(stage.data_constants, name);
    if (home < 0) {  // a data-dependent node's output
      add_once(as_constant ? stage.constant_inputs : stage.inputs, name);
      return;
    }
    add_once(plan.stages[static_cast<size_t>(home)].outputs, name);
    if (anchored[u] || as_constant)
      add_once(stage.constant_inputs, name);
    else
      add_once(stage.inputs, name);
  };
  for (size_t k = 0; k < plan.stages.size(); ++k) {
    const std::vector<int> placed(members[k].begin(), members[k].end());
    for (int i : placed)
      for (const auto& in : reads[static_cast<size_t>(i)])
        if (!in.empty()) need(k, in);
  }
  // Data-dependent nodes read from the stage they follow.
  for (int i : order) {
    if (!is_data_dependent(g.node(i))) continue;
    const auto k = static_cast<size_t>(node_level[static_cast<size_t>(i)]);
    DynamicNode d = dynamic_node(g.node(i), Enclosing{model, raw, producer, places, anchored, reads});
    for (const auto& in : d.inputs) {
      if (in.empty()) continue;
      const TensorPlace& p = places.at(in);
      if (p.producer >= 0 && is_data_dependent(g.node(p.producer))) continue;  // already evaluated
      if (p.producer < 0 && !p.is_static) continue;                            // a graph input
      if (p.producer >= 0 && stage_of(p.producer) >= 0) {
        add_once(plan.stages[static_cast<size_t>(stage_of(p.producer))].outputs, in);
        continue;
      }
      need(k, in);  // a constant: the stage gives it out
      add_once(plan.stages[k].outputs, in);
    }
    plan.stages[k].dynamic_nodes.push_back(std::move(d));
  }
  // The graph's outputs, from where they are computed.
  for (const auto& out : g.output()) {
    plan.outputs.push_back(out.name());
    plan.declared_outputs.push_back(declared(out));
    const auto it = places.find(out.name());
    if (it == places.end()) throw Error("graph output '" + out.name() + "' is not produced by any node");
    if (std::count(plan.outputs.begin(), plan.outputs.end(), out.name()) > 1)
      throw Error("graph output '" + out.name() + "' is listed twice");
    const TensorPlace& p = it->second;
    if (p.producer < 0 && !p.is_static) continue;  // a graph input, passed through
    if (p.producer >= 0 && is_data_dependent(g.node(p.producer))) continue;
    if (p.producer >= 0 && stage_of(p.producer) >= 0) {
      add_once(plan.stages[static_cast<size_t>(stage_of(p.producer))].outputs, out.name());
      continue;
    }
    const auto k = static_cast<size_t>(p.level);
    need(k, out.name());
    add_once(plan.stages[k].outputs, out.name());
  }
  for (size_t k = 0; k < plan.stages.size(); ++k)
    plan.stages[k].nodes.assign(members[k].begin(), members[k].end());
  return plan;
}

std::string branch_model(const DynamicNode::Branch& branch, std::span<const ElementType> types,
                         std::span<const size_t> ranks,
                         std::span<const ImportCut::ConstantTensor> constants) {
  onnx::ModelProto m;
  if (!m.ParseFromString(branch.model)) throw Error("internal: a subgraph's model does not parse");
  for (size_t i = 0; i < branch.inputs.size(); ++i) {
    onnx::ValueInfoProto& v = *m.mutable_graph()->add_input();
    v.set_name(branch.inputs[i]);
    auto& tt = *v.mutable_type()->mutable_tensor_type();
    tt.set_elem_type(onnx_import::onnx_type_of(types[i]));
    tt.mutable_shape();  // a scalar has a shape too, of no dimensions
    for (size_t d = 0; d < ranks[i]; ++d) {
      std::string dim = "d";  // appended, not "d" + ...: g++ 12 warns about that (a false -Wrestrict)
      dim += std::to_string(d);
      tt.mutable_shape()->add_dim()->set_dim_param(dim);
    }
  }
  for (const ImportCut::ConstantTensor& c : constants) {
    onnx::TensorProto& t = *m.mutable_graph()->add_initializer();
    t.set_name(c.name);
    t.set_data_type(onnx_import::onnx_type_of(c.type));
    for (int64_t d : c.shape)
      t.add_dims(d);
    t.set_raw_data(c.data.data(), c.data.size());
  }
  return m.SerializeAsString();
}

}  // namespace octet::graph
