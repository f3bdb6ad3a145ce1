#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "kernels/error.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/quantize.h"
#include "kernels/reference/conv2d.h"
#include "tools/commands.h"

namespace octet::tools {

namespace {

int64_t parse_positive(std::string_view flag, std::string_view value) {
  try {
    const long long v = std::stoll(std::string(value));
    if (v >= 1 && v <= 4096) return v;
  } catch (const std::exception&) {
  }
  throw Error(std::string(flag) + " expects an integer in [1, 4096], got '" + std::string(value) + "'");
}

float min_of(const std::vector<float>& v) {
  return *std::min_element(v.begin(), v.end());
}
float max_of(const std::vector<float>& v) {
  return *std::max_element(v.begin(), v.end());
}

void show_arithmetic() {
  std::printf("== Quantization arithmetic ==\n");
  const QuantParams act = choose_qparams(-1.0, 3.0, ElementType::u8, false);
  std::printf("activation range [-1, 3] -> uint8 scale %.6f, zero point %d (real 0.0 -> q %d exactly)\n",
              act.scale(), act.zero_point(),
              quantize_value(0.0f, act.scale(), act.zero_point(), range_of(ElementType::u8)));
  for (float x : {-1.0f, 0.7f, 2.5f, 9.0f}) {
    const int32_t q = quantize_value(x, act.scale(), act.zero_point(), range_of(ElementType::u8));
    std::printf("  quantize(%5.2f) = %3d -> dequantize = %8.5f\n", x, q,
                dequantize_value(q, act.scale(), act.zero_point()));
  }
  const double m = 0.0123 * 0.004 / 0.05;
  const FixedMultiplier f = quantize_multiplier(m);
  std::printf("requantization multiplier M = s_in * s_w / s_out = %.9g -> M0 = %d (Q31), right shift %d\n", m,
              f.multiplier, f.right_shift);
  for (int32_t acc : {-70000, 12345, 500000})
    std::printf("  requantize(acc %7d) = %4d   (round(acc * M) + 128 = %.0f)\n", acc,
                requantize(acc, f, 128, 0, 255), std::nearbyint(acc * m) + 128);
}

}  // namespace

int run_demo(std::span<const std::string_view> args) {
  int64_t size = 56, channels = 32;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (i + 1 >= args.size()) throw Error("demo: option '" + std::string(flag) + "' needs a value");
    const std::string_view value = args[++i];
    if (flag == "--size")
      size = parse_positive(flag, value);
    else if (flag == "--channels")
      channels = parse_positive(flag, value);
    else
      throw Error("demo: unknown option '" + std::string(flag) + "'");
  }
  show_arithmetic();

  std::printf("\n== Reference int8 convolution: 3x3, pad 1, %lldx%lldx%lld -> %lld channels, NHWC ==\n",
              static_cast<long long>(size), static_cast<long long>(size), static_cast<long long>(channels),
              static_cast<long long>(channels));
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  TensorF32 image({1, size, size, channels});
  for (auto& v : image.data)
    v = std::max(0.0f, normal(rng));  // post-ReLU activations
  TensorF32 kernel({channels, 3, 3, channels});
  for (auto& v : kernel.data)
    v = 0.05f * normal(rng);

  // Activations: asymmetric uint8 per tensor. Weights: symmetric int8 per output channel.
  const QuantParams in_q = choose_qparams(min_of(image.data), max_of(image.data), ElementType::u8, false);
  std::vector<float> w_scales;
  const int64_t per_channel = 9 * channels;
  for (int64_t c = 0; c < channels; ++c) {
    const auto first = kernel.data.begin() + c * per_channel;
    const auto [lo, hi] = std::minmax_element(first, first + per_channel);
    w_scales.push_back(choose_qparams(*lo, *hi, ElementType::s8, true).scale());
  }
  const QuantParams w_q = QuantParams::per_axis(w_scales, std::vector<int32_t>(w_scales.size(), 0), 0);
  const TensorU8 qimage = quantize<uint8_t>(image, in_q);
  const TensorS8 qkernel = quantize<int8_t>(kernel, w_q);

  // The float convolution of the original data is the yardstick.
  std::vector<float> expected(static_cast<size_t>(size * size * channels));
  for (int64_t y = 0; y < size; ++y)
    for (int64_t x = 0; x < size; ++x)
      for (int64_t oc = 0; oc < channels; ++oc) {
        double acc = 0.0;
        for (int64_t ky = 0; ky < 3; ++ky)
          for (int64_t kx = 0; kx < 3; ++kx) {
            const int64_t iy = y + ky - 1, ix = x + kx - 1;
            if (iy < 0 || iy >= size || ix < 0 || ix >= size) continue;
            for (int64_t ic = 0; ic < channels; ++ic)
              acc += double{image.data[static_cast<size_t>((iy * size + ix) * channels + ic)]} *
                     kernel.data[static_cast<size_t>(((oc * 3 + ky) * 3 + kx) * channels + ic)];
          }
        expected[static_cast<size_t>((y * size + x) * channels + oc)] = static_cast<float>(acc);
      }
  const QuantParams out_q = choose_qparams(min_of(expected), max_of(expected), ElementType::u8, false);

  ref::Conv2dParams params;
  params.pad = {1, 1, 1, 1};
  const auto start = std::chrono::steady_clock::now();
  const TensorU8 qout = ref::conv2d(qimage, qkernel, nullptr, params, out_q);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const TensorF32 out = dequantize(qout);

  double max_error = 0.0, sum_sq = 0.0, sum_sq_ref = 0.0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double e = double{out.data[i]} - expected[i];
    max_error = std::max(max_error, std::abs(e));
    sum_sq += e * e;
    sum_sq_ref += double{expected[i]} * expected[i];
  }
  const double macs = static_cast<double>(size * size * channels) * 9.0 * static_cast<double>(channels);
  std::printf("input  scale %.5f zp %d | weights per-channel scales %.5f..%.5f | output scale %.5f zp %d\n",
              in_q.scale(), in_q.zero_point(), *std::min_element(w_scales.begin(), w_scales.end()),
              *std::max_element(w_scales.begin(), w_scales.end()), out_q.scale(), out_q.zero_point());
  std::printf("int8 vs float: max |error| %.5f (%.2f output LSB), signal-to-noise %.1f dB\n", max_error,
              max_error / out_q.scale(), 10.0 * std::log10(sum_sq_ref / std::max(sum_sq, 1e-30)));
  std::printf("scalar reference kernel: %.2f ms, %.3f GMAC/s (the oracle, not the fast path)\n",
              seconds * 1e3, macs / seconds * 1e-9);
  return 0;
}

}  // namespace octet::tools
