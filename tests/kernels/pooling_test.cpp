#include "kernels/reference/pooling.h"

#include <cmath>

#include <gtest/gtest.h>

#include "kernels/error.h"
#include "test_util.h"

namespace octet {
namespace {

struct Window {
  std::vector<int64_t> ys, xs;  // valid input rows / columns under the window
  int64_t count_with_pad = 0;   // the window clipped to the padded input
};

// One window, enumerated tap by tap; the count with padding follows PyTorch's avg_pool2d definition.
Window window(int64_t y, int64_t x, int64_t ih, int64_t iw, const ref::Pool2dParams& p) {
  Window w;
  int64_t rows_in_padded = 0, cols_in_padded = 0;
  for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
    const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
    if (iy < ih + p.pad.bottom) ++rows_in_padded;
    if (iy >= 0 && iy < ih) w.ys.push_back(iy);
  }
  for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
    const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
    if (ix < iw + p.pad.right) ++cols_in_padded;
    if (ix >= 0 && ix < iw) w.xs.push_back(ix);
  }
  w.count_with_pad = rows_in_padded * cols_in_padded;
  return w;
}

int64_t expected_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, bool ceil_mode) {
  const int64_t span = in + pb + pe - d * (k - 1) - 1;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + pb) --out;
  return out;
}

ref::Pool2dParams random_params(test::Random& rng, bool dilation) {
  ref::Pool2dParams p;
  p.kernel_h = rng.integer(1, 4), p.kernel_w = rng.integer(1, 4);
  p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
  if (dilation) p.dilation_h = rng.integer(1, 2), p.dilation_w = rng.integer(1, 2);
  p.pad = {rng.integer(0, p.kernel_h - 1), rng.integer(0, p.kernel_w - 1), rng.integer(0, p.kernel_h - 1),
           rng.integer(0, p.kernel_w - 1)};
  p.ceil_mode = rng.coin();
  p.count_include_pad = rng.coin();
  return p;
}

TEST(MaxPool2d, RandomShapesExact) {
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const ref::Pool2dParams p = random_params(rng, true);
    const int64_t ih = rng.integer(p.dilation_h * (p.kernel_h - 1) + 1, 9);
    const int64_t iw = rng.integer(p.dilation_w * (p.kernel_w - 1) + 1, 9);
    const TensorU8 in =
        rng.activations({rng.integer(1, 2), ih, iw, rng.integer(1, 5)}, rng.activation_params());
    const TensorU8 out = ref::max_pool2d(in, p);
    const int64_t oh =
        expected_size(ih, p.kernel_h, p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom, p.ceil_mode);
    const int64_t ow =
        expected_size(iw, p.kernel_w, p.stride_w, p.dilation_w, p.pad.left, p.pad.right, p.ceil_mode);
    ASSERT_EQ(out.shape, (Shape{in.dim(0), oh, ow, in.dim(3)}));
    EXPECT_EQ(out.quant, in.quant);
    const int64_t c = in.dim(3);
    for (int64_t b = 0; b < in.dim(0); ++b)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          const Window w = window(y, x, ih, iw, p);
          for (int64_t ch = 0; ch < c; ++ch) {
            int32_t best = in.quant.zero_point();  // an empty window is real 0
            if (!w.ys.empty() && !w.xs.empty()) best = 0;
            for (int64_t iy : w.ys)
              for (int64_t ix : w.xs)
                best = std::max<int32_t>(best, in.data[((b * ih + iy) * iw + ix) * c + ch]);
            ASSERT_EQ(out.data[((b * oh + y) * ow + x) * c + ch], best);
          }
        }
  }
}

