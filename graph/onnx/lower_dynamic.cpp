// Dynamic quantization, as ONNX Runtime's quantize_dynamic writes it: DynamicQuantizeLinear quantizes a float
// tensor with params taken from its own range at run time, ConvInteger / MatMulInteger multiply the uint8
// result by constant integer weights into int32, and a Cast and a Mul by the two scales bring it back to
// float. octet fixes int8 params at load time, so it runs this in float with the same numbers: the
// quantized values minus their zero point (exact small integers in float32), a float convolution or
// matrix product with the weights minus theirs, and the int32 result as float (exact while |sum| < 2^24;
// ONNX Runtime's own Cast rounds it to float32 there too).

#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

bool Importer::lower_dynamic_quantization(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op == "DynamicQuantizeLinear") {
    Attributes(node).expect_only({});
    const ValueId x = float_input(node, 0);
    // The quantized values and the zero point exist here only as the centered values ConvInteger and
    // MatMulInteger read (lowered below): anything else reading them would get other numbers.
    for (int output : {0, 2}) {
      if (output >= node.output_size() || node.output(output).empty()) continue;
      const std::string& name = node.output(output);
      if (is_graph_output(name))
        throw Error(describe(node) + ": output '" + name + "' as a graph output is not supported");
      for (const onnx::NodeProto* c : consumers(name))
        if (c->op_type() != "ConvInteger" && c->op_type() != "MatMulInteger")
          throw Error(describe(node) + ": output '" + name + "' feeds " + describe(*c) +
                      "; octet runs DynamicQuantizeLinear only into ConvInteger / MatMulInteger");
    }
    auto emit_part = [&](bool scale, const std::string& name) {
      Value out = graph_.value(x);
      out.name = name;
      out.type = ElementType::f32;
      out.quant = {};
      out.constant = nullptr;
      return emit(node.name() + (scale ? "#scale" : ""), op, OpKind::dynamic_quantize, {x},
                  DynamicQuantizeAttrs{scale}, out);
    };
    if (node.output_size() > 0 && !node.output(0).empty()) {
      define_real(node, 0, emit_part(false, node.output(0)));
      dynamic_zero_points_[node.output(0)] = node.output_size() > 2 ? node.output(2) : "";
    }
    if (node.output_size() > 1 && !node.output(1).empty())
      define_real(node, 1, emit_part(true, node.output(1)));
    return true;
  }
  if (op != "ConvInteger" && op != "MatMulInteger") return false;
  // (x, w, x_zero_point, w_zero_point): x from a DynamicQuantizeLinear with its own zero point.
  const auto source = dynamic_zero_points_.find(has_input(node, 0) ? node.input(0) : "");
  if (source == dynamic_zero_points_.end())
    throw Error(
        describe(node) + ": input '" + (has_input(node, 0) ? node.input(0) : "") +
        "' must come from a DynamicQuantizeLinear (octet fixes other integer inputs' params at load)");
  if (!has_input(node, 2) || node.input(2) != source->second)
    throw Error(describe(node) + ": the zero point of input '" + node.input(0) +
                "' must be its DynamicQuantizeLinear's");
  const Symbol& w = symbol(node, 1);
  if (w.kind != Symbol::Kind::constant || w.quant ||
      (w.constant.onnx_type != onnx::TensorProto::INT8 && w.constant.onnx_type != onnx::TensorProto::UINT8))
    throw Error(describe(node) + ": weights must be a constant int8 / uint8 tensor");
  const Shape& ws = w.constant.shape;
  // The weights minus their zero point: one per tensor, per output channel (ConvInteger: axis 0), or per
  // column (MatMulInteger: the last axis).
  std::vector<double> zero_points{0.0};
  if (has_input(node, 3)) {
    const Constant& z = constant_input(node, 3, "weight zero point");
    if (z.onnx_type != w.constant.onnx_type)
      throw Error(describe(node) + ": the weight zero point's type differs from the weights'");
    zero_points = z.values.to_doubles();
  }
  const bool conv = op == "ConvInteger";
  if (ws.size() < 2)
    throw Error(describe(node) + ": weights of shape " + to_string(ws) + " are not supported");
  const int64_t channels = conv ? ws[0] : ws.back();
  if (zero_points.size() != 1 && static_cast<int64_t>(zero_points.size()) != channels)
    throw Error(describe(node) + ": the weight zero point must have 1 or " + std::to_string(channels) +
                " values");
  std::vector<double> weights = w.constant.values.to_doubles();
  if (zero_points.size() > 1) {
    // ConvInteger's weights are [C_out, ...]: channel i / (elements per channel); MatMulInteger's [K, N]:
    // column i % N.
    const size_t per_channel = weights.size() / zero_points.size();
    for (size_t i = 0; i < weights.size(); ++i)
      weights[i] -= zero_points[conv ? i / per_channel : i % zero_points.size()];
  } else {
    for (double& v : weights)
      v -= zero_points[0];
  }
  const ValueId x = float_input(node, 0);
  if (conv) {
    Attributes(node).expect_only({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
    define_real(
        node, 0,
        build_float_conv(node, x, ws, std::move(weights), std::nullopt, FloatClamp{}, false, node.output(0)));
    return true;
  }
  // MatMulInteger: x [..., K] times weights [K, N], as MatMul with constant weights.
  Attributes(node).expect_only({});
  if (ws.size() != 2)
    throw Error(describe(node) + ": weights of shape " + to_string(ws) + " are not supported (2-D only)");
  define_real(node, 0, build_float_matmul_constant(node, x, ws, std::move(weights)));
  return true;
}

}  // namespace octet::graph::onnx_import
