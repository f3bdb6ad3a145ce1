// conv2d against float64 convolution of the dequantized operands, quantized at the end, in both
// requantization modes; the float mode also against its float32 definition recomputed from int64
// accumulators.

#include "kernels/reference/conv2d.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/error.h"
#include "kernels/quantization/float_requant.h"
#include "test_util.h"

namespace octet {
namespace {

// Exact real-valued convolution, written independently of the kernel (NHWC, weights [Co, KH, KW, Ci/g]).
template <class W>
std::vector<double> conv2d_float64(const TensorU8& in, const Tensor<W>& w, const TensorS32* bias,
                                   const ref::Conv2dParams& p, int64_t oh, int64_t ow) {
  const std::vector<double> x = test::real_values(in), k = test::real_values(w);
  const int64_t n = in.dim(0), ih = in.dim(1), iw = in.dim(2), ci = in.dim(3);
  const int64_t co = w.dim(0), kh = w.dim(1), kw = w.dim(2), cig = w.dim(3), cog = co / p.groups;
  std::vector<double> out;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo)
        for (int64_t oc = 0; oc < co; ++oc) {
          double acc =
              bias ? bias->data[oc] * static_cast<double>(in.quant.scale()) * w.quant.scale(oc) : 0.0;
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx)
              for (int64_t c = 0; c < cig; ++c) {
                const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
                const int64_t ix = xo * p.stride_w - p.pad.left + kx * p.dilation_w;
                if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                const int64_t ic = (oc / cog) * cig + c;
                acc += x[((b * ih + iy) * iw + ix) * ci + ic] * k[((oc * kh + ky) * kw + kx) * cig + c];
              }
          out.push_back(acc);
        }
  return out;
}

template <class W>
void run_random_conv(uint64_t seed, bool asymmetric_weights) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  test::Random rng(seed);
  ref::Conv2dParams p;
  const int64_t groups_choice = rng.integer(0, 2);
  const int64_t cig = rng.integer(1, 6);
  p.groups = groups_choice == 0 ? 1 : rng.integer(2, 4);
  const int64_t ci = cig * p.groups, co = p.groups * rng.integer(1, 4);
  const int64_t kh = rng.integer(1, 4), kw = rng.integer(1, 4);
  p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
  p.dilation_h = rng.integer(1, 2), p.dilation_w = rng.integer(1, 2);
  p.pad = {rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2)};
  const int64_t ih = rng.integer(p.dilation_h * (kh - 1) + 1, 10),
                iw = rng.integer(p.dilation_w * (kw - 1) + 1, 10);
  const TensorU8 in = rng.activations({rng.integer(1, 2), ih, iw, ci}, rng.activation_params());
  const auto w = test::random_weights<W>(rng, {co, kh, kw, cig}, rng.coin(), asymmetric_weights);
  const TensorS32 bias = test::random_bias(rng, co, in.quant, w);
  const bool use_bias = rng.coin();

  const int64_t oh = (ih + p.pad.top + p.pad.bottom - p.dilation_h * (kh - 1) - 1) / p.stride_h + 1;
  const int64_t ow = (iw + p.pad.left + p.pad.right - p.dilation_w * (kw - 1) - 1) / p.stride_w + 1;
  const std::vector<double> exact = conv2d_float64(in, w, use_bias ? &bias : nullptr, p, oh, ow);
  const QuantParams out_q = test::params_covering(exact);
  const Clamp clamp = rng.coin() ? Clamp{} : activation_clamp(Activation::relu, out_q);

  const TensorU8 out = ref::conv2d(in, w, use_bias ? &bias : nullptr, p, out_q, clamp);
  ASSERT_EQ(out.shape, (Shape{in.dim(0), oh, ow, co}));
  EXPECT_EQ(out.quant, out_q);
  // Within 1 LSB: the only difference from float64 is the fixed-point multiplier's rounding (< 2^-30
  // relative) plus its round-half-up where float rounds half to even.
  EXPECT_LE(test::max_lsb_difference(out, test::quantize_all(exact, out_q, clamp.min, clamp.max)), 1);
  // Bit-exact against exact integer accumulators requantized by the documented arithmetic: catches any
  // accumulator error, however far below 1 LSB.
  const TensorS32 unit_bias = test::with_unit_scales(bias);
  const std::vector<double> accs = conv2d_float64(test::with_unit_scales(in), test::with_unit_scales(w),
                                                  use_bias ? &unit_bias : nullptr, p, oh, ow);
  EXPECT_EQ(test::max_lsb_difference(
                out, test::requantize_exact_accumulators(accs, in.quant.scale(), w.quant, out_q, co, clamp)),
            0);

  // The float mode: the same two bounds, its float32 scale (2^-24 relative) in place of the multiplier.
  const TensorU8 out_float =
      ref::conv2d(in, w, use_bias ? &bias : nullptr, p, out_q, clamp, RequantMode::float_scale);
  ASSERT_EQ(out_float.shape, out.shape);
  EXPECT_EQ(out_float.quant, out_q);
  EXPECT_LE(test::max_lsb_difference(out_float, test::quantize_all(exact, out_q, clamp.min, clamp.max)), 1);
  EXPECT_EQ(test::max_lsb_difference(
                out_float, test::requantize_exact_accumulators(accs, in.quant.scale(), w.quant, out_q, co,
                                                               clamp, RequantMode::float_scale)),
            0);
}

