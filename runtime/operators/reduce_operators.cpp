// The reduction family: softmax (the uint8 table form and float), reductions, ArgMax / ArgMin and
// normalizations; DynamicQuantizeLinear's range.

#include <optional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/quantization/dynamic_quantize.h"
#include "kernels/reduce/float_reduce.h"
#include "kernels/reduce/u8_channel_affine.h"
#include "kernels/reduce/u8_softmax.h"
#include "kernels/reference/float_reduce.h"
#include "kernels/reference/integer_reduce.h"
#include "kernels/reference/softmax.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

using graph::Graph;
using graph::Node;
using graph::OpKind;
using graph::Value;

std::unique_ptr<const Operator> make_reduce_operator(const Graph& g, const Node& node, Isa isa,
                                                     RequantMode requant) {
  const Value& out = g.value(node.output);
  const Value in = g.value(node.inputs[0]);
  switch (node.kind) {
    case OpKind::softmax: {
      if (in.type == ElementType::f32) {
        const auto a = std::get<graph::SoftmaxAttrs>(node.attrs);
        return function([isa, in, a](auto inputs, std::byte* o) {
          reduce::float_softmax(isa, as<float>(inputs[0]), in.shape, a.axis, a.log, as<float>(o));
        });
      }
      if (out.type == ElementType::f32)
        return function(
            [in](auto inputs, std::byte* o) { store(ref::softmax_float(load<uint8_t>(inputs[0], in)), o); });
      const ref::SoftmaxOverflow overflow = std::get<graph::SoftmaxAttrs>(node.attrs).onnxruntime_int8
                                                ? ref::SoftmaxOverflow::int8_saturation
                                                : ref::SoftmaxOverflow::zero_point;
      if (isa != Isa::scalar && !in.shape.empty()) {
        const int64_t width = in.shape.back(),
                      rows = element_count(in.shape, in.name) / std::max<int64_t>(width, 1);
        const auto s = reduce::prepare_u8_softmax(in.quant, width, out.quant, requant, overflow);
        return function([isa, s, rows](auto inputs, std::byte* o) {
          reduce::run(isa, s, reinterpret_cast<const uint8_t*>(inputs[0]), rows,
                      reinterpret_cast<uint8_t*>(o));
        });
      }
      return function([in, out, requant, overflow](auto inputs, std::byte* o) {
        store(ref::softmax_u8(load<uint8_t>(inputs[0], in), out.quant, requant, overflow), o);
      });
    }
    case OpKind::reduce: {
      const auto a = std::get<graph::ReduceAttrs>(node.attrs);
      if (in.type == ElementType::s64)
        return function([in, a](auto inputs, std::byte* o) {
          ref::int64_reduce(a.op, as<int64_t>(inputs[0]), in.shape, a.axes, as<int64_t>(o));
        });
      return function([isa, in, a](auto inputs, std::byte* o) {
        reduce::float_reduce(isa, a.op, as<float>(inputs[0]), in.shape, a.axes, as<float>(o));
      });
    }
    case OpKind::arg_reduce: {
      const auto a = std::get<graph::ArgReduceAttrs>(node.attrs);
      return function([isa, in, a](auto inputs, std::byte* o) {
        reduce::float_arg_reduce(isa, as<float>(inputs[0]), in.shape, a.axis, a.max, a.select_last_index,
                                 as<int64_t>(o));
      });
    }
    case OpKind::dynamic_quantize: {
      const bool scale = std::get<graph::DynamicQuantizeAttrs>(node.attrs).scale;
      return function([in, scale](auto inputs, std::byte* o) {
        const int64_t count = element_count(in.shape, in.name);
        const DynamicQuantization q = dynamic_quantization(as<float>(inputs[0]), count);
        if (scale)
          *as<float>(o) = q.scale;
        else
          dynamic_quantize_centered(as<float>(inputs[0]), count, q, as<float>(o));
      });
    }
    case OpKind::cumulative_sum: {
      const auto a = std::get<graph::CumSumAttrs>(node.attrs);
      if (in.type == ElementType::s64)
        return function([in, a](auto inputs, std::byte* o) {
          ref::cumulative_sum(as<int64_t>(inputs[0]), in.shape, a.axis, a.exclusive, a.reverse,
                              as<int64_t>(o));
        });
      return function([in, a](auto inputs, std::byte* o) {
        ref::cumulative_sum(as<float>(inputs[0]), in.shape, a.axis, a.exclusive, a.reverse, as<float>(o));
      });
    }
    case OpKind::top_k: {
      const auto a = std::get<graph::TopKAttrs>(node.attrs);
      return function([in, a](auto inputs, std::byte* o) {
        ref::float_top_k(as<float>(inputs[0]), in.shape, a.axis, a.k, a.largest,
                         a.indices ? nullptr : as<float>(o), a.indices ? as<int64_t>(o) : nullptr);
      });
    }
    case OpKind::normalize: {
      const auto a = std::get<graph::NormAttrs>(node.attrs);
      const Shape& s = in.shape;
      const auto rank = static_cast<int64_t>(s.size());
      const auto axis = static_cast<size_t>(a.axis);
      int64_t outer = 1, inner = 1;
      for (size_t d = 0; d < axis; ++d)
        outer *= s[d];
      for (size_t d = axis + 1; d < s.size(); ++d)
        inner *= s[d];
      const int64_t channels = s[axis];
      if (a.kind == graph::NormKind::lrn)
        return function([outer, channels, inner, p = a.lrn](auto inputs, std::byte* o) {
          reduce::float_lrn(as<float>(inputs[0]), outer, channels, inner, p, as<float>(o));
        });
      const float* scale = a.scale->data.data();
      const float* shift = a.shift ? a.shift->data.data() : nullptr;
      const auto keep = a;  // the lambda owns the scale / shift tensors
      switch (a.kind) {
        case graph::NormKind::channel_affine: {
          if (in.type == ElementType::u8) {
            // Its Dequantize and Quantize folded in (graph/passes/fold_affine_quantization.h): channels last,
            // per-tensor params (graph::check_types and the pass see to both).
            // A Concat's pieces (graph/passes/fuse_concat_affine.h; one or more), dequantized with the
            // Concat's params once each piece is requantized to them, as the Concat did.
            const bool reads_pieces = !a.joined_quant.scales.empty();
            const QuantParams& joined = reads_pieces ? a.joined_quant : in.quant;
            // A byte table folded in after it maps the bytes quantized with table_input_quant.
            const QuantParams& quantized = a.output_table ? a.table_input_quant : out.quant;
            if (!joined.is_per_tensor() || !quantized.is_per_tensor() || inner != 1)
              throw Error("node '" + node.name +
                          "': a uint8 channel affine needs per-tensor params, channels last");
            const reduce::U8AffineQuantization q{joined.scale(), joined.zero_point(), quantized.scale(),
                                                 quantized.zero_point()};
            if (reads_pieces) {
              std::vector<int64_t> piece_channels;
              std::vector<std::optional<elementwise::ByteTable>> tables;
              for (graph::ValueId v : node.inputs) {
                const Value& piece = g.value(v);
                piece_channels.push_back(piece.shape.at(axis));
                tables.push_back(piece.quant == joined
                                     ? std::nullopt
                                     : std::optional(byte_table(piece.quant, joined, Clamp{}, requant)));
              }
              const int64_t rows =
                  element_count(out.shape, out.name) / std::max<int64_t>(1, out.shape.at(axis));
              return function(
                  [isa, keep, piece_channels, tables, rows, scale, shift, q](auto inputs, std::byte* o) {
                    std::vector<reduce::U8ChannelPiece> pieces;
                    for (size_t i = 0; i < piece_channels.size(); ++i)
                      pieces.push_back({reinterpret_cast<const uint8_t*>(inputs[i]), piece_channels[i],
                                        tables[i] ? &*tables[i] : nullptr});
                    reduce::u8_channel_affine_pieces(isa, pieces, rows, scale, shift, keep.clamp,
                                                     keep.activation, q, reinterpret_cast<uint8_t*>(o),
                                                     keep.output_table ? &*keep.output_table : nullptr);
                  });
            }
            return function([isa, keep, outer, channels, scale, shift, q](auto inputs, std::byte* o) {
              reduce::u8_channel_affine(isa, reinterpret_cast<const uint8_t*>(inputs[0]), outer, channels,
                                        scale, shift, keep.clamp, keep.activation, q,
                                        reinterpret_cast<uint8_t*>(o),
                                        keep.output_table ? &*keep.output_table : nullptr);
            });
          }
          if (node.inputs.size() > 1) {
            // The pieces of a Concat along the channels, innermost (graph/passes/fuse_concat_affine.h).
            std::vector<int64_t> piece_channels;
            for (graph::ValueId v : node.inputs)
              piece_channels.push_back(g.value(v).shape.at(axis));
            const int64_t rows =
                element_count(out.shape, out.name) / std::max<int64_t>(1, out.shape.at(axis));
            return function([isa, keep, piece_channels, rows, scale, shift](auto inputs, std::byte* o) {
              std::vector<reduce::ChannelPiece> pieces;
              for (size_t i = 0; i < piece_channels.size(); ++i)
                pieces.push_back({as<float>(inputs[i]), piece_channels[i]});
              reduce::float_channel_affine_pieces(isa, pieces, rows, scale, shift, as<float>(o), keep.clamp,
                                                  keep.activation);
            });
          }
          return function([isa, keep, outer, channels, inner, scale, shift](auto inputs, std::byte* o) {
            reduce::float_channel_affine(isa, as<float>(inputs[0]), outer, channels, inner, scale, shift,
                                         as<float>(o), keep.clamp, keep.activation);
          });
        }
        case graph::NormKind::instance: {
          // NHWC images keep channels last; plain tensors are [N, C, spatial...].
          const bool channels_last = a.axis == rank - 1 && rank > 2;
          const int64_t spatial = element_count(s, in.name) / std::max<int64_t>(1, s[0] * channels);
          return function(
              [isa, keep, s, channels, spatial, channels_last, scale, shift](auto inputs, std::byte* o) {
                reduce::float_instance_norm(isa, as<float>(inputs[0]), s[0], channels, spatial, channels_last,
                                            scale, shift, keep.epsilon, as<float>(o));
              });
        }
        case graph::NormKind::group: {
          const bool channels_last = a.axis == rank - 1;
          const int64_t spatial = element_count(s, in.name) / std::max<int64_t>(1, s[0] * channels);
          return function(
              [keep, s, channels, spatial, channels_last, scale, shift](auto inputs, std::byte* o) {
                reduce::float_group_norm(as<float>(inputs[0]), s[0], channels, spatial, channels_last,
                                         keep.groups, scale, shift, keep.epsilon, as<float>(o));
              });
        }
        case graph::NormKind::lrn:
          break;  // above
        case graph::NormKind::layer: {
          int64_t rows = 1, width = 1;
          for (size_t d = 0; d < s.size(); ++d)
            (d < axis ? rows : width) *= s[d];
          return function([isa, keep, rows, width, scale, shift](auto inputs, std::byte* o) {
            reduce::float_layer_norm(isa, as<float>(inputs[0]), rows, width, scale, shift, keep.epsilon,
                                     as<float>(o));
          });
        }
      }
      return nullptr;
    }
    default:
      return nullptr;
  }
}

}  // namespace octet::runtime
