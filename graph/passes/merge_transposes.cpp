#include "graph/passes/merge_transposes.h"

#include <cstdint>
#include <vector>

#include "graph/passes/value_uses.h"

namespace octet::graph {

namespace {

bool merge_once(Graph& g) {
  const ValueUses uses(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& second = g.nodes[i];
    if (second.kind != OpKind::transpose) continue;
    const auto it = uses.producer.find(second.inputs[0]);
    if (it == uses.producer.end() || uses.read_count(second.inputs[0]) != 1) continue;
    const size_t first_index = it->second;
    const Node& first = g.nodes[first_index];
    if (first.kind != OpKind::transpose) continue;
    // Output dimension d of the second is its input's dimension q[d], which is the first's input dimension
    // p[q[d]].
    const std::vector<int64_t>& p = std::get<TransposeAttrs>(first.attrs).perm;
    const std::vector<int64_t>& q = std::get<TransposeAttrs>(second.attrs).perm;
    if (p.size() != q.size()) continue;
    std::vector<int64_t> merged(q.size());
    bool identity = true;
    for (size_t d = 0; d < q.size(); ++d) {
      merged[d] = p[static_cast<size_t>(q[d])];
      identity = identity && merged[d] == static_cast<int64_t>(d);
    }
    second.inputs = first.inputs;
    second.onnx_op = first.onnx_op + " + " + second.onnx_op;
    if (identity) {
      second.kind = OpKind::reshape;
      second.attrs = ReshapeAttrs{g.value(second.output).shape};
    } else {
      second.attrs = TransposeAttrs{merged};
    }
    g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(first_index));
    return true;
  }
  return false;
}

}  // namespace

void merge_transposes(Graph& graph) {
  while (merge_once(graph)) {
  }
}

}  // namespace octet::graph
