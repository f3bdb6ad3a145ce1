// conv_transpose2d against a float64 scatter-form transposed convolution (the kernel gathers; the test
// scatters, so the two share no indexing logic).

#include "kernels/reference/conv_transpose2d.h"

#include <gtest/gtest.h>

#include "kernels/error.h"
#include "test_util.h"

namespace octet {
namespace {

template <class W>
std::vector<double> conv_transpose_float64(const TensorU8& in, const Tensor<W>& w, const TensorS32* bias,
                                           const ref::ConvTranspose2dParams& p, int64_t oh, int64_t ow) {
  const std::vector<double> x = test::real_values(in), k = test::real_values(w);
  const int64_t n = in.dim(0), ih = in.dim(1), iw = in.dim(2), ci = in.dim(3);
  const int64_t co = w.dim(0), kh = w.dim(1), kw = w.dim(2), cig = w.dim(3), cog = co / p.groups;
  std::vector<double> out(static_cast<size_t>(n * oh * ow * co), 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo)
        for (int64_t oc = 0; oc < co; ++oc)
          out[((b * oh + y) * ow + xo) * co + oc] =
              bias ? bias->data[oc] * static_cast<double>(in.quant.scale()) * w.quant.scale(oc) : 0.0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t iy = 0; iy < ih; ++iy)
      for (int64_t ix = 0; ix < iw; ++ix)
        for (int64_t oc = 0; oc < co; ++oc)
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t y = iy * p.stride_h - p.pad.top + ky * p.dilation_h;
              const int64_t xo = ix * p.stride_w - p.pad.left + kx * p.dilation_w;
              if (y < 0 || y >= oh || xo < 0 || xo >= ow) continue;
              for (int64_t c = 0; c < cig; ++c) {
                const int64_t ic = (oc / cog) * cig + c;
                out[((b * oh + y) * ow + xo) * co + oc] +=
                    x[((b * ih + iy) * iw + ix) * ci + ic] * k[((oc * kh + ky) * kw + kx) * cig + c];
              }
            }
  return out;
}

void check_case(test::Random& rng, const TensorU8& in, const TensorS8& w, const ref::ConvTranspose2dParams& p,
                bool use_bias) {
  const int64_t kh = w.dim(1), kw = w.dim(2), co = w.dim(0);
  const int64_t oh = (in.dim(1) - 1) * p.stride_h - p.pad.top - p.pad.bottom + p.dilation_h * (kh - 1) +
                     p.output_padding_h + 1;
  const int64_t ow = (in.dim(2) - 1) * p.stride_w - p.pad.left - p.pad.right + p.dilation_w * (kw - 1) +
                     p.output_padding_w + 1;
  const TensorS32 bias = test::random_bias(rng, co, in.quant, w);
  const std::vector<double> exact = conv_transpose_float64(in, w, use_bias ? &bias : nullptr, p, oh, ow);
  const QuantParams out_q = test::params_covering(exact);
  const TensorU8 out = ref::conv_transpose2d(in, w, use_bias ? &bias : nullptr, p, out_q);
  ASSERT_EQ(out.shape, (Shape{in.dim(0), oh, ow, co}));
  EXPECT_LE(test::max_lsb_difference(out, test::quantize_all(exact, out_q)), 1);
  const TensorS32 unit_bias = test::with_unit_scales(bias);
  const std::vector<double> accs = conv_transpose_float64(
      test::with_unit_scales(in), test::with_unit_scales(w), use_bias ? &unit_bias : nullptr, p, oh, ow);
  EXPECT_EQ(test::max_lsb_difference(out, test::requantize_exact_accumulators(accs, in.quant.scale(), w.quant,
                                                                              out_q, co, Clamp{})),
            0);

  // The float requantization mode (the reference the transposed kernels' float path is held to): within
  // 1 LSB of float64 too, and bit-exact with its float32 definition.
  const TensorU8 out_float =
      ref::conv_transpose2d(in, w, use_bias ? &bias : nullptr, p, out_q, Clamp{}, RequantMode::float_scale);
  ASSERT_EQ(out_float.shape, out.shape);
  EXPECT_LE(test::max_lsb_difference(out_float, test::quantize_all(exact, out_q)), 1);
  EXPECT_EQ(test::max_lsb_difference(
                out_float, test::requantize_exact_accumulators(accs, in.quant.scale(), w.quant, out_q, co,
                                                               Clamp{}, RequantMode::float_scale)),
            0);
}

TEST(ConvTranspose2d, UNetUpsampling2x2Stride2) {
  test::Random rng(11);
  ref::ConvTranspose2dParams p;
  p.stride_h = p.stride_w = 2;
  const TensorU8 in = rng.activations({2, 5, 4, 16}, rng.activation_params());
  const auto w = test::random_weights<int8_t>(rng, {8, 2, 2, 16}, true, false);
  check_case(rng, in, w, p, true);
}

TEST(ConvTranspose2d, RandomShapes) {
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    ref::ConvTranspose2dParams p;
    p.groups = rng.coin() ? 1 : rng.integer(2, 3);
    const int64_t cig = rng.integer(1, 5), co = p.groups * rng.integer(1, 3);
    const int64_t kh = rng.integer(1, 4), kw = rng.integer(1, 4);
    p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
    p.dilation_h = rng.integer(1, 2), p.dilation_w = rng.integer(1, 2);
    p.output_padding_h = rng.integer(0, std::max(p.stride_h, p.dilation_h) - 1);
    p.output_padding_w = rng.integer(0, std::max(p.stride_w, p.dilation_w) - 1);
    p.pad = {rng.integer(0, kh - 1), rng.integer(0, kw - 1), rng.integer(0, kh - 1), rng.integer(0, kw - 1)};
    const int64_t ih = rng.integer(1, 6), iw = rng.integer(1, 6);
    const int64_t full_h = (ih - 1) * p.stride_h + p.dilation_h * (kh - 1) + p.output_padding_h + 1;
    const int64_t full_w = (iw - 1) * p.stride_w + p.dilation_w * (kw - 1) + p.output_padding_w + 1;
    if (full_h - p.pad.top - p.pad.bottom < 1 || full_w - p.pad.left - p.pad.right < 1) continue;
    const TensorU8 in = rng.activations({rng.integer(1, 2), ih, iw, cig * p.groups}, rng.activation_params());
    const auto w = test::random_weights<int8_t>(rng, {co, kh, kw, cig}, rng.coin(), rng.coin());
    check_case(rng, in, w, p, rng.coin());
  }
}

TEST(ConvTranspose2d, RejectsBadGeometry) {
  const TensorU8 in({1, 2, 2, 4}, std::vector<uint8_t>(16, 0), QuantParams::per_tensor(0.1f, 0));
  const TensorS8 w({4, 2, 2, 4}, std::vector<int8_t>(64, 1), QuantParams::per_tensor(0.1f, 0));
  const QuantParams out = QuantParams::per_tensor(0.1f, 0);
  ref::ConvTranspose2dParams p;
  p.stride_h = p.stride_w = 2;
  p.output_padding_h = 2;  // must be < stride
  EXPECT_THROW(ref::conv_transpose2d(in, w, nullptr, p, out), Error);
  p.output_padding_h = 0;
  p.pad = {2, 2, 2, 2};  // full output 4x4 minus 4 rows and columns
  EXPECT_THROW(ref::conv_transpose2d(in, w, nullptr, p, out), Error);
  p.pad = {};
  p.groups = 3;
  EXPECT_THROW(ref::conv_transpose2d(in, w, nullptr, p, out), Error);
}

}  // namespace
}  // namespace octet
