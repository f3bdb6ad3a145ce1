// The convolution family: direct, depthwise and transposed convolutions, fully connected layers and matrix
// products, uint8 and float.

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "kernels/conv/depthwise_conv2d.h"
#include "kernels/conv/float_conv.h"
#include "kernels/conv/gemm_conv2d.h"
#include "kernels/conv/grouped_gemm_conv.h"
#include "kernels/conv/transposed_gemm.h"
#include "kernels/conv/transposed_phases.h"
#include "kernels/elementwise/quantized_binary.h"
#include "kernels/gemm/float_gemm.h"
#include "kernels/gemm/u8_matmul.h"
#include "kernels/quantization/conv_requant.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/conv2d.h"
#include "kernels/reference/conv_transpose2d.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/fully_connected.h"
#include "kernels/reference/integer_matmul.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

namespace {

using graph::Graph;
using graph::Node;
using graph::OpKind;
using graph::Value;

// Conv-family parallelism: output channels are cut into independent slices (whole groups for grouped
// convolutions), each with its own weights and bias, computed concurrently and written to their channel
// range. Channels never interact, so any thread count gives the same bytes.
class ConvOperator final : public Operator {
 public:
  ConvOperator(const Graph& g, const Node& node, RequantMode requant)
      : in_(g.value(node.inputs[0])), out_(g.value(node.output)), requant_(requant) {
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
              return ref::conv_transpose2d(x, w, bias, p, out_.quant, clamp_, requant_);
            }
            ref::Conv2dParams p = conv_;
            p.groups = s.groups;
            return ref::conv2d(x, w, bias, p, out_.quant, clamp_, requant_);
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
                               clamp_, cout, per_row, requant_);
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
  RequantMode requant_;
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
  // `residual_rows`: the row kernel of an add fused into the convolution (residual_conv below), applied to
  // each tile of the output as it is stored; its other operand is the second input.
  // `output_stride` > 0: output pixels that many bytes apart (a slice of a Concat's output; convolutions
  // without a residual only).
  GemmConvOperator(const Graph& g, const Node& node, Isa isa, RequantMode requant,
                   std::unique_ptr<const elementwise::BinaryRows> residual_rows = nullptr,
                   bool conv_first = true, int64_t output_stride = 0)
      : in_(g.value(node.inputs[0])),
        out_(g.value(node.output)),
        residual_rows_(std::move(residual_rows)),
        conv_first_(conv_first),
        output_stride_(output_stride) {
    if (node.kind == OpKind::conv) {
      const auto& a = std::get<graph::ConvAttrs>(node.attrs);
      std::visit(
          [&](const auto& w) {
            conv_ = conv::prepare_gemm_conv2d(isa, w, a.bias.get(), a.conv, in_.quant, out_.quant, a.clamp,
                                              requant);
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
                                            out_.quant, a.clamp, requant);
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
      return;
    }
    std::optional<conv::ResidualAdd> residual;
    if (residual_rows_)
      residual =
          conv::ResidualAdd{residual_rows_.get(), reinterpret_cast<const uint8_t*>(inputs[1]), conv_first_};
    conv::run(conv_, in, in_.shape[0], in_.shape[1], in_.shape[2], out, residual ? &*residual : nullptr,
              output_stride_);
  }

 private:
  Value in_, out_;
  conv::GemmConv2d conv_;
  bool fully_connected_ = false;
  std::unique_ptr<const elementwise::BinaryRows> residual_rows_;
  bool conv_first_ = true;
  int64_t output_stride_ = 0;
};

// A convolution prepared once for the active ISA (`Prepared`: conv::DepthwiseConv2d, conv::GroupedGemmConv)
// and run on the NHWC input with the kernel's run(); `prepare` takes the layer's weights (either type) and
// its attributes as the kernels' prepare functions do.
template <class Prepared>
class PreparedConvOperator final : public Operator {
 public:
  template <class Prepare>
  PreparedConvOperator(const Graph& g, const Node& node, Isa isa, RequantMode requant, Prepare prepare)
      : in_(g.value(node.inputs[0])) {
    const auto& a = std::get<graph::ConvAttrs>(node.attrs);
    const Value& out = g.value(node.output);
    std::visit(
        [&](const auto& w) {
          conv_ = prepare(isa, w, a.bias.get(), a.conv, in_.quant, out.quant, a.clamp, requant);
        },
        *a.weights);
  }
  void run(std::span<const std::byte* const> inputs, std::byte* output) const override {
    conv::run(conv_, reinterpret_cast<const uint8_t*>(inputs[0]), in_.shape[0], in_.shape[1], in_.shape[2],
              reinterpret_cast<uint8_t*>(output));
  }

