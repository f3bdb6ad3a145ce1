// Folding a zero Pad into the convolution or average pool that reads it (graph/passes/fold_pads.h): which
// Pads fold, and that the folded program gives the unfolded program's bytes on every ISA this CPU runs, in
// float and in int8 (both requantization modes), on 1 and 3 threads.

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <tbb/task_arena.h>

#include <cstddef>
#include <functional>
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

constexpr int64_t kChannels = 8;

// How the second Pad and the pool after it differ from the foldable case.
enum class Variant {
  foldable,
  counted_pool_padding,  // folds: the pool counts its own padding, to which the Pad's adds
  depthwise,             // folds: the strided convolution after the first Pad is depthwise (TensorFlow's
                         // MobileNets pad so before their stride-2 depthwise layers)
  nonzero_value,
  pads_channels,
  ceil_mode,
  uncounted_pool_padding,
  read_twice,
  graph_output,               // the padded tensor is itself an output of the model
  beyond_window,              // the pool's padding would reach its 2x2 window
  two_pads,                   // folds: the first Pad's padding comes as two Pads in a row, both folded
  two_pads_inner_read_twice,  // the nearer of the two folds; the other, whose output is read twice, stays
  two_pads_reach_window,      // two Pads of one row before a 2x2 pool: the nearer folds, the other would
                              // make the pool's padding as tall as its window and stays
};

struct Built {
  std::vector<std::byte> onnx;
  std::vector<int64_t> input_shape;
};