TEST(AveragePool2d, RandomShapesWithinOneLsbAndExactArithmetic) {
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const ref::Pool2dParams p = random_params(rng, false);
    const int64_t ih = rng.integer(p.kernel_h, 9), iw = rng.integer(p.kernel_w, 9);
    const TensorU8 in =
        rng.activations({rng.integer(1, 2), ih, iw, rng.integer(1, 5)}, rng.activation_params());
    const QuantParams out_q = rng.coin() ? in.quant : rng.activation_params();
    const TensorU8 out = ref::average_pool2d(in, p, out_q);
    const int64_t oh = expected_size(ih, p.kernel_h, p.stride_h, 1, p.pad.top, p.pad.bottom, p.ceil_mode);
    const int64_t ow = expected_size(iw, p.kernel_w, p.stride_w, 1, p.pad.left, p.pad.right, p.ceil_mode);
    ASSERT_EQ(out.shape, (Shape{in.dim(0), oh, ow, in.dim(3)}));
    const int64_t c = in.dim(3);
    const int32_t zin = in.quant.zero_point();
    std::vector<int32_t> rounded_float, exact_fixed;
    std::vector<bool> near_tie;
    for (int64_t b = 0; b < in.dim(0); ++b)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          const Window w = window(y, x, ih, iw, p);
          const int64_t count =
              p.count_include_pad ? w.count_with_pad : static_cast<int64_t>(w.ys.size() * w.xs.size());
          for (int64_t ch = 0; ch < c; ++ch) {
            int64_t sum = 0;
            for (int64_t iy : w.ys)
              for (int64_t ix : w.xs)
                sum += in.data[((b * ih + iy) * iw + ix) * c + ch] - zin;
            const double real = static_cast<double>(sum) * in.quant.scale() / static_cast<double>(count);
            rounded_float.push_back(test::quantize_exact(real, out_q));
            const int shift = ref::average_pool_sum_shift(p.kernel_h * p.kernel_w);
            exact_fixed.push_back(
                requantize(static_cast<int32_t>(sum) * (1 << shift),
                           quantize_multiplier(in.quant.scale() /
                                               (double{out_q.scale()} * count * std::ldexp(1.0, shift))),
                           out_q.zero_point(), 0, 255));
            // Away from ties the fixed-point result must round exactly like float64: the pre-shift leaves
            // only ~2^-18 LSB of error, so a difference elsewhere means lost precision.
            const double lsb = real / out_q.scale();
            near_tie.push_back(std::abs(lsb - std::floor(lsb) - 0.5) <= 1e-3);
          }
        }
    // Within 1 LSB of float64 (the fixed-point division by count rounds half away from zero, float half to
    // even) and bit-exact with the documented integer arithmetic.
    EXPECT_LE(test::max_lsb_difference(out, rounded_float), 1);
    EXPECT_EQ(test::max_lsb_difference(out, exact_fixed), 0);
    for (size_t i = 0; i < near_tie.size(); ++i)
      if (!near_tie[i]) {
        ASSERT_EQ(out.data[i], rounded_float[i]) << "element " << i << " is not a tie";
      }
  }
}

TEST(GlobalAveragePool, RandomShapes) {
  for (uint64_t seed = 0; seed < test::random_trials(100); ++seed) {
    test::Random rng(seed);
    const TensorU8 in =
        rng.activations({rng.integer(1, 3), rng.integer(1, 12), rng.integer(1, 12), rng.integer(1, 8)},
                        rng.activation_params());
    const QuantParams out_q = rng.activation_params();
    const TensorU8 out = ref::global_average_pool(in, out_q);
    const int64_t hw = in.dim(1) * in.dim(2), c = in.dim(3);
    ASSERT_EQ(out.shape, (Shape{in.dim(0), 1, 1, c}));
    std::vector<int32_t> expected;
    for (int64_t b = 0; b < in.dim(0); ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0;
        for (int64_t i = 0; i < hw; ++i)
          sum += in.data[(b * hw + i) * c + ch] - in.quant.zero_point();
        expected.push_back(test::quantize_exact(sum * in.quant.scale() / static_cast<double>(hw), out_q));
      }
    EXPECT_LE(test::max_lsb_difference(out, expected), 1);
  }
}

TEST(Pooling, RejectsBadGeometry) {
  const TensorU8 in({1, 4, 4, 2}, std::vector<uint8_t>(32, 0), QuantParams::per_tensor(0.1f, 0));
  ref::Pool2dParams p;
  p.kernel_h = p.kernel_w = 5;  // larger than the input
  EXPECT_THROW(ref::max_pool2d(in, p), Error);
  p.kernel_h = p.kernel_w = 2;
  p.pad.top = 2;  // padding must be smaller than the kernel
  EXPECT_THROW(ref::average_pool2d(in, p, in.quant), Error);
  p.pad.top = 0;
  p.stride_h = 0;
  EXPECT_THROW(ref::max_pool2d(in, p), Error);
}

}  // namespace
}  // namespace octet
