// The later stages of a model with data-dependent shapes (graph/stages.h): each compiled for the tensors
// it reads, and described at load from placeholder sizes.

#include <algorithm>
#include <cstring>
#include <set>

#include "kernels/error.h"
#include "runtime/dynamic_nodes.h"
#include "runtime/session_impl.h"

namespace octet {

namespace {

// The constant an output of `g` copies, if it is one (the importer's "(constant)" node: shape arithmetic).
const std::vector<std::byte>* constant_behind(const graph::Graph& g, graph::ValueId output) {
  for (const graph::Node& n : g.nodes)
    if (n.output == output && n.onnx_op == "(constant)" && n.inputs.size() == 1 &&
        g.value(n.inputs[0]).is_constant())
      return g.value(n.inputs[0]).constant.get();
  return nullptr;
}

template <typename T>
std::vector<T> elements(const std::vector<std::byte>* data, int64_t n) {
  std::vector<T> out(static_cast<size_t>(n));
  if (data && data->size() == out.size() * sizeof(T) && !out.empty())
    std::memcpy(out.data(), data->data(), data->size());
  return out;
}

// A program's outputs as a run gives them, without running it: the constant an output is (shape
// arithmetic, which later stages compile in), else zeros of its type and shape.
std::vector<HostTensor> placeholder_outputs(const runtime::Program& p, bool nhwc_io) {
  const graph::Graph& g = p.graph;
  std::vector<HostTensor> out;
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const graph::Value& v = g.value(g.outputs[i]);
    const Shape shape = nhwc_io ? v.shape : graph::onnx_shape(v);
    const int64_t n = element_count(v.shape, v.name);
    const std::vector<std::byte>* data = constant_behind(g, g.outputs[i]);
    if (v.type == ElementType::f32) {
      out.push_back(HostTensor::from_float(shape, elements<float>(data, n)));
    } else if (v.type == ElementType::s64 && g.int32_output(i)) {
      const std::vector<int64_t> wide = elements<int64_t>(data, n);
      out.push_back(HostTensor::from_int32(shape, std::vector<int32_t>(wide.begin(), wide.end())));
    } else if (v.type == ElementType::s64) {
      out.push_back(HostTensor::from_int64(shape, elements<int64_t>(data, n)));
    } else if (v.type == ElementType::b8) {
      out.push_back(HostTensor::from_bool(shape, elements<uint8_t>(data, n)));
    } else if (v.quant.scales.empty()) {
      out.push_back(HostTensor::from_uint8(shape, elements<uint8_t>(data, n)));
    } else {
      out.push_back(
          HostTensor::from_uint8(shape, elements<uint8_t>(data, n), v.quant.scale(), v.quant.zero_point()));
    }
  }
  return out;
}

// Zeros of a described tensor, its unknown dimensions `selected` long, for a placeholder compile.
HostTensor placeholder_tensor(const TensorInfo& info, int64_t selected) {
  Shape shape = info.shape;
  for (int64_t& d : shape)
    if (d < 0) d = selected;
  const auto n = static_cast<size_t>(element_count(shape, info.name));
  switch (info.dtype) {
    case DataType::float32:
      return HostTensor::from_float(shape, std::vector<float>(n));
    case DataType::int64:
      return HostTensor::from_int64(shape, std::vector<int64_t>(n));
    case DataType::int32:
      return HostTensor::from_int32(shape, std::vector<int32_t>(n));
    case DataType::boolean:
      return HostTensor::from_bool(shape, std::vector<uint8_t>(n));
    case DataType::uint8:
      break;
  }
  return HostTensor::from_uint8(shape, std::vector<uint8_t>(n), info.scale, info.zero_point);
}

// A data-dependent operator's output with `selected` rows or columns of zeros, for a placeholder compile;
// `evaluated` is what it gave on the placeholders.
HostTensor placeholder_selection(const graph::DynamicNode& d, const std::map<std::string, HostTensor>& values,
                                 const HostTensor& evaluated, int64_t selected) {
  if (d.op == graph::DynamicNode::Op::non_max_suppression)
    return HostTensor::from_int64({selected, 3}, std::vector<int64_t>(static_cast<size_t>(selected) * 3));
  if (d.op == graph::DynamicNode::Op::compress) {
    // The evaluated output, with `selected` slices along its axis (the flattened input: `selected` elements).
    TensorInfo info{d.outputs.at(0),   evaluated.dtype(),     evaluated.shape(), {},
                    evaluated.scale(), evaluated.zero_point()};
    info.shape[d.axis ? static_cast<size_t>(*d.axis < 0 ? *d.axis + static_cast<int64_t>(info.shape.size())
                                                        : *d.axis)
                      : 0] = -1;
    return placeholder_tensor(info, selected);
  }
  const auto rank = static_cast<int64_t>(std::max<size_t>(values.at(d.inputs[0]).shape().size(), 1));
  return HostTensor::from_int64({rank, selected}, std::vector<int64_t>(static_cast<size_t>(rank * selected)));
}

// A staged output that placeholders could not describe (a stage compiled for run-time values): the type
// and rank the model declares for it, every dimension dynamic. Where it declares neither (an output a tool
// added by name only), float32 of unknown rank, listed as rank 0: the description is all that is missing,
// the run gives the tensor as it is.
TensorInfo declared_output(const graph::StagePlan& plan, size_t o) {
  const std::string& name = plan.outputs.at(o);
  const graph::StagePlan::Declared& d = plan.declared_outputs.at(o);
  DataType type = DataType::float32;
  switch (d.type.value_or(ElementType::f32)) {
    case ElementType::s64:
      type = DataType::int64;
      break;
    case ElementType::s32:
      type = DataType::int32;
      break;
    case ElementType::b8:
      type = DataType::boolean;
      break;
    case ElementType::u8:
    case ElementType::s8:
      type = DataType::uint8;
      break;
    default:
      break;
  }
  return {name, type, Shape(static_cast<size_t>(std::max(d.rank, 0)), -1), {}, 0.0f, 0};
}

}  // namespace

