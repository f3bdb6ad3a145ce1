// A convolution followed by a residual add, run as two operators and as one fused node
// (graph/passes/fuse_residual_add.h: the add applied to each tile of the convolution's output while it is in
// cache), in the active ISA's kernels: what the fusion is worth on this machine. Shapes: ResNet basic-block
// convolutions at 56x56 and at 224x224 (activations far past the L2 cache), a late 7x7x512 one (few pixels:
// tasks split by channels, where the add runs as one pass after the convolution), and MobileNetV2's 1x1
// projection (144 -> 24 channels) with its 24-channel shortcut. Compare fused/ with unfused/ of the same
// shape and thread count: run with repetitions, interleaved, and compare the medians.
//
//   ./build/benchmarks/residual_add_bench --benchmark_repetitions=9
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/passes/fuse_residual_add.h"
#include "graph/shapes.h"
#include "runtime/operators.h"

namespace octet {
namespace {

struct Block {
  const char* name;
  int64_t size, cin, cout, kernel;
};

constexpr Block kBlocks[] = {
    {"resnet_3x3_56x56x64", 56, 64, 64, 3},
    {"resnet_3x3_224x224x64", 224, 64, 64, 3},
    {"resnet_3x3_7x7x512", 7, 512, 512, 3},
    {"mobilenetv2_1x1_56x56_144to24", 56, 144, 24, 1},
};

// conv(x) + r as a graph: the add's operands and output have one shape, as fusion requires.
graph::Graph block_graph(const Block& b) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> s8(-127, 127), bias(-2000, 2000);
  graph::Graph g;
  const Shape in_shape{1, b.size, b.size, b.cin}, out_shape{1, b.size, b.size, b.cout};
  auto value = [&](const char* name, const Shape& shape, float scale, int32_t zp) {
    return g.add_value(
        graph::Value{name, ElementType::u8, shape, graph::Layout::nhwc, QuantParams::per_tensor(scale, zp)});
  };
  const graph::ValueId x = value("x", in_shape, 0.02f, 128), r = value("r", out_shape, 0.03f, 120);
  const graph::ValueId y = value("y", out_shape, 0.05f, 110), z = value("z", out_shape, 0.04f, 0);
  g.inputs = {x, r};
  graph::ConvAttrs a;
  const int64_t pad = b.kernel / 2;
  a.conv.pad = {pad, pad, pad, pad};
  std::vector<int8_t> w(static_cast<size_t>(b.cout * b.kernel * b.kernel * b.cin));
  for (auto& v : w)
    v = static_cast<int8_t>(s8(rng));
  std::vector<float> scales(static_cast<size_t>(b.cout), 0.0004f);
  a.weights = std::make_shared<graph::Weights>(
      TensorS8({b.cout, b.kernel, b.kernel, b.cin}, w,
               QuantParams::per_axis(scales, std::vector<int32_t>(scales.size(), 0), 0)));
  std::vector<int32_t> biases(static_cast<size_t>(b.cout));
  for (auto& v : biases)
    v = bias(rng);
  a.bias = std::make_shared<TensorS32>(Shape{b.cout}, biases);
  graph::Node conv{"conv", "Conv", graph::OpKind::conv, {x}, y, a};
  graph::Node add{"add", "Add", graph::OpKind::add, {y, r}, z, graph::ClampAttrs{Clamp{0, 255}}};
  g.nodes = {conv, add};
  g.outputs = {z};
  return g;
}

void BM_block(benchmark::State& state, const Block& b, bool fused) {
  const int threads = static_cast<int>(state.range(0));
  graph::Graph g = block_graph(b);
  if (fused) graph::fuse_residual_adds(g);
  graph::check_graph(g);
  std::vector<std::unique_ptr<const runtime::Operator>> ops;
  for (const graph::Node& n : g.nodes)
    ops.push_back(runtime::make_operator(g, n, active_isa(), RequantMode::fixed_point));
  std::mt19937 rng(5);
  std::vector<std::vector<uint8_t>> buffers;
  for (const graph::Value& v : g.values) {
    buffers.emplace_back(static_cast<size_t>(element_count(v.shape, v.name)));
    for (auto& e : buffers.back())
      e = static_cast<uint8_t>(rng());
  }
  auto buffer = [&](graph::ValueId id) {
    return reinterpret_cast<std::byte*>(buffers[static_cast<size_t>(id)].data());
  };
  tbb::task_arena arena(threads);
  for (auto _ : state) {
    arena.execute([&] {
      for (size_t i = 0; i < g.nodes.size(); ++i) {
        std::vector<const std::byte*> inputs;
        for (graph::ValueId id : g.nodes[i].inputs)
          inputs.push_back(buffer(id));
        ops[i]->run(inputs, buffer(g.nodes[i].output));
      }
    });
    benchmark::DoNotOptimize(buffers.back().data());
  }
  state.SetLabel(std::string(name_of(active_isa())));
}

}  // namespace
}  // namespace octet

int main(int argc, char** argv) {
  for (const octet::Block& b : octet::kBlocks)
    for (const bool fused : {false, true})
      benchmark::RegisterBenchmark((std::string(fused ? "fused/" : "unfused/") + b.name).c_str(),
                                   octet::BM_block, b, fused)
          ->Arg(1)
          ->Arg(2)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(0.2);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
