#include "graph/passes/fold_pads.h"

#include <cstddef>
#include <cstring>
#include <optional>

#include "graph/passes/drop_nodes.h"
#include "graph/passes/value_uses.h"

namespace octet::graph {

namespace {

// The Pad's padding as a 2-D one (NHWC: axes 1 and 2), if it adds real zeros there and nothing elsewhere.
std::optional<ref::Padding2d> image_zero_padding(const Graph& g, const Node& pad) {
  const auto* attrs = std::get_if<PadAttrs>(&pad.attrs);
  if (attrs == nullptr || pad.inputs.size() != 1 || attrs->mode != ref::PadMode::constant)
    return std::nullopt;
  const Value& in = g.value(pad.inputs[0]);
  if (in.layout != Layout::nhwc || in.shape.size() != 4 || attrs->begin.size() != 4 || attrs->end.size() != 4)
    return std::nullopt;
  for (size_t axis : {size_t{0}, size_t{3}})
    if (attrs->begin[axis] != 0 || attrs->end[axis] != 0) return std::nullopt;
  for (size_t axis : {size_t{1}, size_t{2}})
    if (attrs->begin[axis] < 0 || attrs->end[axis] < 0) return std::nullopt;
  if (in.type == ElementType::f32) {
    if (attrs->value.size() != sizeof(float)) return std::nullopt;
    uint32_t bits = 0;
    std::memcpy(&bits, attrs->value.data(), sizeof bits);
    if (bits != 0) return std::nullopt;  // +0.0f: what the kernels pad with (-0.0f would differ in a sign)
  } else if (in.type == ElementType::u8) {
    if (attrs->value.size() != 1 || in.quant.zero_points.size() != 1 || !in.quant.is_per_tensor() ||
        std::to_integer<int32_t>(attrs->value[0]) != in.quant.zero_points[0])
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  return ref::Padding2d{attrs->begin[1], attrs->begin[2], attrs->end[1], attrs->end[2]};
}

void add_padding(ref::Padding2d& to, const ref::Padding2d& more) {
  to.top += more.top, to.left += more.left, to.bottom += more.bottom, to.right += more.right;
}

bool any_padding(const ref::Padding2d& p) {
  return p.top != 0 || p.left != 0 || p.bottom != 0 || p.right != 0;
}

ref::Padding2d sum(ref::Padding2d a, const ref::Padding2d& b) {
  add_padding(a, b);
  return a;
}

// The importer's bound on a convolution's pads (lower_conv.cpp), which the folded ones must keep too.
constexpr int64_t kMaxConvPad = int64_t{1} << 16;

bool conv_pads_fit(const ref::Padding2d& p) {
  return p.top <= kMaxConvPad && p.left <= kMaxConvPad && p.bottom <= kMaxConvPad && p.right <= kMaxConvPad;
}

// Takes the padding into `node` (which reads the Pad's output as input 0) if it can: see fold_pads.h.
bool absorb(Node& node, const ref::Padding2d& padding) {
  if (node.kind == OpKind::conv) {
    ref::Conv2dParams* params = nullptr;
    if (auto* conv = std::get_if<ConvAttrs>(&node.attrs); conv && !conv->transposed) params = &conv->conv;
    if (auto* conv = std::get_if<FloatConvAttrs>(&node.attrs); conv && !conv->transposed)
      params = &conv->conv;
    if (params == nullptr || !conv_pads_fit(sum(params->pad, padding))) return false;
    add_padding(params->pad, padding);
    return true;
  }
  if (node.kind == OpKind::average_pool) {
    auto* pool = std::get_if<PoolAttrs>(&node.attrs);
    if (pool == nullptr || pool->params.ceil_mode ||
        (any_padding(pool->params.pad) && !pool->params.count_include_pad))
      return false;
    // A pool's padding on a side must be smaller than its window (pool_output_size): a Pad of 2 before a
    // 2x2 pool stays a Pad.
    const ref::Pool2dParams& p = pool->params;
    const ref::Padding2d total = sum(p.pad, padding);
    const int64_t extent_h = (p.kernel_h - 1) * p.dilation_h + 1,
                  extent_w = (p.kernel_w - 1) * p.dilation_w + 1;
    if (total.top >= extent_h || total.bottom >= extent_h || total.left >= extent_w ||
        total.right >= extent_w)
      return false;
    add_padding(pool->params.pad, padding);
    pool->params.count_include_pad = true;
    return true;
  }
  return false;
}

}  // namespace

void fold_pads(Graph& g) {
  const ValueUses uses(g);
  std::vector<bool> folded(g.nodes.size(), false);
  for (Node& node : g.nodes) {
    // Pad -> Pad -> Conv folds both, the nearest first: each Pad taken leaves the node reading its input,
    // which may be another zero Pad read by it alone.
    while (!node.inputs.empty()) {
      const auto producer = uses.producer.find(node.inputs[0]);
      if (producer == uses.producer.end() || uses.read_count(node.inputs[0]) != 1) break;
      const Node& pad = g.nodes[producer->second];
      if (pad.kind != OpKind::pad) break;
      const std::optional<ref::Padding2d> padding = image_zero_padding(g, pad);
      if (!padding || !absorb(node, *padding)) break;
      node.inputs[0] = pad.inputs[0];
      node.onnx_op = pad.onnx_op + " + " + node.onnx_op;
      folded[producer->second] = true;
    }
  }
  drop_nodes(g, folded);
}

}  // namespace octet::graph
