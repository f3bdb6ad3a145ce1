#include "graph/onnx/importer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>

#include "graph/onnx/lift_1d.h"
#include "graph/passes/fold_affine_quantization.h"
#include "graph/passes/fold_pads.h"
#include "graph/passes/fuse_byte_maps.h"
#include "graph/passes/fuse_concat_affine.h"
#include "graph/passes/fuse_residual_add.h"
#include "graph/passes/merge_transposes.h"
#include "graph/shapes.h"
#include "kernels/error.h"
#include "kernels/quantization/quantize.h"

namespace octet::graph {

namespace onnx_import {

std::vector<double> Symbol::real_values() const {
  if (!quant) return constant.values;
  std::vector<double> out(constant.values.size());
  const AxisWalk walk = axis_walk(constant.shape, *quant);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t c = walk.index_of(static_cast<int64_t>(i));
    out[i] = (constant.values[i] - quant->zero_point(c)) * static_cast<double>(quant->scale(c));
  }
  return out;
}

RealValues::RealValues(const Symbol& s) {
  const std::span<const std::byte> stored =
      s.quant ? std::span<const std::byte>() : s.constant.values.float32_bytes();
  if (stored.data() != nullptr)
    float_bytes_ = stored;
  else
    doubles_ = s.real_values();
}

std::vector<double>& RealValues::doubles() {
  if (in_place()) {
    doubles_ = with_reader([&](auto read) {
      std::vector<double> widened(size());
      for (size_t i = 0; i < widened.size(); ++i)
        widened[i] = read(i);
      return widened;
    });
    float_bytes_ = {};
  }
  return doubles_;
}

Importer::Importer(const onnx::ModelProto& model, InitializerRawData initializer_raw_data,
                   const ImportOptions& options)
    : model_(model), initializer_raw_data_(std::move(initializer_raw_data)), options_(options) {}

Graph Importer::run() {
  // Zero bytes parse as a valid, empty ModelProto.
  if (model_.opset_import_size() == 0 && !model_.has_graph())
    throw Error("model declares no opset and has no graph: an empty file, or not an ONNX model");
  for (const auto& op : model_.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
  }
  if (opset_ == 0) opset_ = 1;
  if (opset_ < kMinOpset || opset_ > kMaxOpset)
    throw Error("model uses ONNX opset " + std::to_string(opset_) + "; octet supports opsets " +
                std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset));
  if (!model_.has_graph()) throw Error("model has no graph");
  nodes_ = lift_one_dimensional(model_.graph(), opset_, lifted_nodes_);
  name_omitted_first_outputs();
  read_constants();
  sort_nodes();
  read_inputs();
  for (const onnx::NodeProto* node : order_)
    if (!consumed_.count(node)) lower(*node);
  write_outputs();
  fuse_byte_maps(graph_, options_.requant);
  merge_transposes(graph_);
  if (options_.fold_pads) fold_pads(graph_);
  if (options_.fold_affine_quantization) fold_affine_quantization(graph_);
  if (options_.fuse_concat_affines) fuse_concat_affine(graph_);
  if (options_.fuse_residual_adds) fuse_residual_adds(graph_);
  check_graph(graph_);
  return std::move(graph_);
}

void Importer::read_constants() {
  // 8-bit data is read where it lies (in the file, or in the parsed model where the file was not split),
  // not copied: weights are most of a model's bytes.
  const auto& initializers = model_.graph().initializer();
  if (initializer_raw_data_.size() != static_cast<size_t>(initializers.size()))
    throw Error("internal: " + std::to_string(initializer_raw_data_.size()) + " raw data entries for " +
                std::to_string(initializers.size()) + " initializers");
  std::set<std::string> names;
  for (int i = 0; i < initializers.size(); ++i) {
    const onnx::TensorProto& init = initializers[i];
    // ONNX requires unique names. ONNX Runtime loads such a model with a warning and keeps the later
    // tensor, but octet's other readers of the file (the stage planner, the quantizer) would take the first:
    // refused, with what to fix.
    if (!names.insert(init.name()).second)
      throw Error("initializer '" + init.name() +
                  "' is given twice (ONNX requires unique names; ONNX Runtime would keep the later one)");
    Symbol s;
    s.constant = decode_tensor_borrowing_data(init, initializer_raw_data_[static_cast<size_t>(i)],
                                              "initializer '" + init.name() + "'");
    symbols_[init.name()] = std::move(s);
  }
}

