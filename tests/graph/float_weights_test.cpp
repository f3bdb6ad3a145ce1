// The weights a float MatMul or Gemm with a constant B takes into its fully connected layer
// (graph/onnx/lower_float_matmul.cpp): B of [K, N] transposed to [N, K] (in blocks of K rows, so K is
// chosen to leave a partial block), B of [N, K] (Gemm transB) as it is, and Gemm's alpha rounded once.
// And a float Conv's and ConvTranspose's weights in octet's layout [C_out, KH, KW, C_in / groups], read
// from the model file's bytes in place wherever they lie (any alignment), into storage of the graph's own.

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "graph/ir.h"
#include "graph/onnx/initializer_data.h"
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

// A float Conv (or grouped ConvTranspose) whose weights are w_value of their flat ONNX index, with a node
// name of `name_length` characters, which moves the weights' bytes in the file (the node comes first).
constexpr int64_t kCout = 6, kCin = 4, kKh = 3, kKw = 2, kGroups = 2;
float w_value(int64_t i) {
  return 0.37f * static_cast<float>(i) - 11.0f;
}
onnx::ModelProto conv_model(bool transposed, size_t name_length) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  // Conv: [C_out, C_in / groups, KH, KW]; ConvTranspose: [C_in, C_out / groups, KH, KW].
  const std::vector<int64_t> dims = transposed ? std::vector<int64_t>{kCin, kCout / kGroups, kKh, kKw}
                                               : std::vector<int64_t>{kCout, kCin / kGroups, kKh, kKw};
  std::vector<float> w;
  for (int64_t i = 0; i < dims[0] * dims[1] * kKh * kKw; ++i)
    w.push_back(w_value(i));
  add_tensor(g, "w", TensorProto::FLOAT, dims, float_bytes(w));
  onnx::NodeProto& node =
      add_node(g, transposed ? "ConvTranspose" : "Conv", std::string(name_length, 'c'), {"x", "w"}, "y");
  add_int(node, "group", kGroups);
  add_value(*g.mutable_input(), "x", {1, kCin, 5, 5});
  add_value(*g.mutable_output(), "y",
            transposed ? std::vector<int64_t>{1, kCout, 7, 6} : std::vector<int64_t>{1, kCout, 3, 4});
  return m;
}

// Where weight (co, ky, kx, ci) of octet's layout sits in the ONNX tensor.
int64_t onnx_index(bool transposed, int64_t co, int64_t ky, int64_t kx, int64_t ci) {
  const int64_t cin_g = kCin / kGroups, cout_g = kCout / kGroups;
  if (!transposed) return ((co * cin_g + ci) * kKh + ky) * kKw + kx;
  const int64_t group = co / cout_g, j = co % cout_g;
  return (((group * cin_g + ci) * cout_g + j) * kKh + ky) * kKw + kx;
}

TEST(FloatWeights, ConvWeightsAreRelaidFromTheFileWhereverTheyLie) {
  for (const bool transposed : {false, true}) {
    // Node names of 1 to 4 characters put the weights' raw data at each of the four alignments in the
    // file; the file itself also starts at each offset of a buffer.
    std::set<size_t> alignments;
    for (size_t name_length = 1; name_length <= 4; ++name_length) {
      const std::vector<std::byte> file = test::serialized(conv_model(transposed, name_length));
      const auto split = graph::onnx_import::split_initializer_data(file);
      ASSERT_TRUE(split && split->raw_data.size() == 1 && split->raw_data[0]);
      alignments.insert(static_cast<size_t>(split->raw_data[0]->data() - file.data()) % 4);
    }
    ASSERT_EQ(alignments.size(), 4u) << "the names should move the weights to every alignment";
    for (size_t name_length = 1; name_length <= 4; ++name_length) {
      for (size_t offset = 0; offset < 4; ++offset) {
        SCOPED_TRACE((transposed ? "ConvTranspose" : "Conv") + std::string(", name length ") +
                     std::to_string(name_length) + ", offset " + std::to_string(offset));
        const std::vector<std::byte> file = test::serialized(conv_model(transposed, name_length));
        std::vector<std::byte> buffer(offset + file.size());
        std::memcpy(buffer.data() + offset, file.data(), file.size());
        const graph::Graph g = graph::import_onnx(std::span(buffer).subspan(offset));
        // The graph keeps no view of the file.
        std::fill(buffer.begin(), buffer.end(), std::byte{0xff});
        const graph::Node* conv = nullptr;
        for (const graph::Node& n : g.nodes)
          if (n.kind == graph::OpKind::conv) conv = &n;
        ASSERT_NE(conv, nullptr);
        const TensorF32& w = *std::get<graph::FloatConvAttrs>(conv->attrs).weights;
        ASSERT_EQ(w.shape, (Shape{kCout, kKh, kKw, kCin / kGroups}));
        size_t o = 0;
        for (int64_t co = 0; co < kCout; ++co)
          for (int64_t ky = 0; ky < kKh; ++ky)
            for (int64_t kx = 0; kx < kKw; ++kx)
              for (int64_t ci = 0; ci < kCin / kGroups; ++ci, ++o)
                ASSERT_EQ(w.data[o], w_value(onnx_index(transposed, co, ky, kx, ci)))
                    << "weight (" << co << ", " << ky << ", " << kx << ", " << ci << ")";
      }
    }
  }
}

TEST(FloatWeights, MatMulWeightsAreReadFromTheFileWhereverTheyLie) {
  for (size_t offset = 0; offset < 4; ++offset) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    const std::vector<std::byte> file = test::serialized(product_model("MatMul", false, 1.0f));
    std::vector<std::byte> buffer(offset + file.size());
    std::memcpy(buffer.data() + offset, file.data(), file.size());
    const graph::Graph g = graph::import_onnx(std::span(buffer).subspan(offset));
    std::fill(buffer.begin(), buffer.end(), std::byte{0xff});
    const auto& w = fully_connected_weights(g);
    for (int64_t j = 0; j < kN; ++j)
      for (int64_t i = 0; i < kK; ++i)
        ASSERT_EQ(w.data[static_cast<size_t>(j * kK + i)], b_value(i, j)) << "row " << j << ", k " << i;
  }
}

}  // namespace
}  // namespace octet
