// A BatchNormalization reading a Concat along the channels reads the Concat's pieces
// (graph/passes/fuse_concat_affine.h): which Concats go, and that the fused program gives the unfused
// program's bytes on every ISA this CPU runs, on 1 and 3 threads.

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <tbb/task_arena.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "graph/onnx_import.h"
#include "kernels/isa.h"
#include "runtime/program.h"
#include "tests/graph/onnx_builder.h"
#include "tests/graph/pass_test_util.h"
#include "tests/runtime/run_program.h"

namespace octet {
namespace {

using onnx::TensorProto;
using namespace test::onnx_builder;

enum class Variant {
  image,          // fuses: NHWC pieces of 5, 7 and 7 channels (tails of every vector width)
  matrix,         // fuses: [N, C] pieces, the channels the last axis as they are
  concat_output,  // the concatenation is also an output of the model
  read_twice,     // the concatenation is read by a second operator too
  other_axis,     // the Concat joins along the height, not the channels
};

using Built = test::BuiltModel;

// image: x [1, 5, 40, 50] -> Conv 3x3 (5 -> 7, pads 1) = c; Concat(x, c, Relu(c)) along the channels ->
// BatchNormalization -> Relu -> y (2000 rows of 19 channels: several tasks). matrix: x [3, 21];
// Concat(x, Relu(x)) -> BatchNormalization -> Relu -> y.
Built model(Variant variant) {
  std::mt19937 rng(5);
  auto values = [&](int64_t count, float lo, float hi) { return test::uniform_values(rng, count, lo, hi); };
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  const bool matrix = variant == Variant::matrix;
  const std::vector<int64_t> input_shape =
      matrix ? std::vector<int64_t>{3, 21} : std::vector<int64_t>{1, 5, 40, 50};
  add_value(*g.mutable_input(), "x", input_shape);
  add_value(*g.mutable_output(), "y", {});
  std::vector<std::string> pieces;
  int64_t channels = 0;
  if (matrix) {
    add_node(g, "Relu", "relu_x", {"x"}, "rx");
    pieces = {"x", "rx"};
    channels = 42;
  } else {
    add_tensor(g, "w", TensorProto::FLOAT, {7, 5, 3, 3}, float_bytes(values(7 * 5 * 9, -0.5f, 0.5f)));
    add_ints(add_node(g, "Conv", "conv", {"x", "w"}, "c"), "pads", {1, 1, 1, 1});
    add_node(g, "Relu", "relu_c", {"c"}, "rc");
    pieces = {"x", "c", "rc"};
    channels = 19;
  }
  if (variant == Variant::other_axis) {  // x twice along the height: 5 channels
    pieces = {"x", "x"};
    channels = 5;
  }
  add_int(add_node(g, "Concat", "concat", pieces, "j"), "axis", variant == Variant::other_axis ? 2 : 1);

  add_tensor(g, "gamma", TensorProto::FLOAT, {channels}, float_bytes(values(channels, 0.5f, 1.5f)));
  add_tensor(g, "beta", TensorProto::FLOAT, {channels}, float_bytes(values(channels, -0.3f, 0.3f)));
  add_tensor(g, "mean", TensorProto::FLOAT, {channels}, float_bytes(values(channels, -0.3f, 0.3f)));
  add_tensor(g, "var", TensorProto::FLOAT, {channels}, float_bytes(values(channels, 0.5f, 2.0f)));
  add_node(g, "BatchNormalization", "bn", {"j", "gamma", "beta", "mean", "var"}, "n");
  add_node(g, "Relu", "relu", {"n"}, "y");
  if (variant == Variant::concat_output) add_value(*g.mutable_output(), "j", {});
  if (variant == Variant::read_twice) {
    add_node(g, "Sigmoid", "sigmoid", {"j"}, "y2");
    add_value(*g.mutable_output(), "y2", {});
  }
  return Built{test::serialized(m), input_shape};
}

int concats_in(const graph::Graph& g) {
  return test::nodes_of_kind(g, graph::OpKind::concat);
}

void expect_same_bytes(const Built& built) {
  const std::vector<float> input = test::uniform_input(built.input_shape, -2.0f, 2.0f);
  graph::ImportOptions plain;
  plain.fuse_concat_affines = false;
  const auto reference = runtime::compile(built.onnx, plain, RequantMode::fixed_point, Isa::scalar);
  const std::vector<std::vector<std::byte>> want = test::run_program(*reference, input);
  for (const Isa isa : supported_isas()) {
    const auto fused = runtime::compile(built.onnx, graph::ImportOptions{}, RequantMode::fixed_point, isa);
    for (const int threads : {1, 3}) {
      SCOPED_TRACE(std::string(name_of(isa)) + ", " + std::to_string(threads) + " thread(s)");
      tbb::task_arena arena(threads);
      arena.execute([&] { EXPECT_EQ(test::run_program(*fused, input), want); });
    }
  }
}

TEST(FuseConcatAffine, TheBatchNormReadsTheConcatsPiecesWithTheSameBytes) {
  for (const Variant variant : {Variant::image, Variant::matrix}) {
    SCOPED_TRACE(variant == Variant::image ? "image" : "matrix");
    const Built built = model(variant);
    graph::ImportOptions plain;
    plain.fuse_concat_affines = false;
    EXPECT_EQ(concats_in(graph::import_onnx(built.onnx, plain)), 1);
    const graph::Graph fused = graph::import_onnx(built.onnx, graph::ImportOptions{});
    EXPECT_EQ(concats_in(fused), 0);
    for (const graph::Node& n : fused.nodes)
      if (n.kind == graph::OpKind::normalize) {
        EXPECT_EQ(n.onnx_op, "Concat + BatchNormalization");
        EXPECT_EQ(n.inputs.size(), variant == Variant::image ? 3u : 2u);
        // The Relu after it went into the same pass.
        EXPECT_EQ(std::get<graph::NormAttrs>(n.attrs).clamp.lo, 0.0f);
      }
    expect_same_bytes(built);
  }
}

TEST(FuseConcatAffine, OtherConcatsStay) {
  // A concatenation that is also an output, one read by another operator too, and one along another axis
  // than the channels: the Concat stays, and the bytes are the same either way.
  for (const Variant variant : {Variant::concat_output, Variant::read_twice, Variant::other_axis}) {
    SCOPED_TRACE("variant " + std::to_string(static_cast<int>(variant)));
    const Built built = model(variant);
    EXPECT_EQ(concats_in(graph::import_onnx(built.onnx, graph::ImportOptions{})), 1);
    expect_same_bytes(built);
  }
}

}  // namespace
}  // namespace octet
