#pragma once

// Helpers shared by the kernel tests: seeded random tensors and params, and float64 views of quantized data.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/float_kernels.h"
#include "kernels/isa.h"
#include "kernels/quantization/clamp.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/float_requant.h"
#include "kernels/quantization/quant_params.h"
#include "kernels/quantization/quantize.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::test {

// Whether this test program is built with AddressSanitizer or ThreadSanitizer (gcc defines the macros; clang
// 14 only __SANITIZE_ADDRESS__, so __has_feature too).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

// How many of a random test's `trials` run: all of them in a plain build, a quarter under a sanitizer.
// There each trial costs 10-30 times as much (ASan + UBSan: the kernel tests took most of CI's test time),
// and what the run looks for is a memory error or undefined behaviour on some code path: the first trials
// reach the same paths (the tests cycle their seeds through their shape classes and draw extreme values
// throughout), while the plain builds, Release and aarch64, check every trial's bytes. The test programs
// that the aarch64 build leaves out (OCTET_TEST_EVERY_TRIAL, tests/CMakeLists.txt) run every trial under
// the sanitizers too: UBSan is what stands in for their aarch64 run. A test that counts how often a path
// was taken scales its threshold the same way, random_trials(threshold). consteval, so that a loop compares
// with a known non-negative constant (no signedness warning).
consteval int random_trials(int trials) {
#ifdef OCTET_TEST_EVERY_TRIAL
  return trials;
#else
  return kSanitized ? trials / 4 : trials;
#endif
}

// The stride of a sweep over the 2^32 float bit patterns (b += step): `step` in a plain build, 8 times
// sparser (and odd, so both parities of the last mantissa bit stay in) under a sanitizer. The sweeps measure
// rounding errors and compare bits, which the plain builds do on every point; under ASan + UBSan, where each
// point costs 10-30 times as much, what they look for is undefined behaviour on the paths of every exponent
// and sign, which a sparser sweep still walks.
consteval uint64_t bit_pattern_step(uint64_t step) {
#ifdef OCTET_TEST_EVERY_TRIAL
  return step;
#else
  return kSanitized ? step * 8 + 1 : step;
#endif
}

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
    for (auto& x : v)
      x = static_cast<T>(integer(lo, hi));
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

namespace octet::test {

// Output params that spread the exact results over the uint8 range, so comparisons are not swamped by
// saturated values.
inline QuantParams params_covering(const std::vector<double>& reals) {
  double lo = 0.0, hi = 0.0;
  for (double r : reals)
    lo = std::min(lo, r), hi = std::max(hi, r);
  return choose_qparams(lo, hi, ElementType::u8, false);
}

// Quantizes exact results with `q`, clamped to [lo, hi].
inline std::vector<int32_t> quantize_all(const std::vector<double>& reals, const QuantParams& q,
                                         int32_t lo = 0, int32_t hi = 255) {
  std::vector<int32_t> out(reals.size());
  for (size_t i = 0; i < reals.size(); ++i)
    out[i] = quantize_exact(reals[i], q, lo, hi);
  return out;
}

// Random weights [rows, cols...] of type W with per-channel (axis 0) or per-tensor params; symmetric
// narrow-range int8 by default, or asymmetric with random zero points.
template <class W>
Tensor<W> random_weights(Random& rng, Shape shape, bool per_channel, bool asymmetric) {
  const int64_t rows = shape.at(0);
  const IntRange r = range_of(element_type_of<W>());
  const int64_t count = element_count(shape, "weights");
  Tensor<W> w(std::move(shape));
  const int32_t lo = asymmetric ? r.min : -127, hi = asymmetric ? r.max : 127;
  for (auto& v : w.data)
    v = static_cast<W>(rng.integer(lo, hi));
  const int64_t channels = per_channel ? rows : 1;
  std::vector<float> scales;
  std::vector<int32_t> zps;
  for (int64_t c = 0; c < channels; ++c) {
    scales.push_back(rng.scale(1e-3, 2e-2));
    zps.push_back(asymmetric ? static_cast<int32_t>(rng.integer(r.min, r.max)) : 0);
  }
  w.quant = per_channel ? QuantParams::per_axis(scales, zps, 0) : QuantParams::per_tensor(scales[0], zps[0]);
  (void)count;
  return w;
}

// Random int32 bias [channels] of magnitude up to `magnitude`, scale s_in * s_w[c].
template <class W>
TensorS32 random_bias(Random& rng, int64_t channels, const QuantParams& input, const Tensor<W>& weights,
                      int32_t magnitude = 2000) {
  TensorS32 b({channels});
  std::vector<float> scales;
  for (int64_t c = 0; c < channels; ++c) {
    b.data[static_cast<size_t>(c)] = static_cast<int32_t>(rng.integer(-magnitude, magnitude));
    scales.push_back(input.scale() * weights.quant.scale(c));
  }
  b.quant = QuantParams::per_axis(scales, std::vector<int32_t>(static_cast<size_t>(channels), 0), 0);
  return b;
}

}  // namespace octet::test

