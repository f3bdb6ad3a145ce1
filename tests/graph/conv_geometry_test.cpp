// A convolution's strides, dilations, pads, output padding and output shape are checked at import, by name
// with the node, before any size arithmetic uses them: a zero stride with auto_pad SAME divided by zero
// (found by fuzz_model_load), and values near the int64 range overflowed. Both Conv and ConvTranspose, with
// quantized (QDQ) weights and in float.

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <functional>
#include <string>
#include <vector>

#include "graph/onnx_import.h"
#include "kernels/error.h"
#include "tests/graph/onnx_builder.h"

namespace octet::graph {
namespace {

using onnx::TensorProto;
using namespace test::onnx_builder;

// x [1, 2, 8, 8] -> (QDQ or float) Conv / ConvTranspose "conv" with 3x3 weights [2, 2, 3, 3] -> y, the conv
// node's attributes set by `attributes`.
std::string model(bool transposed, bool quantized, const std::function<void(onnx::NodeProto&)>& attributes) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  add_value(*g.mutable_input(), "x", {1, 2, 8, 8});
  add_value(*g.mutable_output(), "y", {});
  add_tensor(g, "s", TensorProto::FLOAT, {}, float_bytes({0.05f}));
  add_tensor(g, "z", TensorProto::UINT8, {}, std::string(1, '\x80'));
  add_tensor(g, "wz", TensorProto::INT8, {}, std::string(1, '\0'));
  const std::string conv_op = transposed ? "ConvTranspose" : "Conv";
  if (quantized) {
    add_tensor(g, "wq", TensorProto::INT8, {2, 2, 3, 3}, std::string(36, '\x03'));
    add_node(g, "QuantizeLinear", "q_in", {"x", "s", "z"}, "xq");
    add_node(g, "DequantizeLinear", "dq_in", {"xq", "s", "z"}, "xd");
    add_node(g, "DequantizeLinear", "dq_w", {"wq", "s", "wz"}, "w");
    attributes(add_node(g, conv_op, "conv", {"xd", "w"}, "c"));
    add_node(g, "QuantizeLinear", "q_out", {"c", "s", "z"}, "cq");
    add_node(g, "DequantizeLinear", "dq_out", {"cq", "s", "z"}, "y");
  } else {
    add_tensor(g, "w", TensorProto::FLOAT, {2, 2, 3, 3}, float_bytes(std::vector<float>(36, 0.25f)));
    attributes(add_node(g, conv_op, "conv", {"x", "w"}, "y"));
  }
  return m.SerializeAsString();
}

void expect_refused(const std::string& bytes, const std::string& attribute) {
  try {
    (void)import_onnx(std::as_bytes(std::span(bytes)));
    FAIL() << "a model with bad " << attribute << " was imported";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("conv"), std::string::npos) << what;
    EXPECT_NE(what.find(attribute), std::string::npos) << what;
  }
}

TEST(ConvGeometry, EveryFormImportsWithSaneAttributes) {
  for (const bool transposed : {false, true})
    for (const bool quantized : {false, true}) {
      SCOPED_TRACE(std::string(transposed ? "ConvTranspose" : "Conv") + (quantized ? ", QDQ" : ", float"));
      const std::string bytes = model(transposed, quantized, [](auto& n) {
        add_ints(n, "strides", {2, 2});
        add_ints(n, "pads", {1, 1, 1, 1});
      });
      EXPECT_NO_THROW((void)import_onnx(std::as_bytes(std::span(bytes))));
    }
}

TEST(ConvGeometry, OutOfRangeAttributesAreRefusedByName) {
  for (const bool transposed : {false, true})
    for (const bool quantized : {false, true}) {
      SCOPED_TRACE(std::string(transposed ? "ConvTranspose" : "Conv") + (quantized ? ", QDQ" : ", float"));
      // The fuzzer's finding: stride 0 under auto_pad SAME divided by zero before any check.
      for (const int64_t stride : {int64_t{0}, int64_t{-1}, int64_t{1} << 62})
        expect_refused(model(transposed, quantized,
                             [&](auto& n) {
                               add_ints(n, "strides", {1, stride});
                               add_string(n, "auto_pad", "SAME_UPPER");
                             }),
                       "strides");
      for (const int64_t dilation : {int64_t{0}, INT64_MAX})
        expect_refused(model(transposed, quantized,
                             [&](auto& n) {
                               add_ints(n, "dilations", {dilation, 1});
                             }),
                       "dilations");
      for (const int64_t pad : {int64_t{-1}, INT64_MAX / 2})
        expect_refused(model(transposed, quantized,
                             [&](auto& n) {
                               add_ints(n, "pads", {0, pad, 0, 0});
                             }),
                       "pads");
      if (transposed) {
        expect_refused(model(transposed, quantized,
                             [&](auto& n) {
                               add_ints(n, "output_padding", {0, int64_t{1} << 40});
                             }),
                       "output_padding");
        expect_refused(model(transposed, quantized,
                             [&](auto& n) {
                               add_ints(n, "output_shape", {int64_t{1} << 62, 16});
                             }),
                       "output_shape");
      }
    }
}

}  // namespace
}  // namespace octet::graph
