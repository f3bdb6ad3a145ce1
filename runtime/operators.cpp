#include "runtime/operators.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "kernels/conv/depthwise_conv2d.h"
#include "kernels/conv/gemm_conv2d.h"
#include "kernels/conv/transposed_gemm.h"
#include "kernels/conv/transposed_phases.h"
#include "kernels/elementwise/binary_table.h"
#include "kernels/elementwise/byte_map.h"
#include "kernels/elementwise/quantize_rows.h"
#include "kernels/elementwise/quantized_add.h"
#include "kernels/error.h"
#include "kernels/pooling/average_pool.h"
#include "kernels/pooling/max_pool.h"
#include "kernels/quantization/conv_requant.h"
#include "kernels/quantization/quantize.h"
#include "kernels/reference/concat.h"
#include "kernels/reference/conv2d.h"
#include "kernels/reference/conv_transpose2d.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/fully_connected.h"
#include "kernels/reference/lut.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/requantize.h"
#include "kernels/reference/resize.h"
#include "kernels/reference/softmax.h"
#include "kernels/resize/resize.h"

namespace octet::runtime {

namespace {

using graph::Graph;
using graph::Node;
using graph::OpKind;
using graph::Value;

template <class T>
Tensor<T> load(const std::byte* data, const Value& v) {
  Tensor<T> t(v.shape, v.quant);
  std::memcpy(t.data.data(), data, t.data.size() * sizeof(T));
  return t;
}

template <class T>
void store(const Tensor<T>& t, std::byte* out) {
  std::memcpy(out, t.data.data(), t.data.size() * sizeof(T));
}

// Conv-family parallelism: output channels are cut into independent slices (whole groups for grouped
// convolutions), each with its own weights and bias, computed concurrently and written to their channel
// range. Channels never interact, so any thread count gives the same bytes.
class ConvOperator final : public Operator {
 public:
  ConvOperator(const Graph& g, const Node& node) : in_(g.value(node.inputs[0])), out_(g.value(node.output)) {
    const auto& a = std::get<graph::ConvAttrs>(node.attrs);
    transposed_ = a.transposed;
    conv_ = a.conv;
    transpose_ = a.transpose;
    clamp_ = a.clamp;
    std::visit([&](const auto& w) { slice(w, a.bias.get()); }, *a.weights);
  }

  void run(std::span<const std::byte* const> inputs, std::byte* output) const override {
    const TensorU8 input = load<uint8_t>(inputs[0], in_);
    const int64_t pixels = out_.shape[0] * out_.shape[1] * out_.shape[2], cout = out_.shape[3];
    tbb::parallel_for(size_t{0}, slices_.size(), [&](size_t i) {
      const Slice& s = slices_[i];
      const TensorU8 part = s.input_channels == in_.shape[3] ? TensorU8{} : channel_slice(input, s);
      const TensorU8& x = s.input_channels == in_.shape[3] ? input : part;
      const TensorU8 y = std::visit(
          [&](const auto& w) {
            const TensorS32* bias = s.bias.data.empty() ? nullptr : &s.bias;
            if (transposed_) {
              ref::ConvTranspose2dParams p = transpose_;
              p.groups = s.groups;
              return ref::conv_transpose2d(x, w, bias, p, out_.quant, clamp_);
            }
            ref::Conv2dParams p = conv_;
            p.groups = s.groups;
            return ref::conv2d(x, w, bias, p, out_.quant, clamp_);
          },
          s.weights);
      const int64_t width = y.shape[3];
      auto* dst = reinterpret_cast<uint8_t*>(output);
      for (int64_t px = 0; px < pixels; ++px)
        std::memcpy(dst + px * cout + s.first_output, y.data.data() + px * width, static_cast<size_t>(width));
    });
  }

 private:
  struct Slice {
    std::variant<TensorS8, TensorU8> weights;
    TensorS32 bias;
    int64_t first_output = 0;
    int64_t first_input = 0;
    int64_t input_channels = 0;
    int64_t groups = 1;
  };

