// The weights a float MatMul or Gemm with a constant B takes into its fully connected layer
// (graph/onnx/lower_float_matmul.cpp): B of [K, N] transposed to [N, K] (in blocks of K rows, so K is
// chosen to leave a partial block), B of [N, K] (Gemm transB) as it is, and Gemm's alpha rounded once.

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "graph/ir.h"
#include "graph/onnx_import.h"
#include "onnx_builder.h"
#include "pass_test_util.h"

namespace octet {
namespace {

using namespace test::onnx_builder;

constexpr int64_t kK = 37, kN = 5;  // 37 = two blocks of 16 rows and a partial one

// B's element (i, j) of [K, N]: distinct values, none exactly representable after scaling by 0.3.
float b_value(int64_t i, int64_t j) {
  return 0.1f * static_cast<float>(i * kN + j) - 7.0f;
}

// x [2, K] times a constant B through `op` (MatMul, or Gemm with the attributes given).
onnx::ModelProto product_model(const std::string& op, bool trans_b, float alpha) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  std::vector<float> b;
  std::vector<int64_t> dims = trans_b ? std::vector<int64_t>{kN, kK} : std::vector<int64_t>{kK, kN};
  for (int64_t r = 0; r < dims[0]; ++r)
    for (int64_t c = 0; c < dims[1]; ++c)
      b.push_back(trans_b ? b_value(c, r) : b_value(r, c));
  add_tensor(g, "b", TensorProto::FLOAT, dims, float_bytes(b));
  onnx::NodeProto& node = add_node(g, op, "product", {"x", "b"}, "y");
  if (op == "Gemm") {
    onnx::AttributeProto* a = node.add_attribute();
    a->set_name("alpha");
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(alpha);
    a = node.add_attribute();
    a->set_name("transB");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(trans_b ? 1 : 0);
  }
  add_value(*g.mutable_input(), "x", {2, kK});
  add_value(*g.mutable_output(), "y", {2, kN});
  return m;
}

const TensorF32& fully_connected_weights(const graph::Graph& g) {
  for (const graph::Node& n : g.nodes)
    if (n.kind == graph::OpKind::fully_connected)
      return *std::get<graph::FloatFullyConnectedAttrs>(n.attrs).weights;
  throw std::runtime_error("no fully connected layer");
}

void expect_weights(const onnx::ModelProto& m, float alpha) {
  const graph::Graph g = graph::import_onnx(test::serialized(m));
  const auto& w = fully_connected_weights(g);
  ASSERT_EQ(w.shape, (Shape{kN, kK}));
  for (int64_t j = 0; j < kN; ++j)
    for (int64_t i = 0; i < kK; ++i)
      ASSERT_EQ(w.data[static_cast<size_t>(j * kK + i)],
                static_cast<float>(static_cast<double>(alpha) * static_cast<double>(b_value(i, j))))
          << "row " << j << ", k " << i;
}

TEST(FloatWeights, MatMulTransposesB) {
  expect_weights(product_model("MatMul", false, 1.0f), 1.0f);
}

TEST(FloatWeights, GemmTakesBEitherWayAndItsAlphaRoundedOnce) {
  for (const bool trans_b : {false, true}) {
    SCOPED_TRACE(trans_b ? "transB" : "B");
    expect_weights(product_model("Gemm", trans_b, 1.0f), 1.0f);
    expect_weights(product_model("Gemm", trans_b, 0.3f), 0.3f);
  }
}

}  // namespace
}  // namespace octet
