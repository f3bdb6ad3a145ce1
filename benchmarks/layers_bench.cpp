// The layer suite of ../shared/peers/PEERS.md (L1-L7, batch 1, NHWC, u8 activations, s8 per-channel
// weights, u8 output) through octet's operators (the kernels of the active ISA, OCTET_ISA to force one)
// and through oneDNN in the same run, at 1 and 2 threads. Counters: GMAC/s and % of this machine's VNNI
// peak (64 MACs per cycle per core at 3.65 GHz = 234 GMAC/s per core, PEERS.md). At the end a table gives
// octet's time relative to oneDNN's for each layer (medians of the repetitions).
//
//   ./build/benchmarks/layers_bench --benchmark_repetitions=5

#include <benchmark/benchmark.h>
#include <omp.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>

#include "benchmarks/layer_suite.h"
#include "graph/ir.h"
#include "graph/shapes.h"
#include "runtime/operators.h"

namespace octet {
namespace {

constexpr double kPeakPerCore = 234e9;  // PEERS.md: vpdpbusd zmm, 64 MACs per cycle

using bench::kLayers;
using bench::Layer;

// Deterministic operands shared by both runtimes.
struct Operands {
  std::vector<uint8_t> input;
  std::vector<int8_t> weights;  // [cout, k, k, cin / groups]
  std::vector<float> weight_scales;
  std::vector<int32_t> bias;
  float in_scale = 0.02f, out_scale = 0.05f;
  int32_t in_zp = 0,
          out_zp = 0;  // oneDNN's fast path has no zero points; octet's cost does not depend on them
};

Operands make_operands(const Layer& l) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), b(-1000, 1000);
  Operands o;
  o.input.resize(static_cast<size_t>(l.h * l.w * l.cin));
  for (auto& v : o.input)
    v = static_cast<uint8_t>(u8(rng));
  o.weights.resize(static_cast<size_t>(l.cout * l.k * l.k * (l.cin / l.groups)));
  for (auto& v : o.weights)
    v = static_cast<int8_t>(s8(rng));
  for (int64_t c = 0; c < l.cout; ++c)
    o.weight_scales.push_back(0.001f + 0.0001f * static_cast<float>(c % 7));
  for (int64_t c = 0; c < l.cout; ++c)
    o.bias.push_back(b(rng));
  return o;
}

