// The elementwise family: quantize / dequantize at the int8 boundary, requantization, lookup tables and
// the quantized add / mul; the float unary and binary operators, Where and Cast.

#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>

#include "kernels/elementwise/float_elementwise.h"
#include "kernels/elementwise/quantize_rows.h"
#include "kernels/elementwise/quantized_binary.h"
#include "kernels/error.h"
#include "kernels/quantization/quantize.h"
#include "kernels/reference/integer_elementwise.h"
#include "kernels/reference/lut.h"
#include "kernels/reference/requantize.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

elementwise::ByteTable byte_table(const QuantParams& from, const QuantParams& to, Clamp clamp,
                                  RequantMode mode) {
  TensorU8 all({256}, from);
  std::iota(all.data.begin(), all.data.end(), uint8_t{0});
  const TensorU8 mapped = ref::requantize_tensor(all, to, clamp, mode);
  elementwise::ByteTable table;
  std::copy(mapped.data.begin(), mapped.data.end(), table.begin());
  return table;
}

namespace {

using graph::Graph;
using graph::Node;
using graph::OpKind;
using graph::Value;

// f(first, count) for the chunks of 4096 elements of [0, count), in parallel.
template <class F>
void for_element_chunks(int64_t count, F&& f) {
  constexpr int64_t kChunk = 4096;
  tbb::parallel_for(int64_t{0}, (count + kChunk - 1) / kChunk, [&](int64_t task) {
    const int64_t first = task * kChunk;
    f(first, std::min(kChunk, count - first));
  });
}

// f(image, first, count) for the chunks of at most kPixelChunk pixels of each of `images` images of `hw`
// pixels, in parallel: the layout changes at the int8 boundary (NCHW <-> NHWC) work on whole pixels.
constexpr int64_t kPixelChunk = 1024;
template <class F>
void for_pixel_chunks(int64_t images, int64_t hw, F&& f) {
  const int64_t chunks = (hw + kPixelChunk - 1) / kPixelChunk;
  tbb::parallel_for(int64_t{0}, images * chunks, [&](int64_t task) {
    const int64_t first = task % chunks * kPixelChunk;
    f(task / chunks, first, std::min(kPixelChunk, hw - first));
  });
}

void map_bytes_parallel(Isa isa, const elementwise::ByteTable& table, const uint8_t* in, uint8_t* out,
                        int64_t n) {
  constexpr int64_t kChunk = 16384;
  tbb::parallel_for(int64_t{0}, (n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t first = c * kChunk;
    elementwise::map_bytes(isa, table, in + first, out + first, std::min(kChunk, n - first));
  });
}

// Cast between float, bool, uint8 and int64 (the conversions ONNX defines: float to integer truncates
// toward zero, anything non-zero is true). kToBool: the uint8_t target holds bools. A float out of uint8's
// range saturates (ONNX leaves it undefined; NaN gives 0), an int64 wraps modulo 256 (as C++ and NumPy).
// kToInt32: ONNX's int32 held as int64 (CastAttrs::int32): a float out of int32's range (or NaN) gives
// INT32_MIN as x86's conversion does, an int64 wraps modulo 2^32.
template <class From, class To, bool kToBool = false, bool kToInt32 = false>
void cast_elements(const std::byte* in, std::byte* out, int64_t n) {
  const auto* x = as<From>(in);
  auto* y = as<To>(out);
  tbb::parallel_for(int64_t{0}, (n + 16383) / 16384, [&](int64_t c) {
    const int64_t first = c * 16384, last = std::min(n, first + 16384);
    for (int64_t i = first; i < last; ++i) {
      if constexpr (kToBool)
        y[i] = x[i] != From{0} ? 1 : 0;
      else if constexpr (kToInt32 && std::is_same_v<From, float>)
        y[i] = std::isfinite(x[i]) && std::abs(x[i]) < 0x1p31f ? static_cast<int32_t>(x[i]) : INT32_MIN;
      else if constexpr (kToInt32)
        y[i] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(x[i])));
      else if constexpr (std::is_same_v<To, uint8_t> && std::is_same_v<From, float>)
        y[i] = !(x[i] > 0.0f) ? 0 : x[i] >= 255.0f ? 255 : static_cast<uint8_t>(x[i]);
      else if constexpr (std::is_same_v<To, uint8_t> && std::is_same_v<From, int64_t>)
        y[i] = static_cast<uint8_t>(static_cast<uint64_t>(x[i]));
      else if constexpr (std::is_same_v<To, int64_t> && std::is_same_v<From, float>)
        y[i] = std::isfinite(x[i]) && std::abs(x[i]) < 0x1p63f ? static_cast<int64_t>(x[i]) : INT64_MIN;
      else
        y[i] = static_cast<To>(x[i]);
    }
  });
}

