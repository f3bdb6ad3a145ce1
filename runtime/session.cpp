#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <sstream>

#include "kernels/error.h"
#include "runtime/copy_bytes.h"
#include "runtime/out_of_memory.h"
#include "runtime/session_impl.h"

namespace octet {

namespace {

std::string mib(int64_t bytes) {
  std::ostringstream text;
  text.precision(1);
  text << std::fixed << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return text.str();
}

// What a failed allocation of the activation arena says: its size, and the largest tensor in it, by name,
// shape and producer (a shape that makes the arena too large shows there first).
std::string arena_failure(const runtime::Program& program) {
  const graph::Graph& g = program.graph;
  const std::vector<int64_t>& sizes = program.plan.sizes;
  std::string text = "cannot allocate the " + mib(program.plan.arena_bytes) +
                     " of activation memory that these input shapes need";
  if (sizes.empty()) return text;
  const auto largest =
      static_cast<graph::ValueId>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
  const graph::Value& v = g.value(largest);
  text += "; the largest tensor in it is '" + v.name + "' " + to_string(onnx_shape(v)) + ", " +
          mib(sizes[static_cast<size_t>(largest)]);
  for (const graph::Node& node : g.nodes)
    if (node.output == largest) text += ", the output of node '" + node.name + "' (" + node.onnx_op + ")";
  return text + " (SessionOptions::max_arena_bytes makes a plan above a limit an error before allocating)";
}

using runtime::copy_bytes;

std::string shape_text(const std::vector<int64_t>& s) {
  return to_string(s);
}

// Layout changes of uint8 images between the caller (the model's NCHW) and octet's NHWC values, for
// callers that pass or take quantized data. `nhwc` is the physical NHWC shape. An empty tensor may still
// have a huge dimension (a Tile to [14, 16, 0, 4e13] from a fuzzed model): nothing to copy, and the loops
// over the other dimensions must not run.
void copy_nchw_to_nhwc(const uint8_t* src, uint8_t* dst, const Shape& nhwc) {
  if (std::find(nhwc.begin(), nhwc.end(), 0) != nhwc.end()) return;
  const int64_t n = nhwc[0], hw = nhwc[1] * nhwc[2], c = nhwc[3];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        dst[(b * hw + p) * c + ch] = src[(b * c + ch) * hw + p];
}

void copy_nhwc_to_nchw(const uint8_t* src, uint8_t* dst, const Shape& nhwc) {
  if (std::find(nhwc.begin(), nhwc.end(), 0) != nhwc.end()) return;
  const int64_t n = nhwc[0], hw = nhwc[1] * nhwc[2], c = nhwc[3];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        dst[(b * c + ch) * hw + p] = src[(b * hw + p) * c + ch];
}

}  // namespace

Session::Session(const Model& model, const SessionOptions& options)
    : impl_(std::make_unique<Impl>(model.impl_, options)) {}
Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

std::map<std::string, HostTensor> Session::run(const std::map<std::string, HostTensor>& inputs,
                                               const RunOptions& options) {
  return impl_->run(inputs, options);
}

std::vector<Shape> Session::Impl::input_shapes(const std::map<std::string, HostTensor>& inputs) const {
  const auto& infos = model->inputs;
  // Not a structured binding: clang before 16 cannot capture one in the lambda below.
  for (const auto& input : inputs) {
    const std::string& name = input.first;
    if (std::none_of(infos.begin(), infos.end(), [&](const TensorInfo& t) { return t.name == name; })) {
      std::string known;
      for (const auto& t : infos)
        known += (known.empty() ? "'" : ", '") + t.name + "'";
      throw Error("input '" + name + "' is not an input of the model (its inputs: " + known + ")");
    }
  }
  // The shapes given, in the model's (ONNX) order, select the compiled program.
  std::vector<Shape> shapes;
  const graph::Graph& declared = model->declared->graph;
  for (size_t i = 0; i < infos.size(); ++i) {
    const TensorInfo& info = infos[i];
    const auto it = inputs.find(info.name);
    if (it == inputs.end()) throw Error("input '" + info.name + "' is missing");
    const HostTensor& t = it->second;
    bool fits = t.shape().size() == info.shape.size();
    for (size_t d = 0; fits && d < info.shape.size(); ++d)
      fits = info.shape[d] < 0 || info.shape[d] == t.shape()[d];
    if (!fits)
      throw Error("input '" + info.name + "' has shape " + shape_text(t.shape()) + ", the model expects " +
                  shape_text(info.shape) + " (-1: any size)");
    Shape s = t.shape();
    // An image input the importer made channel-last takes NHWC data (nhwc_io); its program is keyed by
    // the model's order.
    if (declared.value(declared.inputs[i]).layout == graph::Layout::nhwc) s = {s[0], s[3], s[1], s[2]};
    shapes.push_back(s);
  }
  return shapes;
}

std::map<std::string, HostTensor> Session::Impl::run(const std::map<std::string, HostTensor>& inputs,
                                                     const RunOptions& run_options) {
  return run(inputs, run_options, nullptr);
}

std::map<std::string, HostTensor> Session::Impl::run_lending(std::map<std::string, HostTensor>& inputs,
                                                             const RunOptions& run_options) {
  return run(inputs, run_options, &inputs);
}

std::map<std::string, HostTensor> Session::Impl::run(const std::map<std::string, HostTensor>& inputs,
                                                     const RunOptions& run_options,
                                                     std::map<std::string, HostTensor>* lender) {
  const std::vector<Shape> shapes = input_shapes(inputs);
  const std::shared_ptr<const runtime::Program> program =
      model->program_for(shapes, requant_mode_of(options.requantization), isa);
  std::vector<const HostTensor*> given;
  for (const TensorInfo& info : model->inputs)
    given.push_back(&inputs.at(info.name));
  if (model->stages.staged()) return run_stages(*program, given, run_options, lender);

  const graph::Graph& g = program->graph;
  std::vector<bool> quantized(g.outputs.size(), run_options.quantized_outputs);
  std::vector<const TensorInfo*> infos;
  for (const TensorInfo& info : model->inputs)
    infos.push_back(&info);
  std::vector<HostTensor> results =
      execute(*program, given, infos, quantized, run_options.profile != nullptr);
  std::map<std::string, HostTensor> outputs;
  for (size_t i = 0; i < g.outputs.size(); ++i)
    outputs.emplace(g.value(g.outputs[i]).name, std::move(results[i]));
  if (run_options.profile) fill_profile(g, *run_options.profile);
  return outputs;
}

std::vector<HostTensor> Session::Impl::execute(const runtime::Program& program,
                                               std::span<const HostTensor* const> inputs,
                                               std::span<const TensorInfo* const> infos,
                                               const std::vector<bool>& quantized_outputs, bool profile) {
  check_arena(program);
  const graph::Graph& g = program.graph;
  std::byte* base = nullptr;
  try {
    base = arena.reserve(program.plan.arena_bytes, options.max_arena_bytes);
  } catch (const std::bad_alloc&) {
    throw runtime::OutOfMemory(arena_failure(program));
  }
  // Constants live in the program, inputs the operators read as they are in the caller's tensor (below),
  // everything else in the arena. Operators never write to a constant or to a graph input (only the
  // in-place Concat writes into another value's bytes, and only into a Concat's output).
  std::vector<const std::byte*> in_place(g.values.size(), nullptr);
  auto buffer = [&](graph::ValueId id) {
    const graph::Value& v = g.value(id);
    if (v.is_constant()) return const_cast<std::byte*>(v.constant->data());
    if (const std::byte* given = in_place[static_cast<size_t>(id)]) return const_cast<std::byte*>(given);
    return base + program.plan.offsets[static_cast<size_t>(id)];
  };

  std::set<int> skipped;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const HostTensor& t = *inputs[i];
    const graph::ValueId id = g.inputs[i];
    const graph::Value& v = g.value(id);
    const TensorInfo* caller = infos[i];
    if (caller) {
      const TensorInfo& info = *caller;
      if (t.dtype() != info.dtype && !(t.dtype() == DataType::uint8 && info.dtype == DataType::float32))
        throw Error("input '" + info.name + "' must be " + name_of(info.dtype) + ", got " +
                    name_of(t.dtype()));
    }
    if (t.dtype() == DataType::int32) {
      // Held as int64 inside (graph::Graph::int32_inputs).
      const std::span<const int32_t> values = t.int32_data();
      std::copy(values.begin(), values.end(), reinterpret_cast<int64_t*>(buffer(id)));
      continue;
    }
    if (t.dtype() != DataType::uint8) {
      // Read where it is: no copy into the arena (a Loop's body appending to a carried tensor would copy
      // the whole tensor once more per iteration). Its bytes are exactly what the program expects: it was
      // compiled for this shape.
      const int64_t expected = runtime::byte_size(v);
      if (static_cast<int64_t>(t.bytes().size_bytes()) != expected)
        throw Error("internal: input '" + v.name + "' has " + std::to_string(t.bytes().size_bytes()) +
                    " bytes, its program expects " + std::to_string(expected));
      if (!t.bytes().empty()) in_place[static_cast<size_t>(id)] = t.bytes().data();
      continue;
    }
    // uint8 data: either the model's input is uint8, or the caller quantized a float input already.
    graph::ValueId target = id;
    QuantParams expected = v.quant;
    if (v.type == ElementType::f32) {
      const int q = program.input_quantize_nodes[i];
      if (q < 0) throw Error("input '" + v.name + "' is float32 and cannot take uint8 data");
      target = g.nodes[static_cast<size_t>(q)].output;
      expected = g.value(target).quant;
      skipped.insert(q);
    }
    // A caller's params must be the model's; a uint8 tensor a stage passes on is the one the model's own
    // DequantizeLinear reads with its params, as ONNX defines it.
    if (caller && t.scale() != 0.0f && !expected.scales.empty() &&
        !(QuantParams::per_tensor(t.scale(), t.zero_point()) == expected))
      throw Error("input '" + v.name + "' is quantized with scale " + std::to_string(t.scale()) +
                  " / zero point " + std::to_string(t.zero_point()) + ", the model expects scale " +
                  std::to_string(expected.scale()) + " / zero point " +
                  std::to_string(expected.zero_point()));
    const graph::Value& tv = g.value(target);
    if (tv.layout == graph::Layout::nhwc && !model->options.nhwc_io)
      copy_nchw_to_nhwc(t.uint8_data().data(), reinterpret_cast<uint8_t*>(buffer(target)), tv.shape);
    else
      copy_bytes(buffer(target), t.uint8_data().data(), t.uint8_data().size_bytes());
  }

