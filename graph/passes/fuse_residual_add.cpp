#include "graph/passes/fuse_residual_add.h"

#include <map>
#include <optional>

#include "graph/passes/drop_nodes.h"
#include "graph/passes/value_uses.h"

namespace octet::graph {

namespace {

bool plain_activation(const Value& v, const Shape& shape) {
  return !v.is_constant() && v.type == ElementType::u8 && v.shape == shape && !v.quant.scales.empty() &&
         v.quant.is_per_tensor();
}

}  // namespace

void fuse_residual_adds(Graph& g) {
  const ValueUses uses(g);
  const std::map<ValueId, size_t>& producer = uses.producer;

  std::vector<bool> fused_away(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& add = g.nodes[i];
    if (add.kind != OpKind::add || add.inputs.size() != 2 || !std::holds_alternative<ClampAttrs>(add.attrs))
      continue;
    const Value& out = g.value(add.output);
    if (!plain_activation(out, out.shape) || !plain_activation(g.value(add.inputs[0]), out.shape) ||
        !plain_activation(g.value(add.inputs[1]), out.shape) || add.inputs[0] == add.inputs[1])
      continue;
    // The operand whose producer is a convolution read by this add alone; the later one of two.
    std::optional<size_t> operand;
    for (size_t x = 0; x < 2; ++x) {
      const auto it = producer.find(add.inputs[x]);
      if (it == producer.end() || it->second >= i || fused_away[it->second] ||
          uses.read_count(add.inputs[x]) != 1)
        continue;
      const Node& conv = g.nodes[it->second];
      const auto* attrs = std::get_if<ConvAttrs>(&conv.attrs);
      if (conv.kind != OpKind::conv || !attrs || attrs->residual || conv.inputs.size() != 1) continue;
      if (!operand || it->second > producer.at(add.inputs[*operand])) operand = x;
    }
    if (!operand) continue;
    const size_t conv_index = producer.at(add.inputs[*operand]);
    Node fused = g.nodes[conv_index];
    auto& attrs = std::get<ConvAttrs>(fused.attrs);
    attrs.residual = ResidualAddAttrs{g.value(add.inputs[*operand]).quant,
                                      std::get<ClampAttrs>(add.attrs).clamp, *operand == 0};
    fused.inputs.push_back(add.inputs[1 - *operand]);
    fused.output = add.output;
    fused.onnx_op += " + " + add.onnx_op;
    g.nodes[i] = std::move(fused);
    fused_away[conv_index] = true;
  }
  drop_nodes(g, fused_away);
}

}  // namespace octet::graph
