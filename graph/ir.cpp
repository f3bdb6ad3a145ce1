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
    case OpKind::unary:
      return "unary";
    case OpKind::binary:
      return "binary";
    case OpKind::where:
      return "where";
    case OpKind::reduce:
      return "reduce";
    case OpKind::arg_reduce:
      return "arg_reduce";
    case OpKind::top_k:
      return "top_k";
    case OpKind::dynamic_quantize:
      return "dynamic_quantize";
    case OpKind::matmul:
      return "matmul";
    case OpKind::normalize:
      return "normalize";
    case OpKind::slice:
      return "slice";
    case OpKind::pad:
      return "pad";
    case OpKind::gather:
      return "gather";
    case OpKind::gather_elements:
      return "gather_elements";
    case OpKind::cumulative_sum:
      return "cumulative_sum";
    case OpKind::roi_align:
      return "roi_align";
    case OpKind::gather_nd:
      return "gather_nd";
    case OpKind::scatter_elements:
      return "scatter_elements";
    case OpKind::scatter_nd:
      return "scatter_nd";
    case OpKind::expand:
      return "expand";
    case OpKind::tile:
      return "tile";
    case OpKind::cast:
      return "cast";
    case OpKind::recurrent:
      return "recurrent";
    case OpKind::depth_to_space:
      return "depth_to_space";
    case OpKind::channel_shuffle:
      return "channel_shuffle";
  }
  return "?";
}

namespace {

// A convolution's MACs from its weight shape [C_out, KH, KW, C_in / groups].
int64_t conv_macs(const Graph& graph, const Node& node, const Shape& w, bool transposed) {
  const int64_t per_pixel_taps = w[1] * w[2] * w[3];
  if (transposed) {  // every input pixel meets every tap once
    const Shape& in = graph.value(node.inputs[0]).shape;
    return in[0] * in[1] * in[2] * per_pixel_taps * w[0];
  }
  const Shape& out = graph.value(node.output).shape;
  return out[0] * out[1] * out[2] * out[3] * per_pixel_taps;
}

}  // namespace

std::string op_name(const Node& node) {
  const auto* conv = std::get_if<ConvAttrs>(&node.attrs);
  if (const auto* f = std::get_if<FloatConvAttrs>(&node.attrs)) {
    std::string name(name_of(node.kind));
    if (f->residual) name += "+add";
    if (f->activation.op != UnaryOp::identity) name.append("+").append(name_of(f->activation.op));
    return name;
  }
  if (const auto* n = std::get_if<NormAttrs>(&node.attrs); n && n->activation.op != UnaryOp::identity)
    return std::string(name_of(node.kind)) + "+" + std::string(name_of(n->activation.op));
  return std::string(name_of(node.kind)) + (conv && conv->residual ? "+add" : "");
}

int64_t mac_count(const Graph& graph, const Node& node) {
  const Shape& out = graph.value(node.output).shape;
  if (const auto* a = std::get_if<ConvAttrs>(&node.attrs)) {
    const Shape& w = std::visit([](const auto& t) -> const Shape& { return t.shape; }, *a->weights);
    return conv_macs(graph, node, w, a->transposed);
  }
  if (const auto* a = std::get_if<FloatConvAttrs>(&node.attrs))
    return conv_macs(graph, node, a->weights->shape, a->transposed);
  if (const auto* a = std::get_if<FullyConnectedAttrs>(&node.attrs)) {
    const Shape& w = std::visit([](const auto& t) -> const Shape& { return t.shape; }, *a->weights);
    return element_count(out, "fc output") * w[1];
  }
  if (const auto* a = std::get_if<FloatFullyConnectedAttrs>(&node.attrs))
    return element_count(out, "fc output") * a->weights->shape[1];
  if (node.kind == OpKind::matmul) {
    const Shape& a = graph.value(node.inputs[0]).shape;
    return element_count(out, "matmul output") * a.back();
  }
  if (const auto* a = std::get_if<RecurrentAttrs>(&node.attrs)) {
    const ref::RecurrentParams& p = *a->params;
    return p.steps * p.batch * p.directions * p.gates() * p.hidden_size * (p.input_size + p.hidden_size);
  }
  return 0;
}

bool computes_in_float(const Graph& graph, const Node& node) {
  switch (node.kind) {
    case OpKind::quantize:
    case OpKind::dequantize:
    case OpKind::reshape:
    case OpKind::transpose:
    case OpKind::slice:
    case OpKind::pad:
    case OpKind::gather:
    case OpKind::gather_elements:
    case OpKind::gather_nd:
    case OpKind::expand:
    case OpKind::tile:
    case OpKind::concat:
    case OpKind::depth_to_space:
    case OpKind::channel_shuffle:
    case OpKind::where:
      return false;  // conversions at the int8 boundary, or moves of elements
    case OpKind::scatter_elements:
    case OpKind::scatter_nd:
      if (std::get<IndexingAttrs>(node.attrs).reduction == ref::ScatterReduction::none) return false;
      break;
    default:
      break;
  }
  for (ValueId id : node.inputs)
    if (graph.value(id).type == ElementType::f32) return true;
  return graph.value(node.output).type == ElementType::f32 && node.kind != OpKind::softmax;
}

int64_t bytes_moved(const Graph& graph, const Node& node) {
  auto value_bytes = [&](ValueId id) {
    const Value& v = graph.value(id);
    return element_count(v.shape, v.name) * static_cast<int64_t>(size_of(v.type));
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
  auto float_constants = [&](const std::shared_ptr<const TensorF32>& w,
                             const std::shared_ptr<const TensorF32>& b) {
    if (w) bytes += w->size() * 4;
    if (b) bytes += b->size() * 4;
  };
  if (const auto* a = std::get_if<FloatConvAttrs>(&node.attrs)) float_constants(a->weights, a->bias);
  if (const auto* a = std::get_if<FloatFullyConnectedAttrs>(&node.attrs)) {
    float_constants(a->weights, a->bias);
    if (a->addend) bytes += a->addend->size() * 4;
  }
  if (const auto* a = std::get_if<RecurrentAttrs>(&node.attrs))
    bytes += 4 * static_cast<int64_t>(a->params->w.size() + a->params->r.size() + a->params->b.size() +
                                      a->params->p.size());
  return bytes;
}

}  // namespace octet::graph
