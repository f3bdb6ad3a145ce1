#include <algorithm>
#include <sstream>

#include "kernels/error.h"
#include "runtime/dynamic_nodes.h"
#include "runtime/file_bytes.h"
#include "runtime/model_impl.h"

namespace octet {

namespace {

// Compiles for the load-time shapes. Dynamic dimensions not fixed by the caller take a placeholder: 1
// first; if the model's arithmetic rejects that (an image downsampled five times and added to an
// upsampled copy of itself needs more than one pixel), a size that survives such arithmetic.
std::shared_ptr<const runtime::Program> compile_at_load(std::span<const std::byte> onnx,
                                                        graph::ImportOptions io, RequantMode requant) {
  try {
    return runtime::compile(onnx, io, requant, active_isa());
  } catch (const Error&) {
    if (!graph::has_dynamic_inputs(onnx, io)) throw;
    io.dynamic_dim = 512;
    try {
      return runtime::compile(onnx, io, requant, active_isa());
    } catch (const Error&) {
    }
    throw;
  }
}

DataType data_type_of(ElementType t) {
  switch (t) {
    case ElementType::f32:
      return DataType::float32;
    case ElementType::s64:
      return DataType::int64;
    case ElementType::b8:
      return DataType::boolean;
    default:
      return DataType::uint8;
  }
}

std::string describe_params(const graph::Value& v) {
  if (v.type != ElementType::u8) return std::string(name_of(v.type));
  if (v.quant.scales.empty()) return "u8";
  std::ostringstream s;
  s << "u8 scale " << v.quant.scale() << " zp " << v.quant.zero_point();
  return s.str();
}

}  // namespace

graph::ImportOptions Model::Impl::import_options() const {
  graph::ImportOptions io;
  io.nhwc_io = options.nhwc_io;
  // The caller states NHWC shapes for the image inputs of an NHWC model; the importer knows which those are.
  io.input_shapes = options.input_shapes;
  io.input_shapes_nhwc = options.nhwc_io;
  if (!stage_cuts.empty()) io.cut = stage_cuts[0];
  io.allow_empty_inputs = allow_empty_inputs;
  return io;
}

RequantMode requant_mode_of(Requantization mode) {
  return mode == Requantization::float_scale ? RequantMode::float_scale : RequantMode::fixed_point;
}

const char* name_of(Requantization mode) {
  return name_of(requant_mode_of(mode)).data();  // the names are string literals
}

std::vector<Shape> Model::Impl::declared_shapes() const {
  const graph::Graph& g = declared->graph;
  std::vector<Shape> shapes;
  for (graph::ValueId in : g.inputs)
    shapes.push_back(graph::onnx_shape(g.value(in)));
  return shapes;
}

std::shared_ptr<const runtime::Program> Model::Impl::program_for(const std::vector<Shape>& shapes,
                                                                 RequantMode requant, Isa isa) const {
  const graph::Graph& g = declared->graph;
  if (requant == declared->requant && isa == declared->isa && shapes == declared_shapes()) return declared;
  const std::lock_guard lock(mutex_);
  const auto key = std::tuple{requant, isa, shapes};
  if (const auto it = compiled_.find(key); it != compiled_.end()) {
    it->second.second = ++compiled_uses_;
    return it->second.first;
  }
  graph::ImportOptions io = import_options();
  io.input_shapes_nhwc = false;  // `shapes` are in ONNX order
  for (size_t i = 0; i < shapes.size(); ++i)
    io.input_shapes[g.value(g.inputs[i]).name] = shapes[i];
  auto program = runtime::compile(onnx, io, requant, isa);
  // Bounded: a model whose input sizes vary without end (an If's branch reading a selection) would
  // otherwise keep a program for every size it has seen. The least recently used goes first.
  if (compiled_.size() >= kMaxCompiledShapes) {
    const auto oldest =
        std::min_element(compiled_.begin(), compiled_.end(),
                         [](const auto& a, const auto& b) { return a.second.second < b.second.second; });
    compiled_.erase(oldest);
  }
  compiled_[key] = {program, ++compiled_uses_};
  return program;
}

Model Model::load(const std::string& path, const LoadOptions& options) {
  std::optional<runtime::ByteBuffer> bytes = runtime::read_file_bytes(path);
  if (!bytes) throw Error("cannot open or read model file '" + path + "'");
  auto impl = std::make_shared<Impl>();
  impl->onnx = std::move(*bytes);
  try {
    return load_owned(std::move(impl), options);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

Model Model::load_from_memory(std::span<const std::byte> bytes, const LoadOptions& options) {
  auto impl = std::make_shared<Impl>();
  impl->onnx = runtime::ByteBuffer::copy_of(bytes);
  return load_owned(std::move(impl), options);
}

// `impl` holds the model's ONNX bytes, which the model keeps (a dynamic model compiles each new shape from
// them).
Model Model::load_owned(std::shared_ptr<Impl> impl, const LoadOptions& options) {
  prepare_model(*impl, options);
  return Model(std::move(impl));
}

void prepare_model(Model::Impl& model, const LoadOptions& options) {
  Model::Impl* impl = &model;
  impl->options = options;
  impl->stages = graph::plan_stages(impl->onnx);
  for (const graph::Stage& stage : impl->stages.stages) {
    auto cut = std::make_shared<graph::ImportCut>();
    cut->nodes = stage.nodes;
    cut->inputs = stage.inputs;
    cut->outputs = stage.outputs;
    for (const std::string& name : stage.outputs)
      if (std::find(impl->stages.outputs.begin(), impl->stages.outputs.end(), name) ==
          impl->stages.outputs.end())
        cut->passed_outputs.push_back(name);
    impl->stage_cuts.push_back(std::move(cut));
  }
  impl->declared =
      compile_at_load(impl->onnx, impl->import_options(), requant_mode_of(options.requantization));
  const graph::Graph& g = impl->declared->graph;
  // A shape for a name the model does not have is a caller's typo, which would otherwise leave the real
  // input at its placeholder size without a word.
  for (const auto& entry : options.input_shapes) {
    const bool known = std::any_of(g.inputs.begin(), g.inputs.end(),
                                   [&](graph::ValueId id) { return g.value(id).name == entry.first; });
    if (!known) {
      std::string names;
      for (graph::ValueId id : g.inputs)
        names += (names.empty() ? "'" : ", '") + g.value(id).name + "'";
      const bool initialized =
          std::count(g.initialized_inputs.begin(), g.initialized_inputs.end(), entry.first);
      throw Error(
          "a shape is given for '" + entry.first +
          "' (LoadOptions::input_shapes; octet's commands give each --input and --shape), which is not "
          "an input of the model (" +
          (names.empty() ? std::string("it has none") : "inputs: " + names) + ")" +
          (initialized ? ": it is listed as a graph input but has an initializer, which octet takes as "
                         "a constant (ONNX IR version 3's default value)"
                       : ""));
    }
  }
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const graph::Value& v = g.value(g.inputs[i]);
    TensorInfo t{v.name,
                 g.int32_input(i) ? DataType::int32 : data_type_of(v.type),
                 g.declared_input_shapes[i],
                 g.declared_input_dim_names[i],
                 0,
                 0};
    // The inputs the importer made channel-last (rank-4 float32 / uint8 images) are NHWC to the caller.
    if (v.layout == graph::Layout::nhwc) t.shape = {t.shape[0], t.shape[2], t.shape[3], t.shape[1]};
    if (v.type == ElementType::u8 && !v.quant.scales.empty())
      t.scale = v.quant.scale(), t.zero_point = v.quant.zero_point();
    const int q = impl->declared->input_quantize_nodes[i];
    if (q >= 0) {
      const graph::Value& qv = g.value(g.nodes[static_cast<size_t>(q)].output);
      t.scale = qv.quant.scale(), t.zero_point = qv.quant.zero_point();
    }
    impl->inputs.push_back(t);
  }
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const graph::Value& v = g.value(g.outputs[i]);
    TensorInfo t{
        v.name, g.int32_output(i) ? DataType::int32 : data_type_of(v.type), graph::onnx_shape(v), {}, 0, 0};
    if (options.nhwc_io) t.shape = v.shape;
    const graph::ValueId q = impl->declared->quantized_outputs[i];
    const graph::Value& qv = g.value(q >= 0 ? q : g.outputs[i]);
    if (qv.type == ElementType::u8 && !qv.quant.scales.empty())
      t.scale = qv.quant.scale(), t.zero_point = qv.quant.zero_point();
    impl->outputs.push_back(t);
  }
  if (impl->stages.staged()) impl->prepare_stages();
}

bool Model::Impl::placeholder_shapes() const {
  for (const TensorInfo& t : inputs)
    if (std::count(t.shape.begin(), t.shape.end(), -1) > 0 && !options.input_shapes.count(t.name))
      return true;
  return false;
}

bool Model::has_placeholder_shapes() const {
  return impl_->placeholder_shapes();
}

const std::vector<TensorInfo>& Model::inputs() const {
  return impl_->inputs;
}
const std::vector<TensorInfo>& Model::outputs() const {
  return impl_->outputs;
}
int64_t Model::planned_arena_bytes() const {
  return impl_->declared->plan.arena_bytes;
}
int64_t Model::unplanned_activation_bytes() const {
  return impl_->declared->plan.unplanned_bytes;
}

namespace {

void describe_nodes(const runtime::Program& program, std::vector<NodeInfo>& out) {
  const graph::Graph& g = program.graph;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node& n = g.nodes[i];
    const graph::Value& v = g.value(n.output);
    const int concat = program.stores_into_concat[i];
    out.push_back({n.name, graph::op_name(n), n.onnx_op, v.shape, v.name, describe_params(v),
                   graph::mac_count(g, n), graph::computes_in_float(g, n),
                   concat >= 0 ? g.nodes[static_cast<size_t>(concat)].name : std::string()});
  }
}

}  // namespace

std::vector<NodeInfo> Model::nodes() const {
  std::vector<NodeInfo> out;
  describe_nodes(*impl_->declared, out);
  // A staged model: each stage's data-dependent operators, then the next stage's nodes.
  for (size_t k = 0; k < impl_->stages.stages.size(); ++k) {
    if (k > 0 && impl_->later_stages_at_load[k - 1]) describe_nodes(*impl_->later_stages_at_load[k - 1], out);
    for (const graph::DynamicNode& d : impl_->stages.stages[k].dynamic_nodes)
      out.push_back(
          {d.name,
           runtime::dynamic_op_name(d),
           d.onnx_op,
           {},
           d.outputs.at(0),
           d.op == graph::DynamicNode::Op::non_zero || d.op == graph::DynamicNode::Op::non_max_suppression
               ? "s64"
               : "",
           0,
           d.op == graph::DynamicNode::Op::non_max_suppression,
           {}});
  }
  return out;
}

}  // namespace octet