std::shared_ptr<const runtime::Program> Model::Impl::stage_program(
    size_t k, const std::map<std::string, HostTensor>& values, RequantMode requant, Isa isa) const {
  const graph::Stage& stage = stages.stages.at(k);
  auto read = [&](const std::string& name) -> const HostTensor& {
    const auto it = values.find(name);
    if (it == values.end())
      throw Error("internal: stage " + std::to_string(k) + " reads '" + name + "', not computed");
    return it->second;
  };
  std::vector<std::pair<DataType, Shape>> input_key;
  for (const std::string& name : stage.inputs)
    input_key.emplace_back(read(name).dtype(), read(name).shape());
  // The constants by type and shape as well as bytes: a run-time value may come as a scalar or as [1].
  std::vector<std::vector<std::byte>> constant_key;
  for (const std::string& name : stage.constant_inputs) {
    input_key.emplace_back(read(name).dtype(), read(name).shape());
    constant_key.push_back(runtime::constant_bytes(read(name)));
  }
  StageKey key{k, requant, isa, std::move(input_key), std::move(constant_key)};

  {
    const std::lock_guard lock(mutex_);
    if (auto kept = stage_cache_.find(key)) return *std::move(kept);
  }
  // Compiled without the lock, so that sessions on other threads keep running the stages they have: two
  // threads may compile the same stage at once, and the first to finish is kept.
  auto cut = std::make_shared<graph::ImportCut>(*stage_cuts.at(k));
  graph::ImportOptions io;
  io.nhwc_io = options.nhwc_io;
  io.input_shapes_nhwc = options.nhwc_io;  // the shapes stage tensors have (the caller's, or octet's outputs)
  for (const std::string& name : stage.inputs) {
    cut->input_types[name] = runtime::element_type_of(read(name).dtype());
    io.input_shapes[name] = read(name).shape();
  }
  for (size_t i = 0; i < stage.constant_inputs.size(); ++i) {
    const HostTensor& t = read(stage.constant_inputs[i]);
    cut->constants.push_back(
        {stage.constant_inputs[i], runtime::element_type_of(t.dtype()), t.shape(), std::get<4>(key)[i]});
  }
  io.cut = std::move(cut);
  std::shared_ptr<const runtime::Program> program = runtime::compile(onnx, io, requant, isa);
  const std::lock_guard lock(mutex_);
  return stage_cache_.offer(key, std::move(program)).first;
}