void BM_octet(benchmark::State& state, const Layer& l) {
  const int threads = static_cast<int>(state.range(0));
  const Operands o = make_operands(l);
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
  const auto op = runtime::make_operator(g, node, active_isa());
  std::vector<uint8_t> y(static_cast<size_t>(element_count(out.shape, "y")));
  const std::byte* inputs[] = {reinterpret_cast<const std::byte*>(o.input.data())};
  tbb::task_arena arena(threads);
  for (auto _ : state) {
    arena.execute([&] { op->run(inputs, reinterpret_cast<std::byte*>(y.data())); });
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GMAC/s"] =
      benchmark::Counter(bench::macs(l) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["%peak"] = benchmark::Counter(bench::macs(l) / (kPeakPerCore * threads) * 100.0,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(name_of(active_isa())));
}

void BM_onednn(benchmark::State& state, const Layer& l) {
  using namespace dnnl;
  const int threads = static_cast<int>(state.range(0));
  omp_set_num_threads(threads);
  const Operands o = make_operands(l);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const int64_t oh = bench::output_size(l, l.h), ow = bench::output_size(l, l.w);
  const memory::dims src_dims{1, l.cin, l.h, l.w}, dst_dims{1, l.cout, oh, ow};
  const memory::dims strides{l.stride, l.stride}, pads{l.pad, l.pad};
  memory::dims w_dims = l.groups > 1 ? memory::dims{l.groups, l.cout / l.groups, l.cin / l.groups, l.k, l.k}
                                     : memory::dims{l.cout, l.cin, l.k, l.k};
  if (l.transposed) w_dims = {l.cout, l.cin, l.k, l.k};
  auto src_md = memory::desc(src_dims, memory::data_type::u8, memory::format_tag::nhwc);
  auto dst_md = memory::desc(dst_dims, memory::data_type::u8, memory::format_tag::nhwc);
  auto w_any = memory::desc(w_dims, memory::data_type::s8, memory::format_tag::any);
  auto b_md = memory::desc({l.cout}, memory::data_type::s32, memory::format_tag::x);
  primitive_attr attr;
  std::vector<float> scales;
  for (float s : o.weight_scales)
    scales.push_back(o.in_scale * s / o.out_scale);
  attr.set_output_scales(2, scales);
  primitive prim;
  memory::desc w_md;
  if (l.transposed) {
    auto d = deconvolution_forward::desc(prop_kind::forward_inference, algorithm::deconvolution_direct,
                                         src_md, w_any, b_md, dst_md, strides, pads, pads);
    auto pd = deconvolution_forward::primitive_desc(d, attr, eng);
    w_md = pd.weights_desc();
    prim = deconvolution_forward(pd);
  } else {
    auto d = convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md,
                                       w_any, b_md, dst_md, strides, pads, pads);
    auto pd = convolution_forward::primitive_desc(d, attr, eng);
    w_md = pd.weights_desc();
    prim = convolution_forward(pd);
  }
  // Weights: our [cout, k, k, cin/g] -> oneDNN's plain goihw / oihw (transposed: its weights are [cout, cin,
  // k, k] for deconvolution too), then reordered into the primitive's layout once, as a runtime would.
  std::vector<int8_t> plain(o.weights.size());
  const int64_t cig = l.cin / l.groups;
  for (int64_t oc = 0; oc < l.cout; ++oc)
    for (int64_t ky = 0; ky < l.k; ++ky)
      for (int64_t kx = 0; kx < l.k; ++kx)
        for (int64_t ic = 0; ic < cig; ++ic)
          plain[static_cast<size_t>(((oc * cig + ic) * l.k + ky) * l.k + kx)] =
              o.weights[static_cast<size_t>(((oc * l.k + ky) * l.k + kx) * cig + ic)];
  const auto plain_tag = l.groups > 1 ? memory::format_tag::goihw : memory::format_tag::oihw;
  memory w_plain({w_dims, memory::data_type::s8, plain_tag}, eng, plain.data());
  memory w_mem(w_md, eng);
  reorder(w_plain, w_mem).execute(strm, w_plain, w_mem);
  std::vector<uint8_t> src(o.input), dst(static_cast<size_t>(oh * ow * l.cout));
  std::vector<int32_t> bias(o.bias);
  memory src_mem(src_md, eng, src.data()), dst_mem(dst_md, eng, dst.data()), b_mem(b_md, eng, bias.data());
  const std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_BIAS, b_mem}, {DNNL_ARG_DST, dst_mem}};
  for (auto _ : state) {
    prim.execute(strm, args);
    strm.wait();
  }
  state.counters["GMAC/s"] =
      benchmark::Counter(bench::macs(l) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["%peak"] = benchmark::Counter(bench::macs(l) / (kPeakPerCore * threads) * 100.0,
                                               benchmark::Counter::kIsIterationInvariantRate);
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
    std::printf("\n%-34s %8s %12s %12s %10s\n", "layer", "threads", "octet ms", "oneDNN ms", "octet/oneDNN");
    for (const auto& [name, ms] : medians_) {
      if (name.rfind("octet/", 0) != 0) continue;
      const std::string peer = "onednn/" + name.substr(6);
      const auto it = medians_.find(peer);
      if (it == medians_.end()) continue;
      const size_t slash = name.rfind('/');
      std::printf("%-34s %8s %12.3f %12.3f %10.2fx\n", name.substr(6, slash - 6).c_str(),
                  name.substr(slash + 1).c_str(), ms, it->second, ms / it->second);
    }
  }

 private:
  std::map<std::string, double> medians_;
};

}  // namespace
}  // namespace octet

int main(int argc, char** argv) {
  for (const octet::Layer& l : octet::kLayers) {
    benchmark::RegisterBenchmark((std::string("octet/") + l.name).c_str(), octet::BM_octet, l)
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(0.3);
    benchmark::RegisterBenchmark((std::string("onednn/") + l.name).c_str(), octet::BM_onednn, l)
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(0.3);
  }
  benchmark::Initialize(&argc, argv);
  octet::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