// x [1, 3, 11, 9] -> Conv 3x3 (3 -> 8, pads 1) -> Relu -> Pad (rows 1 | 2, columns 2 | 1) -> Conv 3x3
// stride 2 (8 -> 8, no pads) -> Pad (1 on each side) -> AveragePool 3x3 stride 1 -> y. In QDQ form every
// activation is quantized (zero point 128, so a Pad of real 0 stores 128) and the weights are int8.
Built model(bool quantized, Variant variant) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> real(-0.5f, 0.5f);
  std::uniform_int_distribution<int> integer(-60, 60);
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  const std::vector<int64_t> input_shape = {1, 3, 11, 9};
  add_value(*g.mutable_input(), "x", input_shape);
  add_value(*g.mutable_output(), "y", {});
  add_tensor(g, "s", TensorProto::FLOAT, {}, float_bytes({0.02f}));
  add_tensor(g, "z", TensorProto::UINT8, {}, std::string(1, '\x80'));
  add_tensor(g, "ws", TensorProto::FLOAT, {}, float_bytes({0.01f}));
  add_tensor(g, "wz", TensorProto::INT8, {}, std::string(1, '\0'));
  // A quantize-dequantize pair after `name` in QDQ form: returns the name its readers take.
  auto activation = [&](const std::string& name) {
    if (!quantized) return name;
    add_node(g, "QuantizeLinear", name + "_q", {name, "s", "z"}, name + "_qv");
    add_node(g, "DequantizeLinear", name + "_dq", {name + "_qv", "s", "z"}, name + "_dqv");
    return name + "_dqv";
  };
  auto weights = [&](const std::string& name, int64_t cin) {
    const int64_t count = kChannels * cin * 9;
    if (quantized) {
      std::string bytes;
      for (int64_t i = 0; i < count; ++i)
        bytes.push_back(static_cast<char>(integer(rng)));
      add_tensor(g, name + "_q", TensorProto::INT8, {kChannels, cin, 3, 3}, bytes);
      add_node(g, "DequantizeLinear", name + "_dq", {name + "_q", "ws", "wz"}, name);
    } else {
      std::vector<float> w(static_cast<size_t>(count));
      for (float& v : w)
        v = real(rng);
      add_tensor(g, name, TensorProto::FLOAT, {kChannels, cin, 3, 3}, float_bytes(w));
    }
  };
  auto pads_tensor = [&](const std::string& name, const std::vector<int64_t>& pads) {
    add_tensor(g, name, TensorProto::INT64, {8},
               std::string(reinterpret_cast<const char*>(pads.data()), pads.size() * sizeof(int64_t)));
  };
  const std::string x = activation("x");
  weights("w1", 3);
  add_ints(add_node(g, "Conv", "conv1", {x, "w1"}, "c1"), "pads", {1, 1, 1, 1});
  add_node(g, "Relu", "relu1", {"c1"}, "r1");
  const std::string r1 = activation("r1");
  std::string pad1_input = r1;
  if (variant == Variant::two_pads || variant == Variant::two_pads_inner_read_twice) {
    // The same padding in two steps: rows 1 | 0 and columns 0 | 1, then rows 0 | 2 and columns 2 | 0.
    pads_tensor("p0_pads", {0, 0, 1, 0, 0, 0, 0, 1});
    add_node(g, "Pad", "pad0", {r1, "p0_pads"}, "p0");
    pad1_input = activation("p0");
    pads_tensor("p1_pads", {0, 0, 0, 2, 0, 0, 2, 0});
    if (variant == Variant::two_pads_inner_read_twice) {
      add_node(g, "Relu", "relu0", {pad1_input}, "y0");
      add_value(*g.mutable_output(), "y0", {});
    }
  } else {
    pads_tensor("p1_pads", {0, 0, 1, 2, 0, 0, 2, 1});
  }
  add_node(g, "Pad", "pad1", {pad1_input, "p1_pads"}, "p1");
  const std::string p1 = activation("p1");
  weights("w2", variant == Variant::depthwise ? 1 : kChannels);
  onnx::NodeProto& conv2 = add_node(g, "Conv", "conv2", {p1, "w2"}, "c2");
  add_ints(conv2, "strides", {2, 2});
  if (variant == Variant::depthwise) {
    onnx::AttributeProto* group = conv2.add_attribute();
    group->set_name("group");
    group->set_type(onnx::AttributeProto::INT);
    group->set_i(kChannels);
  }
  const std::string c2 = activation("c2");
  std::vector<int64_t> p2_pads = {0, 0, 1, 1, 0, 0, 1, 1};
  if (variant == Variant::pads_channels) p2_pads[1] = 1;
  if (variant == Variant::beyond_window) p2_pads = {0, 0, 2, 1, 0, 0, 1, 2};
  std::string pad2_input = c2;
  if (variant == Variant::two_pads_reach_window) {
    pads_tensor("pa_pads", {0, 0, 1, 0, 0, 0, 0, 0});
    add_node(g, "Pad", "pad_a", {c2, "pa_pads"}, "pa");
    pad2_input = activation("pa");
    p2_pads = {0, 0, 1, 0, 0, 0, 0, 0};
  }
  pads_tensor("p2_pads", p2_pads);
  std::vector<std::string> pad2_inputs = {pad2_input, "p2_pads"};
  if (variant == Variant::nonzero_value) {
    add_tensor(g, "p2_value", TensorProto::FLOAT, {}, float_bytes({0.5f}));
    pad2_inputs.push_back("p2_value");
  }
  add_node(g, "Pad", "pad2", pad2_inputs, "p2");
  const std::string p2 = activation("p2");
  onnx::NodeProto& pool = add_node(g, "AveragePool", "pool", {p2}, "a");
  add_ints(pool, "kernel_shape",
           variant == Variant::beyond_window || variant == Variant::two_pads_reach_window
               ? std::vector<int64_t>{2, 2}
               : std::vector<int64_t>{3, 3});
  if (variant == Variant::ceil_mode) {
    add_ints(pool, "strides", {2, 2});
    onnx::AttributeProto* ceil = pool.add_attribute();
    ceil->set_name("ceil_mode");
    ceil->set_type(onnx::AttributeProto::INT);
    ceil->set_i(1);
  }
  if (variant == Variant::uncounted_pool_padding || variant == Variant::counted_pool_padding)
    add_ints(pool, "pads", {1, 1, 1, 1});
  if (variant == Variant::counted_pool_padding) {
    onnx::AttributeProto* counted = pool.add_attribute();
    counted->set_name("count_include_pad");
    counted->set_type(onnx::AttributeProto::INT);
    counted->set_i(1);
  }
  const std::string a = activation("a");
  add_node(g, "Identity", "out", {a}, "y");
  if (variant == Variant::read_twice) {  // the padded tensor is read here too, a second output
    add_node(g, "Relu", "relu2", {p2}, "y2");
    add_value(*g.mutable_output(), "y2", {});
  }
  if (variant == Variant::graph_output) add_value(*g.mutable_output(), quantized ? "p2_dqv" : "p2", {});
  return Built{test::serialized(m), input_shape};
}

// The padding a folded convolution ended with, top, left, bottom, right.
void expect_conv_pads(const graph::Node& conv, bool quantized, const ref::Padding2d& want) {
  const ref::Conv2dParams& p = quantized ? std::get<graph::ConvAttrs>(conv.attrs).conv
                                         : std::get<graph::FloatConvAttrs>(conv.attrs).conv;
  EXPECT_EQ(p.pad.top, want.top);
  EXPECT_EQ(p.pad.left, want.left);
  EXPECT_EQ(p.pad.bottom, want.bottom);
  EXPECT_EQ(p.pad.right, want.right);
}

int pads_in(const graph::Graph& g) {
  return test::nodes_of_kind(g, graph::OpKind::pad);
}