std::unique_ptr<const Operator> cast(const Value& in, const graph::CastAttrs& a) {
  const int64_t n = element_count(in.shape, in.name);
  using F = void (*)(const std::byte*, std::byte*, int64_t);
  F f = nullptr;
  using enum ElementType;
  const ElementType from = in.type, to = a.to;
  // bool and uint8 are both bytes: a bool source casts as its 0 / 1.
  const bool byte_source = from == b8 || from == u8;
  if (from == f32 && to == b8) f = cast_elements<float, uint8_t, true>;
  if (from == f32 && to == u8) f = cast_elements<float, uint8_t>;
  if (from == f32 && to == s64)
    f = a.int32 ? cast_elements<float, int64_t, false, true> : cast_elements<float, int64_t>;
  if (byte_source && to == f32) f = cast_elements<uint8_t, float>;
  if (byte_source && to == s64) f = cast_elements<uint8_t, int64_t>;  // within int32's range either way
  if (from == u8 && to == b8) f = cast_elements<uint8_t, uint8_t, true>;
  if (from == b8 && to == u8) f = cast_elements<uint8_t, uint8_t>;
  if (from == s64 && to == f32) f = cast_elements<int64_t, float>;
  if (from == s64 && to == b8) f = cast_elements<int64_t, uint8_t, true>;
  if (from == s64 && to == u8) f = cast_elements<int64_t, uint8_t>;
  if (from == s64 && to == s64 && a.int32) f = cast_elements<int64_t, int64_t, false, true>;
  if (!f)
    throw Error("cast from " + std::string(name_of(in.type)) + " to " + std::string(name_of(to)) +
                (a.int32 ? " (int32)" : "") + " is not supported");
  return function([f, n](auto inputs, std::byte* o) { f(inputs[0], o, n); });
}

}  // namespace