  static TensorU8 channel_slice(const TensorU8& input, const Slice& s) {
    const int64_t pixels = input.shape[0] * input.shape[1] * input.shape[2], c = input.shape[3];
    TensorU8 out({input.shape[0], input.shape[1], input.shape[2], s.input_channels}, input.quant);
    for (int64_t px = 0; px < pixels; ++px)
      std::memcpy(out.data.data() + px * s.input_channels, input.data.data() + px * c + s.first_input,
                  static_cast<size_t>(s.input_channels));
    return out;
  }

  template <class W>
  void slice(const Tensor<W>& w, const TensorS32* bias) {
    const int64_t groups = transposed_ ? transpose_.groups : conv_.groups;
    const int64_t cout = w.shape[0], per_row = w.shape[1] * w.shape[2] * w.shape[3];
    const int64_t cout_g = cout / groups, cin_g = w.shape[3];
    // Units that can be split: output channels of an ungrouped conv, whole groups of a grouped one.
    const int64_t units = groups == 1 ? cout : groups;
    const int64_t unit_channels = groups == 1 ? 1 : cout_g;
    constexpr int64_t kMaxSlices = 16;
    const int64_t count = std::min(units, kMaxSlices);
    // Prove the whole layer's parameters once, with the layer's own error messages.
    const TensorU8 probe({1, 1, 1, groups * cin_g}, in_.quant);
    (void)prepare_conv_requant(transposed_ ? "conv_transpose2d" : "conv2d", probe, w, bias, out_.quant,
                               clamp_, cout, per_row);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t u0 = units * i / count, u1 = units * (i + 1) / count;
      Slice s;
      s.first_output = u0 * unit_channels;
      const int64_t channels = (u1 - u0) * unit_channels;
      s.groups = groups == 1 ? 1 : u1 - u0;
      s.first_input = groups == 1 ? 0 : u0 * cin_g;
      s.input_channels = groups == 1 ? in_.shape[3] : (u1 - u0) * cin_g;
      Tensor<W> part({channels, w.shape[1], w.shape[2], w.shape[3]});
      std::copy_n(w.data.begin() + s.first_output * per_row, channels * per_row, part.data.begin());
      if (w.quant.is_per_tensor()) {
        part.quant = w.quant;
      } else {
        part.quant.axis = 0;
        part.quant.scales.assign(w.quant.scales.begin() + s.first_output,
                                 w.quant.scales.begin() + s.first_output + channels);
        part.quant.zero_points.assign(w.quant.zero_points.begin() + s.first_output,
                                      w.quant.zero_points.begin() + s.first_output + channels);
      }
      if (bias) {
        s.bias = TensorS32({channels});
        std::copy_n(bias->data.begin() + s.first_output, channels, s.bias.data.begin());
      }
      s.weights = std::move(part);
      slices_.push_back(std::move(s));
    }
  }

  Value in_, out_;
  bool transposed_ = false;
  ref::Conv2dParams conv_;
  ref::ConvTranspose2dParams transpose_;
  Clamp clamp_;
  std::vector<Slice> slices_;
};

// Convolutions with groups == 1 (and fully connected layers, as 1x1 convolutions over a row of pixels) on
// the GEMM kernels of the active ISA; bit-exact with the reference operators.
class GemmConvOperator final : public Operator {
 public:
  GemmConvOperator(const Graph& g, const Node& node, Isa isa)
      : in_(g.value(node.inputs[0])), out_(g.value(node.output)) {
    if (node.kind == OpKind::conv) {
      const auto& a = std::get<graph::ConvAttrs>(node.attrs);
      std::visit(
          [&](const auto& w) {
            conv_ = conv::prepare_gemm_conv2d(isa, w, a.bias.get(), a.conv, in_.quant, out_.quant, a.clamp);
          },
          *a.weights);
      return;
    }
    const auto& a = std::get<graph::FullyConnectedAttrs>(node.attrs);
    std::visit(
        [&](const auto& w) {
          auto as_conv = w;  // [C_out, K] -> [C_out, 1, 1, K]
          as_conv.shape = {w.shape[0], 1, 1, w.shape[1]};
          conv_ = conv::prepare_gemm_conv2d(isa, as_conv, a.bias.get(), ref::Conv2dParams{}, in_.quant,
                                            out_.quant, a.clamp);
        },
        *a.weights);
    fully_connected_ = true;
  }

