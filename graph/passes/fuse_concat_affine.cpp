#include "graph/passes/fuse_concat_affine.h"

#include <algorithm>

#include "graph/passes/drop_nodes.h"
#include "graph/passes/value_uses.h"

namespace octet::graph {

void fuse_concat_affine(Graph& g) {
  const ValueUses uses(g);
  std::vector<bool> dropped(g.nodes.size(), false);
  for (Node& affine : g.nodes) {
    const auto* norm = std::get_if<NormAttrs>(&affine.attrs);
    if (affine.kind != OpKind::normalize || norm == nullptr || norm->kind != NormKind::channel_affine ||
        affine.inputs.size() != 1)
      continue;
    const ValueId joined = affine.inputs[0];
    const Value& in = g.value(joined);
    // Float, or uint8 with per-tensor params (the affine's Dequantize and Quantize folded in).
    const bool bytes = in.type == ElementType::u8;
    auto readable = [&](const Value& v) {
      return v.type == in.type && (!bytes || (!v.quant.scales.empty() && v.quant.is_per_tensor()));
    };
    if (!readable(in) || (!bytes && in.type != ElementType::f32) || in.is_constant() || in.shape.empty() ||
        norm->axis != static_cast<int64_t>(in.shape.size()) - 1 || uses.read_count(joined) != 1)
      continue;
    const auto producer = uses.producer.find(joined);
    if (producer == uses.producer.end() || dropped[producer->second]) continue;
    const Node& concat = g.nodes[producer->second];
    const auto* along = std::get_if<ConcatAttrs>(&concat.attrs);
    if (concat.kind != OpKind::concat || along == nullptr || along->axis != norm->axis ||
        !std::all_of(concat.inputs.begin(), concat.inputs.end(),
                     [&](ValueId v) { return readable(g.value(v)) && g.value(v).layout == in.layout; }))
      continue;
    if (bytes) std::get<NormAttrs>(affine.attrs).joined_quant = in.quant;
    affine.inputs = concat.inputs;
    affine.onnx_op = concat.onnx_op + " + " + affine.onnx_op;
    dropped[producer->second] = true;
  }
  drop_nodes(g, dropped);
}

}  // namespace octet::graph
