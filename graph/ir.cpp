#include "graph/ir.h"

namespace octet::graph {

const char* name_of(OpKind kind) {
  switch (kind) {
    case OpKind::quantize:
      return "quantize";
    case OpKind::dequantize:
      return "dequantize";
    case OpKind::conv:
      return "conv";
    case OpKind::fully_connected:
      return "fully_connected";
    case OpKind::max_pool:
      return "max_pool";
    case OpKind::average_pool:
      return "average_pool";
    case OpKind::global_average_pool:
      return "global_average_pool";
    case OpKind::add:
      return "add";
    case OpKind::mul:
      return "mul";
    case OpKind::concat:
      return "concat";
    case OpKind::requantize:
      return "requantize";
    case OpKind::resize:
      return "resize";
    case OpKind::lut:
      return "lut";
    case OpKind::softmax:
      return "softmax";
    case OpKind::reshape:
      return "reshape";
    case OpKind::transpose:
      return "transpose";
  }
  return "?";
}

int64_t mac_count(const Graph& graph, const Node& node) {
  if (node.kind == OpKind::conv) {
    const auto& a = std::get<ConvAttrs>(node.attrs);
    const Shape& w = std::visit([](const auto& t) -> const Shape& { return t.shape; }, *a.weights);
    const int64_t per_pixel_taps = w[1] * w[2] * w[3];
    if (a.transposed) {  // every input pixel meets every tap once
      const Shape& in = graph.value(node.inputs[0]).shape;
      return in[0] * in[1] * in[2] * per_pixel_taps * w[0];
    }
    const Shape& out = graph.value(node.output).shape;
    return out[0] * out[1] * out[2] * out[3] * per_pixel_taps;
  }
  if (node.kind == OpKind::fully_connected) {
    const Shape& out = graph.value(node.output).shape;
    const auto& a = std::get<FullyConnectedAttrs>(node.attrs);
    const Shape& w = std::visit([](const auto& t) -> const Shape& { return t.shape; }, *a.weights);
    return element_count(out, "fc output") * w[1];
  }
  return 0;
}

int64_t bytes_moved(const Graph& graph, const Node& node) {
  auto value_bytes = [&](ValueId id) {
    const Value& v = graph.value(id);
    return element_count(v.shape, v.name) *
           (v.type == ElementType::f32 || v.type == ElementType::s32 ? 4 : 1);
  };
  int64_t bytes = value_bytes(node.output);
  for (ValueId id : node.inputs)
    bytes += value_bytes(id);
  auto constants = [&](const std::shared_ptr<const Weights>& w, const std::shared_ptr<const TensorS32>& b) {
    if (w) bytes += std::visit([](const auto& t) { return t.size(); }, *w);
    if (b) bytes += b->size() * 4;
  };
  if (const auto* a = std::get_if<ConvAttrs>(&node.attrs)) constants(a->weights, a->bias);
  if (const auto* a = std::get_if<FullyConnectedAttrs>(&node.attrs)) constants(a->weights, a->bias);
  return bytes;
}

}  // namespace octet::graph