 private:
  Value in_;
  Prepared conv_;
};

// Depthwise convolutions (one input channel per group, as many groups as channels) on the channel-vector
// kernels of the active ISA; bit-exact with the reference operator.
std::unique_ptr<const Operator> depthwise_operator(const Graph& g, const Node& node, Isa isa,
                                                   RequantMode requant) {
  return std::make_unique<PreparedConvOperator<conv::DepthwiseConv2d>>(
      g, node, isa, requant, [](auto&&... args) { return conv::prepare_depthwise_conv2d(args...); });
}

// Grouped convolutions with more than one channel per group (ResNeXt, RegNet) on the GEMM, groups merged
// into block-diagonal parts (conv/grouped_gemm_conv.h); bit-exact with the reference operator.
std::unique_ptr<const Operator> grouped_gemm_operator(const Graph& g, const Node& node, Isa isa,
                                                      RequantMode requant) {
  return std::make_unique<PreparedConvOperator<conv::GroupedGemmConv>>(
      g, node, isa, requant,
      [](Isa isa, const auto& w, const TensorS32* bias, const ref::Conv2dParams& params,
         const QuantParams& in, const QuantParams& out, Clamp clamp, RequantMode requant) {
        // The layer's parameters proved as the grouped layer they are, with its own error messages.
        const TensorU8 probe({1, 1, 1, params.groups * w.shape[3]}, in);
        (void)prepare_conv_requant("conv2d", probe, w, bias, out, clamp, w.shape[0],
                                   w.shape[1] * w.shape[2] * w.shape[3], requant);
        return conv::prepare_grouped_gemm_conv(isa, w, bias, params, in, out, clamp, requant);
      });
}

class FullyConnectedOperator final : public Operator {
 public:
  FullyConnectedOperator(const Graph& g, const Node& node, RequantMode requant)
      : in_(g.value(node.inputs[0])), out_(g.value(node.output)), requant_(requant) {
    const auto& a = std::get<graph::FullyConnectedAttrs>(node.attrs);
    weights_ = a.weights;
    bias_ = a.bias;
    clamp_ = a.clamp;
    std::visit(
        [&](const auto& w) {
          const TensorU8 probe({1, w.shape[1]}, in_.quant);
          (void)prepare_conv_requant("fully_connected", probe, w, bias_.get(), out_.quant, clamp_, w.shape[0],
                                     w.shape[1], requant_);
        },
        *weights_);
  }
  void run(std::span<const std::byte* const> inputs, std::byte* output) const override {
    const TensorU8 input = load<uint8_t>(inputs[0], in_);
    std::visit(
        [&](const auto& w) {
          store(ref::fully_connected(input, w, bias_.get(), out_.quant, clamp_, requant_), output);
        },
        *weights_);
  }