// A node may leave out its first output and give a later one (TopK's indices alone, Split's later pieces).
// Lowering reads every node's first output, so such a node gets a copy whose first output has a name of
// its own, which nothing reads. The recurrent operators keep theirs: they compute no Y that none reads.
void Importer::name_omitted_first_outputs() {
  for (const onnx::NodeProto*& p : nodes_) {
    const std::string& op = p->op_type();
    if (p->output_size() < 2 || !p->output(0).empty() || op == "RNN" || op == "GRU" || op == "LSTM") continue;
    const auto given =
        std::find_if(p->output().begin(), p->output().end(), [](const auto& o) { return !o.empty(); });
    if (given == p->output().end()) continue;  // no output at all: sort_nodes reports it
    onnx::NodeProto& copy = lifted_nodes_.emplace_back(*p);
    copy.set_output(0, *given + "#omitted_output_0");
    p = &copy;
  }
}

// ONNX requires nodes in topological order, but many files are not; sort them (Kahn), which also finds
// cycles and inputs that nothing produces.
void Importer::sort_nodes() {
  const auto& g = model_.graph();
  std::set<std::string> available;
  for (const auto& [name, s] : symbols_)
    available.insert(name);
  for (const auto& in : g.input())
    available.insert(in.name());
  available.insert("");  // an empty input name means "optional input omitted"
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const onnx::NodeProto* p : nodes_) {
    const onnx::NodeProto& node = *p;
    // Lowering reads every node's first output, and protobuf's output(0) does not check its index. The
    // recurrent operators alone may leave it out (Y) and give only a last state (Y_h, Y_c).
    const bool recurrent = node.op_type() == "RNN" || node.op_type() == "GRU" || node.op_type() == "LSTM";
    const bool any =
        std::any_of(node.output().begin(), node.output().end(), [](const auto& o) { return !o.empty(); });
    if (node.output_size() < 1 || (node.output(0).empty() && !(recurrent && any)))
      throw Error(describe(node) + ": has no output");
    for (const auto& out : node.output()) {
      if (out.empty()) continue;
      if (producer.count(out) || available.count(out))
        throw Error(describe(node) + ": output '" + out + "' is already defined elsewhere in the graph");
      producer[out] = &node;
    }
  }
  std::map<const onnx::NodeProto*, int> waiting;
  std::map<std::string, std::vector<const onnx::NodeProto*>> dependents;
  std::deque<const onnx::NodeProto*> ready;
  for (const onnx::NodeProto* p : nodes_) {
    const onnx::NodeProto& node = *p;
    if (node.op_type() == "Constant") {
      // Older exporters store weights as Constant nodes: they are constants, not operators.
      if (node.output_size() != 1) throw Error(describe(node) + ": expected one output");
      const Attributes attrs(node);
      const onnx::AttributeProto* value = nullptr;
      for (const auto& a : node.attribute())
        if (a.name() == "value") value = &a;
      Symbol s;
      if (value && value->has_t()) {
        s.constant = decode_tensor(value->t(), describe(node));
      } else if (attrs.has("value_float")) {
        s.constant = {onnx::TensorProto::FLOAT, {}, {attrs.get_float("value_float", 0)}};
      } else if (attrs.has("value_int")) {
        s.constant = {onnx::TensorProto::INT64, {}, {static_cast<double>(attrs.get_int("value_int", 0))}};
      } else if (attrs.has("value_ints")) {
        const auto v = attrs.get_ints("value_ints");
        s.constant = {onnx::TensorProto::INT64,
                      {static_cast<int64_t>(v.size())},
                      std::vector<double>(v.begin(), v.end())};
      } else if (attrs.has("value_floats")) {
        const auto v = attrs.get_floats("value_floats");
        s.constant = {onnx::TensorProto::FLOAT,
                      {static_cast<int64_t>(v.size())},
                      std::vector<double>(v.begin(), v.end())};
      } else {
        throw Error(describe(node) + ": unsupported Constant form (no tensor, float or int value)");
      }
      symbols_[node.output(0)] = std::move(s);
    }
  }
  for (const onnx::NodeProto* p : nodes_) {
    const onnx::NodeProto& node = *p;
    if (node.op_type() == "Constant") continue;
    int missing = 0;
    for (const auto& in : node.input()) {
      if (available.count(in) || symbols_.count(in)) continue;
      if (!producer.count(in))
        throw Error(describe(node) + ": input '" + in +
                    "' is not produced by any node, initializer or graph input");
      ++missing;
      dependents[in].push_back(&node);
    }
    waiting[&node] = missing;
    if (missing == 0) ready.push_back(&node);
    for (const auto& in : node.input())
      if (!in.empty()) consumers_[in].push_back(&node);
  }
  while (!ready.empty()) {
    const onnx::NodeProto* node = ready.front();
    ready.pop_front();
    order_.push_back(node);
    for (const auto& out : node->output())
      for (const onnx::NodeProto* d : dependents[out])
        if (--waiting[d] == 0) ready.push_back(d);
  }
  for (const auto& [node, count] : waiting)
    if (count > 0) throw Error(describe(*node) + ": is part of a cycle in the graph");
  for (const auto& out : g.output())
    graph_outputs_.insert(out.name());
}

