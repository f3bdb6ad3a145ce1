#include "runtime/program.h"

#include <algorithm>

#include "kernels/error.h"
#include "runtime/in_place_concat.h"

namespace octet::runtime {

std::shared_ptr<const Program> compile(std::span<const std::byte> onnx, const graph::ImportOptions& options,
                                       RequantMode requant, Isa isa) {
  auto program = std::make_shared<Program>();
  program->requant = requant;
  program->isa = isa;
  graph::ImportOptions io = options;
  io.requant = requant;  // tables built at import follow the mode too
  program->graph = graph::import_onnx(onnx, io);
  const graph::Graph& g = program->graph;
  std::vector<graph::ValueId> keep;
  for (graph::ValueId out : g.outputs) {
    graph::ValueId q = -1;
    for (const graph::Node& node : g.nodes)
      if (node.output == out && node.kind == graph::OpKind::dequantize) q = node.inputs[0];
    program->quantized_outputs.push_back(q);
    if (q >= 0) keep.push_back(q);
  }
  // Convolutions that write straight into their Concat's output (in_place_concat.h).
  std::vector<Placement> placements(g.nodes.size());
  std::vector<ValueAlias> aliases;
  program->stores_into_concat.assign(g.nodes.size(), -1);
  for (const InPlaceConcatInput& in : find_in_place_concat_inputs(g, isa, keep)) {
    placements[static_cast<size_t>(in.producer)].output_stride = in.row_stride;
    program->stores_into_concat[static_cast<size_t>(in.producer)] = in.concat;
    std::vector<bool>& written = placements[static_cast<size_t>(in.concat)].inputs_in_place;
    written.resize(g.nodes[static_cast<size_t>(in.concat)].inputs.size());
    written[in.input] = true;
    aliases.push_back(in.alias);
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node& node = g.nodes[i];
    try {
      program->operators.push_back(make_operator(g, node, isa, requant, placements[i]));
    } catch (const Error& e) {
      throw Error("node '" + node.name + "' (" + node.onnx_op + "): " + e.what());
    }
  }
  program->plan = plan_memory(g, keep, aliases);
  for (graph::ValueId in : g.inputs) {
    int node_index = -1, uses = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (graph::ValueId id : g.nodes[i].inputs)
        if (id == in) {
          ++uses;
          if (g.nodes[i].kind == graph::OpKind::quantize) node_index = static_cast<int>(i);
        }
    program->input_quantize_nodes.push_back(uses == 1 ? node_index : -1);
  }
  return program;
}

int Program::in_place_concat_inputs() const {
  return static_cast<int>(std::count_if(stores_into_concat.begin(), stores_into_concat.end(),
                                        [](int concat) { return concat >= 0; }));
}

}  // namespace octet::runtime