 private:
  Value in_, out_;
  std::shared_ptr<const graph::Weights> weights_;
  std::shared_ptr<const TensorS32> bias_;
  Clamp clamp_;
  RequantMode requant_;
};

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

// A MatMul of two uint8 activations on the GEMM kernels (gemm/u8_matmul.h), b packed on every run; the
// reference under `scalar`, and where the operands' params leave an int32 overflow possible for some bytes
// (the reference checks the actual ones). Bit-exact with ref::matmul_u8 on every ISA.
std::unique_ptr<const Operator> u8_matmul(const Graph& g, const Node& node, Isa isa, RequantMode requant) {
  const Value a = g.value(node.inputs[0]), b = g.value(node.inputs[1]), out = g.value(node.output);
  const Clamp clamp = std::get<graph::ClampAttrs>(node.attrs).clamp;
  const int64_t m = a.shape[a.shape.size() - 2], k = a.shape.back(), n = b.shape.back();
  if (isa == Isa::scalar || m < 1 || k < 1 || n < 1 || !gemm::u8_matmul_always_fits(k, a.quant, b.quant))
    return function([a, b, out, clamp, requant](auto inputs, std::byte* o) {
      store(
          ref::matmul_u8(load<uint8_t>(inputs[0], a), load<uint8_t>(inputs[1], b), out.quant, clamp, requant),
          o);
    });
  // Which batch of a and of b each output batch multiplies (the batch dimensions broadcast).
  const Shape batch(out.shape.begin(), out.shape.end() - 2);
  const BroadcastRuns<2> runs("matmul", batch,
                              std::array<Shape, 2>{Shape(a.shape.begin(), a.shape.end() - 2),
                                                   Shape(b.shape.begin(), b.shape.end() - 2)});
  std::vector<std::array<int64_t, 2>> operands;
  runs.for_runs(0, runs.outer(), [&](int64_t, const std::array<int64_t, 2>& at) {
    for (int64_t i = 0; i < runs.inner(); ++i)
      operands.push_back({at[0] + i * runs.step(0), at[1] + i * runs.step(1)});
  });
  auto mm = std::make_shared<const gemm::U8MatMul>(
      gemm::prepare_u8_matmul(isa, m, k, n, a.quant, b.quant, out.quant, clamp, requant));
  return function([mm, operands = std::move(operands)](auto inputs, std::byte* o) {
    gemm::run(*mm, as<uint8_t>(inputs[0]), as<uint8_t>(inputs[1]), operands, as<uint8_t>(o));
  });
}

// A float convolution on the active ISA's kernels (the references under `scalar`).
std::unique_ptr<const Operator> float_conv(const Graph& g, const Node& node, Isa isa) {
  const auto& a = std::get<graph::FloatConvAttrs>(node.attrs);
  const Value in = g.value(node.inputs[0]);
  const float* bias = a.bias ? a.bias->data.data() : nullptr;
  if (a.transposed) {
    auto conv = conv::prepare_float_conv_transpose2d(isa, a.weights->data.data(), a.weights->shape, bias,
                                                     a.transpose, a.clamp, a.activation);
    return function([in, conv](auto inputs, std::byte* o) {
      conv::run(*conv, as<float>(inputs[0]), in.shape[0], in.shape[1], in.shape[2], as<float>(o));
    });
  }
  auto conv = conv::prepare_float_conv2d(isa, a.weights->data.data(), a.weights->shape, bias, a.conv, a.clamp,
                                         a.activation, a.residual);
  const bool residual = a.residual;
  return function([in, conv, residual](auto inputs, std::byte* o) {
    conv::run(*conv, as<float>(inputs[0]), in.shape[0], in.shape[1], in.shape[2], as<float>(o),
              residual ? as<float>(inputs[1]) : nullptr);
  });
}

// A float fully connected layer: rows of the input's last dimension times the packed weights.
std::unique_ptr<const Operator> float_fully_connected(const Graph& g, const Node& node, Isa isa) {
  const auto& a = std::get<graph::FloatFullyConnectedAttrs>(node.attrs);
  const Value in = g.value(node.inputs[0]);
  const int64_t n = a.weights->shape[0], k = a.weights->shape[1];
  const int64_t rows = element_count(in.shape, in.name) / std::max<int64_t>(k, 1);
  // Packed from [N, K] (B transposed).
  auto packed =
      std::make_shared<const gemm::PackedFloatB>(gemm::pack_float_b(isa, a.weights->data.data(), k, n, true));
  const std::shared_ptr<const TensorF32> bias = a.bias, addend = a.addend;
  const FloatClamp clamp = a.clamp;
  return function([packed, bias, addend, clamp, rows, k, n](auto inputs, std::byte* o) {
    gemm::float_gemm(as<float>(inputs[0]), rows, k, *packed, bias ? bias->data.data() : nullptr, clamp,
                     as<float>(o), n, addend ? addend->data.data() : nullptr);
  });
}

// The convolution of a node with a fused residual add, as a graph of its own: its input, and its output
// with the convolution's own params.
struct ConvAlone {
  Graph graph;
  Node node;
};

ConvAlone conv_alone(const Graph& g, const Node& node) {
  const auto& a = std::get<graph::ConvAttrs>(node.attrs);
  ConvAlone c;
  c.graph.add_value(g.value(node.inputs[0]));
  Value conv_out = g.value(node.output);
  conv_out.quant = a.residual->conv_output;
  c.graph.add_value(std::move(conv_out));
  c.node = node;
  c.node.inputs = {0};
  c.node.output = 1;
  std::get<graph::ConvAttrs>(c.node.attrs).residual.reset();
  return c;
}

// A convolution with a fused residual add (graph::ResidualAddAttrs): the same bytes as the convolution
// followed by the add. The GEMM convolution applies the add to each tile of its output as it stores it;
// other convolution kernels run into the output and the add then runs over it in place; under the scalar
// ISA both are the reference operators.
std::unique_ptr<const Operator> residual_conv(const Graph& g, const Node& node, Isa isa,
                                              RequantMode requant) {
  const auto& a = std::get<graph::ConvAttrs>(node.attrs);
  const graph::ResidualAddAttrs r = *a.residual;
  const ConvAlone alone = conv_alone(g, node);
  const Value conv_out = alone.graph.value(1), other = g.value(node.inputs[1]), out = g.value(node.output);
  const QuantParams& qa = r.conv_first ? conv_out.quant : other.quant;
  const QuantParams& qb = r.conv_first ? other.quant : conv_out.quant;
  if (isa == Isa::scalar) {
    std::shared_ptr<const Operator> conv = make_conv_operator(alone.graph, alone.node, isa, requant);
    return function([conv, conv_out, other, out, r, requant](auto inputs, std::byte* o) {
      const std::byte* conv_inputs[] = {inputs[0]};
      conv->run(conv_inputs, o);
      const TensorU8 x = load<uint8_t>(o, conv_out), y = load<uint8_t>(inputs[1], other);
      store(r.conv_first ? ref::add(x, y, out.quant, r.clamp, requant)
                         : ref::add(y, x, out.quant, r.clamp, requant),
            o);
    });
  }
  auto rows =
      elementwise::make_binary_rows(elementwise::BinaryOp::add, qa, qb, out.quant, r.clamp, isa, requant);
  if (!a.transposed && a.conv.groups == 1)
    return std::make_unique<GemmConvOperator>(alone.graph, alone.node, isa, requant, std::move(rows),
                                              r.conv_first);
  std::shared_ptr<const Operator> conv = make_conv_operator(alone.graph, alone.node, isa, requant);
  std::shared_ptr<const elementwise::BinaryRows> shared_rows = std::move(rows);
  const int64_t count = element_count(out.shape, out.name);
  return function([conv, shared_rows, count, conv_first = r.conv_first](auto inputs, std::byte* o) {
    const std::byte* conv_inputs[] = {inputs[0]};
    conv->run(conv_inputs, o);
    conv::ResidualAdd{shared_rows.get(), as<uint8_t>(inputs[1]), conv_first}.apply_all(as<uint8_t>(o), count);
  });
}

// A transposed convolution whose kernel equals its stride, on the GEMM (conv/transposed_gemm.h), its output
// pixels `output_stride` bytes apart (0: C_out).
std::unique_ptr<const Operator> transposed_gemm_operator(const Graph& g, const Node& node, Isa isa,
                                                         RequantMode requant, int64_t output_stride) {
  const auto& a = std::get<graph::ConvAttrs>(node.attrs);
  const Value in = g.value(node.inputs[0]);
  const Value& out = g.value(node.output);
  auto t = std::make_shared<const conv::TransposedGemm>(std::visit(
      [&](const auto& w) {
        return conv::prepare_transposed_gemm(isa, w, a.bias.get(), in.quant, out.quant, a.clamp, requant);
      },
      *a.weights));
  return function([in, t, output_stride](auto inputs, std::byte* o) {
    conv::run(*t, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1], in.shape[2],
              reinterpret_cast<uint8_t*>(o), output_stride);
  });
}

}  // namespace