TEST(Conv2d, RandomShapesSymmetricInt8Weights) {
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed)
    run_random_conv<int8_t>(seed, false);
}

TEST(Conv2d, RandomShapesAsymmetricInt8Weights) {
  for (uint64_t seed = 1000; seed < 1000 + test::random_trials(200); ++seed)
    run_random_conv<int8_t>(seed, true);
}

TEST(Conv2d, RandomShapesAsymmetricUint8Weights) {
  for (uint64_t seed = 2000; seed < 2000 + test::random_trials(200); ++seed)
    run_random_conv<uint8_t>(seed, true);
}

TEST(Conv2d, DepthwiseWithChannelMultiplier) {
  for (uint64_t seed = 3000; seed < 3050; ++seed) {
    test::Random rng(seed);
    const int64_t c = rng.integer(1, 8), mult = rng.integer(1, 3);
    const TensorU8 in = rng.activations({1, 7, 6, c}, rng.activation_params());
    const auto w = test::random_weights<int8_t>(rng, {c * mult, 3, 3, 1}, true, false);
    ref::Conv2dParams p;
    p.groups = c;
    p.pad = {1, 1, 1, 1};
    const std::vector<double> exact = conv2d_float64(in, w, nullptr, p, 7, 6);
    const QuantParams out_q = test::params_covering(exact);
    const TensorU8 out = ref::conv2d(in, w, nullptr, p, out_q);
    EXPECT_LE(test::max_lsb_difference(out, test::quantize_all(exact, out_q)), 1);
  }
}

