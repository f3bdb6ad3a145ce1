// The element-moving family: concatenation, reshapes, transposes, Slice, Pad, Gather, Expand, Tile,
// DepthToSpace / SpaceToDepth, GatherElements / GatherND and the scatters, for every element type (a uint8
// concat requantizes its inputs to the output's params).

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "kernels/elementwise/byte_map.h"
#include "kernels/error.h"
#include "kernels/movement/movement.h"
#include "kernels/reference/concat.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

using graph::Graph;
using graph::Node;
using graph::OpKind;
using graph::Value;

std::unique_ptr<const Operator> make_concat_operator(const Graph& g, const Node& node, Isa isa,
                                                     RequantMode requant, const std::vector<bool>& in_place) {
  const Value& out = g.value(node.output);
  std::vector<Value> ins;
  for (graph::ValueId id : node.inputs)
    ins.push_back(g.value(id));
  auto written = [&](size_t i) { return i < in_place.size() && in_place[i]; };
  const int64_t axis = std::get<graph::ConcatAttrs>(node.attrs).axis;
  const bool any_in_place = std::any_of(in_place.begin(), in_place.end(), [](bool b) { return b; });
  if (any_in_place && (out.type != ElementType::u8 || isa == Isa::scalar))
    throw Error("concat: inputs written in place need uint8 data and a SIMD ISA");
  if (out.type != ElementType::u8) {
    std::vector<Shape> shapes;
    for (const Value& v : ins)
      shapes.push_back(v.shape);
    const size_t element = size_of(out.type);
    return function([shapes, axis, element](auto inputs, std::byte* o) {
      movement::concat(std::vector<const void*>(inputs.begin(), inputs.end()), shapes, axis, element, o);
    });
  }
  if (isa != Isa::scalar) {
    // Each input's bytes map to the output's params through a 256-entry table (the reference
    // requantization of every byte value), or are copied when the params already agree.
    std::vector<std::optional<elementwise::ByteTable>> tables;
    for (const Value& v : ins)
      tables.push_back(v.quant == out.quant
                           ? std::nullopt
                           : std::optional(byte_table(v.quant, out.quant, Clamp{}, requant)));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= out.shape[static_cast<size_t>(d)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < out.shape.size(); ++d)
      inner *= out.shape[d];
    std::vector<int64_t> widths;
    for (const Value& v : ins)
      widths.push_back(v.shape[static_cast<size_t>(axis)] * inner);
    const int64_t out_width = out.shape[static_cast<size_t>(axis)] * inner;
    std::vector<bool> skip(widths.size());
    for (size_t i = 0; i < skip.size(); ++i)
      skip[i] = written(i);
    return function([isa, tables, widths, skip, outer, out_width](auto inputs, std::byte* o) {
      auto* dst = reinterpret_cast<uint8_t*>(o);
      // Blocks of rows big enough that a task's overhead does not show next to its copying.
      const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(out_width, 1));
      tbb::parallel_for(tbb::blocked_range<int64_t>(0, outer, grain), [&](const auto& rows) {
        int64_t column = 0;
        for (size_t i = 0; i < widths.size(); ++i) {
          const uint8_t* src = reinterpret_cast<const uint8_t*>(inputs[i]) + rows.begin() * widths[i];
          // An input written in place by its producer is there already (and its buffer is this one).
          if (!skip[i])
            elementwise::map_rows(isa, tables[i] ? &*tables[i] : nullptr, src, widths[i],
                                  dst + rows.begin() * out_width + column, out_width, widths[i], rows.size());
          column += widths[i];
        }
      });
    });
  }
  return function([ins, out, axis, requant](auto inputs, std::byte* o) {
    std::vector<TensorU8> tensors;
    for (size_t i = 0; i < ins.size(); ++i)
      tensors.push_back(load<uint8_t>(inputs[i], ins[i]));
    std::vector<const TensorU8*> ptrs;
    for (const auto& t : tensors)
      ptrs.push_back(&t);
    store(ref::concat(ptrs, axis, out.quant, requant), o);
  });
}