void Importer::read_inputs() {
  std::set<std::string> names;
  for (const auto& in : model_.graph().input()) {
    const std::string what = "graph input '" + in.name() + "'";
    if (!names.insert(in.name()).second) throw Error(what + ": listed twice among the graph's inputs");
    if (symbols_.count(in.name())) {  // an initializer listed as input (IR version < 4)
      graph_.initialized_inputs.push_back(in.name());
      continue;
    }
    if (!in.type().has_tensor_type()) throw Error(what + ": only tensor inputs are supported");
    const auto& tt = in.type().tensor_type();
    Value v;
    v.name = in.name();
    if (tt.elem_type() == onnx::TensorProto::FLOAT) {
      v.type = ElementType::f32;
    } else if (tt.elem_type() == onnx::TensorProto::UINT8) {
      v.type = ElementType::u8;
    } else if (tt.elem_type() == onnx::TensorProto::BOOL) {
      v.type = ElementType::b8;
    } else if (tt.elem_type() == onnx::TensorProto::INT64 || tt.elem_type() == onnx::TensorProto::INT32) {
      v.type = ElementType::s64;  // int32 too: held as int64 (Graph::int32_inputs)
    } else {
      throw Error(what + ": element type " + onnx_type_name(tt.elem_type()) +
                  " is not supported (float32, uint8, bool, int32 or int64)");
    }
    graph_.int32_inputs.push_back(tt.elem_type() == onnx::TensorProto::INT32);
    if (!tt.has_shape()) throw Error(what + ": has no shape");
    Shape declared;
    std::vector<std::string> dim_names;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 1)
          throw Error(what + ": dimension " + std::to_string(d.dim_value()) + " must be >= 1");
        declared.push_back(d.dim_value());
        dim_names.emplace_back();
        v.shape.push_back(d.dim_value());
      } else {
        declared.push_back(-1);
        dim_names.push_back(d.dim_param());
        v.shape.push_back(options_.dynamic_dim);
      }
    }
    // A tensor from an earlier part of a staged model (ImportCut): plain order, possibly empty.
    const bool passed = options_.cut && options_.cut->input_types.count(in.name()) > 0;
    const bool image = (v.type == ElementType::f32 || v.type == ElementType::u8) && !passed;
    if (const auto it = options_.input_shapes.find(in.name()); it != options_.input_shapes.end()) {
      Shape given = it->second;
      if (options_.input_shapes_nhwc && image && given.size() == 4)
        given = {given[0], given[3], given[1], given[2]};
      bool fits = given.size() == declared.size();
      // A selection may select nothing (graph/stages.h); a caller's input may not be empty.
      const int64_t least = passed || options_.allow_empty_inputs ? 0 : 1;
      for (size_t i = 0; fits && i < declared.size(); ++i)
        fits = given[i] >= least && (declared[i] < 0 || declared[i] == given[i]);
      if (!fits)
        throw Error(what + ": shape " + to_string(it->second) + " does not fit the declared shape " +
                    to_string(declared) + " (-1: any size" +
                    (least > 0 && std::count(given.begin(), given.end(), 0) > 0
                         ? "; an input may not be empty"
                         : "") +
                    ")");
      v.shape = given;
    }
    element_count(v.shape, what);
    graph_.declared_input_shapes.push_back(declared);
    graph_.declared_input_dim_names.push_back(dim_names);
    if (options_.nhwc_io && v.shape.size() == 4 && image) {
      // The caller's data is already NHWC: store the logical NCHW shape permuted.
      v.shape = {v.shape[0], v.shape[2], v.shape[3], v.shape[1]};
      v.layout = Layout::nhwc;
    }
    const ValueId id = graph_.add_value(v);
    graph_.inputs.push_back(id);
    if (v.type == ElementType::u8) {
      // A raw uint8 input must be quantized already; its params come from the first DequantizeLinear.
      Symbol s = make_value_symbol(Symbol::Kind::quantized, id);
      symbols_[in.name()] = s;
    } else {
      symbols_[in.name()] = make_value_symbol(Symbol::Kind::real, id);
    }
  }
}

