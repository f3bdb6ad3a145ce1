// The layer suite of ../shared/peers/PEERS.md (L1-L7, batch 1, NHWC) through the scalar reference
// operators: the baseline every fast kernel is measured against. Counters: GMAC/s.

#include <benchmark/benchmark.h>

#include <random>

#include "benchmarks/layer_suite.h"
#include "kernels/reference/conv2d.h"
#include "kernels/reference/conv_transpose2d.h"

namespace octet {
namespace {

using ConvLayer = bench::Layer;
using bench::kLayers;

void BM_ReferenceConv(benchmark::State& state, const ConvLayer& layer) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127);
  TensorU8 input({1, layer.h, layer.w, layer.cin}, QuantParams::per_tensor(0.02f, 128));
  for (auto& v : input.data)
    v = static_cast<uint8_t>(u8(rng));
  const int64_t cin_g = layer.cin / layer.groups;
  TensorS8 weights({layer.cout, layer.k, layer.k, cin_g}, QuantParams::per_tensor(0.003f, 0));
  for (auto& v : weights.data)
    v = static_cast<int8_t>(s8(rng));
  const QuantParams output = QuantParams::per_tensor(0.05f, 128);
  for (auto _ : state) {
    TensorU8 out;
    if (layer.transposed) {
      ref::ConvTranspose2dParams p;
      p.stride_h = p.stride_w = layer.stride;
      out = ref::conv_transpose2d(input, weights, nullptr, p, output);
    } else {
      ref::Conv2dParams p;
      p.stride_h = p.stride_w = layer.stride;
      p.dilation_h = p.dilation_w = layer.dilation;
      p.pad = {layer.pad, layer.pad, layer.pad, layer.pad};
      p.groups = layer.groups;
      out = ref::conv2d(input, weights, nullptr, p, output);
    }
    benchmark::DoNotOptimize(out.data.data());
  }
  // Transposed: every input pixel meets every tap once; direct: every output pixel does.
  const double macs = bench::macs(layer);
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MMAC"] = macs * 1e-6;
}

const bool registered = [] {
  for (const ConvLayer& layer : kLayers)
    benchmark::RegisterBenchmark((std::string("reference/") + layer.name).c_str(), BM_ReferenceConv, layer)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
  return true;
}();

}  // namespace
}  // namespace octet

BENCHMARK_MAIN();
