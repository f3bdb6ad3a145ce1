// A BatchNormalization between a DequantizeLinear and a QuantizeLinear runs on uint8 in one pass
// (graph/passes/fold_affine_quantization.h): which chains fold, and that the folded program gives the
// unfolded program's bytes on every ISA this CPU runs, on 1 and 3 threads, in both requantization modes.

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
  image,          // folds: NHWC, 70 channels (a block of 64 and a tail of 6), 2000 pixels (several tasks)
  image_relu,     // folds: 19 channels, the Relu after the BatchNormalization fused into its clamp
  saturating,     // folds: 5 channels, gamma up to 40: most outputs at 0 or 255
  matrix,         // folds: [N, C]
  float_output,   // the normalized floats are also a graph output: nothing folds
  sequence,       // [N, C, L]: the normalization's axis is not the innermost one: nothing folds
  relu_table,     // folds, with the Relu after it (QuantizeLinear, DequantizeLinear, Relu, QuantizeLinear to
                  // other params: a byte table) folded in as well: 24 channels
  concat,         // folds, and reads the uint8 Concat before it in pieces: 3 pieces of 12 channels, two with
                  // params of their own (requantized to the Concat's), one with the Concat's
  concat_output,  // as concat, but the Concat's bytes are also read by another operator: the Concat stays
  concat_single,  // folds, and reads a Concat of one piece whose params are not the Concat's
};

using Built = test::BuiltModel;

// x -> QuantizeLinear -> DequantizeLinear -> BatchNormalization [-> Relu] -> QuantizeLinear ->
// DequantizeLinear -> y: the form quantizers leave a normalization in when no convolution absorbs it.
Built model(Variant variant) {
  std::mt19937 rng(7);
  auto values = [&](int64_t count, float lo, float hi) { return test::uniform_values(rng, count, lo, hi); };
  const bool joins =
      variant == Variant::concat || variant == Variant::concat_output || variant == Variant::concat_single;
  const int64_t channels = variant == Variant::image           ? 70
                           : variant == Variant::image_relu    ? 19
                           : variant == Variant::relu_table    ? 24
                           : variant == Variant::saturating    ? 5
                           : variant == Variant::concat_single ? 12
                           : joins                             ? 36
                                                               : 6;
  const std::vector<int64_t> input_shape =
      variant == Variant::matrix     ? std::vector<int64_t>{300, channels}
      : variant == Variant::sequence ? std::vector<int64_t>{2, channels, 30}
      : joins ? std::vector<int64_t>{1, variant == Variant::concat_single ? channels : channels / 3, 30, 40}
              : std::vector<int64_t>{1, channels, 40, 50};
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  add_value(*g.mutable_input(), "x", input_shape);
  add_value(*g.mutable_output(), "y", {});
  add_tensor(g, "s_in", TensorProto::FLOAT, {}, float_bytes({0.02f}));
  add_tensor(g, "z_in", TensorProto::UINT8, {}, std::string(1, '\x7b'));
  add_tensor(g, "s_out", TensorProto::FLOAT, {}, float_bytes({0.03f}));
  add_tensor(g, "z_out", TensorProto::UINT8, {}, std::string(1, '\x40'));
  if (joins) {
    // Three quantizations of x, Concat, and the Concat quantized with the params s_in, z_in that the third
    // piece has too.
    add_tensor(g, "s_a", TensorProto::FLOAT, {}, float_bytes({0.013f}));
    add_tensor(g, "z_a", TensorProto::UINT8, {}, std::string(1, '\x90'));
    add_tensor(g, "s_b", TensorProto::FLOAT, {}, float_bytes({0.05f}));
    add_tensor(g, "z_b", TensorProto::UINT8, {}, std::string(1, '\x0a'));
    std::vector<std::string> pieces;
    const std::vector<const char*> names = variant == Variant::concat_single
                                               ? std::vector<const char*>{"a"}
                                               : std::vector<const char*>{"a", "b", "in"};
    for (const char* piece : names) {
      const std::string name(piece), scale = "s_" + name, zero = "z_" + name;
      add_node(g, "QuantizeLinear", "q_" + name, {"x", scale, zero}, "xq_" + name);
      add_node(g, "DequantizeLinear", "dq_" + name, {"xq_" + name, scale, zero}, "xd_" + name);
      pieces.push_back("xd_" + name);
    }
    add_int(add_node(g, "Concat", "concat", pieces, "joined"), "axis", 1);
    add_node(g, "QuantizeLinear", "q_in", {"joined", "s_in", "z_in"}, "xq");
    if (variant == Variant::concat_output) {
      // A second reader of the Concat's bytes: their dequantized values, a second output.
      add_node(g, "DequantizeLinear", "dq_joined", {"xq", "s_in", "z_in"}, "joined_out");
      add_value(*g.mutable_output(), "joined_out", {});
    }
  } else {
    add_node(g, "QuantizeLinear", "q_in", {"x", "s_in", "z_in"}, "xq");
  }
  add_node(g, "DequantizeLinear", "dq_in", {"xq", "s_in", "z_in"}, "xd");
  const float gamma = variant == Variant::saturating ? 40.0f : 1.5f;
  add_tensor(g, "gamma", TensorProto::FLOAT, {channels}, float_bytes(values(channels, -gamma, gamma)));
  add_tensor(g, "beta", TensorProto::FLOAT, {channels}, float_bytes(values(channels, -0.5f, 0.5f)));
  add_tensor(g, "mean", TensorProto::FLOAT, {channels}, float_bytes(values(channels, -0.3f, 0.3f)));
  add_tensor(g, "var", TensorProto::FLOAT, {channels}, float_bytes(values(channels, 0.5f, 2.0f)));
  add_node(g, "BatchNormalization", "bn", {"xd", "gamma", "beta", "mean", "var"}, "n");
  std::string normalized = "n";
  if (variant == Variant::image_relu) {
    add_node(g, "Relu", "relu", {"n"}, "r");
    normalized = "r";
  }
  if (variant == Variant::float_output) add_value(*g.mutable_output(), normalized, {});
  if (variant == Variant::relu_table) {
    // DenseNet's form: the Relu after the normalization in its own QDQ pair, with params of its own.
    add_node(g, "QuantizeLinear", "q_out", {normalized, "s_out", "z_out"}, "nq");
    add_node(g, "DequantizeLinear", "dq_n", {"nq", "s_out", "z_out"}, "nd");
    add_node(g, "Relu", "relu", {"nd"}, "r");
    add_tensor(g, "s_r", TensorProto::FLOAT, {}, float_bytes({0.017f}));
    add_tensor(g, "z_r", TensorProto::UINT8, {}, std::string(1, '\0'));
    add_node(g, "QuantizeLinear", "q_r", {"r", "s_r", "z_r"}, "yq");
    add_node(g, "DequantizeLinear", "dq_out", {"yq", "s_r", "z_r"}, "y");
    return Built{test::serialized(m), input_shape};
  }
  add_node(g, "QuantizeLinear", "q_out", {normalized, "s_out", "z_out"}, "yq");
  add_node(g, "DequantizeLinear", "dq_out", {"yq", "s_out", "z_out"}, "y");
  return Built{test::serialized(m), input_shape};
}

