// conv2d against float64 convolution of the dequantized operands, quantized at the end.

#include "kernels/reference/conv2d.h"

#include <gtest/gtest.h>

#include "kernels/error.h"
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
}

TEST(Conv2d, RandomShapesSymmetricInt8Weights) {
  for (uint64_t seed = 0; seed < 300; ++seed)
    run_random_conv<int8_t>(seed, false);
}

TEST(Conv2d, RandomShapesAsymmetricInt8Weights) {
  for (uint64_t seed = 1000; seed < 1200; ++seed)
    run_random_conv<int8_t>(seed, true);
}

TEST(Conv2d, RandomShapesAsymmetricUint8Weights) {
  for (uint64_t seed = 2000; seed < 2200; ++seed)
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