void Importer::check_output_type(const onnx::ValueInfoProto& out, const Value& v) const {
  if (!out.type().has_tensor_type() || out.type().tensor_type().elem_type() == 0) return;  // undeclared
  const int32_t declared = out.type().tensor_type().elem_type();
  const int32_t produced = v.type == ElementType::f32   ? onnx::TensorProto::FLOAT
                           : v.type == ElementType::u8  ? onnx::TensorProto::UINT8
                           : v.type == ElementType::b8  ? onnx::TensorProto::BOOL
                           : v.type == ElementType::s64 ? onnx::TensorProto::INT64
                                                        : 0;
  // An int64 value leaves through an int32 output wrapped to int32 (Graph::int32_outputs).
  if (declared == onnx::TensorProto::INT32 && produced == onnx::TensorProto::INT64) return;
  if (declared != produced)
    throw Error("graph output '" + out.name() + "' is declared " + onnx_type_name(declared) +
                "; octet computes it as " + onnx_type_name(produced) + " and does not give outputs of type " +
                onnx_type_name(declared));
}

void Importer::write_outputs() {
  std::set<std::string> names;
  for (const auto& out : model_.graph().output()) {
    // Outputs are returned by name: two with one name would silently lose one.
    if (!names.insert(out.name()).second) throw Error("graph output '" + out.name() + "' is listed twice");
    const auto it = symbols_.find(out.name());
    if (it == symbols_.end()) throw Error("graph output '" + out.name() + "' is not produced by any node");
    Symbol s = it->second;
    ValueId v = -1;
    switch (s.kind) {
      case Symbol::Kind::constant: {
        // A constant output (a model's shape computation, say): copied out of the program on every run.
        Constant c = s.constant;
        if (s.quant) c.values = s.real_values(), c.onnx_type = onnx::TensorProto::FLOAT;
        const ValueId k = constant_value(out.name() + "#constant", c);
        Value copy = graph_.value(k);
        copy.name = out.name();
        copy.constant = nullptr;
        v = emit(out.name(), "(constant)", OpKind::reshape, {k}, ReshapeAttrs{copy.shape}, copy);
        break;
      }
      case Symbol::Kind::quantized:
      case Symbol::Kind::real: {
        v = s.value;
        // A value that is a constant, a graph input or already another output keeps its identity: the
        // output gets a copy of its own.
        const bool shared =
            graph_.value(v).is_constant() ||
            std::find(graph_.inputs.begin(), graph_.inputs.end(), v) != graph_.inputs.end() ||
            std::find(graph_.outputs.begin(), graph_.outputs.end(), v) != graph_.outputs.end();
        if (shared) {
          Value copy = graph_.value(v);
          copy.name = out.name();
          copy.constant = nullptr;
          v = emit(out.name(), "(copy)", OpKind::reshape, {v}, ReshapeAttrs{copy.shape}, copy);
        }
        break;
      }
      case Symbol::Kind::dequantized: {
        // A DequantizeLinear at the end of the graph: dequantize straight into the model's layout.
        Value f = graph_.value(s.value);
        f.name = out.name();
        f.type = ElementType::f32;
        f.quant = {};
        if (!options_.nhwc_io) f.layout = Layout::plain;
        v = emit(out.name(), "DequantizeLinear", OpKind::dequantize, {s.value}, {}, f);
        break;
      }
    }
    const bool passed = options_.cut && std::count(options_.cut->passed_outputs.begin(),
                                                   options_.cut->passed_outputs.end(), out.name()) > 0;
    if ((!options_.nhwc_io || passed) && graph_.value(v).layout == Layout::nhwc) {
      v = as_plain(v, out.name());
      // Every reader of a value shares its one plain copy (as_plain): where another output of the same
      // value (an Identity of it, say) holds that copy already, this output gets a copy of its own.
      if (std::find(graph_.outputs.begin(), graph_.outputs.end(), v) != graph_.outputs.end()) {
        Value copy = graph_.value(v);
        copy.name = out.name();
        v = emit(out.name(), "(copy)", OpKind::reshape, {v}, ReshapeAttrs{copy.shape}, copy);
      }
    }
    graph_.value(v).name = out.name();
    check_output_type(out, graph_.value(v));
    graph_.outputs.push_back(v);
    graph_.int32_outputs.push_back(out.type().tensor_type().elem_type() == onnx::TensorProto::INT32);
  }
}

