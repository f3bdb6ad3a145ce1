#include "graph/passes/fuse_byte_maps.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>

#include "graph/passes/value_uses.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/requantize.h"

namespace octet::graph {

namespace {

// The byte -> byte map a uint8 table or requantization node computes, from its reference arithmetic.
std::optional<ref::Lut> byte_map_of(const Graph& g, const Node& n, RequantMode requant) {
  if (n.kind == OpKind::lut) return std::get<LutAttrs>(n.attrs).table;
  if (n.kind != OpKind::requantize) return std::nullopt;
  const Value& in = g.value(n.inputs[0]);
  if (in.type != ElementType::u8 || in.quant.scales.empty()) return std::nullopt;
  TensorU8 all({256}, in.quant);
  std::iota(all.data.begin(), all.data.end(), uint8_t{0});
  const TensorU8 mapped =
      ref::requantize_tensor(all, g.value(n.output).quant, std::get<ClampAttrs>(n.attrs).clamp, requant);
  ref::Lut table{};
  std::copy(mapped.data.begin(), mapped.data.end(), table.begin());
  return table;
}

// out[v] = op(v, inner[v]) for every byte v, with the add / mul node's params and clamp.
ref::Lut binary_of_byte_map(const Graph& g, const Node& n, size_t x_operand, const ref::Lut& inner,
                            RequantMode requant) {
  const Value& x = g.value(n.inputs[x_operand]);
  const Value& y = g.value(n.inputs[1 - x_operand]);
  TensorU8 a({256}, x.quant), b({256}, y.quant);
  std::iota(a.data.begin(), a.data.end(), uint8_t{0});
  std::copy(inner.begin(), inner.end(), b.data.begin());
  if (x_operand == 1) std::swap(a, b);
  const Clamp clamp = std::get<ClampAttrs>(n.attrs).clamp;
  const QuantParams& out = g.value(n.output).quant;
  const TensorU8 r =
      n.kind == OpKind::add ? ref::add(a, b, out, clamp, requant) : ref::mul(a, b, out, clamp, requant);
  ref::Lut table{};
  std::copy(r.data.begin(), r.data.end(), table.begin());
  return table;
}

// One fusion, if any applies; returns whether the graph changed.
bool fuse_once(Graph& g, RequantMode requant) {
  const ValueUses uses(g);
  const std::map<ValueId, size_t>& producer = uses.producer;
  // The byte-map node producing `v` when `v` is read only once (by the node being fused).
  auto single_use_map = [&](ValueId v) -> std::optional<size_t> {
    const auto it = producer.find(v);
    if (it == producer.end() || uses.read_count(v) != 1) return std::nullopt;
    if (!byte_map_of(g, g.nodes[it->second], requant)) return std::nullopt;
    return it->second;
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (const auto outer = byte_map_of(g, n, requant)) {
      const auto p = single_use_map(n.inputs[0]);
      if (!p) continue;
      const Node& inner_node = g.nodes[*p];
      const ref::Lut inner = *byte_map_of(g, inner_node, requant);
      LutAttrs fused;
      for (size_t v = 0; v < 256; ++v)
        fused.table[v] = (*outer)[inner[v]];
      n.kind = OpKind::lut;
      n.attrs = fused;
      n.inputs = inner_node.inputs;
      n.onnx_op = inner_node.onnx_op + " + " + n.onnx_op;
      g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(*p));
      return true;
    }
    if (n.kind != OpKind::add && n.kind != OpKind::mul) continue;
    const Value& out = g.value(n.output);
    for (size_t x = 0; x < 2; ++x) {
      const ValueId xv = n.inputs[x], yv = n.inputs[1 - x];
      if (g.value(xv).shape != out.shape || g.value(yv).shape != out.shape) continue;
      const auto p = single_use_map(yv);
      if (!p || g.nodes[*p].inputs[0] != xv) continue;
      LutAttrs fused;
      fused.table = binary_of_byte_map(g, n, x, *byte_map_of(g, g.nodes[*p], requant), requant);
      n.onnx_op = g.nodes[*p].onnx_op + " + " + n.onnx_op;
      n.kind = OpKind::lut;
      n.attrs = fused;
      n.inputs = {xv};
      g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(*p));
      return true;
    }
  }
  return false;
}

}  // namespace

void fuse_byte_maps(Graph& graph, RequantMode requant) {
  while (fuse_once(graph, requant)) {
  }
}

}  // namespace octet::graph
