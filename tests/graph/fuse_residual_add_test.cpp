// The residual-add fusion (graph/passes/fuse_residual_add.h): which adds it fuses into which convolution,
// that the fused program gives the unfused program's bytes on every ISA this CPU runs, in both
// requantization modes and on 1 and 3 threads (the convolution kernels apply the add per tile, or per
// output pass where they cannot), and that a malformed fused node is refused by name.
// tests/models/onnx/qdq_residual_blocks.onnx (make_test_models.py) holds every form.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "graph/onnx_import.h"
#include "graph/shapes.h"
#include "kernels/error.h"
#include "kernels/isa.h"
#include "runtime/memory_plan.h"
#include "runtime/program.h"
#include "tests/runtime/run_program.h"
#include "tools/npy.h"

namespace octet {
namespace {

namespace fs = std::filesystem;

const fs::path kModel = fs::path(OCTET_TEST_MODELS_DIR) / "onnx" / "qdq_residual_blocks.onnx";

using test::read_bytes;

graph::Graph import(bool fuse) {
  graph::ImportOptions options;
  options.fuse_residual_adds = fuse;
  return graph::import_onnx(read_bytes(kModel), options);
}

const graph::Node& node_named(const graph::Graph& g, const std::string& name) {
  for (const graph::Node& n : g.nodes)
    if (n.name == name) return n;
  throw Error("no node '" + name + "'");
}

const graph::ResidualAddAttrs* residual_of(const graph::Node& n) {
  const auto* a = std::get_if<graph::ConvAttrs>(&n.attrs);
  return a && a->residual ? &*a->residual : nullptr;
}

int count_kind(const graph::Graph& g, graph::OpKind kind) {
  int count = 0;
  for (const graph::Node& n : g.nodes)
    count += n.kind == kind;
  return count;
}

// The program's (uint8) output.
std::vector<uint8_t> run(const runtime::Program& p, const std::vector<float>& input) {
  EXPECT_EQ(static_cast<int64_t>(input.size() * sizeof(float)),
            runtime::byte_size(p.graph.value(p.graph.inputs.at(0))));
  const std::vector<std::byte> out = test::run_program(p, input).at(0);
  const auto* bytes = reinterpret_cast<const uint8_t*>(out.data());
  return {bytes, bytes + out.size()};
}

TEST(FuseResidualAdd, FusesEachAddIntoTheConvolutionThatFeedsIt) {
  const graph::Graph unfused = import(false), fused = import(true);
  EXPECT_EQ(count_kind(unfused, graph::OpKind::add), 9);
  for (const graph::Node& n : unfused.nodes)
    EXPECT_EQ(residual_of(n), nullptr) << n.name;
  // Seven adds fuse; the two that read the 1x1 conv `conv_174` (read twice) stay.
  EXPECT_EQ(count_kind(fused, graph::OpKind::add), 2);
  EXPECT_EQ(fused.nodes.size() + 7, unfused.nodes.size());
  EXPECT_EQ(residual_of(node_named(fused, "conv_174")), nullptr);

  struct Expected {
    std::string conv;
    bool conv_first;
  };
  // A 5x5 first layer (3 input channels) + another; 3x3 + shortcut; shortcut + 1x1; the downsampling block's
  // two convolutions (3x3 / 2 runs first, so the 1x1 / 2 shortcut, the add's second operand, takes the add);
  // depthwise + shortcut; 96 channels over 36 pixels; transposed conv + a tensor computed long before.
  for (const Expected& e : {Expected{"conv_31", true}, Expected{"conv_57", true}, Expected{"conv_83", false},
                            Expected{"conv_123", false}, Expected{"conv_149", true},
                            Expected{"conv_224", true}, Expected{"conv_transpose_250", true}}) {
    const graph::Node& n = node_named(fused, e.conv);
    const graph::ResidualAddAttrs* r = residual_of(n);
    ASSERT_NE(r, nullptr) << e.conv;
    EXPECT_EQ(r->conv_first, e.conv_first) << e.conv;
    ASSERT_EQ(n.inputs.size(), 2u) << e.conv;
    EXPECT_NE(n.onnx_op.find(" + Add"), std::string::npos) << n.onnx_op;
    // The fused node computes what the add did, from the add's other operand.
    const graph::Node& plain = node_named(unfused, e.conv);
    const graph::Node* add = nullptr;
    for (const graph::Node& m : unfused.nodes)
      if (m.kind == graph::OpKind::add && (m.inputs[0] == plain.output || m.inputs[1] == plain.output))
        add = &m;
    ASSERT_NE(add, nullptr) << e.conv;
    EXPECT_EQ(fused.value(n.output).name, unfused.value(add->output).name) << e.conv;
    EXPECT_EQ(fused.value(n.inputs[1]).name, unfused.value(add->inputs[e.conv_first ? 1 : 0]).name) << e.conv;
    EXPECT_EQ(r->conv_output, unfused.value(plain.output).quant) << e.conv;
  }
  // The downsampling block's 3x3 / 2 conv is the shortcut operand now, computed before the fused node.
  EXPECT_EQ(fused.value(node_named(fused, "conv_123").inputs[1]).name,
            unfused.value(node_named(unfused, "conv_108").output).name);
}

TEST(FuseResidualAdd, SameBytesAsTheUnfusedProgramOnEveryIsaAndThreadCount) {
  const std::vector<std::byte> onnx = read_bytes(kModel);
  const std::string base = (kModel.parent_path() / kModel.stem()).string();
  const std::vector<float> input = npy::read(base + ".input.npy").to_float();
  for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
    graph::ImportOptions plain;
    plain.fuse_residual_adds = false;
    graph::ImportOptions fusing;
    fusing.fuse_residual_adds = true;
    const auto reference = runtime::compile(onnx, plain, mode, Isa::scalar);
    const std::vector<uint8_t> want = run(*reference, input);
    for (const Isa isa : supported_isas()) {
      const auto fused = runtime::compile(onnx, fusing, mode, isa);
      const auto unfused = runtime::compile(onnx, plain, mode, isa);
      for (const int threads : {1, 3}) {
        SCOPED_TRACE(std::string(name_of(isa)) + ", " +
                     (mode == RequantMode::fixed_point ? "fixed" : "float") + ", " + std::to_string(threads) +
                     " thread(s)");
        tbb::task_arena arena(threads);
        arena.execute([&] {
          EXPECT_EQ(run(*fused, input), want);
          EXPECT_EQ(run(*unfused, input), want);
        });
      }
    }
  }
}

TEST(FuseResidualAdd, MalformedFusedNodeIsRefusedByName) {
  graph::Graph g = import(true);
  graph::Node& n = const_cast<graph::Node&>(node_named(g, "conv_149"));
  // The other operand (6x6x32) replaced by an earlier tensor of another shape (12x12x16).
  n.inputs[1] = node_named(g, "conv_57").output;
  try {
    graph::check_graph(g);
    FAIL() << "a residual of the wrong shape was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv_149"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("residual input"), std::string::npos) << e.what();
  }
  // A fused node without its second input.
  g = import(true);
  const_cast<graph::Node&>(node_named(g, "conv_31")).inputs.pop_back();
  EXPECT_THROW(graph::check_graph(g), Error);
}

}  // namespace
}  // namespace octet