std::unique_ptr<const Operator> make_movement_operator(const Graph& g, const Node& node, Isa isa,
                                                       RequantMode requant) {
  const Value& out = g.value(node.output);
  std::vector<Value> ins;
  for (graph::ValueId id : node.inputs)
    ins.push_back(g.value(id));
  const Value in = ins.empty() ? Value{} : ins[0];
  const size_t element = size_of(in.type);
  switch (node.kind) {
    case OpKind::concat:
      return make_concat_operator(g, node, isa, requant, {});
    case OpKind::reshape: {
      const int64_t bytes = element_count(out.shape, out.name) * static_cast<int64_t>(size_of(out.type));
      return function(
          [bytes](auto inputs, std::byte* o) { copy_bytes(o, inputs[0], static_cast<size_t>(bytes)); });
    }
    case OpKind::transpose: {
      const auto perm = std::get<graph::TransposeAttrs>(node.attrs).perm;
      return function([in, perm, element](auto inputs, std::byte* o) {
        movement::transpose(inputs[0], in.shape, perm, element, o);
      });
    }
    case OpKind::slice: {
      const auto axes = std::get<graph::SliceAttrs>(node.attrs).axes;
      return function([in, axes, element](auto inputs, std::byte* o) {
        movement::slice(inputs[0], in.shape, axes, element, o);
      });
    }
    case OpKind::pad: {
      const auto a = std::get<graph::PadAttrs>(node.attrs);
      const std::string what = node.name;
      return function([in, a, element, what](auto inputs, std::byte* o) {
        movement::pad(inputs[0], in.shape, a.begin, a.end, a.mode, a.value.data(), element, o, what);
      });
    }
    case OpKind::gather: {
      const auto a = std::get<graph::GatherAttrs>(node.attrs);
      const std::string what = node.name;
      return function([in, a, element, what](auto inputs, std::byte* o) {
        const auto* indices = a.indices ? a.indices->data() : reinterpret_cast<const int64_t*>(inputs[1]);
        movement::gather(inputs[0], in.shape, a.axis, indices, a.index_shape, element, o, what);
      });
    }
    case OpKind::gather_elements:
    case OpKind::gather_nd: {
      const auto a = std::get<graph::IndexingAttrs>(node.attrs);
      const Shape index_shape = ins.at(1).shape;
      const std::string what = node.name;
      const bool nd = node.kind == OpKind::gather_nd;
      return function([in, a, index_shape, element, what, nd](auto inputs, std::byte* o) {
        const auto* indices = reinterpret_cast<const int64_t*>(inputs[1]);
        if (nd)
          movement::gather_nd(inputs[0], in.shape, indices, index_shape, a.batch_dims, element, o, what);
        else
          movement::gather_elements(inputs[0], in.shape, a.axis, indices, index_shape, element, o, what);
      });
    }
    case OpKind::scatter_elements:
    case OpKind::scatter_nd: {
      const auto a = std::get<graph::IndexingAttrs>(node.attrs);
      const Shape index_shape = ins.at(1).shape;
      const std::string what = node.name;
      const bool nd = node.kind == OpKind::scatter_nd;
      const ref::ScatterArithmetic arithmetic = a.reduction == ref::ScatterReduction::none
                                                    ? ref::ScatterArithmetic::bytes
                                                : out.type == ElementType::f32 ? ref::ScatterArithmetic::f32
                                                                               : ref::ScatterArithmetic::s64;
      // Scatters run on one thread: updates are applied in order (repeated indices are then deterministic),
      // and models scatter a few boxes or anchors, not feature maps.
      return function([in, a, index_shape, element, what, nd, arithmetic](auto inputs, std::byte* o) {
        const auto* indices = reinterpret_cast<const int64_t*>(inputs[1]);
        if (nd)
          ref::scatter_nd(inputs[0], in.shape, indices, index_shape, inputs[2], element, a.reduction,
                          arithmetic, o, what);
        else
          ref::scatter_elements(inputs[0], in.shape, a.axis, indices, index_shape, inputs[2], element,
                                a.reduction, arithmetic, o, what);
      });
    }
    case OpKind::expand: {
      const Shape to = out.shape;
      return function([in, to, element](auto inputs, std::byte* o) {
        movement::expand(inputs[0], in.shape, to, element, o);
      });
    }
    case OpKind::tile: {
      const auto repeats = std::get<graph::TileAttrs>(node.attrs).repeats;
      return function([in, repeats, element](auto inputs, std::byte* o) {
        movement::tile(inputs[0], in.shape, repeats, element, o);
      });
    }
    case OpKind::channel_shuffle: {
      const int64_t groups = std::get<graph::ChannelShuffleAttrs>(node.attrs).groups;
      const int64_t channels = in.shape.back();
      const int64_t pixels = element_count(in.shape, in.name) / std::max<int64_t>(channels, 1);
      return function([pixels, groups, channels, element](auto inputs, std::byte* o) {
        movement::channel_shuffle(inputs[0], pixels, groups, channels / groups, element, o);
      });
    }
    case OpKind::depth_to_space: {
      const auto a = std::get<graph::DepthToSpaceAttrs>(node.attrs);
      return function([in, a, element](auto inputs, std::byte* o) {
        if (a.to_space)
          movement::depth_to_space(inputs[0], in.shape, a.block, a.crd, element, o);
        else
          movement::space_to_depth(inputs[0], in.shape, a.block, element, o);
      });
    }
    default:
      return nullptr;
  }
}

}  // namespace octet::runtime
