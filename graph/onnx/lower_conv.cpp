// Builders for the convolution family, shared by the QDQ form (Conv / ConvTranspose / Gemm / MatMul between
// DequantizeLinear and QuantizeLinear) and the QOperator form (QLinearConv, QLinearMatMul, QGemm, ...):
// ONNX attributes to octet params, weights to octet's layout, float bias to int32.

#include <cmath>
#include <limits>

#include "graph/onnx/importer.h"
#include "graph/onnx/window.h"
#include "kernels/error.h"
#include "kernels/quantization/constant_channels.h"

namespace octet::graph::onnx_import {

namespace {

std::vector<int64_t> pair_attr(const onnx::NodeProto& node, const Attributes& a, const char* name,
                               int64_t fallback) {
  std::vector<int64_t> v = a.get_ints(name, {fallback, fallback});
  if (v.size() != 2)
    throw Error(describe(node) + ": attribute '" + name +
                "' must have 2 values (only 2-D convolution is supported)");
  return v;
}

// Bias in real units -> int32 in units of s_in * s_w[c]. Exact (up to float rounding) when the model's bias
// already has that scale, which is the norm; a bias quantized with another scale is re-expressed.
std::shared_ptr<TensorS32> quantize_bias(const onnx::NodeProto& node, const std::vector<double>& real,
                                         int64_t channels, double input_scale, const QuantParams& weights) {
  std::vector<double> values = real;
  if (values.size() == 1 && channels > 1) values.assign(static_cast<size_t>(channels), real[0]);
  if (static_cast<int64_t>(values.size()) != channels)
    throw Error(describe(node) + ": bias has " + std::to_string(real.size()) + " values for " +
                std::to_string(channels) + " output channels");
  auto bias = std::make_shared<TensorS32>(Shape{channels});
  for (int64_t c = 0; c < channels; ++c) {
    const double q = std::nearbyint(values[static_cast<size_t>(c)] / (input_scale * weights.scale(c)));
    if (!std::isfinite(q) || std::abs(q) > std::numeric_limits<int32_t>::max())
      throw Error(describe(node) + ": bias of output channel " + std::to_string(c) +
                  " does not fit int32 in units of "
                  "input scale x weight scale");
    bias->data[static_cast<size_t>(c)] = static_cast<int32_t>(q);
  }
  return bias;
}

// Weights in octet's layout `shape` [C_out, KH, KW, C_in / groups]: a tensor whose element o, in order, is
// read(i) for its flat ONNX index i = `index(co, ky, kx, ci)`. `index` is affine in ci (a fixed step
// between input channels, in both ConvGeometry forms), so it is called twice per kernel position instead
// of once per weight (a std::function call per weight was a tenth of ResNet-50's float load).
template <class T, class Index, class Read>
Tensor<T> relaid(Shape shape, const Index& index, Read read) {
  Tensor<T> out(std::move(shape));
  const Shape& s = out.shape;
  size_t o = 0;
  for (int64_t co = 0; co < s[0]; ++co)
    for (int64_t ky = 0; ky < s[1]; ++ky)
      for (int64_t kx = 0; kx < s[2]; ++kx) {
        const int64_t first = index(co, ky, kx, 0);
        const int64_t step = s[3] > 1 ? index(co, ky, kx, 1) - first : 0;
        for (int64_t ci = 0; ci < s[3]; ++ci)
          out.data[o++] = static_cast<T>(read(static_cast<size_t>(first + ci * step)));
      }
  return out;
}

// Copies integer weights into octet's layout (relaid).
template <class T, class Index>
Tensor<T> relayout(const Constant& w, Shape shape, Index index) {
  // Weights stored in their own type (the norm) are copied without a detour through double.
  if (const T* same = w.values.template stored_as<T>())
    return relaid<T>(std::move(shape), index, [same](size_t i) { return same[i]; });
  return relaid<T>(std::move(shape), index, [&w](size_t i) { return w.values[i]; });
}

template <class Index>
std::shared_ptr<Weights> make_weights(const Constant& w, Shape shape, QuantParams q, Index index) {
  if (w.onnx_type == onnx::TensorProto::INT8) {
    TensorS8 t = relayout<int8_t>(w, shape, index);
    t.quant = std::move(q);
    return std::make_shared<Weights>(std::move(t));
  }
  TensorU8 t = relayout<uint8_t>(w, shape, index);
  t.quant = std::move(q);
  return std::make_shared<Weights>(std::move(t));
}

// Per-output-channel params in octet's layout (axis 0) from ONNX params along `onnx_axis`, repeating them
// `repeat` times (grouped transposed convolutions quantize the Co/groups axis).
QuantParams output_channel_params(const onnx::NodeProto& node, const QuantParams& q, int expected_axis,
                                  int64_t channels) {
  if (q.is_per_tensor()) return q;
  if (q.axis != expected_axis)
    throw Error(describe(node) + ": weights are quantized along axis " + std::to_string(q.axis) +
                "; per-channel weights must be quantized along the output-channel axis " +
                std::to_string(expected_axis));
  QuantParams out;
  out.axis = 0;
  for (int64_t c = 0; c < channels; ++c) {
    const size_t i = static_cast<size_t>(c) % q.scales.size();
    out.scales.push_back(q.scales[i]);
    out.zero_points.push_back(q.zero_points[i]);
  }
  return out;
}

// Channels whose output no accumulator can change, rewritten to compute it exactly without an int32
// overflow risk (kernels/quantization/constant_channels.h), in place.
void settle_constant_channels_of(const QuantParams& input, const QuantParams& output, Clamp clamp,
                                 int64_t channels, int64_t reduction, Weights& weights,
                                 std::shared_ptr<TensorS32>& bias) {
  TensorS32 created;
  bool has_bias = bias != nullptr;
  TensorS32& b = bias ? *bias : created;
  const std::vector<int64_t> settled = std::visit(
      [&](auto& t) {
        return settle_constant_channels(input, t, b, has_bias, output, clamp, channels, reduction);
      },
      weights);
  if (!settled.empty() && !bias) bias = std::make_shared<TensorS32>(std::move(created));
}

}  // namespace

ConvGeometry Importer::conv_geometry(const onnx::NodeProto& node, const Value& in, const Shape& w,
                                     bool transposed) const {
  const Attributes a(node);
  if (transposed)
    a.expect_only({"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads",
                   "strides"});
  else
    a.expect_only({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  if (w.size() != 4)
    throw Error(describe(node) + ": weights must be rank 4 (2-D convolution), got " + to_string(w));
  const int64_t groups = a.get_int("group", 1);
  if (groups < 1) throw Error(describe(node) + ": group must be >= 1");
  const int64_t kh = w[2], kw = w[3];
  const auto kernel = a.get_ints("kernel_shape", {kh, kw});
  if (kernel != std::vector<int64_t>{kh, kw})
    throw Error(describe(node) + ": kernel_shape does not match the weights " + to_string(w));
  const auto strides = pair_attr(node, a, "strides", 1), dilations = pair_attr(node, a, "dilations", 1);
  std::vector<int64_t> pads = a.get_ints("pads", {0, 0, 0, 0});
  if (pads.size() != 4) throw Error(describe(node) + ": pads must have 4 values");
  check_range(node, "strides", strides, 1, kMaxStep);
  check_range(node, "dilations", dilations, 1, kMaxStep);
  check_range(node, "pads", pads, 0, kMaxStep);
  check_range(node, "the input's height and width", {in.shape[1], in.shape[2]}, 0, kMaxSpatialSize);
  const std::string auto_pad = a.get_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID")
    throw Error(describe(node) + ": unknown auto_pad '" + auto_pad + "'");

  const int64_t cin = in.shape[3];
  ConvGeometry g;
  g.transposed = transposed;
  g.kh = kh, g.kw = kw;
  if (!transposed) {
    g.cout = w[0];
    g.cin_g = w[1];
    if (g.cin_g * groups != cin)
      throw Error(describe(node) + ": weights expect " + std::to_string(g.cin_g * groups) +
                  " input channels (" + std::to_string(g.cin_g) + " x group " + std::to_string(groups) +
                  "), input '" + in.name + "' has " + std::to_string(cin));
    if (g.cout % groups != 0)
      throw Error(describe(node) + ": group " + std::to_string(groups) + " does not divide " +
                  std::to_string(g.cout) + " output channels");
    if (auto_pad != "NOTSET") {
      const auto h = auto_pads(auto_pad, in.shape[1], kh, strides[0], dilations[0]);
      const auto wd = auto_pads(auto_pad, in.shape[2], kw, strides[1], dilations[1]);
      pads = {h.begin, wd.begin, h.end, wd.end};
    }
    auto& p = g.conv;
    p.stride_h = strides[0], p.stride_w = strides[1], p.dilation_h = dilations[0],
    p.dilation_w = dilations[1];
    p.pad = {pads[0], pads[1], pads[2], pads[3]};
    p.groups = groups;
    const int64_t cin_g = g.cin_g;
    g.index = [=](int64_t co, int64_t ky, int64_t kx, int64_t ci) {
      return ((co * cin_g + ci) * kh + ky) * kw + kx;
    };
    return g;
  }
  // ONNX ConvTranspose weights: [C_in, C_out / groups, KH, KW].
  if (w[0] != cin)
    throw Error(describe(node) + ": weights expect " + std::to_string(w[0]) + " input channels, input '" +
                in.name + "' has " + std::to_string(cin));
  if (cin % groups != 0)
    throw Error(describe(node) + ": group " + std::to_string(groups) + " does not divide " +
                std::to_string(cin) + " input channels");
  const int64_t cout_g = w[1];
  g.cout = cout_g * groups;
  g.cin_g = cin / groups;
  auto& p = g.transpose;
  p.stride_h = strides[0], p.stride_w = strides[1], p.dilation_h = dilations[0], p.dilation_w = dilations[1];
  const auto out_pad = a.get_ints("output_padding", {0, 0});
  if (out_pad.size() != 2) throw Error(describe(node) + ": output_padding must have 2 values");
  check_range(node, "output_padding", out_pad, 0, kMaxStep);
  p.output_padding_h = out_pad[0], p.output_padding_w = out_pad[1];
  p.groups = groups;
  const auto output_shape = a.get_ints("output_shape", {});
  if (!output_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // ONNX: total padding = stride * (in - 1) + output_padding + ((k - 1) * dilation + 1) - out.
    std::vector<int64_t> target = output_shape;
    if (target.size() == 4) target = {target[2], target[3]};
    if (target.empty()) target = {in.shape[1] * strides[0], in.shape[2] * strides[1]};
    if (target.size() != 2) throw Error(describe(node) + ": output_shape must have 2 spatial values");
    check_range(node, "output_shape", target, 0, kMaxSpatialSize);
    const int64_t in_hw[2] = {in.shape[1], in.shape[2]}, k[2] = {kh, kw};
    int64_t begin[2], end[2];
    for (int i = 0; i < 2; ++i) {
      const int64_t total =
          strides[i] * (in_hw[i] - 1) + out_pad[i] + (k[i] - 1) * dilations[i] + 1 - target[i];
      if (total < 0)
        throw Error(describe(node) + ": output_shape is larger than the transposed convolution produces");
      begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end[i] = total - begin[i];
    }
    pads = {begin[0], begin[1], end[0], end[1]};
  } else if (auto_pad == "VALID") {
    pads = {0, 0, 0, 0};
  }
  p.pad = {pads[0], pads[1], pads[2], pads[3]};
  const int64_t cin_g = g.cin_g;
  g.index = [=](int64_t co, int64_t ky, int64_t kx, int64_t ci) {
    const int64_t group = co / cout_g, j = co % cout_g;
    return (((group * cin_g + ci) * cout_g + j) * kh + ky) * kw + kx;
  };
  return g;
}

ValueId Importer::build_conv(const onnx::NodeProto& node, ValueId input, const Constant& w,
                             const QuantParams& weight_params,
                             const std::optional<std::vector<double>>& bias_real, const QuantParams& output,
                             Clamp clamp, bool transposed) {
  input = as_nhwc(input, node);
  const Value in = graph_.value(input);
  const ConvGeometry geometry = conv_geometry(node, in, w.shape, transposed);
  ConvAttrs attrs;
  attrs.transposed = transposed;
  attrs.conv = geometry.conv;
  attrs.transpose = geometry.transpose;
  attrs.clamp = clamp;
  // Per-channel params run along ONNX's output-channel axis: 0 for Conv, 1 (C_out / groups) for
  // ConvTranspose.
  const QuantParams q = output_channel_params(node, weight_params, transposed ? 1 : 0, geometry.cout);
  const std::shared_ptr<Weights> weights =
      make_weights(w, {geometry.cout, geometry.kh, geometry.kw, geometry.cin_g}, q, geometry.index);
  std::shared_ptr<TensorS32> bias;
  if (bias_real) bias = quantize_bias(node, *bias_real, geometry.cout, in.quant.scale(), q);
  settle_constant_channels_of(in.quant, output, clamp, geometry.cout,
                              geometry.kh * geometry.kw * geometry.cin_g, *weights, bias);
  attrs.weights = weights;
  attrs.bias = bias;
  Value out;
  out.name = node.output(0);
  out.type = ElementType::u8;
  out.layout = Layout::nhwc;
  out.quant = output;
  return emit(node, OpKind::conv, {input}, std::move(attrs), out);
}

ValueId Importer::build_float_conv(const onnx::NodeProto& node, ValueId input, const Shape& weight_shape,
                                   const RealValues& weights, const std::optional<std::vector<double>>& bias,
                                   FloatClamp clamp, bool transposed, const std::string& output_name,
                                   const UnaryParams& activation) {
  input = as_nhwc(input, node);
  const Value in = graph_.value(input);
  const ConvGeometry geometry = conv_geometry(node, in, weight_shape, transposed);
  FloatConvAttrs attrs;
  attrs.transposed = transposed;
  attrs.conv = geometry.conv;
  attrs.transpose = geometry.transpose;
  attrs.clamp = clamp;
  attrs.activation = activation;
  attrs.weights = std::make_shared<TensorF32>(weights.with_reader([&](auto read) {
    return relaid<float>({geometry.cout, geometry.kh, geometry.kw, geometry.cin_g}, geometry.index, read);
  }));
  if (bias) {
    if (bias->size() != static_cast<size_t>(geometry.cout) && bias->size() != 1)
      throw Error(describe(node) + ": bias has " + std::to_string(bias->size()) + " values for " +
                  std::to_string(geometry.cout) + " output channels");
    auto b = std::make_shared<TensorF32>(Shape{geometry.cout});
    for (int64_t c = 0; c < geometry.cout; ++c)
      b->data[static_cast<size_t>(c)] =
          static_cast<float>((*bias)[bias->size() == 1 ? 0 : static_cast<size_t>(c)]);
    attrs.bias = std::move(b);
  }
  Value out = in;
  out.name = output_name;
  out.type = ElementType::f32;
  out.quant = {};
  return emit(node, OpKind::conv, {input}, std::move(attrs), out);
}

ValueId Importer::build_fully_connected(const onnx::NodeProto& node, ValueId input, const Constant& w,
                                        const QuantParams& weight_params, bool weights_transposed,
                                        const std::optional<std::vector<double>>& bias_real,
                                        const QuantParams& output, Clamp clamp) {
  if (w.shape.size() != 2)
    throw Error(describe(node) + ": weights must be a matrix, got " + to_string(w.shape));
  input = as_plain(input, node);
  const Value in = graph_.value(input);
  // ONNX B is [K, N]; transposed (Gemm transB = 1) it is [N, K]. octet wants [N, K], quantized along N.
  const int64_t k = weights_transposed ? w.shape[1] : w.shape[0];
  const int64_t n = weights_transposed ? w.shape[0] : w.shape[1];
  if (in.shape.empty() || in.shape.back() != k)
    throw Error(describe(node) + ": input '" + in.name + "' of shape " + to_string(in.shape) +
                " does not end in the weights' K = " + std::to_string(k));
  const QuantParams q = output_channel_params(node, weight_params, weights_transposed ? 0 : 1, n);
  const Shape shape4{n, 1, 1, k};
  auto weights = make_weights(w, shape4, q, [&](int64_t co, int64_t, int64_t, int64_t ci) {
    return weights_transposed ? co * k + ci : ci * n + co;
  });
  // Fully connected weights are [N, K]: drop the two unit dimensions used for the shared relayout.
  std::visit([&](auto& t) { t.shape = {n, k}; }, *weights);
  FullyConnectedAttrs attrs;
  attrs.clamp = clamp;
  std::shared_ptr<TensorS32> bias;
  if (bias_real) bias = quantize_bias(node, *bias_real, n, in.quant.scale(), q);
  settle_constant_channels_of(in.quant, output, clamp, n, k, *weights, bias);
  attrs.weights = weights;
  attrs.bias = bias;
  Value out;
  out.name = node.output(0);
  out.type = ElementType::u8;
  out.quant = output;
  return emit(node, OpKind::fully_connected, {input}, std::move(attrs), out);
}

}  // namespace octet::graph::onnx_import