// Extreme operands: every activation at 0 or 255 against weights at -127 / 127 (and -128 for the full
// int8 range), with the largest K the overflow guard admits. Exactness here is what the fast kernels'
// tests lean on.
TEST(Conv2d, ExtremeValuesAndLargeK) {
  for (int32_t a_value : {0, 255})
    for (int32_t w_value : {-128, -127, 127}) {
      // K = 64 x 3 x 3 = 576 products of magnitude up to 255 * 128.
      const TensorU8 in({1, 4, 4, 64}, std::vector<uint8_t>(4 * 4 * 64, static_cast<uint8_t>(a_value)),
                        QuantParams::per_tensor(0.02f, 0));
      TensorS8 w({8, 3, 3, 64}, std::vector<int8_t>(8 * 9 * 64, static_cast<int8_t>(w_value)),
                 QuantParams::per_tensor(0.001f, 0));
      ref::Conv2dParams p;
      p.pad = {1, 1, 1, 1};
      const std::vector<double> exact = conv2d_float64(in, w, nullptr, p, 4, 4);
      const QuantParams out_q = test::params_covering(exact);
      const TensorU8 out = ref::conv2d(in, w, nullptr, p, out_q);
      EXPECT_LE(test::max_lsb_difference(out, test::quantize_all(exact, out_q)), 1)
          << a_value << " " << w_value;
    }
  // The largest reduction for symmetric int8 weights and z_a = 0: 255 * 127 * K <= 2^31 - 1 -> K = 66311.
  const int64_t k_max = 66311;
  const TensorU8 in({1, 1, 1, k_max}, std::vector<uint8_t>(k_max, 255), QuantParams::per_tensor(1.0f, 0));
  const TensorS8 w({1, 1, 1, k_max}, std::vector<int8_t>(k_max, 127), QuantParams::per_tensor(1.0f, 0));
  const QuantParams out_q = QuantParams::per_tensor(1e7f, 0);
  const TensorU8 out = ref::conv2d(in, w, nullptr, {}, out_q);
  EXPECT_EQ(out.data[0], static_cast<uint8_t>(std::nearbyint(255.0 * 127.0 * k_max / 1e7)));
  // One more product could overflow: refused with an error that says so.
  const TensorU8 in2({1, 1, 1, k_max + 1}, std::vector<uint8_t>(k_max + 1, 255),
                     QuantParams::per_tensor(1.0f, 0));
  const TensorS8 w2({1, 1, 1, k_max + 1}, std::vector<int8_t>(k_max + 1, 127),
                    QuantParams::per_tensor(1.0f, 0));
  try {
    (void)ref::conv2d(in2, w2, nullptr, {}, out_q);
    FAIL() << "expected an overflow error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("overflow"), std::string::npos) << e.what();
  }
}

// The int32 accumulators of a conv2d computed directly in int64 from the quantized values, written apart
// from both the kernel and conv2d_float64: bias[oc] + sum (a - z_a)(w - z_w[oc]) over the taps that land
// inside the input (a padding tap reads z_a and adds nothing).
template <class W>
std::vector<int64_t> conv2d_accumulators(const TensorU8& in, const Tensor<W>& w, const TensorS32* bias,
                                         const ref::Conv2dParams& p, int64_t oh, int64_t ow) {
  const int64_t n = in.dim(0), ih = in.dim(1), iw = in.dim(2), ci = in.dim(3);
  const int64_t co = w.dim(0), kh = w.dim(1), kw = w.dim(2), cig = w.dim(3), cog = co / p.groups;
  const int64_t za = in.quant.zero_point();
  std::vector<int64_t> out;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo)
        for (int64_t oc = 0; oc < co; ++oc) {
          const int64_t zw = w.quant.zero_point(oc);
          int64_t acc = bias ? bias->data[oc] : 0;
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
              const int64_t ix = xo * p.stride_w - p.pad.left + kx * p.dilation_w;
              if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
              for (int64_t c = 0; c < cig; ++c) {
                const int64_t a = in.data[((b * ih + iy) * iw + ix) * ci + (oc / cog) * cig + c];
                const int64_t wv = w.data[((oc * kh + ky) * kw + kx) * cig + c];
                acc += (a - za) * (wv - zw);
              }
            }
          out.push_back(acc);
        }
  return out;
}

