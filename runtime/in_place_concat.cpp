#include "runtime/in_place_concat.h"

#include <algorithm>

#include "graph/passes/value_uses.h"
#include "runtime/operators.h"

namespace octet::runtime {

std::vector<InPlaceConcatInput> find_in_place_concat_inputs(const graph::Graph& g, Isa isa,
                                                            const std::vector<graph::ValueId>& keep_alive) {
  std::vector<InPlaceConcatInput> found;
  const graph::ValueUses uses(g);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const graph::Node& concat = g.nodes[k];
    if (concat.kind != graph::OpKind::concat) continue;
    const graph::Value& out = g.value(concat.output);
    const auto axis = std::get<graph::ConcatAttrs>(concat.attrs).axis;
    if (out.type != ElementType::u8 || out.shape.size() != 4 || axis != 3) continue;
    int64_t column = 0;
    for (size_t i = 0; i < concat.inputs.size(); ++i) {
      const graph::ValueId id = concat.inputs[i];
      const graph::Value& v = g.value(id);
      const int64_t channels = v.shape.size() == 4 ? v.shape[3] : 0;
      const auto producer = uses.producer.find(id);
      const bool alone = uses.read_count(id) == 1 &&
                         std::find(keep_alive.begin(), keep_alive.end(), id) == keep_alive.end() &&
                         std::find(g.inputs.begin(), g.inputs.end(), id) == g.inputs.end();
      if (producer != uses.producer.end() && alone && !v.is_constant() && v.type == ElementType::u8 &&
          v.quant == out.quant && producer->second < k &&
          takes_output_stride(g, g.nodes[producer->second], isa)) {
        InPlaceConcatInput in;
        in.producer = static_cast<int>(producer->second);
        in.concat = static_cast<int>(k);
        in.input = i;
        in.alias = ValueAlias{id, concat.output, column};
        in.row_stride = out.shape[3];
        found.push_back(in);
      }
      column += channels;
    }
  }
  return found;
}

}  // namespace octet::runtime