void Importer::lower(const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx" && node.domain() != "com.microsoft")
    throw Error(describe(node) + ": operator domain '" + node.domain() + "' is not supported");
  if (node.op_type() == "Constant") return;
  // Quantized forms first (int8 operators, lookup tables: faster, and exact); float only where the model
  // really computes in float.
  if (fold_constants(node) || lower_quantize_dequantize(node) || lower_qoperator(node) ||
      lower_qdq_compute(node) || lower_elementwise(node) || lower_structural(node) || lower_movement(node) ||
      lower_dynamic_quantization(node) || lower_indexing(node) || lower_recurrent(node) ||
      lower_detection(node) || lower_float(node))
    return;
  throw Error(describe(node) + ": operator is not supported by octet (on these operand types)");
}

// ---- helpers ----

bool Importer::has_input(const onnx::NodeProto& node, int input) const {
  return input < node.input_size() && !node.input(input).empty();
}

const Symbol& Importer::symbol(const onnx::NodeProto& node, int input) const {
  if (!has_input(node, input))
    throw Error(describe(node) + ": required input " + std::to_string(input) + " is missing");
  const auto it = symbols_.find(node.input(input));
  if (it == symbols_.end())
    throw Error(describe(node) + ": input '" + node.input(input) +
                "' is not available (unsupported producer?)");
  return it->second;
}

const Constant& Importer::constant_input(const onnx::NodeProto& node, int input, const char* what) const {
  const Symbol& s = symbol(node, input);
  if (s.kind != Symbol::Kind::constant)
    throw Error(describe(node) + ": " + what + " ('" + node.input(input) + "') must be a constant");
  return s.constant;
}

double Importer::scalar_input(const onnx::NodeProto& node, int input, const char* what) const {
  const Constant& c = constant_input(node, input, what);
  if (!c.is_scalar())
    throw Error(describe(node) + ": " + what + " must be a single value, got shape " + to_string(c.shape));
  return c.values[0];
}

ValueId Importer::runtime_input(const onnx::NodeProto& node, int input) const {
  const Symbol& s = symbol(node, input);
  if (s.kind == Symbol::Kind::quantized || s.kind == Symbol::Kind::dequantized) return s.value;
  throw Error(describe(node) + ": input '" + node.input(input) + "' must be a quantized tensor");
}

Symbol Importer::make_value_symbol(Symbol::Kind kind, ValueId v) const {
  Symbol s;
  s.kind = kind;
  s.value = v;
  return s;
}

void Importer::define(const std::string& name, Symbol s) {
  symbols_[name] = std::move(s);
}

void Importer::define_value(const onnx::NodeProto& node, int output, Symbol::Kind kind, ValueId v) {
  if (output >= node.output_size())
    throw Error(describe(node) + ": missing output " + std::to_string(output));
  define(node.output(output), make_value_symbol(kind, v));
}

ValueId Importer::emit(const onnx::NodeProto& source, OpKind kind, std::vector<ValueId> inputs, Attrs attrs,
                       Value out) {
  return emit(source.name(), source.op_type(), kind, std::move(inputs), std::move(attrs), std::move(out));
}

ValueId Importer::emit(const std::string& name, const std::string& onnx_op, OpKind kind,
                       std::vector<ValueId> inputs, Attrs attrs, Value out) {
  Node n;
  n.name = name;
  n.onnx_op = onnx_op;
  n.kind = kind;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  out.constant.reset();  // a node's output, even where it was described from a constant input
  out.shape = infer_output_shape(graph_, n, out);
  n.output = graph_.add_value(std::move(out));
  graph_.nodes.push_back(std::move(n));
  return graph_.nodes.back().output;
}

namespace {

std::string label(const onnx::NodeProto& node) {
  return node.name().empty() && node.output_size() > 0 ? node.output(0) : node.name();
}

}  // namespace

ValueId Importer::as_nhwc(ValueId v, const onnx::NodeProto& consumer) {
  return as_nhwc(v, label(consumer), describe(consumer));
}