void Model::Impl::prepare_stages() {
  const RequantMode requant = declared->requant;
  const Isa isa = declared->isa;
  // Two placeholder sizes for every selection: an output dimension that differs between them depends on
  // the data. Some models' arithmetic after a selection needs a multiple of some size; the second pair
  // has many divisors.
  std::set<std::string> read_later;
  for (const graph::Stage& stage : stages.stages) {
    read_later.insert(stage.inputs.begin(), stage.inputs.end());
    read_later.insert(stage.constant_inputs.begin(), stage.constant_inputs.end());
    for (const graph::DynamicNode& d : stage.dynamic_nodes)
      read_later.insert(d.inputs.begin(), d.inputs.end());
  }
  // Each selection runs once on the placeholders, so that wrong types or shapes of its inputs and constants
  // out of range (an IoU threshold of 1.5) are errors at load, then takes the placeholder size; an If is
  // described from both its branches (describe_if), a Loop from its body (describe_loop).
  std::set<std::string> channel_last;  // the caller's image inputs that nhwc_io makes NHWC
  for (graph::ValueId in : declared->graph.inputs)
    if (declared->graph.value(in).layout == graph::Layout::nhwc)
      channel_last.insert(declared->graph.value(in).name);
  // `by_value` is set where what follows takes its shapes from values the placeholders do not have (an If
  // whose branches give different ranks).
  auto evaluate_on_placeholders = [&](const graph::Stage& stage, std::map<std::string, HostTensor>& values,
                                      int64_t selected, bool& by_value) {
    for (const graph::DynamicNode& d : stage.dynamic_nodes) {
      if (d.op == graph::DynamicNode::Op::if_branch || d.op == graph::DynamicNode::Op::loop) {
        // Both branches (a Loop's body) compiled, not run: zeros are not data a branch must accept.
        bool rank_follows_condition = false;
        const std::vector<TensorInfo> outputs =
            d.op == graph::DynamicNode::Op::loop
                ? describe_loop(d, values, options.requantization, channel_last)
                : describe_if(d, values, options.requantization, channel_last, &rank_follows_condition);
        by_value = by_value || rank_follows_condition;
        for (size_t i = 0; i < d.outputs.size(); ++i)
          if (!d.outputs[i].empty())
            values.insert_or_assign(d.outputs[i], placeholder_tensor(outputs[i], selected));
        continue;
      }
      const HostTensor evaluated = runtime::evaluate(d, values, channel_last);
      values.insert_or_assign(d.outputs.at(0), placeholder_selection(d, values, evaluated, selected));
    }
  };
  // From the first stage that reads a run-time value as a constant (a Reshape's shape computed from data)
  // on, placeholders say nothing of the shapes: zeros are not the shape the data will give. What is
  // computed from there on is described with every dimension dynamic; where a placeholder compile fails
  // there (zeros for a Resize's sizes), the outputs still undescribed take the model's declared types and
  // ranks, and those stages compile when they first run.
  std::set<std::string> shaped_by_values;
  // Stage k on the placeholder `values`: compiled (its program appended to `programs`, index k - 1), its
  // outputs described, then its data-dependent operators evaluated.
  auto describe_stage = [&](size_t k, std::map<std::string, HostTensor>& values, int64_t selected,
                            std::vector<std::shared_ptr<const runtime::Program>>& programs,
                            std::map<std::string, std::pair<float, int32_t>>& params, bool& by_value) {
    const graph::Stage& stage = stages.stages[k];
    std::shared_ptr<const runtime::Program> program = declared;
    if (k > 0) {
      // A stage that gives nothing (a selection that is only an output) compiles nothing.
      program = stage.outputs.empty() ? nullptr : stage_program(k, values, requant, isa);
      programs.push_back(program);
    }
    if (program) {
      const graph::Graph& g = program->graph;
      std::vector<HostTensor> outs = placeholder_outputs(*program, options.nhwc_io);
      for (size_t i = 0; i < outs.size(); ++i) {
        const graph::ValueId q = program->quantized_outputs[i];
        const graph::Value& qv = g.value(q >= 0 ? q : g.outputs[i]);
        // The params a caller asking for quantized outputs gets: not for an output that a later stage or a
        // selection reads, which goes on in its computed form (staged_run.cpp).
        if (qv.type == ElementType::u8 && !qv.quant.scales.empty() && !read_later.count(stage.outputs[i]))
          params[stage.outputs[i]] = {qv.quant.scale(), qv.quant.zero_point()};
        values.insert_or_assign(stage.outputs[i], std::move(outs[i]));
      }
    }
    evaluate_on_placeholders(stage, values, selected, by_value);
  };
  auto describe = [&](int64_t selected, std::vector<std::shared_ptr<const runtime::Program>>& programs,
                      std::map<std::string, std::pair<float, int32_t>>& params) {
    std::map<std::string, HostTensor> values;
    const graph::Graph& first = declared->graph;
    for (size_t i = 0; i < first.inputs.size(); ++i) {
      const graph::Value& v = first.value(first.inputs[i]);
      const Shape shape = options.nhwc_io ? v.shape : graph::onnx_shape(v);
      if (describing_inputs && describing_inputs->count(v.name)) {
        values.emplace(v.name, describing_inputs->at(v.name));
        continue;
      }
      // Zeros of the type the caller gives (inputs: int32 where the model declares it).
      values.emplace(v.name, placeholder_tensor({v.name, inputs.at(i).dtype, shape, {}, 0.0f, 0}, 1));
    }
    bool by_value = false;
    for (size_t k = 0; k < stages.stages.size(); ++k) {
      by_value = by_value || !stages.stages[k].data_constants.empty();
      std::set<std::string> known_before;
      for (const auto& entry : values)
        known_before.insert(entry.first);
      bool described = true;
      try {
        describe_stage(k, values, selected, programs, params, by_value);
      } catch (const Error&) {
        if (!by_value) throw;
        described = false;
      }
      if (by_value)
        for (const auto& entry : values)
          if (!known_before.count(entry.first)) shaped_by_values.insert(entry.first);
      if (!described) {
        programs.resize(stages.stages.size() - 1);  // this stage and the rest compile when they first run
        break;
      }
    }
    return values;
  };
  std::vector<std::shared_ptr<const runtime::Program>> programs, unused;
  std::map<std::string, std::pair<float, int32_t>> params, unused_params;
  std::map<std::string, HostTensor> small, large;
  try {
    small = describe(1, programs, params);
    large = describe(2, unused, unused_params);
  } catch (const Error&) {
    programs.clear();
    unused.clear();
    params.clear();
    try {
      small = describe(12, programs, params);
      large = describe(24, unused, unused_params);
    } catch (const Error&) {
    }
    if (programs.size() + 1 != stages.stages.size() || large.empty()) throw;
  }
  later_stages_at_load = std::move(programs);
  std::vector<TensorInfo> described;
  for (size_t o = 0; o < stages.outputs.size(); ++o) {
    const std::string& name = stages.outputs[o];
    if (!small.count(name) || !large.count(name)) {
      described.push_back(declared_output(stages, o));
      continue;
    }
    const HostTensor& a = small.at(name);
    const HostTensor& b = large.at(name);
    TensorInfo t{name, a.dtype(), a.shape(), {}, 0, 0};
    if (shaped_by_values.count(name)) {
      // Placeholders do not even fix its rank where the two differ: the declared one, if any.
      const int declared_rank = stages.declared_outputs.at(o).rank;
      if (a.shape().size() != b.shape().size() && declared_rank >= 0)
        t.shape.resize(static_cast<size_t>(declared_rank));
      std::fill(t.shape.begin(), t.shape.end(), -1);
    }
    for (size_t d = 0; d < t.shape.size() && a.shape().size() == b.shape().size(); ++d)
      if (a.shape()[d] != b.shape()[d]) t.shape[d] = -1;
    if (const auto it = params.find(name); it != params.end())
      t.scale = it->second.first, t.zero_point = it->second.second;
    described.push_back(t);
  }
  outputs = std::move(described);
}

}  // namespace octet