graph::ImportOptions unfolded() {
  graph::ImportOptions options;
  options.fold_affine_quantization = false;
  return options;
}

void expect_same_bytes(const Built& built, RequantMode mode) {
  const std::vector<float> input = test::uniform_input(built.input_shape, -3.0f, 3.0f);
  const auto reference = runtime::compile(built.onnx, unfolded(), mode, Isa::scalar);
  const std::vector<std::vector<std::byte>> want = test::run_program(*reference, input);
  for (const Isa isa : supported_isas()) {
    const auto folded = runtime::compile(built.onnx, graph::ImportOptions{}, mode, isa);
    for (const int threads : {1, 3}) {
      SCOPED_TRACE(std::string(name_of(isa)) + ", " + std::to_string(threads) + " thread(s)");
      tbb::task_arena arena(threads);
      arena.execute([&] { EXPECT_EQ(test::run_program(*folded, input), want); });
    }
  }
}

TEST(FoldAffineQuantization, TheNormalizationRunsOnUint8WithTheSameBytes) {
  for (const Variant variant :
       {Variant::image, Variant::image_relu, Variant::saturating, Variant::matrix, Variant::relu_table}) {
    SCOPED_TRACE("variant " + std::to_string(static_cast<int>(variant)));
    const Built built = model(variant);
    const graph::Graph plain = graph::import_onnx(built.onnx, unfolded());
    EXPECT_EQ(test::nodes_of_kind(plain, graph::OpKind::dequantize), 2);
    const graph::Graph folded = graph::import_onnx(built.onnx, graph::ImportOptions{});
    // The input's QuantizeLinear and the output's DequantizeLinear stay; the pair around the normalization
    // went into it.
    EXPECT_EQ(test::nodes_of_kind(folded, graph::OpKind::dequantize), 1);
    EXPECT_EQ(test::nodes_of_kind(folded, graph::OpKind::quantize), 1);
    int normalizations = 0;
    for (const graph::Node& n : folded.nodes)
      if (n.kind == graph::OpKind::normalize) {
        ++normalizations;
        EXPECT_EQ(folded.value(n.inputs[0]).type, ElementType::u8);
        EXPECT_EQ(folded.value(n.output).type, ElementType::u8);
        EXPECT_NE(n.onnx_op.find("DequantizeLinear"), std::string::npos) << n.onnx_op;
        if (variant == Variant::image_relu) {
          EXPECT_EQ(std::get<graph::NormAttrs>(n.attrs).clamp.lo, 0.0f);
        }
        // The Relu's byte table went into the normalization, which quantizes to the BN's own params.
        const auto& attrs = std::get<graph::NormAttrs>(n.attrs);
        EXPECT_EQ(attrs.output_table.has_value(), variant == Variant::relu_table);
        if (variant == Variant::relu_table) {
          EXPECT_FLOAT_EQ(attrs.table_input_quant.scale(), 0.03f);
          EXPECT_FLOAT_EQ(folded.value(n.output).quant.scale(), 0.017f);
        }
      }
    EXPECT_EQ(normalizations, 1);
    EXPECT_EQ(test::nodes_of_kind(folded, graph::OpKind::lut), 0);
    for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale})
      expect_same_bytes(built, mode);
  }
}