// One random conv in the float mode against clamp(nearest_even(float32(acc) * scale)) + z_out with
// scale = float_requant_scale(s_in, s_w[c], s_out), byte for byte. Every other case has power-of-two scales,
// so that acc * scale often lands exactly on .5 and the two modes' tie rules meet; returns how many bytes
// the fixed-point mode gives differently.
template <class W>
int64_t check_float_mode_against_recomputation(uint64_t seed, bool asymmetric_weights) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  test::Random rng(seed);
  ref::Conv2dParams p;
  p.groups = rng.coin() ? 1 : rng.integer(2, 3);
  const int64_t cig = rng.integer(1, 8), co = p.groups * rng.integer(1, 5);
  const int64_t kh = rng.integer(1, 3), kw = rng.integer(1, 3);
  p.stride_h = rng.integer(1, 2), p.stride_w = rng.integer(1, 2);
  p.dilation_h = rng.integer(1, 2), p.dilation_w = rng.integer(1, 2);
  p.pad = {rng.integer(0, 1), rng.integer(0, 1), rng.integer(0, 1), rng.integer(0, 1)};
  const int64_t ih = rng.integer(p.dilation_h * (kh - 1) + 1, 9),
                iw = rng.integer(p.dilation_w * (kw - 1) + 1, 9);
  const bool power_of_two = seed % 2 == 0;
  QuantParams in_q = rng.activation_params();
  if (power_of_two) in_q.scales = {std::ldexp(1.0f, -static_cast<int>(rng.integer(5, 9)))};
  const TensorU8 in = rng.activations({rng.integer(1, 2), ih, iw, cig * p.groups}, in_q);
  auto w = test::random_weights<W>(rng, {co, kh, kw, cig}, rng.coin(), asymmetric_weights);
  if (power_of_two)
    for (auto& s : w.quant.scales)
      s = std::ldexp(1.0f, -static_cast<int>(rng.integer(5, 9)));
  const TensorS32 bias = test::random_bias(rng, co, in.quant, w);  // after the scales: its own follow them
  const TensorS32* b = rng.coin() ? &bias : nullptr;

  const int64_t oh = (ih + p.pad.top + p.pad.bottom - p.dilation_h * (kh - 1) - 1) / p.stride_h + 1;
  const int64_t ow = (iw + p.pad.left + p.pad.right - p.dilation_w * (kw - 1) - 1) / p.stride_w + 1;
  const std::vector<int64_t> accs = conv2d_accumulators(in, w, b, p, oh, ow);
  std::vector<double> reals(accs.size());
  double largest = 0.0;
  for (size_t i = 0; i < accs.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) % co;
    reals[i] = static_cast<double>(accs[i]) * in.quant.scale() * w.quant.scale(c);
    largest = std::max(largest, std::abs(reals[i]));
  }
  // Output params that spread the results over the byte range: a power of two around zero point 128 in the
  // power-of-two cases, the usual covering params otherwise.
  const QuantParams out_q =
      power_of_two
          ? QuantParams::per_tensor(std::ldexp(1.0f, std::ilogb(std::max(largest, 1e-6) / 127.0) + 1), 128)
          : test::params_covering(reals);
  const Clamp clamp = seed % 3 == 0   ? Clamp{}
                      : seed % 3 == 1 ? activation_clamp(Activation::relu, out_q)
                                      : Clamp{static_cast<int32_t>(rng.integer(0, 100)),
                                              static_cast<int32_t>(rng.integer(150, 255))};

  const TensorU8 got = ref::conv2d(in, w, b, p, out_q, clamp, RequantMode::float_scale);
  const TensorU8 fixed = ref::conv2d(in, w, b, p, out_q, clamp, RequantMode::fixed_point);
  EXPECT_EQ(got.shape, (Shape{in.dim(0), oh, ow, co}));
  EXPECT_EQ(got.data.size(), accs.size());
  if (got.data.size() != accs.size()) return 0;
  int64_t differs = 0;
  for (size_t i = 0; i < accs.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) % co;
    // The overflow guard admits only accumulators that int32 holds.
    if (accs[i] < std::numeric_limits<int32_t>::min() || accs[i] > std::numeric_limits<int32_t>::max()) {
      ADD_FAILURE() << "output " << i << ": accumulator " << accs[i] << " outside int32";
      return differs;
    }
    const float scale = float_requant_scale(in.quant.scale(), w.quant.scale(c), out_q.scale());
    const int32_t want =
        requantize_float(static_cast<int32_t>(accs[i]), scale, out_q.zero_point(), clamp.min, clamp.max);
    const int32_t byte = got.data[i];
    EXPECT_EQ(byte, want) << "output " << i << ", accumulator " << accs[i] << ", scale " << scale;
    if (byte != want) return differs;  // one report per case, not one per byte
    differs += got.data[i] != fixed.data[i];
  }
  return differs;
}