void expect_same_bytes(const Built& built, bool quantized) {
  const std::vector<float> input = test::uniform_input(built.input_shape, -1.0f, 1.0f);
  for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
    if (!quantized && mode == RequantMode::float_scale) continue;  // float models do not requantize
    graph::ImportOptions plain;
    plain.fold_pads = false;
    const auto reference = runtime::compile(built.onnx, plain, mode, Isa::scalar);
    const std::vector<std::byte> want = test::run_program(*reference, input).at(0);
    for (const Isa isa : supported_isas()) {
      const auto folded = runtime::compile(built.onnx, graph::ImportOptions{}, mode, isa);
      for (const int threads : {1, 3}) {
        SCOPED_TRACE(std::string(name_of(isa)) + ", " +
                     (mode == RequantMode::fixed_point ? "fixed" : "float") + ", " + std::to_string(threads) +
                     " thread(s)");
        tbb::task_arena arena(threads);
        arena.execute([&] { EXPECT_EQ(test::run_program(*folded, input).at(0), want); });
      }
    }
  }
}

TEST(FoldPads, ZeroPadsFoldIntoTheConvolutionAndThePoolWithTheSameBytes) {
  for (const bool quantized : {false, true}) {
    SCOPED_TRACE(quantized ? "QDQ" : "float");
    // A pool that counts padding of its own takes the Pad's on top of it; a depthwise convolution takes it
    // as a dense one does.
    for (const Variant variant : {Variant::counted_pool_padding, Variant::depthwise}) {
      const Built other = model(quantized, variant);
      EXPECT_EQ(pads_in(graph::import_onnx(other.onnx, graph::ImportOptions{})), 0);
      expect_same_bytes(other, quantized);
    }
    // The first Pad alone or as two Pads in a row: the convolution takes the same padding.
    for (const Variant variant : {Variant::foldable, Variant::two_pads}) {
      const Built built = model(quantized, variant);
      graph::ImportOptions plain;
      plain.fold_pads = false;
      EXPECT_EQ(pads_in(graph::import_onnx(built.onnx, plain)), variant == Variant::two_pads ? 3 : 2);
      const graph::Graph folded = graph::import_onnx(built.onnx, graph::ImportOptions{});
      EXPECT_EQ(pads_in(folded), 0);
      for (const graph::Node& n : folded.nodes) {
        if (n.name == "conv2") {
          EXPECT_NE(n.onnx_op.find(variant == Variant::two_pads ? "Pad + Pad + " : "Pad + "),
                    std::string::npos)
              << n.onnx_op;
          expect_conv_pads(n, quantized, {.top = 1, .left = 2, .bottom = 2, .right = 1});
        }
        if (n.name == "pool") {
          const ref::Pool2dParams& p = std::get<graph::PoolAttrs>(n.attrs).params;
          EXPECT_TRUE(p.count_include_pad);
          EXPECT_EQ(p.pad.top + p.pad.left + p.pad.bottom + p.pad.right, 4);
        }
      }
      expect_same_bytes(built, quantized);
    }
  }
}

TEST(FoldPads, OtherPadsStay) {
  // A value that is not zero, padding of the channels, a pool whose last window ceil_mode adds (the two
  // would count it differently), a pool that does not count its own padding, a padded tensor that is read
  // twice or is an output of the model, and padding as wide as the pool's window (which the pool itself
  // may not have): the second Pad stays (the first, foldable, folds), the model loads, and the bytes are
  // the same either way. Of two Pads in a row, the farther one stays where something else reads its output
  // too, or where it would take the pool's padding to the window's height; the nearer one folds.
  for (const Variant variant :
       {Variant::nonzero_value, Variant::pads_channels, Variant::ceil_mode, Variant::uncounted_pool_padding,
        Variant::read_twice, Variant::graph_output, Variant::beyond_window,
        Variant::two_pads_inner_read_twice, Variant::two_pads_reach_window})
    for (const bool quantized : {false, true}) {
      SCOPED_TRACE(std::string(quantized ? "QDQ" : "float") + ", variant " +
                   std::to_string(static_cast<int>(variant)));
      const Built built = model(quantized, variant);
      const graph::Graph folded = graph::import_onnx(built.onnx, graph::ImportOptions{});
      EXPECT_EQ(pads_in(folded), 1);
      for (const graph::Node& n : folded.nodes) {
        if (variant == Variant::two_pads_inner_read_twice && n.name == "conv2") {
          // The nearer Pad's rows 0 | 2 and columns 2 | 0 only.
          EXPECT_NE(n.onnx_op.find("Pad + "), std::string::npos) << n.onnx_op;
          EXPECT_EQ(n.onnx_op.find("Pad + Pad"), std::string::npos) << n.onnx_op;
          expect_conv_pads(n, quantized, {.top = 0, .left = 2, .bottom = 2, .right = 0});
        }
        if (variant == Variant::two_pads_reach_window && n.name == "pool") {
          const ref::Pool2dParams& p = std::get<graph::PoolAttrs>(n.attrs).params;
          EXPECT_EQ(p.pad.top, 1);
          EXPECT_EQ(p.pad.left + p.pad.bottom + p.pad.right, 0);
        }
      }
      expect_same_bytes(built, quantized);
    }
}

}  // namespace
}  // namespace octet