// The folded normalization reads the Concat's `pieces` in place of the Concat, with the same bytes.
void expect_pieces(const Built& built, size_t pieces) {
  const graph::Graph folded = graph::import_onnx(built.onnx, graph::ImportOptions{});
  EXPECT_EQ(test::nodes_of_kind(folded, graph::OpKind::concat), 0);
  int normalizations = 0;
  for (const graph::Node& n : folded.nodes)
    if (n.kind == graph::OpKind::normalize) {
      ++normalizations;
      ASSERT_EQ(n.inputs.size(), pieces);
      for (const graph::ValueId piece : n.inputs)
        EXPECT_EQ(folded.value(piece).type, ElementType::u8);
      EXPECT_FLOAT_EQ(std::get<graph::NormAttrs>(n.attrs).joined_quant.scale(), 0.02f);
      EXPECT_NE(n.onnx_op.find("Concat"), std::string::npos) << n.onnx_op;
    }
  EXPECT_EQ(normalizations, 1);
  for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale})
    expect_same_bytes(built, mode);
}

TEST(FoldAffineQuantization, AUint8ConcatBeforeItIsReadInPieces) {
  for (const Variant variant : {Variant::concat, Variant::concat_single}) {
    SCOPED_TRACE("variant " + std::to_string(static_cast<int>(variant)));
    expect_pieces(model(variant), variant == Variant::concat ? 3 : 1);
  }
}

TEST(FoldAffineQuantization, OtherChainsStay) {
  // Floats that are also a graph output, and a normalization along an axis other than the innermost: the
  // Dequantize stays, and the bytes are the same either way.
  for (const Variant variant : {Variant::float_output, Variant::sequence}) {
    SCOPED_TRACE("variant " + std::to_string(static_cast<int>(variant)));
    const Built built = model(variant);
    EXPECT_EQ(test::nodes_of_kind(graph::import_onnx(built.onnx, graph::ImportOptions{}),
                                  graph::OpKind::dequantize),
              2);
    expect_same_bytes(built, RequantMode::fixed_point);
  }
  // A Concat whose bytes something else reads too (a second DequantizeLinear) stays; the normalization still
  // runs on uint8, from the Concat's output.
  const Built joined_output = model(Variant::concat_output);
  const graph::Graph g = graph::import_onnx(joined_output.onnx, graph::ImportOptions{});
  EXPECT_EQ(test::nodes_of_kind(g, graph::OpKind::concat), 1);
  for (const graph::Node& n : g.nodes) {
    if (n.kind == graph::OpKind::normalize) {
      EXPECT_EQ(n.inputs.size(), 1u);
      EXPECT_EQ(g.value(n.inputs[0]).type, ElementType::u8);
    }
  }
  expect_same_bytes(joined_output, RequantMode::fixed_point);
}

}  // namespace
}  // namespace octet
