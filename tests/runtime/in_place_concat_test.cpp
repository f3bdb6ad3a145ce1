// Convolutions writing straight into their Concat's output (runtime/in_place_concat.h), on
// tests/models/onnx/qdq_conv_concat_in_place.onnx: which outputs qualify (the Concat's own params, the
// Concat their only reader), where the memory plan puts them (inside the Concat's output, at their
// channel offset), and that the program gives the scalar reference's bytes on every ISA and thread count.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <filesystem>
#include <string>
#include <vector>

#include "graph/onnx_import.h"
#include "kernels/isa.h"
#include "octet/octet.h"
#include "runtime/in_place_concat.h"
#include "runtime/memory_plan.h"
#include "runtime/program.h"
#include "tests/runtime/run_program.h"
#include "tools/npy.h"

namespace octet {
namespace {

namespace fs = std::filesystem;

const fs::path kModel = fs::path(OCTET_TEST_MODELS_DIR) / "qdq_conv_concat_in_place.onnx";

using test::read_bytes;

std::vector<Isa> simd_isas() {
  std::vector<Isa> isas;
  for (Isa isa : supported_isas())
    if (isa != Isa::scalar) isas.push_back(isa);
  return isas;
}

TEST(InPlaceConcat, TheConvolutionsOnlyTheConcatReadsWriteIntoIt) {
  const graph::Graph g = graph::import_onnx(read_bytes(kModel), {});
  const graph::Node* concat = nullptr;
  for (const graph::Node& n : g.nodes)
    if (n.kind == graph::OpKind::concat) concat = &n;
  ASSERT_NE(concat, nullptr);
  ASSERT_EQ(concat->inputs.size(), 7u);
  EXPECT_TRUE(runtime::find_in_place_concat_inputs(g, Isa::scalar, {}).empty());
  for (Isa isa : simd_isas()) {
    SCOPED_TRACE(std::string(name_of(isa)));
    const std::vector<runtime::InPlaceConcatInput> found = runtime::find_in_place_concat_inputs(g, isa, {});
    // Inputs 0 (3x3 + Relu, 8 channels), 2 (1x1, 3 channels, after the model's 12 input channels), 5 and 6
    // (the transposed convolutions, 16 and 6 channels). Not the input itself, the conv with params of its
    // own (5 channels), nor the one the second output also reads (6 channels).
    ASSERT_EQ(found.size(), 4u);
    const size_t inputs[] = {0, 2, 5, 6};
    const int64_t offsets[] = {0, 8 + 12, 8 + 12 + 3 + 5 + 6, 8 + 12 + 3 + 5 + 6 + 16};
    for (size_t i = 0; i < found.size(); ++i) {
      EXPECT_EQ(found[i].input, inputs[i]);
      EXPECT_EQ(found[i].alias.offset, offsets[i]);
    }
    for (const runtime::InPlaceConcatInput& in : found) {
      EXPECT_EQ(in.row_stride, 56);
      EXPECT_EQ(in.alias.into, concat->output);
      EXPECT_EQ(in.alias.value, concat->inputs[in.input]);
      EXPECT_EQ(g.nodes[static_cast<size_t>(in.producer)].output, in.alias.value);
      EXPECT_EQ(g.nodes[static_cast<size_t>(in.concat)].output, concat->output);
    }
    // The plan puts them inside the Concat's output.
    const auto program = runtime::compile(read_bytes(kModel), {}, RequantMode::fixed_point, isa);
    EXPECT_EQ(program->in_place_concat_inputs(), 4);
    for (const runtime::InPlaceConcatInput& in : found) {
      EXPECT_EQ(program->plan.offsets[static_cast<size_t>(in.alias.value)],
                program->plan.offsets[static_cast<size_t>(concat->output)] + in.alias.offset);
      EXPECT_EQ(program->stores_into_concat[static_cast<size_t>(in.producer)], in.concat);
    }
  }
}

// What `octet info` lists: each operator that stores into its Concat's output names that Concat. Under the
// default ISA: none where that is scalar (OCTET_ISA=scalar), which stores nothing in place.
TEST(InPlaceConcat, ModelNodesNameTheConcatTheyStoreInto) {
  const Model model = Model::load(kModel.string());
  const bool simd = default_isa() != "scalar";
  int stored = 0;
  for (const NodeInfo& n : model.nodes()) {
    if (n.stores_into.empty()) continue;
    ++stored;
    EXPECT_EQ(n.op.rfind("conv", 0), 0u) << n.name;
    bool is_concat = false;
    for (const NodeInfo& other : model.nodes())
      is_concat |= other.name == n.stores_into && other.onnx_op == "Concat";
    EXPECT_TRUE(is_concat) << n.name << " -> " << n.stores_into;
  }
  EXPECT_EQ(stored, simd ? 4 : 0);
}

TEST(InPlaceConcat, NotWhereTheOutputIsKeptOrTheConcatIsNotOverChannels) {
  const graph::Graph g = graph::import_onnx(read_bytes(kModel), {});
  for (Isa isa : simd_isas()) {
    const auto found = runtime::find_in_place_concat_inputs(g, isa, {});
    ASSERT_EQ(found.size(), 4u);
    // A value kept alive (a caller may ask for it) keeps bytes of its own.
    EXPECT_EQ(runtime::find_in_place_concat_inputs(g, isa, {found[0].alias.value}).size(), 3u);
    // A Concat over another axis: its inputs are not pixel slices.
    graph::Graph other = g;
    for (graph::Node& n : other.nodes)
      if (n.kind == graph::OpKind::concat) std::get<graph::ConcatAttrs>(n.attrs).axis = 2;
    EXPECT_TRUE(runtime::find_in_place_concat_inputs(other, isa, {}).empty());
  }
}

TEST(InPlaceConcat, SameBytesAsTheReferenceOnEveryIsaAndThreadCount) {
  const std::vector<std::byte> onnx = read_bytes(kModel);
  const std::string base = (kModel.parent_path() / kModel.stem()).string();
  const std::vector<float> input = npy::read(base + ".input.npy").to_float();
  for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
    const auto reference = runtime::compile(onnx, {}, mode, Isa::scalar);
    EXPECT_EQ(reference->in_place_concat_inputs(), 0);
    const auto want = test::run_program(*reference, input);
    for (const Isa isa : simd_isas()) {
      const auto program = runtime::compile(onnx, {}, mode, isa);
      for (const int threads : {1, 3}) {
        SCOPED_TRACE(std::string(name_of(isa)) + ", " +
                     (mode == RequantMode::fixed_point ? "fixed" : "float") + ", " + std::to_string(threads) +
                     " thread(s)");
        tbb::task_arena arena(threads);
        arena.execute([&] { EXPECT_EQ(test::run_program(*program, input), want); });
      }
    }
  }
}

}  // namespace
}  // namespace octet