  // The profiler's whole cost inside the operator loop is one clock read per operator and storing it in a
  // vector that is already large enough: an operator's time runs from its reading to the next one (so the
  // times add up to the loop's). Everything else is done after the last operator. Off, it is one
  // well-predicted branch per operator.
  if (profile) {
    marks.clear();
    marks.reserve(g.nodes.size() + 1);  // one per operator and the end
  }
  workers.execute([&] {
    std::vector<const std::byte*> in;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (skipped.count(static_cast<int>(i))) continue;
      const graph::Node& node = g.nodes[i];
      if (profile) marks.emplace_back(i, std::chrono::steady_clock::now());
      in.clear();
      for (graph::ValueId id : node.inputs)
        in.push_back(buffer(id));
      try {
        program.operators[i]->run(in, buffer(node.output));
      } catch (const Error& e) {
        throw Error("node '" + node.name + "' (" + node.onnx_op + "): " + e.what());
      }
    }
    if (profile) marks.emplace_back(g.nodes.size(), std::chrono::steady_clock::now());
  });

  std::vector<HostTensor> outputs;
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    graph::ValueId id = g.outputs[i];
    if (quantized_outputs[i] && program.quantized_outputs[i] >= 0) id = program.quantized_outputs[i];
    const graph::Value& v = g.value(id);
    const Shape shape = model->options.nhwc_io ? v.shape : graph::onnx_shape(v);
    const std::string& name = g.value(g.outputs[i]).name;
    const int64_t n = element_count(v.shape, name);
    // Each output's vector is built from the arena's bytes in one pass (not zeroed, then copied).
    if (v.type == ElementType::f32) {
      const auto* data = reinterpret_cast<const float*>(buffer(id));
      outputs.push_back(HostTensor::from_float(shape, std::vector<float>(data, data + n)));
    } else if (v.type == ElementType::s64 && g.int32_output(i)) {
      // Wrapped modulo 2^32, as int32 arithmetic would have (graph::Graph::int32_outputs).
      const auto* wide = reinterpret_cast<const int64_t*>(buffer(id));
      std::vector<int32_t> values(static_cast<size_t>(n));
      for (size_t k = 0; k < values.size(); ++k)
        values[k] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(wide[k])));
      outputs.push_back(HostTensor::from_int32(shape, std::move(values)));
    } else if (v.type == ElementType::s64) {
      const auto* data = reinterpret_cast<const int64_t*>(buffer(id));
      outputs.push_back(HostTensor::from_int64(shape, std::vector<int64_t>(data, data + n)));
    } else if (v.type == ElementType::b8) {
      const auto* data = reinterpret_cast<const uint8_t*>(buffer(id));
      outputs.push_back(HostTensor::from_bool(shape, std::vector<uint8_t>(data, data + n)));
    } else {
      const auto* data = reinterpret_cast<const uint8_t*>(buffer(id));
      std::vector<uint8_t> values;
      if (v.layout == graph::Layout::nhwc && !model->options.nhwc_io) {
        values.resize(static_cast<size_t>(n));
        copy_nhwc_to_nchw(data, values.data(), v.shape);
      } else {
        values.assign(data, data + n);
      }
      outputs.push_back(
          v.quant.scales.empty()
              ? HostTensor::from_uint8(shape, std::move(values))
              : HostTensor::from_uint8(shape, std::move(values), v.quant.scale(), v.quant.zero_point()));
    }
  }
  return outputs;
}

}  // namespace octet
