// The QOperator form: ONNX's QLinearConv / QLinearMatMul and ONNX Runtime's com.microsoft quantized
// operators, whose inputs and outputs are uint8 tensors with their params given as operands.

#include <cmath>

#include "graph/onnx/axes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

namespace {

std::vector<double> bias_in_real_units(const Constant& b, double input_scale, const QuantParams& w) {
  std::vector<double> real(b.values.size());
  for (size_t c = 0; c < real.size(); ++c)
    real[c] = b.values[c] * input_scale *
              w.scale(w.is_per_tensor() ? 0 : static_cast<int64_t>(c % w.scales.size()));
  return real;
}

}  // namespace

ValueId Importer::quantized_operand(const onnx::NodeProto& node, int input, int scale_input,
                                    int zero_point_input) {
  const Symbol& s = symbol(node, input);
  const QuantParams q = activation_params(node, scale_input, zero_point_input);
  if (s.kind == Symbol::Kind::constant && !s.quant &&
      (s.constant.onnx_type == onnx::TensorProto::UINT8 || s.constant.onnx_type == onnx::TensorProto::INT8))
    return quantized_constant_value(node.input(input), s.constant, q, false);  // a constant operand
  if (s.kind != Symbol::Kind::quantized)
    throw Error(describe(node) + ": input '" + node.input(input) + "' must be a quantized (uint8) tensor");
  Value& v = graph_.value(s.value);
  if (v.quant.scales.empty()) {
    v.quant = q;
  } else if (!(v.quant == q)) {
    throw Error(describe(node) + ": states scale " + std::to_string(q.scale()) + " / zero point " +
                std::to_string(q.zero_point()) + " for input '" + node.input(input) + "', but tensor '" +
                v.name + "' is quantized with scale " + std::to_string(v.quant.scale()) + " / zero point " +
                std::to_string(v.quant.zero_point()));
  }
  return s.value;
}