std::unique_ptr<const Operator> make_elementwise_operator(const Graph& g, const Node& node, Isa isa,
                                                          RequantMode requant) {
  const Value& out = g.value(node.output);
  std::vector<Value> ins;
  for (graph::ValueId id : node.inputs)
    ins.push_back(g.value(id));
  const Value in = ins.empty() ? Value{} : ins[0];
  switch (node.kind) {
    case OpKind::quantize: {
      const bool to_nhwc = in.layout == graph::Layout::plain && out.layout == graph::Layout::nhwc;
      const int64_t count = element_count(in.shape, in.name);
      const float scale = out.quant.scale();
      const int32_t zp = out.quant.zero_point();
      // NCHW -> NHWC while quantizing: channel c of pixel p goes to p * C + c.
      const int64_t c = to_nhwc ? in.shape[1] : 1, hw = to_nhwc ? in.shape[2] * in.shape[3] : count;
      return function([count, scale, zp, c, hw, isa](auto inputs, std::byte* o) {
        const auto* x = reinterpret_cast<const float*>(inputs[0]);
        auto* y = reinterpret_cast<uint8_t*>(o);
        if (hw == 0) return;
        if (c == 1) {
          for_element_chunks(count, [&](int64_t first, int64_t len) {
            elementwise::quantize_row(isa, x + first, len, scale, zp, y + first);
          });
          return;
        }
        // Chunks of pixels, all channels at once: each channel's run of the chunk is quantized into a small
        // buffer, then the chunk's pixels are written out whole (C bytes each, consecutive), so tasks
        // write disjoint output ranges and each output line is written by one pass.
        for_pixel_chunks(count / (hw * c), hw, [&](int64_t n, int64_t first, int64_t len) {
          thread_local std::vector<uint8_t> planes;
          planes.resize(static_cast<size_t>(c * kPixelChunk));
          for (int64_t ch = 0; ch < c; ++ch)
            elementwise::quantize_row(isa, x + (n * c + ch) * hw + first, len, scale, zp,
                                      planes.data() + ch * kPixelChunk);
          uint8_t* out = y + (n * hw + first) * c;
          const uint8_t* q = planes.data();
          auto interleave = [&](auto channels) {
            for (int64_t p = 0; p < len; ++p)
              for (int64_t ch = 0; ch < channels; ++ch)
                out[p * channels + ch] = q[ch * kPixelChunk + p];
          };
          // Image inputs have 1, 3 or 4 channels: unrolled for those.
          if (c == 3)
            interleave(std::integral_constant<int64_t, 3>{});
          else if (c == 4)
            interleave(std::integral_constant<int64_t, 4>{});
          else
            interleave(c);
        });
      });
    }
    case OpKind::dequantize: {
      const bool to_nchw = in.layout == graph::Layout::nhwc && out.layout == graph::Layout::plain;
      const int64_t count = element_count(in.shape, in.name);
      const float scale = in.quant.scale();
      const int32_t zp = in.quant.zero_point();
      // NHWC -> NCHW while dequantizing: output channel c of pixel p comes from p * C + c.
      const int64_t c = to_nchw ? in.shape[3] : 1, hw = to_nchw ? in.shape[1] * in.shape[2] : count;
      // Each byte's value, dequantize_value's: the layout change looks them up.
      std::array<float, 256> values{};
      for (int32_t q = 0; q < 256; ++q)
        values[static_cast<size_t>(q)] = dequantize_value(q, scale, zp);
      return function([count, scale, zp, c, hw, values](auto inputs, std::byte* o) {
        const auto* x = reinterpret_cast<const uint8_t*>(inputs[0]);
        auto* y = reinterpret_cast<float*>(o);
        if (hw == 0) return;
        if (c == 1) {
          for_element_chunks(count, [&](int64_t first, int64_t len) {
            elementwise::dequantize_row(x + first, len, scale, zp, y + first);
          });
          return;
        }
        // Chunks of pixels with all their channels, which stay in L1 while each channel's plane is
        // written: a task per channel and chunk read the chunk's bytes once per channel, from L2
        // (LRASPP's 237 x 237 x 21 logits: 0.67 -> 0.45 ms, now bound by the float writes).
        for_pixel_chunks(count / (hw * c), hw, [&](int64_t n, int64_t first, int64_t len) {
          const uint8_t* pixels = x + (n * hw + first) * c;
          for (int64_t ch = 0; ch < c; ++ch) {
            float* plane = y + (n * c + ch) * hw + first;
            for (int64_t p = 0; p < len; ++p)
              plane[p] = values[pixels[p * c + ch]];
          }
        });
      });
    }
    case OpKind::add:
    case OpKind::mul: {
      // Vector kernels where the ISA has them for these scales, else the 65536-entry table; the reference
      // on Isa::scalar (kernels/elementwise/quantized_binary.h). Shapes are physical (NHWC).
      const Clamp c = std::get<graph::ClampAttrs>(node.attrs).clamp;
      const auto op = node.kind == OpKind::add ? elementwise::BinaryOp::add : elementwise::BinaryOp::mul;
      auto kernel = std::make_shared<const elementwise::QuantizedBinary>(
          op, ins[0].quant, ins[1].quant, out.quant, c, ins[0].shape, ins[1].shape, out.shape, isa, requant);
      return function([kernel](auto inputs, std::byte* o) {
        kernel->run(reinterpret_cast<const uint8_t*>(inputs[0]), reinterpret_cast<const uint8_t*>(inputs[1]),
                    reinterpret_cast<uint8_t*>(o));
      });
    }
    case OpKind::requantize: {
      const Clamp c = std::get<graph::ClampAttrs>(node.attrs).clamp;
      if (isa != Isa::scalar) {
        const elementwise::ByteTable table = byte_table(in.quant, out.quant, c, requant);
        const int64_t n = element_count(in.shape, in.name);
        return function([isa, table, n](auto inputs, std::byte* o) {
          map_bytes_parallel(isa, table, reinterpret_cast<const uint8_t*>(inputs[0]),
                             reinterpret_cast<uint8_t*>(o), n);
        });
      }
      return function([in, out, c, requant](auto inputs, std::byte* o) {
        store(ref::requantize_tensor(load<uint8_t>(inputs[0], in), out.quant, c, requant), o);
      });
    }
    case OpKind::lut: {
      const auto table = std::get<graph::LutAttrs>(node.attrs).table;
      if (isa != Isa::scalar) {
        const int64_t n = element_count(in.shape, in.name);
        return function([isa, table, n](auto inputs, std::byte* o) {
          map_bytes_parallel(isa, table, reinterpret_cast<const uint8_t*>(inputs[0]),
                             reinterpret_cast<uint8_t*>(o), n);
        });
      }
      return function([in, out, table](auto inputs, std::byte* o) {
        store(ref::apply_lut(load<uint8_t>(inputs[0], in), table, out.quant), o);
      });
    }
    case OpKind::unary: {
      const UnaryParams p = std::get<graph::UnaryAttrs>(node.attrs).params;
      const int64_t n = element_count(in.shape, in.name);
      return function([isa, p, n](auto inputs, std::byte* o) {
        elementwise::float_unary(isa, p, as<float>(inputs[0]), as<float>(o), n);
      });
    }
    case OpKind::binary: {
      const octet::BinaryOp op = std::get<graph::BinaryAttrs>(node.attrs).op;
      const Shape sa = ins[0].shape, sb = ins[1].shape;
      if (ins[0].type == ElementType::s64) {
        const std::string what = node.name;
        return function([op, sa, sb, what](auto inputs, std::byte* o) {
          ref::int64_binary(op, as<int64_t>(inputs[0]), sa, as<int64_t>(inputs[1]), sb, o, what);
        });
      }
      return function([isa, op, sa, sb](auto inputs, std::byte* o) {
        elementwise::float_binary(isa, op, inputs[0], sa, inputs[1], sb, o);
      });
    }
    case OpKind::where: {
      const Shape sc = ins[0].shape, sx = ins[1].shape, sy = ins[2].shape;
      const size_t element = size_of(out.type);
      return function([isa, sc, sx, sy, element](auto inputs, std::byte* o) {
        elementwise::where(isa, as<uint8_t>(inputs[0]), sc, inputs[1], sx, inputs[2], sy, element, o);
      });
    }
    case OpKind::cast:
      return cast(in, std::get<graph::CastAttrs>(node.attrs));
    default:
      return nullptr;
  }
}

}  // namespace octet::runtime
