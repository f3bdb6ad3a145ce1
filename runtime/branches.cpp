// An If's branches (graph/stages.h): the branch its condition picks runs as a model of its own, loaded from
// the ONNX model the planner wrote for it, with a session like the caller's. A branch may hold
// data-dependent operators of its own (torchvision's batched NMS sits in the else branch of an If that
// tests for no boxes): its model is then staged like any other.

#include <algorithm>

#include "kernels/error.h"
#include "runtime/session_impl.h"
#include "runtime/subgraph_models.h"

namespace octet {

namespace {

std::string describe(const graph::DynamicNode& node) {
  return "node '" + node.name + "' (If)";
}

// What a branch reads, ready to load and run it: its inputs (of the types the branch model declares) and
// its constants.
runtime::SubgraphInputs branch_inputs(const graph::DynamicNode& node,
                                      const graph::DynamicNode::Branch& branch, const std::string& which,
                                      const std::map<std::string, HostTensor>& values,
                                      const std::set<std::string>& channel_last) {
  const auto read = [&](const std::string& name) -> const HostTensor& {
    const auto it = values.find(name);
    if (it == values.end()) throw Error("internal: " + describe(node) + ": '" + name + "' was not computed");
    return it->second;
  };
  runtime::SubgraphInputs b;
  for (const std::string& name : branch.inputs) {
    if (channel_last.count(name))
      throw Error(describe(node) + ": its " + which + " branch reads the image input '" + name +
                  "', which nhwc_io makes channel-last; octet runs branches on ONNX's layout (load the model "
                  "without nhwc_io)");
    b.add(name, read(name));
  }
  for (const std::string& name : branch.constant_inputs)
    b.add_constant(name, read(name));
  return b;
}

}  // namespace

std::vector<HostTensor> run_if(const graph::DynamicNode& node,
                               const std::map<std::string, HostTensor>& values, const SessionOptions& options,
                               const std::set<std::string>& channel_last, BranchSessions& branches) {
  const auto it = values.find(node.inputs.at(0));
  if (it == values.end()) throw Error("internal: " + describe(node) + ": its condition was not computed");
  const HostTensor& cond = it->second;
  if (cond.dtype() != DataType::boolean || cond.element_count() != 1)
    throw Error(describe(node) + ": the condition '" + node.inputs[0] + "' must be one bool, got " +
                name_of(cond.dtype()) + " of shape " + to_string(cond.shape()));
  const bool take_then = cond.bool_data()[0] != 0;
  const graph::DynamicNode::Branch& branch = take_then ? node.then_branch : node.else_branch;
  const std::string which = take_then ? "then" : "else";
  try {
    const runtime::SubgraphInputs b = branch_inputs(node, branch, which, values, channel_last);
    const BranchKey key{node.outputs.at(0), take_then, b.signature(), b.constant_key()};
    auto found = branches.find(key);
    if (found == branches.end())
      found = branches
                  .emplace(key, std::make_unique<Session::Impl>(
                                    runtime::load_subgraph(branch, b, options.requantization), options))
                  .first;
    Session::Impl& session = *found->second;
    std::map<std::string, HostTensor> out = session.run(b.inputs, {});
    std::vector<HostTensor> results;
    for (const TensorInfo& info : session.model->outputs) {
      const auto value = out.find(info.name);
      if (value == out.end()) throw Error("internal: the branch gave no '" + info.name + "'");
      results.push_back(std::move(value->second));
    }
    return results;
  } catch (const std::exception&) {
    runtime::rethrow_naming(describe(node), which + " branch");
  }
}

std::vector<TensorInfo> describe_if(const graph::DynamicNode& node,
                                    const std::map<std::string, HostTensor>& values,
                                    Requantization requantization, const std::set<std::string>& channel_last,
                                    bool* rank_follows_condition) {
  const auto cond = values.find(node.inputs.at(0));
  if (cond != values.end() &&
      (cond->second.dtype() != DataType::boolean || cond->second.element_count() != 1))
    throw Error(describe(node) + ": the condition '" + node.inputs[0] + "' must be one bool, got " +
                name_of(cond->second.dtype()) + " of shape " + to_string(cond->second.shape()));
  // The branch the placeholder condition picks (the then branch where it has none).
  const bool placeholder_then = cond == values.end() || cond->second.bool_data()[0] != 0;
  std::vector<TensorInfo> merged;
  for (const bool take_then : {true, false}) {
    const std::string which = take_then ? "then" : "else";
    const graph::DynamicNode::Branch& branch = take_then ? node.then_branch : node.else_branch;
    std::vector<TensorInfo> outputs;
    try {
      outputs = runtime::load_subgraph(branch, branch_inputs(node, branch, which, values, channel_last),
                                       requantization)
                    ->outputs;
    } catch (const std::exception&) {
      runtime::rethrow_naming(describe(node), which + " branch");
    }
    if (outputs.size() != node.outputs.size())
      throw Error(describe(node) + ": its " + which + " branch gives " + std::to_string(outputs.size()) +
                  " outputs, the If " + std::to_string(node.outputs.size()));
    if (!take_then) {
      for (size_t i = 0; i < merged.size(); ++i) {
        TensorInfo& m = merged[i];
        if (m.dtype != outputs[i].dtype)
          throw Error(describe(node) + ": output " + std::to_string(i) + " is " + name_of(m.dtype) +
                      " in the then branch and " + name_of(outputs[i].dtype) + " in the else branch");
        if (m.shape.size() != outputs[i].shape.size()) {
          if (!rank_follows_condition)
            throw Error(describe(node) + ": output " + std::to_string(i) + " has rank " +
                        std::to_string(m.shape.size()) + " in the then branch and " +
                        std::to_string(outputs[i].shape.size()) + " in the else branch");
          *rank_follows_condition = true;
          if (!placeholder_then) m.shape = outputs[i].shape;
          std::fill(m.shape.begin(), m.shape.end(), -1);
        }
        if (m.scale != outputs[i].scale || m.zero_point != outputs[i].zero_point)
          m.scale = 0.0f, m.zero_point = 0;  // quantized differently: no params to promise
        for (size_t d = 0; d < m.shape.size() && m.shape.size() == outputs[i].shape.size(); ++d)
          if (m.shape[d] != outputs[i].shape[d]) m.shape[d] = -1;
      }
    } else {
      merged = outputs;
    }
  }
  return merged;
}

}  // namespace octet