bool takes_output_stride(const Graph& g, const Node& node, Isa isa) {
  (void)g;
  if (isa == Isa::scalar || node.kind != OpKind::conv) return false;
  const auto* a = std::get_if<graph::ConvAttrs>(&node.attrs);
  // What make_conv_operator gives a GemmConvOperator or a transposed GEMM, less the fused residual add
  // (dense rows).
  if (a == nullptr || a->residual) return false;
  const Shape& ws = std::visit([](const auto& w) -> const Shape& { return w.shape; }, *a->weights);
  // First layers on the pixel-lane kernel write whole NHWC rows; strided, they would run on the slower
  // GEMM, which costs more than the copy saved.
  if (!a->transposed)
    return a->conv.groups == 1 && !conv::pixel_lanes_apply(isa, a->conv, ws[1], ws[2], ws[3], ws[0]);
  return conv::transposed_gemm_applies(a->transpose, ws[1], ws[2]);
}

std::unique_ptr<const Operator> make_strided_conv_operator(const Graph& g, const Node& node, Isa isa,
                                                           RequantMode requant, int64_t output_stride) {
  if (std::get<graph::ConvAttrs>(node.attrs).transposed)
    return transposed_gemm_operator(g, node, isa, requant, output_stride);
  return std::make_unique<GemmConvOperator>(g, node, isa, requant, nullptr, true, output_stride);
}

