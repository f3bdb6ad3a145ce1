// An If's branches (graph/stages.h): the branch its condition picks runs as a model of its own, loaded from
// the ONNX model the planner wrote for it, with a session like the caller's. A branch may hold
// data-dependent operators of its own (torchvision's batched NMS sits in the else branch of an If that
// tests for no boxes): its model is then staged like any other.

#include "kernels/error.h"
#include "runtime/file_bytes.h"
#include "runtime/session_impl.h"

namespace octet {

namespace {

ElementType element_type_of(DataType t) {
  switch (t) {
    case DataType::float32:
      return ElementType::f32;
    case DataType::uint8:
      return ElementType::u8;
    case DataType::boolean:
      return ElementType::b8;
    case DataType::int64:
    case DataType::int32:
      break;
  }
  return ElementType::s64;
}

std::string describe(const graph::DynamicNode& node) {
  return "node '" + node.name + "' (If)";
}

}  // namespace

std::vector<HostTensor> run_if(
    const graph::DynamicNode& node, const std::map<std::string, HostTensor>& values,
    const SessionOptions& options,
    std::map<std::pair<std::string, bool>, std::unique_ptr<Session::Impl>>& branches) {
  const auto read = [&](const std::string& name) -> const HostTensor& {
    const auto it = values.find(name);
    if (it == values.end()) throw Error("internal: " + describe(node) + ": '" + name + "' was not computed");
    return it->second;
  };
  const HostTensor& cond = read(node.inputs.at(0));
  if (cond.dtype() != DataType::boolean || cond.element_count() != 1)
    throw Error(describe(node) + ": the condition '" + node.inputs[0] + "' must be one bool, got " +
                name_of(cond.dtype()) + " of shape " + to_string(cond.shape()));
  const bool take_then = cond.bool_data()[0] != 0;
  const graph::DynamicNode::Branch& branch = take_then ? node.then_branch : node.else_branch;

  std::map<std::string, HostTensor> inputs;
  std::vector<ElementType> types;
  std::vector<size_t> ranks;
  for (const std::string& name : branch.inputs) {
    const HostTensor& t = read(name);
    types.push_back(element_type_of(t.dtype()));
    ranks.push_back(t.shape().size());
    if (t.dtype() == DataType::int32)  // int32 is int64 inside octet: the branch takes it so
      inputs.emplace(name, HostTensor::from_int64(t.shape(), {t.int32_data().begin(), t.int32_data().end()}));
    else
      inputs.emplace(name, t);
  }
  std::unique_ptr<Session::Impl>& session = branches[{node.name, take_then}];
  try {
    if (!session) {
      const std::string bytes = graph::branch_model(branch, types, ranks);
      auto impl = std::make_shared<Model::Impl>();
      impl->onnx = runtime::ByteBuffer::copy_of(std::as_bytes(std::span(bytes)));
      impl->allow_empty_inputs = true;
      LoadOptions load;
      load.requantization = options.requantization;
      for (const auto& [name, t] : inputs)
        load.input_shapes[name] = t.shape();
      prepare_model(*impl, load);
      session = std::make_unique<Session::Impl>(std::move(impl), options);
    }
    std::map<std::string, HostTensor> out = session->run(inputs, {});
    std::vector<HostTensor> results;
    for (const TensorInfo& info : session->model->outputs)
      results.push_back(std::move(out.at(info.name)));
    return results;
  } catch (const Error& e) {
    throw Error(describe(node) + ", " + (take_then ? "then" : "else") + " branch: " + e.what());
  }
}

}  // namespace octet
