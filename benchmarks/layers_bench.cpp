// The layer suite of ../shared/peers/PEERS.md (L1-L7) and rows of our own (layer_suite.h) (batch 1, NHWC, u8
// activations, s8 per-channel weights, u8 output) through octet's operators (the kernels of the active ISA,
// OCTET_ISA to force one) and, when CMake found it, through oneDNN in the same run (onednn_layers.cpp), at 1
// and 2 threads. Counters: GMAC/s and % of this machine's VNNI peak (64 MACs per cycle per core at 3.65 GHz =
// 234 GMAC/s per core, PEERS.md). octet runs in both requantization modes (octet/: fixed point, octet_float/:
// ONNX Runtime's float arithmetic). At the end a table gives octet's time in each mode relative to oneDNN's,
// and fixed point's relative to float's, for each layer (medians of the repetitions).
//
//   ./build/benchmarks/layers_bench --benchmark_repetitions=5

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>

#include "benchmarks/layer_suite.h"
#ifdef OCTET_HAVE_ONEDNN
#include "benchmarks/onednn_layers.h"
#endif
#include "graph/ir.h"
#include "graph/shapes.h"
#include "runtime/operators.h"

namespace octet {
namespace {

using bench::kLayers;
using bench::Layer;
using bench::Operands;

void BM_octet(benchmark::State& state, const Layer& l, RequantMode requant) {
  const int threads = static_cast<int>(state.range(0));
  const Operands o = bench::make_operands(l);
  graph::Graph g;
  graph::Value in{"x",
                  ElementType::u8,
                  {1, l.h, l.w, l.cin},
                  graph::Layout::nhwc,
                  QuantParams::per_tensor(o.in_scale, o.in_zp)};
  g.inputs.push_back(g.add_value(in));
  graph::ConvAttrs a;
  a.transposed = l.transposed;
  a.conv.stride_h = a.conv.stride_w = l.stride;
  a.conv.dilation_h = a.conv.dilation_w = l.dilation;
  a.conv.pad = {l.pad, l.pad, l.pad, l.pad};
  a.conv.groups = l.groups;
  a.transpose.stride_h = a.transpose.stride_w = l.stride;
  a.transpose.pad = {l.pad, l.pad, l.pad, l.pad};
  a.transpose.groups = l.groups;
  a.weights = std::make_shared<graph::Weights>(
      TensorS8({l.cout, l.k, l.k, l.cin / l.groups}, o.weights,
               QuantParams::per_axis(o.weight_scales, std::vector<int32_t>(o.weight_scales.size(), 0), 0)));
  a.bias = std::make_shared<TensorS32>(Shape{l.cout}, o.bias);
  graph::Node node;
  node.name = l.name;
  node.onnx_op = "Conv";
  node.kind = graph::OpKind::conv;
  node.inputs = {0};
  node.attrs = a;
  graph::Value out{
      "y", ElementType::u8, {}, graph::Layout::nhwc, QuantParams::per_tensor(o.out_scale, o.out_zp)};
  out.shape = graph::infer_output_shape(g, node, out);
  node.output = g.add_value(out);
  const auto op = runtime::make_operator(g, node, active_isa(), requant);
  bench::AlignedBytes y(static_cast<size_t>(element_count(out.shape, "y")));
  const std::byte* inputs[] = {reinterpret_cast<const std::byte*>(o.input.data())};
  tbb::task_arena arena(threads);
  for (auto _ : state) {
    arena.execute([&] { op->run(inputs, reinterpret_cast<std::byte*>(y.data())); });
    benchmark::DoNotOptimize(y.data());
  }
  bench::set_layer_counters(state, l, threads);
  state.SetLabel(std::string(name_of(active_isa())) + " " + std::string(name_of(requant)));
}

// Collects each benchmark's median (or its single run) to print octet / oneDNN time ratios at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      const bool aggregate = r.run_type == Run::RT_Aggregate;
      if (aggregate && r.aggregate_name != "median") continue;
      const std::string name = r.run_name.str();
      if (!aggregate && medians_.count(name)) continue;  // keep the first plain run unless a median comes
      medians_[name] = r.GetAdjustedRealTime();
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-40s %7s %10s %10s %10s %13s %13s %12s\n", "layer", "threads", "fixed ms", "float ms",
                "oneDNN ms", "fixed/oneDNN", "float/oneDNN", "fixed/float");
    const auto ratio = [](double a, double b) { return a > 0 && b > 0 ? a / b : 0.0; };
    for (const auto& [name, ms] : medians_) {
      if (name.rfind("octet/", 0) != 0) continue;
      const std::string rest = name.substr(6);  // "<layer>/<threads>/min_time:.../real_time"
      const auto find = [&](const std::string& key) {
        const auto it = medians_.find(key);
        return it == medians_.end() ? 0.0 : it->second;
      };
      const double float_ms = find("octet_float/" + rest), onednn_ms = find("onednn/" + rest);
      const size_t layer_end = rest.find('/'), threads_end = rest.find('/', layer_end + 1);
      std::printf("%-40s %7s %10.3f %10.3f %10.3f %12.2fx %12.2fx %11.2fx\n",
                  rest.substr(0, layer_end).c_str(),
                  rest.substr(layer_end + 1, threads_end - layer_end - 1).c_str(), ms, float_ms, onednn_ms,
                  ratio(ms, onednn_ms), ratio(float_ms, onednn_ms), ratio(ms, float_ms));
    }
  }

 private:
  std::map<std::string, double> medians_;
};

}  // namespace
}  // namespace octet

int main(int argc, char** argv) {
  for (const octet::Layer& l : octet::kLayers)
    for (const auto requant : {octet::RequantMode::fixed_point, octet::RequantMode::float_scale}) {
      const std::string prefix = requant == octet::RequantMode::fixed_point ? "octet/" : "octet_float/";
      benchmark::RegisterBenchmark((prefix + l.name).c_str(), octet::BM_octet, l, requant)
          ->Arg(1)
          ->Arg(2)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(0.3);
    }
#ifdef OCTET_HAVE_ONEDNN
  octet::bench::register_onednn_benchmarks();
#else
  std::printf("layers_bench: built without oneDNN (CMake did not find it), so octet runs alone\n");
#endif
  benchmark::Initialize(&argc, argv);
  octet::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