std::unique_ptr<const Operator> make_conv_operator(const Graph& g, const Node& node, Isa isa,
                                                   RequantMode requant) {
  const Value& out = g.value(node.output);
  const Value in = g.value(node.inputs[0]);
  switch (node.kind) {
    case OpKind::conv: {
      if (std::holds_alternative<graph::FloatConvAttrs>(node.attrs)) return float_conv(g, node, isa);
      const auto& a = std::get<graph::ConvAttrs>(node.attrs);
      if (a.residual) return residual_conv(g, node, isa, requant);
      const Shape& ws = std::visit([](const auto& w) -> const Shape& { return w.shape; }, *a.weights);
      if (isa != Isa::scalar && !a.transposed && a.conv.groups == 1)
        return std::make_unique<GemmConvOperator>(g, node, isa, requant);
      if (isa != Isa::scalar && !a.transposed && ws[3] == 1 && a.conv.groups == ws[0])
        return depthwise_operator(g, node, isa, requant);
      if (isa != Isa::scalar && !a.transposed && a.conv.groups > 1)
        return grouped_gemm_operator(g, node, isa, requant);
      if (isa != Isa::scalar && a.transposed && conv::transposed_gemm_applies(a.transpose, ws[1], ws[2]))
        return transposed_gemm_operator(g, node, isa, requant, 0);
      if (a.transposed && conv::transposed_phases_apply(isa, a.transpose) && symmetric_weights(*a.weights)) {
        auto t = std::make_shared<const conv::TransposedPhases>(std::visit(
            [&](const auto& w) {
              return conv::prepare_transposed_phases(isa, w, a.bias.get(), a.transpose, in.quant, out.quant,
                                                     a.clamp, requant);
            },
            *a.weights));
        return function([in, t](auto inputs, std::byte* o) {
          conv::run(*t, reinterpret_cast<const uint8_t*>(inputs[0]), in.shape[0], in.shape[1], in.shape[2],
                    reinterpret_cast<uint8_t*>(o));
        });
      }
      return std::make_unique<ConvOperator>(g, node, requant);
    }
    case OpKind::fully_connected:
      if (std::holds_alternative<graph::FloatFullyConnectedAttrs>(node.attrs))
        return float_fully_connected(g, node, isa);
      if (isa != Isa::scalar) return std::make_unique<GemmConvOperator>(g, node, isa, requant);
      return std::make_unique<FullyConnectedOperator>(g, node, requant);
    case OpKind::matmul: {
      if (in.type == ElementType::u8) return u8_matmul(g, node, isa, requant);
      const Shape sa = g.value(node.inputs[0]).shape, sb = g.value(node.inputs[1]).shape;
      return function([isa, sa, sb](auto inputs, std::byte* o) {
        gemm::float_matmul(isa, as<float>(inputs[0]), sa, as<float>(inputs[1]), sb, as<float>(o));
      });
    }
    default:
      return nullptr;
  }
}

}  // namespace octet::runtime
