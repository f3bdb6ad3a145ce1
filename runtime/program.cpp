#include "runtime/program.h"

#include "kernels/error.h"

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
  for (const graph::Node& node : g.nodes) {
    try {
      program->operators.push_back(make_operator(g, node, isa, requant));
    } catch (const Error& e) {
      throw Error("node '" + node.name + "' (" + node.onnx_op + "): " + e.what());
    }
  }
  std::vector<graph::ValueId> keep;
  for (graph::ValueId out : g.outputs) {
    graph::ValueId q = -1;
    for (const graph::Node& node : g.nodes)
      if (node.output == out && node.kind == graph::OpKind::dequantize) q = node.inputs[0];
    program->quantized_outputs.push_back(q);
    if (q >= 0) keep.push_back(q);
  }
  program->plan = plan_memory(g, keep);
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

}  // namespace octet::runtime
