#pragma once

// Helpers shared by the kernel tests: seeded random tensors and params, and float64 views of quantized data.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/quantization/quantize.h"
#include "kernels/tensor.h"

namespace octet::test {

// Every random test draws from a fixed seed so a failure reproduces; the seed is printed on failure by the
// SCOPED_TRACE the tests add.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  int64_t integer(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(engine_); }
  double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(engine_); }
  // A scale spread log-uniformly over [lo, hi].
  float scale(double lo = 1e-3, double hi = 1e-1) {
    return static_cast<float>(std::exp(real(std::log(lo), std::log(hi))));
  }
  bool coin() { return integer(0, 1) == 1; }
  std::mt19937_64& engine() { return engine_; }

  template <class T>
  std::vector<T> values(int64_t count, int32_t lo, int32_t hi) {
    std::vector<T> v(static_cast<size_t>(count));
    for (auto& x : v) x = static_cast<T>(integer(lo, hi));
    return v;
  }

  TensorU8 activations(Shape shape, QuantParams q, int32_t lo = 0, int32_t hi = 255) {
    const int64_t n = element_count(shape, "test");
    return TensorU8(std::move(shape), values<uint8_t>(n, lo, hi), std::move(q));
  }

  QuantParams activation_params() {
    return QuantParams::per_tensor(scale(), static_cast<int32_t>(integer(0, 255)));
  }

 private:
  std::mt19937_64 engine_;
};

// Dequantized values of a tensor in float64 (exact: (q - zp) * scale computed in double).
template <class T>
std::vector<double> real_values(const Tensor<T>& t) {
  std::vector<double> out(t.data.size());
  const AxisWalk walk = axis_walk(t.shape, t.quant);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t c = walk.index_of(static_cast<int64_t>(i));
    out[i] = (static_cast<double>(t.data[i]) - t.quant.zero_point(c)) * static_cast<double>(t.quant.scale(c));
  }
  return out;
}

// Quantizes an exact float64 result to uint8, rounding half to even, clamped to [lo, hi].
inline int32_t quantize_exact(double real, const QuantParams& q, int32_t lo = 0, int32_t hi = 255) {
  const double v = std::nearbyint(real / static_cast<double>(q.scale())) + q.zero_point();
  return static_cast<int32_t>(std::clamp(v, static_cast<double>(lo), static_cast<double>(hi)));
}

// Largest absolute difference between two uint8 tensors of the same shape.
inline int32_t max_lsb_difference(const TensorU8& a, const std::vector<int32_t>& expected) {
  EXPECT_EQ(a.data.size(), expected.size());
  int32_t worst = 0;
  for (size_t i = 0; i < std::min(a.data.size(), expected.size()); ++i)
    worst = std::max(worst, std::abs(static_cast<int32_t>(a.data[i]) - expected[i]));
  return worst;
}

}  // namespace octet::test
