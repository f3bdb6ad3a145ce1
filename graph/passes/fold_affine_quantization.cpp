#include "graph/passes/fold_affine_quantization.h"

#include <vector>

#include "graph/passes/drop_nodes.h"
#include "graph/passes/value_uses.h"

namespace octet::graph {

namespace {

bool per_tensor_u8(const Value& v) {
  return v.type == ElementType::u8 && !v.quant.scales.empty() && v.quant.is_per_tensor();
}

// The node computing `v` when `v` is read only once and nothing dropped it yet; null otherwise.
const Node* single_use_producer(const Graph& g, const ValueUses& uses, const std::vector<bool>& dropped,
                                ValueId v, size_t* index) {
  const auto it = uses.producer.find(v);
  if (it == uses.producer.end() || uses.read_count(v) != 1 || dropped[it->second]) return nullptr;
  *index = it->second;
  return &g.nodes[it->second];
}

// A lut reading only a uint8 channel affine's bytes joins the affine (NormAttrs::output_table).
void fold_output_tables(Graph& g) {
  const ValueUses uses(g);
  std::vector<bool> dropped(g.nodes.size(), false);
  for (size_t li = 0; li < g.nodes.size(); ++li) {
    const Node& lut = g.nodes[li];
    if (lut.kind != OpKind::lut || lut.inputs.size() != 1) continue;
    size_t ai = 0;
    const Node* affine = single_use_producer(g, uses, dropped, lut.inputs[0], &ai);
    const auto* norm = affine == nullptr ? nullptr : std::get_if<NormAttrs>(&affine->attrs);
    if (affine == nullptr || affine->kind != OpKind::normalize || norm == nullptr ||
        norm->kind != NormKind::channel_affine || norm->output_table)
      continue;
    const Value& bytes = g.value(lut.inputs[0]);
    const Value& mapped = g.value(lut.output);
    if (!per_tensor_u8(bytes) || mapped.type != ElementType::u8 || mapped.shape != bytes.shape ||
        mapped.layout != bytes.layout)
      continue;
    Node& folded = g.nodes[ai];
    auto& attrs = std::get<NormAttrs>(folded.attrs);
    attrs.output_table = std::get<LutAttrs>(lut.attrs).table;
    attrs.table_input_quant = bytes.quant;
    folded.onnx_op += " + " + lut.onnx_op;
    folded.output = lut.output;
    dropped[li] = true;
  }
  drop_nodes(g, dropped);
}

}  // namespace

void fold_affine_quantization(Graph& g) {
  const ValueUses uses(g);
  std::vector<bool> dropped(g.nodes.size(), false);
  for (size_t qi = 0; qi < g.nodes.size(); ++qi) {
    const Node& quantize = g.nodes[qi];
    if (quantize.kind != OpKind::quantize || quantize.inputs.size() != 1 ||
        !per_tensor_u8(g.value(quantize.output)))
      continue;
    size_t ai = 0, di = 0;
    const Node* affine = single_use_producer(g, uses, dropped, quantize.inputs[0], &ai);
    const auto* norm = affine == nullptr ? nullptr : std::get_if<NormAttrs>(&affine->attrs);
    if (affine == nullptr || affine->kind != OpKind::normalize || norm == nullptr ||
        norm->kind != NormKind::channel_affine || affine->inputs.size() != 1)
      continue;
    const Node* dequantize = single_use_producer(g, uses, dropped, affine->inputs[0], &di);
    if (dequantize == nullptr || dequantize->kind != OpKind::dequantize || dequantize->inputs.size() != 1 ||
        !per_tensor_u8(g.value(dequantize->inputs[0])))
      continue;
    const Value& in = g.value(dequantize->inputs[0]);
    const Value& out = g.value(quantize.output);
    const Value& real_in = g.value(affine->inputs[0]);
    const Value& real_out = g.value(affine->output);
    // The same shape and layout throughout (the Dequantize and Quantize convert no layout), the affine along
    // the innermost axis, with one scale and shift per channel.
    const auto rank = static_cast<int64_t>(in.shape.size());
    if (rank == 0 || in.shape != out.shape || real_in.shape != in.shape || real_out.shape != in.shape ||
        in.layout != out.layout || real_in.layout != in.layout || real_out.layout != in.layout ||
        norm->axis != rank - 1 || !norm->scale || !norm->shift ||
        static_cast<int64_t>(norm->scale->data.size()) != in.shape.back() ||
        static_cast<int64_t>(norm->shift->data.size()) != in.shape.back())
      continue;
    Node& folded = g.nodes[ai];
    folded.onnx_op = dequantize->onnx_op + " + " + folded.onnx_op + " + " + quantize.onnx_op;
    folded.inputs = dequantize->inputs;
    folded.output = quantize.output;
    dropped[di] = true;
    dropped[qi] = true;
  }
  drop_nodes(g, dropped);
  fold_output_tables(g);
}

}  // namespace octet::graph