  void run(std::span<const std::byte* const> inputs, std::byte* output) const override {
    const auto* in = reinterpret_cast<const uint8_t*>(inputs[0]);
    auto* out = reinterpret_cast<uint8_t*>(output);
    if (fully_connected_) {
      const int64_t rows = element_count(in_.shape, in_.name) / in_.shape.back();
      conv::run(conv_, in, 1, 1, rows, out);
    } else {
      conv::run(conv_, in, in_.shape[0], in_.shape[1], in_.shape[2], out);
    }
  }

 private:
  Value in_, out_;
  conv::GemmConv2d conv_;
  bool fully_connected_ = false;
};

// Depthwise convolutions (one input channel per group, as many groups as channels) on the channel-vector
// kernels of the active ISA; bit-exact with the reference operator.
class DepthwiseOperator final : public Operator {
 public:
  DepthwiseOperator(const Graph& g, const Node& node, Isa isa) : in_(g.value(node.inputs[0])) {
    const auto& a = std::get<graph::ConvAttrs>(node.attrs);
    const Value& out = g.value(node.output);
    std::visit(
        [&](const auto& w) {
          conv_ = conv::prepare_depthwise_conv2d(isa, w, a.bias.get(), a.conv, in_.quant, out.quant, a.clamp);
        },
        *a.weights);
  }
  void run(std::span<const std::byte* const> inputs, std::byte* output) const override {
    conv::run(conv_, reinterpret_cast<const uint8_t*>(inputs[0]), in_.shape[0], in_.shape[1], in_.shape[2],
              reinterpret_cast<uint8_t*>(output));
  }

 private:
  Value in_;
  conv::DepthwiseConv2d conv_;
};

class FullyConnectedOperator final : public Operator {
 public:
  FullyConnectedOperator(const Graph& g, const Node& node)
      : in_(g.value(node.inputs[0])), out_(g.value(node.output)) {
    const auto& a = std::get<graph::FullyConnectedAttrs>(node.attrs);
    weights_ = a.weights;
    bias_ = a.bias;
    clamp_ = a.clamp;
    std::visit(
        [&](const auto& w) {
          const TensorU8 probe({1, w.shape[1]}, in_.quant);
          (void)prepare_conv_requant("fully_connected", probe, w, bias_.get(), out_.quant, clamp_, w.shape[0],
                                     w.shape[1]);
        },
        *weights_);
  }
  void run(std::span<const std::byte* const> inputs, std::byte* output) const override {
    const TensorU8 input = load<uint8_t>(inputs[0], in_);
    std::visit(
        [&](const auto& w) {
          store(ref::fully_connected(input, w, bias_.get(), out_.quant, clamp_), output);
        },
        *weights_);
  }

 private:
  Value in_, out_;
  std::shared_ptr<const graph::Weights> weights_;
  std::shared_ptr<const TensorS32> bias_;
  Clamp clamp_;
};

// Any operator that is one call of a reference function on whole tensors.
class FunctionOperator final : public Operator {
 public:
  using Function = std::function<void(std::span<const std::byte* const>, std::byte*)>;
  explicit FunctionOperator(Function f) : f_(std::move(f)) {}
  void run(std::span<const std::byte* const> inputs, std::byte* output) const override { f_(inputs, output); }