bool Importer::lower_qoperator(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op == "QLinearConv" || op == "QLinearConvTranspose") {
    const ValueId x = quantized_operand(node, 0, 1, 2);
    const Constant& w = constant_input(node, 3, "weights");
    const bool transposed = op == "QLinearConvTranspose";
    const QuantParams wq = constant_params(node, 4, 5, w, transposed ? 1 : 0);
    std::optional<std::vector<double>> bias;
    if (has_input(node, 8)) {
      const Constant& b = constant_input(node, 8, "bias");
      if (b.onnx_type != onnx::TensorProto::INT32) throw Error(describe(node) + ": bias must be int32");
      bias = bias_in_real_units(b, graph_.value(x).quant.scale(), wq);
    }
    const QuantParams out = activation_params(node, 6, 7);
    define_value(node, 0, Symbol::Kind::quantized,
                 build_conv(node, x, w, wq, bias, out, Clamp{}, transposed));
    return true;
  }
  if (op == "QLinearMatMul") {
    const ValueId a = quantized_operand(node, 0, 1, 2);
    const Constant& b = constant_input(node, 3, "B (weights)");
    const QuantParams bq = constant_params(node, 4, 5, b, 1);
    const QuantParams out = activation_params(node, 6, 7);
    define_value(node, 0, Symbol::Kind::quantized,
                 build_fully_connected(node, a, b, bq, false, std::nullopt, out, Clamp{}));
    return true;
  }
  if (op == "QGemm") {
    const Attributes attrs(node);
    attrs.expect_only({"alpha", "transA", "transB"});
    if (attrs.get_int("transA", 0) != 0) throw Error(describe(node) + ": transA is not supported");
    const bool transposed = attrs.get_int("transB", 0) != 0;
    const ValueId a = quantized_operand(node, 0, 1, 2);
    const Constant& b = constant_input(node, 3, "B (weights)");
    QuantParams bq = constant_params(node, 4, 5, b, transposed ? 0 : 1);
    const double alpha = attrs.get_float("alpha", 1.0f);
    if (!(alpha > 0.0)) throw Error(describe(node) + ": alpha must be > 0");
    for (float& s : bq.scales)
      s = static_cast<float>(s * alpha);
    std::optional<std::vector<double>> bias;
    if (has_input(node, 6)) {
      const Constant& c = constant_input(node, 6, "C (bias)");
      if (c.onnx_type != onnx::TensorProto::INT32) throw Error(describe(node) + ": C must be int32");
      bias = bias_in_real_units(c, graph_.value(a).quant.scale(), bq);
    }
    if (!has_input(node, 7))
      throw Error(describe(node) + ": QGemm with a float output (no y_scale) is not supported");
    const QuantParams out = activation_params(node, 7, 8);
    define_value(node, 0, Symbol::Kind::quantized,
                 build_fully_connected(node, a, b, bq, transposed, bias, out, Clamp{}));
    return true;
  }
  if (op == "QLinearAdd" || op == "QLinearMul") {
    const OpKind kind = op == "QLinearAdd" ? OpKind::add : OpKind::mul;
    const QuantParams out = activation_params(node, 6, 7);
    const Symbol& bsym = symbol(node, 3);
    if (bsym.kind == Symbol::Kind::constant) {
      // x (+|*) constant is a single-input function of x: a lookup table (a scalar constant only).
      const ValueId a = quantized_operand(node, 0, 1, 2);
      Symbol c = bsym;
      c.quant = constant_params(node, 4, 5, c.constant, 1);
      const std::vector<double> real = c.real_values();
      if (real.size() != 1) throw Error(describe(node) + ": a constant operand must be a single value");
      const double k = real[0];
      const auto f = kind == OpKind::add ? std::function<double(double)>([k](double x) { return x + k; })
                                         : std::function<double(double)>([k](double x) { return x * k; });
      define_value(node, 0, Symbol::Kind::quantized, build_lut(node, a, f, out, node.output(0)));
      return true;
    }
    const ValueId a = quantized_operand(node, 0, 1, 2);
    const ValueId b = quantized_operand(node, 3, 4, 5);
    define_value(node, 0, Symbol::Kind::quantized,
                 build_binary(node, kind, a, b, out, Clamp{}, node.output(0)));
    return true;
  }
  if (op == "QLinearConcat") {
    const Attributes attrs(node);
    attrs.expect_only({"axis"});
    const QuantParams out = activation_params(node, 0, 1);
    if ((node.input_size() - 2) % 3 != 0 || node.input_size() < 5)
      throw Error(describe(node) +
                  ": expects Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) triples");
    std::vector<ValueId> inputs;
    for (int i = 2; i < node.input_size(); i += 3)
      inputs.push_back(quantized_operand(node, i, i + 1, i + 2));
    define_value(node, 0, Symbol::Kind::quantized, build_concat(node, inputs, attrs.get_int("axis", 0), out));
    return true;
  }
  if (op == "QLinearGlobalAveragePool" || op == "QLinearAveragePool") {
    const Attributes attrs(node);
    if (attrs.get_int("channels_last", 0) != 0)
      throw Error(describe(node) + ": channels_last = 1 is not supported (octet converts layouts itself)");
    const ValueId x = as_nhwc(quantized_operand(node, 0, 1, 2), node);
    const QuantParams out = activation_params(node, 3, 4);
    Value v = graph_.value(x);
    v.name = node.output(0);
    v.quant = out;
    if (op == "QLinearGlobalAveragePool") {
      attrs.expect_only({"channels_last"});
      define_value(node, 0, Symbol::Kind::quantized,
                   emit(node, OpKind::global_average_pool, {x}, PoolAttrs{}, v));
    } else {
      define_value(node, 0, Symbol::Kind::quantized, build_pool(node, OpKind::average_pool, x, out, Clamp{}));
    }
    return true;
  }
  if (op == "QLinearSoftmax") {
    // What ONNX Runtime fuses DequantizeLinear -> Softmax -> QuantizeLinear into, and its quantizer writes
    // in QOperator form. `opset` is the original Softmax's: before 13 it normalizes over the flattened
    // dimensions from `axis` on. The same uint8 softmax as the QDQ form (ref::softmax_u8: in float mode
    // ONNX Runtime's QLinearSoftmax arithmetic step for step).
    const Attributes attrs(node);
    attrs.expect_only({"axis", "opset"});
    if (!attrs.has("opset")) throw Error(describe(node) + ": attribute 'opset' is required");
    const int64_t softmax_opset = attrs.get_int("opset", 13);
    const ValueId x = quantized_operand(node, 0, 1, 2);
    const QuantParams out = activation_params(node, 3, 4);
    const auto rank = static_cast<int64_t>(graph_.value(x).shape.size());
    const int64_t axis = normalize_axis(node, attrs.get_int("axis", -1), rank);
    // The type of X (and Y), which ONNX Runtime's kernel follows, is its zero points' type.
    const auto int8_zero_point = [&](int input) {
      return has_input(node, input) && symbol(node, input).constant.onnx_type == onnx::TensorProto::INT8;
    };
    const bool int8 = int8_zero_point(2) || int8_zero_point(4);
    std::optional<ValueId> result =
        build_u8_softmax(node, x, axis, softmax_opset < 13, out, node.output(0), int8);
    if (!result) {
      // A single axis that is not innermost in memory: in ONNX order it may be.
      const ValueId plain = as_plain(x, node);
      if (axis == rank - 1) result = build_u8_softmax(node, plain, axis, false, out, node.output(0), int8);
    }
    if (!result)
      throw Error(describe(node) + ": softmax over axis " + std::to_string(axis) + " of rank " +
                  std::to_string(rank) + " is not supported (only the last axis)");
    define_value(node, 0, Symbol::Kind::quantized, *result);
    return true;
  }
  if (op == "QLinearLeakyRelu" || op == "QLinearSigmoid") {
    const Attributes attrs(node);
    attrs.expect_only({"alpha"});
    const ValueId x = quantized_operand(node, 0, 1, 2);
    const QuantParams out = activation_params(node, 3, 4);
    const double alpha = attrs.get_float("alpha", 0.01f);
    const auto f = op == "QLinearSigmoid"
                       ? std::function<double(double)>([](double v) { return 1.0 / (1.0 + std::exp(-v)); })
                       : std::function<double(double)>([alpha](double v) { return v >= 0 ? v : alpha * v; });
    define_value(node, 0, Symbol::Kind::quantized, build_lut(node, x, f, out, node.output(0)));
    return true;
  }
  return false;
}

}  // namespace octet::graph::onnx_import
