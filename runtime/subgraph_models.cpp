#include "runtime/subgraph_models.h"

#include <string_view>

#include "runtime/dynamic_nodes.h"
#include "runtime/file_bytes.h"

namespace octet::runtime {

void SubgraphInputs::add(const std::string& name, HostTensor t) {
  declare(t);
  inputs.insert_or_assign(name, std::move(t));
}

void SubgraphInputs::declare(const HostTensor& t) {
  types.push_back(t.dtype() == DataType::int32 ? ElementType::s32 : element_type_of(t.dtype()));
  ranks.push_back(t.shape().size());
}

void SubgraphInputs::add_constant(const std::string& name, const HostTensor& t) {
  constants.push_back({name, element_type_of(t.dtype()), t.shape(), constant_bytes(t)});
}

std::vector<std::pair<ElementType, size_t>> SubgraphInputs::signature() const {
  std::vector<std::pair<ElementType, size_t>> s;
  for (size_t i = 0; i < types.size(); ++i)
    s.emplace_back(types[i], ranks[i]);
  return s;
}

std::vector<std::vector<std::byte>> SubgraphInputs::constant_key() const {
  std::vector<std::vector<std::byte>> key;
  for (const auto& c : constants)
    key.push_back(c.data);
  return key;
}

void rethrow_naming(const std::string& node, const std::string& part) {
  try {
    throw;
  } catch (const Error& e) {
    if (std::string_view(e.what()).starts_with(node)) throw;
    throw Error(node + ", " + part + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(node + ", " + part + ": " + e.what());
  }
}

std::shared_ptr<Model::Impl> load_subgraph(const graph::DynamicNode::Branch& subgraph,
                                           const SubgraphInputs& in, Requantization requantization) {
  const std::string bytes = graph::branch_model(subgraph, in.types, in.ranks, in.constants);
  auto impl = std::make_shared<Model::Impl>();
  impl->onnx = ByteBuffer::copy_of(std::as_bytes(std::span(bytes)));
  impl->allow_empty_inputs = true;
  LoadOptions load;
  load.requantization = requantization;
  for (const auto& [name, t] : in.inputs)
    load.input_shapes[name] = t.shape();
  impl->describing_inputs = &in.inputs;
  prepare_model(*impl, load);
  impl->describing_inputs = nullptr;
  return impl;
}

}  // namespace octet::runtime