namespace octet::test {

// A copy of `t` whose scales are all 1: its real values are then the exact integers q - zero_point, so the
// float64 reference computations yield exact integer accumulators (all well below 2^53).
template <class T>
Tensor<T> with_unit_scales(Tensor<T> t) {
  for (auto& s : t.quant.scales)
    s = 1.0f;
  return t;
}

// The bit-exact expectation for a conv-like op: exact integer accumulators (from a float64 computation on
// unit-scale operands) requantized with the documented arithmetic of `mode` (fixed point, or ONNX Runtime's
// float32 scale), channel = index % channels.
inline std::vector<int32_t> requantize_exact_accumulators(const std::vector<double>& accs, double input_scale,
                                                          const QuantParams& weights, const QuantParams& out,
                                                          int64_t channels, Clamp clamp,
                                                          RequantMode mode = RequantMode::fixed_point) {
  std::vector<int32_t> expected(accs.size());
  for (size_t i = 0; i < accs.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) % channels;
    const auto acc = static_cast<int32_t>(accs[i]);
    if (mode == RequantMode::float_scale) {
      // input_scale came from a float, so narrowing it back is exact.
      const float scale = float_requant_scale(static_cast<float>(input_scale), weights.scale(c), out.scale());
      expected[i] = requantize_float(acc, scale, out.zero_point(), clamp.min, clamp.max);
    } else {
      const FixedMultiplier m = quantize_multiplier(input_scale * weights.scale(c) / out.scale());
      expected[i] = requantize(acc, m, out.zero_point(), clamp.min, clamp.max);
    }
  }
  return expected;
}

// Output written into a slice of wider rows (a convolution storing into its channel concatenation's output):
// a buffer of `pixels` rows of `stride` bytes filled with kUntouched, the slice starting `lead` bytes in.
inline constexpr uint8_t kUntouched = 0xEE;

struct StridedOutput {
  std::vector<uint8_t> buffer;
  int64_t pixels, channels, stride, lead;

  StridedOutput(int64_t pixels_, int64_t channels_, int64_t stride_, int64_t lead_)
      : buffer(static_cast<size_t>(pixels_ * stride_), kUntouched),
        pixels(pixels_),
        channels(channels_),
        stride(stride_),
        lead(lead_) {}
  uint8_t* slice() { return buffer.data() + lead; }

  // The slice's pixels gathered densely, for comparison with a dense reference.
  std::vector<uint8_t> dense() const {
    std::vector<uint8_t> out(static_cast<size_t>(pixels * channels));
    for (int64_t p = 0; p < pixels; ++p)
      for (int64_t c = 0; c < channels; ++c)
        out[static_cast<size_t>(p * channels + c)] = buffer[static_cast<size_t>(p * stride + lead + c)];
    return out;
  }

  // Bytes outside the slice that were written: the first one's offset, or -1.
  int64_t first_stray_write() const {
    for (int64_t i = 0; i < static_cast<int64_t>(buffer.size()); ++i) {
      const int64_t column = i % stride;
      const bool inside = column >= lead && column < lead + channels;
      if (!inside && buffer[static_cast<size_t>(i)] != kUntouched) return i;
    }
    return -1;
  }
};

// Both requantization modes, for the tests that loop over them.
inline constexpr RequantMode kRequantModes[] = {RequantMode::fixed_point, RequantMode::float_scale};

// The kernel-vs-reference suites run every ISA in both requantization modes: the SIMD epilogues of the two
// modes are different code, and each must match the scalar reference of its own mode.
using IsaMode = std::tuple<Isa, RequantMode>;

inline auto isas_and_modes(const std::vector<Isa>& isas) {
  return ::testing::Combine(::testing::ValuesIn(isas), ::testing::ValuesIn(kRequantModes));
}

// Instance names <isa>_<mode>: avx512vnni_fixed_point, neon_float. scripts/run-aarch64-tests.sh reads the
// ISAs back from the _fixed_point instances, so keep the mode last.
inline std::string isa_mode_name(const ::testing::TestParamInfo<IsaMode>& info) {
  return std::string(name_of(std::get<0>(info.param))) + "_" + std::string(name_of(std::get<1>(info.param)));
}

// The ISAs this CPU runs, the first of each that has its own float kernels (kernels/float_kernels.h): the
// float suites' instances. The three aarch64 ISAs share NEON's float kernels and avx512amx shares
// avx512vnni's, so an instance for each would run the same code again (under qemu, the aarch64 float
// suites spent two thirds of their time so).
inline std::vector<Isa> float_kernel_isas() {
  std::vector<Isa> isas;
  std::vector<const FloatKernels*> seen;
  for (const Isa isa : supported_isas()) {
    const FloatKernels* kernels = &float_kernels(isa);
    if (std::find(seen.begin(), seen.end(), kernels) != seen.end()) continue;
    seen.push_back(kernels);
    isas.push_back(isa);
  }
  return isas;
}

// Row-major index arithmetic of the element-moving operators' tests: element counts, an element's
// coordinates in a shape, and back.
inline int64_t count_of(const Shape& s) {
  return element_count(s, "test");
}

inline std::vector<int64_t> unravel(int64_t index, const Shape& s) {
  std::vector<int64_t> c(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    c[d] = index % s[d];
    index /= s[d];
  }
  return c;
}

inline int64_t ravel(const std::vector<int64_t>& c, const Shape& s) {
  int64_t index = 0;
  for (size_t d = 0; d < s.size(); ++d)
    index = index * s[d] + c[d];
  return index;
}

}  // namespace octet::test