ValueId Importer::as_plain(ValueId v, const onnx::NodeProto& consumer) {
  return as_plain(v, label(consumer));
}

ValueId Importer::as_nhwc(ValueId v, const std::string& node_name, const std::string& what) {
  const Value in = graph_.value(v);
  if (in.layout == Layout::nhwc) return v;
  if (in.shape.size() != 4)
    throw Error(what + ": needs a rank-4 (2-D image) tensor, got '" + in.name + "' of shape " +
                to_string(in.shape));
  // Values never change once computed: every consumer shares the first one's copy (an NCHW image input
  // read by two convolutions is transposed once).
  if (const auto it = relayouts_.find({v, Layout::nhwc}); it != relayouts_.end()) return it->second;
  Value out = in;
  out.name = in.name + "#nhwc";
  out.layout = Layout::nhwc;
  const ValueId copy =
      emit(node_name + "#to_nhwc", "(layout)", OpKind::transpose, {v}, TransposeAttrs{{0, 2, 3, 1}}, out);
  relayouts_[{v, Layout::nhwc}] = copy;
  return copy;
}

ValueId Importer::as_plain(ValueId v, const std::string& node_name) {
  const Value in = graph_.value(v);
  if (in.layout == Layout::plain) return v;
  if (const auto it = relayouts_.find({v, Layout::plain}); it != relayouts_.end()) return it->second;
  Value out = in;
  out.name = in.name + "#nchw";
  out.layout = Layout::plain;
  const ValueId copy =
      emit(node_name + "#to_nchw", "(layout)", OpKind::transpose, {v}, TransposeAttrs{{0, 3, 1, 2}}, out);
  relayouts_[{v, Layout::plain}] = copy;
  return copy;
}

std::vector<const onnx::NodeProto*> Importer::consumers(const std::string& tensor) const {
  const auto it = consumers_.find(tensor);
  return it == consumers_.end() ? std::vector<const onnx::NodeProto*>{} : it->second;
}

bool Importer::is_graph_output(const std::string& tensor) const {
  return graph_outputs_.count(tensor) > 0;
}

}  // namespace onnx_import

namespace {

bool parse_model(std::span<const std::byte> bytes, onnx::ModelProto& model) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return false;
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  return model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
}

}  // namespace

bool has_dynamic_inputs(std::span<const std::byte> bytes, const ImportOptions& options) {
  onnx::ModelProto model;
  if (!parse_model(bytes, model)) return false;
  std::set<std::string> initializers;
  for (const auto& init : model.graph().initializer())
    initializers.insert(init.name());
  for (const auto& in : model.graph().input()) {
    if (initializers.count(in.name()) || options.input_shapes.count(in.name())) continue;
    if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape()) continue;
    for (const auto& d : in.type().tensor_type().shape().dim())
      if (!d.has_dim_value()) return true;
  }
  return false;
}

namespace onnx_import {

onnx::ModelProto parse_model_file(std::span<const std::byte> bytes, InitializerRawData& raw_data) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) throw Error("model file is larger than 2 GiB");
  onnx::ModelProto model;
  raw_data.clear();
  // Protobuf parses the file without the initializers' raw data, which stays where it is in `bytes`
  // (initializer_data.h). Where the file cannot be split, protobuf parses it whole and words the error.
  std::optional<SplitModel> split = split_initializer_data(bytes);
  if (split && parse_model(std::as_bytes(std::span(split->framing)), model) &&
      static_cast<size_t>(model.graph().initializer_size()) == split->raw_data.size()) {
    raw_data = std::move(split->raw_data);
  } else {
    model.Clear();
    if (!parse_model(bytes, model))
      throw Error("not a valid ONNX model: the protobuf could not be parsed (truncated or corrupt file?)");
    for (const auto& init : model.graph().initializer())
      raw_data.push_back(init.has_raw_data() ? std::optional(std::as_bytes(std::span(init.raw_data())))
                                             : std::nullopt);
  }
  return model;
}