 private:
  Function f_;
};

// The reference requantization of every byte value from `from` to `to`, as a table.
elementwise::ByteTable byte_table(const QuantParams& from, const QuantParams& to, Clamp clamp) {
  TensorU8 all({256}, from);
  std::iota(all.data.begin(), all.data.end(), uint8_t{0});
  const TensorU8 mapped = ref::requantize_tensor(all, to, clamp);
  elementwise::ByteTable table;
  std::copy(mapped.data.begin(), mapped.data.end(), table.begin());
  return table;
}

void map_bytes_parallel(const elementwise::ByteTable& table, const uint8_t* in, uint8_t* out, int64_t n) {
  constexpr int64_t kChunk = 16384;
  tbb::parallel_for(int64_t{0}, (n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t first = c * kChunk;
    elementwise::map_bytes(table, in + first, out + first, std::min(kChunk, n - first));
  });
}

std::unique_ptr<const Operator> function(FunctionOperator::Function f) {
  return std::make_unique<FunctionOperator>(std::move(f));
}

void transpose_bytes(const std::byte* in, std::byte* out, const Shape& shape,
                     const std::vector<int64_t>& perm, size_t element) {
  const size_t rank = shape.size();
  std::vector<int64_t> in_strides(rank, 1);
  for (size_t d = rank; d-- > 1;)
    in_strides[d - 1] = in_strides[d] * shape[d];
  Shape out_shape(rank);
  std::vector<int64_t> strides(rank);  // input stride of each output dimension
  for (size_t d = 0; d < rank; ++d) {
    out_shape[d] = shape[static_cast<size_t>(perm[d])];
    strides[d] = in_strides[static_cast<size_t>(perm[d])];
  }
  const int64_t total = element_count(shape, "transpose");
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t o = 0; o < total; ++o) {
    std::memcpy(out + o * static_cast<int64_t>(element), in + offset * static_cast<int64_t>(element),
                element);
    for (size_t d = rank; d-- > 0;) {
      offset += strides[d];
      if (++index[d] < out_shape[d]) break;
      offset -= strides[d] * out_shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace

// Whether every weight zero point is the symmetric one (0 for int8, 128 for uint8): kernels that fold all
// zero-point terms into the bias need it.
bool symmetric_weights(const graph::Weights& weights) {
  return std::visit(
      [](const auto& w) {
        using W = typename decltype(w.data)::value_type;
        const int32_t symmetric = std::is_same_v<W, uint8_t> ? 128 : 0;
        return std::all_of(w.quant.zero_points.begin(), w.quant.zero_points.end(),
                           [&](int32_t z) { return z == symmetric; });
      },
      weights);
}

std::unique_ptr<const Operator> make_operator(const Graph& g, const Node& node, Isa isa) {
  const Value& out = g.value(node.output);
  std::vector<Value> ins;
  for (graph::ValueId id : node.inputs)
    ins.push_back(g.value(id));
  const Value in = ins.empty() ? Value{} : ins[0];
  switch (node.kind) {
    case OpKind::conv: {
      const auto& a = std::get<graph::ConvAttrs>(node.attrs);
      const Shape& ws = std::visit([](const auto& w) -> const Shape& { return w.shape; }, *a.weights);
      if (isa != Isa::scalar && !a.transposed && a.conv.groups == 1)
        return std::make_unique<GemmConvOperator>(g, node, isa);
      if (isa != Isa::scalar && !a.transposed && ws[3] == 1 && a.conv.groups == ws[0])
        return std::make_unique<DepthwiseOperator>(g, node, isa);
      if (isa != Isa::scalar && a.transposed && conv::transposed_gemm_applies(a.transpose, ws[1], ws[2])) {
        auto t = std::make_shared<const conv::TransposedGemm>(std::visit(
            [&](const auto& w) {
              return conv::prepare_transposed_gemm(isa, w, a.bias.get(), in.quant, out.quant, a.clamp);
            },
            *a.weights));
        return function([in, t](auto inputs, std::byte* o) {
          conv::run(*t, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1], in.shape[2],
                    reinterpret_cast<uint8_t*>(o));
        });
      }
      if (a.transposed && conv::transposed_phases_apply(isa, a.transpose) && symmetric_weights(*a.weights)) {
        auto t = std::make_shared<const conv::TransposedPhases>(std::visit(
            [&](const auto& w) {
              return conv::prepare_transposed_phases(isa, w, a.bias.get(), a.transpose, in.quant, out.quant,
                                                     a.clamp);
            },
            *a.weights));
        return function([in, t](auto inputs, std::byte* o) {
          conv::run(*t, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1], in.shape[2],
                    reinterpret_cast<uint8_t*>(o));
        });
      }
      return std::make_unique<ConvOperator>(g, node);
    }
    case OpKind::fully_connected:
      if (isa != Isa::scalar) return std::make_unique<GemmConvOperator>(g, node, isa);
      return std::make_unique<FullyConnectedOperator>(g, node);
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
          constexpr int64_t kChunk = 4096;
          const int64_t chunks = (count + kChunk - 1) / kChunk;
          tbb::parallel_for(int64_t{0}, chunks, [&](int64_t task) {
            const int64_t first = task * kChunk;
            elementwise::quantize_row(isa, x + first, std::min(kChunk, count - first), scale, zp, y + first);
          });
          return;
        }
        // Chunks of pixels, all channels at once: each channel's run of the chunk is quantized into a small
        // buffer, then the chunk's pixels are written out whole (C bytes each, consecutive), so tasks
        // write disjoint output ranges and each output line is written by one pass.
        constexpr int64_t kPixels = 1024;
        const int64_t chunks = (hw + kPixels - 1) / kPixels, images = count / (hw * c);
        tbb::parallel_for(int64_t{0}, images * chunks, [&](int64_t task) {
          const int64_t n = task / chunks, first = task % chunks * kPixels,
                        len = std::min(kPixels, hw - first);
          thread_local std::vector<uint8_t> planes;
          planes.resize(static_cast<size_t>(c * kPixels));
          for (int64_t ch = 0; ch < c; ++ch)
            elementwise::quantize_row(isa, x + (n * c + ch) * hw + first, len, scale, zp,
                                      planes.data() + ch * kPixels);
          uint8_t* out = y + (n * hw + first) * c;
          const uint8_t* q = planes.data();
          auto interleave = [&](auto channels) {
            for (int64_t p = 0; p < len; ++p)
              for (int64_t ch = 0; ch < channels; ++ch)
                out[p * channels + ch] = q[ch * kPixels + p];
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
      return function([count, scale, zp, c, hw](auto inputs, std::byte* o) {
        const auto* x = reinterpret_cast<const uint8_t*>(inputs[0]);
        auto* y = reinterpret_cast<float*>(o);
        constexpr int64_t kChunk = 4096;
        if (hw == 0) return;
        const int64_t chunks = (hw + kChunk - 1) / kChunk, planes = count / hw;
        tbb::parallel_for(int64_t{0}, planes * chunks, [&](int64_t task) {
          const int64_t plane = task / chunks, first = task % chunks * kChunk,
                        len = std::min(kChunk, hw - first);
          const int64_t n = plane / c, ch = plane % c;
          const uint8_t* col = x + (n * hw + first) * c + ch;
          float* row = y + plane * hw + first;
          for (int64_t p = 0; p < len; ++p)
            row[p] = dequantize_value(col[p * c], scale, zp);
        });
      });
    }
    case OpKind::max_pool: {
      const auto p = std::get<graph::PoolAttrs>(node.attrs).params;
      if (isa != Isa::scalar && in.shape.size() == 4) {
        const auto zp = static_cast<uint8_t>(in.quant.scales.empty() ? 0 : in.quant.zero_point());
        return function([in, p, zp](auto inputs, std::byte* o) {
          pooling::max_pool2d(reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1],
                              in.shape[2], in.shape[3], p, zp, reinterpret_cast<uint8_t*>(o));
        });
      }
      return function(
          [in, p](auto inputs, std::byte* o) { store(ref::max_pool2d(load<uint8_t>(inputs[0], in), p), o); });
    }
    case OpKind::average_pool: {
      const auto a = std::get<graph::PoolAttrs>(node.attrs);
      if (isa != Isa::scalar && in.shape.size() == 4) {
        const auto pool = pooling::prepare_average_pool(a.params, in.quant, out.quant, a.clamp);
        return function([in, pool](auto inputs, std::byte* o) {
          pooling::run(pool, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1],
                       in.shape[2], in.shape[3], reinterpret_cast<uint8_t*>(o));
        });
      }
      return function([in, out, a](auto inputs, std::byte* o) {
        store(ref::average_pool2d(load<uint8_t>(inputs[0], in), a.params, out.quant, a.clamp), o);
      });
    }
    case OpKind::global_average_pool: {
      const auto a = std::get<graph::PoolAttrs>(node.attrs);
      if (isa != Isa::scalar && in.shape.size() == 4) {
        const auto pool =
            pooling::prepare_global_average_pool(in.shape[1], in.shape[2], in.quant, out.quant, a.clamp);
        return function([in, pool](auto inputs, std::byte* o) {
          pooling::run(pool, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1],
                       in.shape[2], in.shape[3], reinterpret_cast<uint8_t*>(o));
        });
      }
      return function([in, out, a](auto inputs, std::byte* o) {
        store(ref::global_average_pool(load<uint8_t>(inputs[0], in), out.quant, a.clamp), o);
      });
    }
    case OpKind::add:
    case OpKind::mul: {
      const Clamp c = std::get<graph::ClampAttrs>(node.attrs).clamp;
      const bool add = node.kind == OpKind::add;
      if (add && ins[0].shape == out.shape && ins[1].shape == out.shape) {
        const ref::AddConstants k = ref::add_constants(ins[0].quant, ins[1].quant, out.quant);
        if (elementwise::add_rows_supported(isa, k)) {
          const int64_t n = element_count(out.shape, out.name);
          return function([k, c, n, isa](auto inputs, std::byte* o) {
            constexpr int64_t kChunk = 16384;
            tbb::parallel_for(int64_t{0}, (n + kChunk - 1) / kChunk, [&](int64_t chunk) {
              const int64_t first = chunk * kChunk;
              elementwise::add_rows(isa, k, c, reinterpret_cast<const uint8_t*>(inputs[0]) + first,
                                    reinterpret_cast<const uint8_t*>(inputs[1]) + first,
                                    reinterpret_cast<uint8_t*>(o) + first, std::min(kChunk, n - first));
            });
          });
        }
      }
      if (isa != Isa::scalar && out.shape.size() <= 4) {
        auto table = std::make_shared<const elementwise::BinaryTable>(
            elementwise::make_binary_table(add ? elementwise::BinaryOp::add : elementwise::BinaryOp::mul,
                                           ins[0].quant, ins[1].quant, out.quant, c));
        return function([ins, out, table](auto inputs, std::byte* o) {
          elementwise::run(*table, reinterpret_cast<const uint8_t*>(inputs[0]), ins[0].shape,
                           reinterpret_cast<const uint8_t*>(inputs[1]), ins[1].shape,
                           reinterpret_cast<uint8_t*>(o), out.shape);
        });
      }
      return function([ins, out, c, add](auto inputs, std::byte* o) {
        const TensorU8 a = load<uint8_t>(inputs[0], ins[0]), b = load<uint8_t>(inputs[1], ins[1]);
        store(add ? ref::add(a, b, out.quant, c) : ref::mul(a, b, out.quant, c), o);
      });
    }
    case OpKind::concat: {
      const int64_t axis = std::get<graph::ConcatAttrs>(node.attrs).axis;
      if (isa != Isa::scalar) {
        // Each input's bytes map to the output's params through a 256-entry table (the reference
        // requantization of every byte value), or are copied when the params already agree.
        std::vector<std::optional<elementwise::ByteTable>> tables;
        for (const Value& v : ins)
          tables.push_back(v.quant == out.quant ? std::nullopt
                                                : std::optional(byte_table(v.quant, out.quant, Clamp{})));
        int64_t outer = 1, inner = 1;
        for (int64_t d = 0; d < axis; ++d)
          outer *= out.shape[static_cast<size_t>(d)];
        for (size_t d = static_cast<size_t>(axis) + 1; d < out.shape.size(); ++d)
          inner *= out.shape[d];
        std::vector<int64_t> widths;
        for (const Value& v : ins)
          widths.push_back(v.shape[static_cast<size_t>(axis)] * inner);
        const int64_t out_width = out.shape[static_cast<size_t>(axis)] * inner;
        return function([tables, widths, outer, out_width](auto inputs, std::byte* o) {
          auto* dst = reinterpret_cast<uint8_t*>(o);
          // Blocks of rows big enough that a task's overhead does not show next to its copying.
          const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(out_width, 1));
          tbb::parallel_for(tbb::blocked_range<int64_t>(0, outer, grain), [&](const auto& rows) {
            int64_t column = 0;
            for (size_t i = 0; i < widths.size(); ++i) {
              const uint8_t* src = reinterpret_cast<const uint8_t*>(inputs[i]) + rows.begin() * widths[i];
              elementwise::map_rows(tables[i] ? &*tables[i] : nullptr, src, widths[i],
                                    dst + rows.begin() * out_width + column, out_width, widths[i],
                                    rows.size());
              column += widths[i];
            }
          });
        });
      }
      return function([ins, out, axis](auto inputs, std::byte* o) {
        std::vector<TensorU8> tensors;
        for (size_t i = 0; i < ins.size(); ++i)
          tensors.push_back(load<uint8_t>(inputs[i], ins[i]));
        std::vector<const TensorU8*> ptrs;
        for (const auto& t : tensors)
          ptrs.push_back(&t);
        store(ref::concat(ptrs, axis, out.quant), o);
      });
    }
    case OpKind::requantize: {
      const Clamp c = std::get<graph::ClampAttrs>(node.attrs).clamp;
      if (isa != Isa::scalar) {
        const elementwise::ByteTable table = byte_table(in.quant, out.quant, c);
        const int64_t n = element_count(in.shape, in.name);
        return function([table, n](auto inputs, std::byte* o) {
          map_bytes_parallel(table, reinterpret_cast<const uint8_t*>(inputs[0]),
                             reinterpret_cast<uint8_t*>(o), n);
        });
      }
      return function([in, out, c](auto inputs, std::byte* o) {
        store(ref::requantize_tensor(load<uint8_t>(inputs[0], in), out.quant, c), o);
      });
    }
    case OpKind::resize: {
      const auto p = std::get<graph::ResizeAttrs>(node.attrs).params;
      if (isa != Isa::scalar && in.shape.size() == 4) {
        const auto r = resize::prepare_resize(p, in.shape[1], in.shape[2]);
        return function([in, r](auto inputs, std::byte* o) {
          resize::run(r, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[3],
                      reinterpret_cast<uint8_t*>(o));
        });
      }
      return function(
          [in, p](auto inputs, std::byte* o) { store(ref::resize(load<uint8_t>(inputs[0], in), p), o); });
    }
    case OpKind::lut: {
      const auto table = std::get<graph::LutAttrs>(node.attrs).table;
      if (isa != Isa::scalar) {
        const int64_t n = element_count(in.shape, in.name);
        return function([table, n](auto inputs, std::byte* o) {
          map_bytes_parallel(table, reinterpret_cast<const uint8_t*>(inputs[0]),
                             reinterpret_cast<uint8_t*>(o), n);
        });
      }
      return function([in, out, table](auto inputs, std::byte* o) {
        store(ref::apply_lut(load<uint8_t>(inputs[0], in), table, out.quant), o);
      });
    }
    case OpKind::softmax:
      if (out.type == ElementType::f32)
        return function(
            [in](auto inputs, std::byte* o) { store(ref::softmax_float(load<uint8_t>(inputs[0], in)), o); });
      return function([in, out](auto inputs, std::byte* o) {
        store(ref::softmax_u8(load<uint8_t>(inputs[0], in), out.quant), o);
      });
    case OpKind::reshape: {
      const int64_t bytes = element_count(out.shape, out.name) * (out.type == ElementType::f32 ? 4 : 1);
      return function(
          [bytes](auto inputs, std::byte* o) { std::memcpy(o, inputs[0], static_cast<size_t>(bytes)); });
    }
    case OpKind::transpose: {
      const auto perm = std::get<graph::TransposeAttrs>(node.attrs).perm;
      const size_t element = in.type == ElementType::f32 ? 4 : 1;
      return function([in, perm, element](auto inputs, std::byte* o) {
        transpose_bytes(inputs[0], o, in.shape, perm, element);
      });
    }
  }
  throw Error("node '" + node.name + "': no operator for " + graph::name_of(node.kind));
}

}  // namespace octet::runtime
