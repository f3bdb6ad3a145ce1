#pragma once

// Subgraphs that run as models of their own (graph/stages.h): an If's branches and a Loop's body. What such
// a model is given, and loading it.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/stages.h"
#include "runtime/model_impl.h"

namespace octet::runtime {

// A subgraph model's inputs, in the order it declares them, with the element types and ranks it declares
// them with, and its constant inputs.
struct SubgraphInputs {
  std::map<std::string, HostTensor> inputs;
  std::vector<ElementType> types;
  std::vector<size_t> ranks;
  std::vector<graph::ImportCut::ConstantTensor> constants;

  // An input: int32 goes in as int32 (the model declares it so and holds it as int64), so that a subgraph
  // giving it back gives int32.
  void add(const std::string& name, HostTensor t);
  // An input's type and rank only, its tensor placed in `inputs` by the caller.
  void declare(const HostTensor& t);
  void add_constant(const std::string& name, const HostTensor& t);
  // What selects a compiled model (with the subgraph's identity): input types and ranks, constant bytes.
  std::vector<std::pair<ElementType, size_t>> signature() const;
  std::vector<std::vector<std::byte>> constant_key() const;
};

// Rethrows the exception being handled as an octet::Error that names the node: `node` (e.g. "node 'x'
// (Loop)"), then ", `part`: " and the message, unless the message starts with `node` already.
[[noreturn]] void rethrow_naming(const std::string& node, const std::string& part);

// Compiles the subgraph's model for these inputs' shapes (their ranks are declared; their sizes are the
// load's input shapes), in `requantization`'s mode.
std::shared_ptr<Model::Impl> load_subgraph(const graph::DynamicNode::Branch& subgraph,
                                           const SubgraphInputs& in, Requantization requantization);

}  // namespace octet::runtime
