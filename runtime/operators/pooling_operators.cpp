// The pooling family: max, average and global pooling, and Resize, on uint8 or float NHWC images.

#include <tbb/parallel_for.h>

#include <optional>

#include "kernels/elementwise/byte_map.h"
#include "kernels/pooling/average_pool.h"
#include "kernels/pooling/float_pooling.h"
#include "kernels/pooling/max_pool.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/requantize.h"
#include "kernels/reference/resize.h"
#include "kernels/resize/float_resize.h"
#include "kernels/resize/resize.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

namespace {

using graph::Graph;
using graph::Node;
using graph::OpKind;
using graph::Value;

std::unique_ptr<const Operator> float_pooling(const Node& node, const Value& in, Isa isa) {
  const Shape s = in.shape;
  if (node.kind == OpKind::resize) {
    const auto p = std::get<graph::ResizeAttrs>(node.attrs).params;
    return function([isa, s, p](auto inputs, std::byte* o) {
      resize::float_resize(isa, as<float>(inputs[0]), s, p, as<float>(o));
    });
  }
  const auto a = std::get<graph::PoolAttrs>(node.attrs);
  switch (node.kind) {
    case OpKind::max_pool:
      return function([isa, s, a](auto inputs, std::byte* o) {
        pooling::float_max_pool2d(isa, as<float>(inputs[0]), s, a.params, a.float_clamp, as<float>(o));
      });
    case OpKind::average_pool:
      return function([isa, s, a](auto inputs, std::byte* o) {
        pooling::float_average_pool2d(isa, as<float>(inputs[0]), s, a.params, a.float_clamp, as<float>(o));
      });
    default:  // global_average_pool
      return function([isa, s](auto inputs, std::byte* o) {
        pooling::float_global_average_pool(isa, as<float>(inputs[0]), s, as<float>(o));
      });
  }
}

}  // namespace

std::unique_ptr<const Operator> make_pooling_operator(const Graph& g, const Node& node, Isa isa,
                                                      RequantMode requant) {
  if (node.kind != OpKind::max_pool && node.kind != OpKind::average_pool &&
      node.kind != OpKind::global_average_pool && node.kind != OpKind::resize)
    return nullptr;
  const Value& out = g.value(node.output);
  const Value in = g.value(node.inputs[0]);
  if (in.type == ElementType::f32) return float_pooling(node, in, isa);
  switch (node.kind) {
    case OpKind::max_pool: {
      const auto p = std::get<graph::PoolAttrs>(node.attrs).params;
      if (isa != Isa::scalar && in.shape.size() == 4) {
        const auto zp = static_cast<uint8_t>(in.quant.scales.empty() ? 0 : in.quant.zero_point());
        return function([in, p, zp, isa](auto inputs, std::byte* o) {
          pooling::max_pool2d(isa, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1],
                              in.shape[2], in.shape[3], p, zp, reinterpret_cast<uint8_t*>(o));
        });
      }
      return function(
          [in, p](auto inputs, std::byte* o) { store(ref::max_pool2d(load<uint8_t>(inputs[0], in), p), o); });
    }
    case OpKind::average_pool: {
      const auto a = std::get<graph::PoolAttrs>(node.attrs);
      if (isa != Isa::scalar && in.shape.size() == 4) {
        const auto pool = pooling::prepare_average_pool(a.params, in.quant, out.quant, a.clamp, requant);
        return function([in, pool, isa](auto inputs, std::byte* o) {
          pooling::run(isa, pool, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1],
                       in.shape[2], in.shape[3], reinterpret_cast<uint8_t*>(o));
        });
      }
      return function([in, out, a, requant](auto inputs, std::byte* o) {
        store(ref::average_pool2d(load<uint8_t>(inputs[0], in), a.params, out.quant, a.clamp, requant), o);
      });
    }
    case OpKind::global_average_pool: {
      const auto a = std::get<graph::PoolAttrs>(node.attrs);
      if (isa != Isa::scalar && in.shape.size() == 4) {
        const auto pool = pooling::prepare_global_average_pool(in.shape[1], in.shape[2], in.quant, out.quant,
                                                               a.clamp, requant);
        return function([in, pool, isa](auto inputs, std::byte* o) {
          pooling::run(isa, pool, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1],
                       in.shape[2], in.shape[3], reinterpret_cast<uint8_t*>(o));
        });
      }
      return function([in, out, a, requant](auto inputs, std::byte* o) {
        store(ref::global_average_pool(load<uint8_t>(inputs[0], in), out.quant, a.clamp, requant), o);
      });
    }
    case OpKind::resize: {
      const auto& attrs = std::get<graph::ResizeAttrs>(node.attrs);
      const auto p = attrs.params.base;
      const ref::ResizeArithmetic arithmetic = ref::resize_arithmetic(requant, attrs.real_values);
      // Into other params than the input's (a QDQ Resize's QuantizeLinear): ONNX Runtime's real-value
      // arithmetic and octet's bilinear blend round once; the ones that move bytes (nearest mode, ONNX
      // Runtime's uint8 arithmetic) resize, then requantize every byte through a table.
      const bool blends_into_params =
          arithmetic == ref::ResizeArithmetic::onnxruntime_real ||
          (arithmetic == ref::ResizeArithmetic::fixed_point && p.mode == ref::ResizeMode::linear);
      const bool requantizes = !(in.quant == out.quant) && !blends_into_params;
      const QuantParams resized = requantizes ? in.quant : out.quant;
      std::optional<elementwise::ByteTable> table;
      if (requantizes) table = byte_table(in.quant, out.quant, Clamp{}, requant);
      if (isa != Isa::scalar && in.shape.size() == 4) {
        const auto r = resize::prepare_resize(p, in.shape[1], in.shape[2], arithmetic, in.quant, resized);
        const int64_t count = element_count(out.shape, out.name);
        return function([in, r, table, count, isa](auto inputs, std::byte* o) {
          auto* y = reinterpret_cast<uint8_t*>(o);
          resize::run(r, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[3], y);
          if (table) elementwise::map_bytes(isa, *table, y, y, count);
        });
      }
      return function([in, out, p, arithmetic, resized, requant](auto inputs, std::byte* o) {
        const TensorU8 r = ref::resize(load<uint8_t>(inputs[0], in), p, arithmetic, resized);
        store(r.quant == out.quant ? r : ref::requantize_tensor(r, out.quant, {}, requant), o);
      });
    }
    default:
      return nullptr;
  }
}

}  // namespace octet::runtime
