// An If's branches (graph/stages.h): the branch its condition picks runs as a model of its own, loaded from
// the ONNX model the planner wrote for it, with a session like the caller's. A branch may hold
// data-dependent operators of its own (torchvision's batched NMS sits in the else branch of an If that
// tests for no boxes): its model is then staged like any other.

#include "kernels/error.h"
#include "runtime/dynamic_nodes.h"
#include "runtime/file_bytes.h"
#include "runtime/session_impl.h"

namespace octet {

namespace {

std::string describe(const graph::DynamicNode& node) {
  return "node '" + node.name + "' (If)";
}

}  // namespace

std::vector<HostTensor> run_if(const graph::DynamicNode& node,
                               const std::map<std::string, HostTensor>& values, const SessionOptions& options,
                               const std::set<std::string>& channel_last, BranchSessions& branches) {
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
  const std::string which = take_then ? "then" : "else";

  std::map<std::string, HostTensor> inputs;
  std::vector<ElementType> types;
  std::vector<size_t> ranks;
  std::vector<std::pair<ElementType, size_t>> signature;
  for (const std::string& name : branch.inputs) {
    if (channel_last.count(name))
      throw Error(describe(node) + ": its " + which + " branch reads the image input '" + name +
                  "', which nhwc_io makes channel-last; octet runs branches on ONNX's layout (load the model "
                  "without nhwc_io)");
    const HostTensor& t = read(name);
    // int32 goes in as int32 (the branch model declares it so and holds it as int64), so that a branch
    // giving it back gives int32 as the other branch's Cast to int32 would.
    types.push_back(t.dtype() == DataType::int32 ? ElementType::s32 : runtime::element_type_of(t.dtype()));
    ranks.push_back(t.shape().size());
    signature.emplace_back(types.back(), ranks.back());
    inputs.emplace(name, t);
  }
  std::vector<graph::ImportCut::ConstantTensor> constants;
  std::vector<std::vector<std::byte>> constant_key;
  for (const std::string& name : branch.constant_inputs) {
    const HostTensor& t = read(name);
    constants.push_back({name, runtime::element_type_of(t.dtype()), t.shape(), runtime::constant_bytes(t)});
    constant_key.push_back(constants.back().data);
  }
  const BranchKey key{node.outputs.at(0), take_then, signature, constant_key};
  try {
    auto it = branches.find(key);
    if (it == branches.end()) {
      const std::string bytes = graph::branch_model(branch, types, ranks, constants);
      auto impl = std::make_shared<Model::Impl>();
      impl->onnx = runtime::ByteBuffer::copy_of(std::as_bytes(std::span(bytes)));
      impl->allow_empty_inputs = true;
      LoadOptions load;
      load.requantization = options.requantization;
      for (const auto& [name, t] : inputs)
        load.input_shapes[name] = t.shape();
      prepare_model(*impl, load);
      it = branches.emplace(key, std::make_unique<Session::Impl>(std::move(impl), options)).first;
    }
    Session::Impl& session = *it->second;
    std::map<std::string, HostTensor> out = session.run(inputs, {});
    std::vector<HostTensor> results;
    for (const TensorInfo& info : session.model->outputs) {
      const auto found = out.find(info.name);
      if (found == out.end()) throw Error("internal: the branch gave no '" + info.name + "'");
      results.push_back(std::move(found->second));
    }
    return results;
  } catch (const std::exception& e) {
    throw Error(describe(node) + ", " + which + " branch: " + e.what());
  }
}

}  // namespace octet