TEST(Conv2d, FloatModeMatchesFloat32Recomputation) {
  int64_t differs = 0;
  for (uint64_t seed = 4000; seed < 4000 + test::random_trials(200); ++seed)
    differs += check_float_mode_against_recomputation<int8_t>(seed, seed % 4 >= 2);
  for (uint64_t seed = 4200; seed < 4200 + test::random_trials(100); ++seed)
    differs += check_float_mode_against_recomputation<uint8_t>(seed, true);
  // The ties of the power-of-two cases round differently in the two modes: the float mode really is
  // another arithmetic, not the fixed-point one under another name.
  EXPECT_GT(differs, 0);
}

// acc * M exactly on .5, with M = 1 * 1 / 4: fixed point (M0 = 2^30 with a rounding right shift of 1)
// rounds the tie away from zero, the float mode rounds it to even, as ONNX Runtime does. Quarter values
// off the tie round the same in both. One output pixel per accumulator, through a 1x1 conv of weight 1.
TEST(Conv2d, RequantModesRoundTiesDifferently) {
  const int32_t accs[] = {2, -2, 6, -6, 10, -10, 14, -14, 3, -3};
  const uint8_t want_fixed[] = {129, 127, 130, 126, 131, 125, 132, 124, 129, 127};
  const uint8_t want_float[] = {128, 128, 130, 126, 130, 126, 132, 124, 129, 127};
  constexpr int32_t kBias = -20;  // the accumulator is a - 20: negative ones from bytes
  std::vector<uint8_t> input;
  for (int32_t acc : accs)
    input.push_back(static_cast<uint8_t>(acc - kBias));
  const TensorU8 in({1, 1, 10, 1}, input, QuantParams::per_tensor(1.0f, 0));
  const TensorS8 w({1, 1, 1, 1}, {1}, QuantParams::per_tensor(1.0f, 0));
  const TensorS32 bias({1}, {kBias}, QuantParams::per_tensor(1.0f, 0));
  const QuantParams out = QuantParams::per_tensor(4.0f, 128);
  const TensorU8 fixed = ref::conv2d(in, w, &bias, {}, out, Clamp{}, RequantMode::fixed_point);
  const TensorU8 by_default = ref::conv2d(in, w, &bias, {}, out);
  const TensorU8 as_float = ref::conv2d(in, w, &bias, {}, out, Clamp{}, RequantMode::float_scale);
  for (size_t i = 0; i < std::size(accs); ++i) {
    SCOPED_TRACE("accumulator " + std::to_string(accs[i]));
    EXPECT_EQ(fixed.data[i], want_fixed[i]);
    EXPECT_EQ(by_default.data[i], want_fixed[i]);  // fixed point is the default
    EXPECT_EQ(as_float.data[i], want_float[i]);
  }
}

TEST(Conv2d, ZeroPointPaddingIsRealZero) {
  // A 3x3 all-ones kernel over a constant image of real value 0 (q == zero point) gives exactly the output
  // zero point everywhere, padding included.
  const TensorU8 in({1, 5, 5, 3}, std::vector<uint8_t>(75, 113), QuantParams::per_tensor(0.1f, 113));
  const TensorS8 w({2, 3, 3, 3}, std::vector<int8_t>(54, 1), QuantParams::per_tensor(0.5f, 0));
  ref::Conv2dParams p;
  p.pad = {1, 1, 1, 1};
  const TensorU8 out = ref::conv2d(in, w, nullptr, p, QuantParams::per_tensor(0.3f, 77));
  for (uint8_t v : out.data)
    EXPECT_EQ(v, 77);
}

}  // namespace
}  // namespace octet