namespace {

void collect_inputs(const onnx::NodeProto& node, std::set<std::string>& names) {
  for (const auto& in : node.input())
    names.insert(in);
  for (const auto& a : node.attribute()) {
    if (a.has_g())
      for (const auto& n : a.g().node())
        collect_inputs(n, names);
    for (const auto& sub : a.graphs())
      for (const auto& n : sub.node())
        collect_inputs(n, names);
  }
}

int32_t stage_onnx_type(ElementType t) {
  switch (t) {
    case ElementType::s32:
      return onnx::TensorProto::INT32;
    case ElementType::f32:
      return onnx::TensorProto::FLOAT;
    case ElementType::u8:
      return onnx::TensorProto::UINT8;
    case ElementType::b8:
      return onnx::TensorProto::BOOL;
    case ElementType::s64:
      return onnx::TensorProto::INT64;
    default:
      throw Error("internal: a stage tensor of element type " + std::string(name_of(t)));
  }
}

// Keeps the part of `model` that `cut` names (ImportOptions::cut), with the initializers it reads.
void apply_cut(onnx::ModelProto& model, InitializerRawData& raw_data, const ImportCut& cut,
               const std::map<std::string, Shape>& shapes) {
  onnx::GraphProto& g = *model.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (int i : cut.nodes) {
    if (i < 0 || i >= g.node_size()) throw Error("internal: a stage names node " + std::to_string(i));
    nodes.Add()->Swap(g.mutable_node(i));
  }
  g.mutable_node()->Swap(&nodes);

  std::set<std::string> read;
  for (const auto& node : g.node())
    collect_inputs(node, read);
  read.insert(cut.outputs.begin(), cut.outputs.end());
  google::protobuf::RepeatedPtrField<onnx::TensorProto> initializers;
  InitializerRawData kept_raw;
  for (int i = 0; i < g.initializer_size(); ++i) {
    if (!read.count(g.initializer(i).name())) continue;
    initializers.Add()->Swap(g.mutable_initializer(i));
    kept_raw.push_back(raw_data[static_cast<size_t>(i)]);
  }
  for (const ImportCut::ConstantTensor& c : cut.constants) {
    onnx::TensorProto& t = *initializers.Add();
    t.set_name(c.name);
    t.set_data_type(stage_onnx_type(c.type));
    for (int64_t d : c.shape)
      t.add_dims(d);
    t.set_raw_data(c.data.data(), c.data.size());
    kept_raw.push_back(std::nullopt);  // read from the TensorProto (which stays where it is)
  }
  g.mutable_initializer()->Swap(&initializers);
  raw_data = std::move(kept_raw);
  for (int i = 0; i < g.initializer_size(); ++i)
    if (!raw_data[static_cast<size_t>(i)] && g.initializer(i).has_raw_data())
      raw_data[static_cast<size_t>(i)] = std::as_bytes(std::span(g.initializer(i).raw_data()));

  std::map<std::string, onnx::ValueInfoProto> declared_inputs, declared_outputs;
  for (const auto& in : g.input())
    declared_inputs[in.name()] = in;
  for (const auto& out : g.output())
    declared_outputs[out.name()] = out;
  g.clear_input();
  for (const std::string& name : cut.inputs) {
    if (const auto it = declared_inputs.find(name); it != declared_inputs.end()) {
      *g.add_input() = it->second;
      continue;
    }
    const auto type = cut.input_types.find(name);
    const auto shape = shapes.find(name);
    if (type == cut.input_types.end() || shape == shapes.end())
      throw Error("internal: stage input '" + name + "' has no type or shape");
    onnx::ValueInfoProto& v = *g.add_input();
    v.set_name(name);
    auto& tt = *v.mutable_type()->mutable_tensor_type();
    tt.set_elem_type(stage_onnx_type(type->second));
    tt.mutable_shape();  // a scalar has a shape too, of no dimensions
    for (size_t d = 0; d < shape->second.size(); ++d)
      tt.mutable_shape()->add_dim()->set_dim_param("stage_dim");
  }
  g.clear_output();
  for (const std::string& name : cut.outputs) {
    if (const auto it = declared_outputs.find(name); it != declared_outputs.end())
      *g.add_output() = it->second;
    else
      g.add_output()->set_name(name);
  }
}

}  // namespace

int32_t onnx_type_of(ElementType t) {
  return stage_onnx_type(t);
}

}  // namespace onnx_import

Graph import_onnx(std::span<const std::byte> bytes, const ImportOptions& options) {
  onnx_import::InitializerRawData raw_data;
  onnx::ModelProto model = onnx_import::parse_model_file(bytes, raw_data);
  if (options.cut) onnx_import::apply_cut(model, raw_data, *options.cut, options.input_shapes);
  return onnx_import::Importer(model, std::move(raw_data), options).run();
}

}  // namespace octet::graph
