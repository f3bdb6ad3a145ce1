#pragma once

// The benchmark layer suite of ../shared/peers/PEERS.md (L1-L7), and rows of our own (depthwise D5, D7,
// D3d2; dense R7, A3d12): batch 1, NHWC, uint8 activations, int8 per-channel weights. Shared by every
// benchmark program so that their figures compare.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <random>
#include <vector>

namespace octet::bench {

struct Layer {
  const char* name;
  int64_t h, w, cin, cout, k, stride, pad, groups;
  bool transposed;
  int64_t dilation = 1;  // direct convolutions only
};

constexpr Layer kLayers[] = {
    {"L1_conv3x3_56x56_64to64", 56, 56, 64, 64, 3, 1, 1, 1, false},
    {"L2_conv1x1_56x56_256to64", 56, 56, 256, 64, 1, 1, 0, 1, false},
    {"L3_conv3x3s2_56x56_128to128", 56, 56, 128, 128, 3, 2, 1, 1, false},
    {"L4_depthwise3x3_112x112_96", 112, 112, 96, 96, 3, 1, 1, 96, false},
    {"L5_conv3x3_256x256_3to32", 256, 256, 3, 32, 3, 1, 1, 1, false},
    {"L6_convT2x2s2_64x64_128to64", 64, 64, 128, 64, 2, 2, 0, 1, true},
    {"L7_conv3x3_32x32_256to256", 32, 32, 256, 256, 3, 1, 1, 1, false},
    // Beyond PEERS.md: the 5x5 and 7x7 depthwise column kernels (MobileNetV3 / EfficientNet, ConvNeXt),
    // which L4 (3x3) does not exercise.
    {"D5_depthwise5x5_28x28_120", 28, 28, 120, 120, 5, 1, 2, 120, false},
    {"D7_depthwise7x7_56x56_96", 56, 56, 96, 96, 7, 1, 3, 96, false},
    // A dilated (atrous) 3x3 depthwise layer: the 960-channel blocks of DeepLabV3's MobileNetV2 backbone at
    // output stride 16 (513 x 513 input), which run the column kernel one phase of every other pixel at a
    // time.
    {"D3d2_depthwise3x3_dilation2_33x33_960", 33, 33, 960, 960, 3, 1, 2, 960, false, 2},
    // Dense layers where much of the kernel lies in the padding, which octet skips: the last stage of a
    // ResNet at 224 x 224 (7x7 map: 18% of the taps are padding), and an atrous (ASPP) branch of DeepLabV3
    // at output stride 16 (dilation 12 on 33x33: 43%).
    {"R7_conv3x3_7x7_512to512", 7, 7, 512, 512, 3, 1, 1, 1, false},
    {"A3d12_conv3x3_dilation12_33x33_320to256", 33, 33, 320, 256, 3, 1, 12, 1, false, 12},
    // A ResNet bottleneck's 1x1 expansion (and its downsampling branch) in the first stage: K = 64 and four
    // times as many outputs as L2, so that the requantization and the stores weigh more than the
    // multiplies.
    {"E1_conv1x1_56x56_64to256", 56, 56, 64, 256, 1, 1, 0, 1, false},
};

constexpr int64_t output_size(const Layer& l, int64_t in) {
  return l.transposed ? (in - 1) * l.stride + l.k - 2 * l.pad
                      : (in + 2 * l.pad - l.dilation * (l.k - 1) - 1) / l.stride + 1;
}

// Multiply-accumulates: a transposed convolution's every input pixel meets every tap once; a direct
// one's every output pixel does.
constexpr double macs(const Layer& l) {
  const double taps = double(l.k) * double(l.k) * double(l.cin / l.groups) * double(l.cout);
  return l.transposed ? double(l.h) * double(l.w) * taps
                      : double(output_size(l, l.h)) * double(output_size(l, l.w)) * taps;
}

// This machine's VNNI peak per core (PEERS.md: vpdpbusd zmm, 64 MACs per cycle at 3.65 GHz), the
// denominator of the %peak counter.
constexpr double kPeakPerCore = 234e9;

// Activation buffers start on a cache line, as every tensor in octet's arena (runtime/memory_plan.h) and
// every buffer oneDNN allocates itself do: a std::vector's 16-byte alignment would split a 64-byte access
// in three of four places and time that instead of the layer.
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  explicit CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, size_t) { ::operator delete (p, std::align_val_t{64}); }
  friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) { return true; }
};
using AlignedBytes = std::vector<uint8_t, CacheLineAllocator<uint8_t>>;

// Deterministic operands shared by both runtimes.
struct Operands {
  AlignedBytes input;
  std::vector<int8_t> weights;  // [cout, k, k, cin / groups]
  std::vector<float> weight_scales;
  std::vector<int32_t> bias;
  float in_scale = 0.02f, out_scale = 0.05f;
  int32_t in_zp = 0,
          out_zp = 0;  // oneDNN's fast path has no zero points; octet's cost does not depend on them
};

inline Operands make_operands(const Layer& l) {
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

// GMAC/s and % of peak, the counters every runtime's benchmark of a layer reports.
inline void set_layer_counters(benchmark::State& state, const Layer& l, int threads) {
  state.counters["GMAC/s"] =
      benchmark::Counter(macs(l) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["%peak"] = benchmark::Counter(macs(l) / (kPeakPerCore * threads) * 100.0,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace octet::bench
