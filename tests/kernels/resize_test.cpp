#include "kernels/reference/resize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "kernels/error.h"
#include "test_util.h"

namespace octet {
namespace {

// The ONNX Resize definition for one axis, in float64: the source coordinate of output index o.
double source(int64_t o, int64_t in, int64_t out, double scale, ref::CoordinateMode mode) {
  switch (mode) {
    case ref::CoordinateMode::half_pixel:
      return (o + 0.5) / scale - 0.5;
    case ref::CoordinateMode::pytorch_half_pixel:
      return out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
    case ref::CoordinateMode::align_corners:
      return out > 1 ? o * double(in - 1) / double(out - 1) : 0.0;
    case ref::CoordinateMode::asymmetric:
      return o / scale;
  }
  return 0;
}

double sample_linear(const std::vector<double>& row_major, int64_t h, int64_t w, int64_t c, int64_t ch,
                     double y, double x) {
  y = std::clamp(y, 0.0, double(h - 1));
  x = std::clamp(x, 0.0, double(w - 1));
  const auto y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
  const int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
  const double fy = y - y0, fx = x - x0;
  auto at = [&](int64_t yy, int64_t xx) { return row_major[(yy * w + xx) * c + ch]; };
  return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
         fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
}

// Each arithmetic against exact bilinear interpolation in float64, on random sizes, modes and bytes (some
// inputs only 0 and 255):
//   fixed_point: interpolation in the quantized domain is exact in real terms (same params in and out); the
//     11-bit weights move a result by at most 2 * 255 / 2^12 < 1/8 LSB before the final rounding; into other
//     params (ResizeRequant) it rounds once, so within 1 LSB of the exact result in the output's steps where
//     they are at most 4 times finer than the input's (1/8 of an input step is then at most 1/2 of one);
//   onnxruntime_real: its float32 coordinates and weights move a value by far less than an LSB, so it is
//     within 1 LSB of the exact real result quantized to the output's params (random, or the input's);
//   onnxruntime_bytes: the coordinate truncated to 10 fractional bits (at most 255 / 1024 per axis), then
//     the blend (up to 1 below): within [exact - 1.5, exact + 0.5].
TEST(Resize, BilinearArithmeticsAgainstFloat64) {
  const ref::CoordinateMode modes[] = {ref::CoordinateMode::half_pixel,
                                       ref::CoordinateMode::pytorch_half_pixel,
                                       ref::CoordinateMode::align_corners, ref::CoordinateMode::asymmetric};
  for (uint64_t seed = 0; seed < test::random_trials(200); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t ih = rng.integer(1, 8), iw = rng.integer(1, 8), c = rng.integer(1, 4);
    TensorU8 in = rng.activations({1, ih, iw, c}, rng.activation_params());
    if (seed % 4 == 0)
      for (auto& v : in.data)
        v = rng.coin() ? 0 : 255;
    ref::ResizeParams p;
    p.mode = ref::ResizeMode::linear;
    p.coordinate_mode = modes[seed % 4];
    p.out_h = rng.integer(1, 17), p.out_w = rng.integer(1, 17);
    const QuantParams out_q = rng.coin() ? in.quant : rng.activation_params();
    // Output steps down to a quarter of the input's, up to ten times as large.
    const QuantParams other_q =
        QuantParams::per_tensor(in.quant.scale() * static_cast<float>(rng.real(0.25, 10.0)),
                                static_cast<int32_t>(rng.integer(0, 255)));
    const TensorU8 fixed = ref::resize(in, p);
    const TensorU8 fixed_other = ref::resize(in, p, ref::ResizeArithmetic::fixed_point, other_q);
    EXPECT_EQ(fixed_other.quant, other_q);
    const TensorU8 real = ref::resize(in, p, ref::ResizeArithmetic::onnxruntime_real, out_q);
    const TensorU8 bytes = ref::resize(in, p, ref::ResizeArithmetic::onnxruntime_bytes, in.quant);
    ASSERT_EQ(fixed.shape, (Shape{1, p.out_h, p.out_w, c}));
    EXPECT_EQ(fixed.quant, in.quant);
    EXPECT_EQ(real.quant, out_q);
    const std::vector<double> q(in.data.begin(), in.data.end());
    const double s = in.quant.scale(), zp = in.quant.zero_point();
    std::vector<int32_t> expected_fixed, expected_real, expected_other;
    for (int64_t y = 0; y < p.out_h; ++y)
      for (int64_t x = 0; x < p.out_w; ++x)
        for (int64_t ch = 0; ch < c; ++ch) {
          const double sy = source(y, ih, p.out_h, double(p.out_h) / ih, p.coordinate_mode);
          const double sx = source(x, iw, p.out_w, double(p.out_w) / iw, p.coordinate_mode);
          const double v = sample_linear(q, ih, iw, c, ch, sy, sx);
          expected_fixed.push_back(static_cast<int32_t>(std::nearbyint(v)));
          expected_real.push_back(test::quantize_exact((v - zp) * s, out_q));
          expected_other.push_back(test::quantize_exact((v - zp) * s, other_q));
          const double got = bytes.data[expected_real.size() - 1];
          EXPECT_GE(got, v - 1.5);
          EXPECT_LE(got, v + 0.5);
        }
    EXPECT_LE(test::max_lsb_difference(fixed, expected_fixed), 1);
    EXPECT_LE(test::max_lsb_difference(real, expected_real), 1);
    EXPECT_LE(test::max_lsb_difference(fixed_other, expected_other), 1);
  }
}

// The case a random sweep against ONNX Runtime found: [0, 1] in steps of 1 resized to 4 pixels in steps of
// 1/16 is 0, 0.25, 0.75, 1 exactly, so [0, 4, 12, 16]. Rounding to the input's steps first gave [0, 0, 16,
// 16].
TEST(Resize, FixedPointBlendsStraightIntoOtherParams) {
  const TensorU8 in({1, 1, 2, 1}, QuantParams::per_tensor(1.0f, 0));
  TensorU8 x = in;
  x.data = {0, 1};
  ref::ResizeParams p;
  p.mode = ref::ResizeMode::linear;
  p.out_h = 1, p.out_w = 4;
  const QuantParams finer = QuantParams::per_tensor(1.0f / 16.0f, 0);
  EXPECT_EQ(ref::resize(x, p, ref::ResizeArithmetic::fixed_point, finer).data,
            (std::vector<uint8_t>{0, 4, 12, 16}));
  EXPECT_EQ(ref::resize(x, p, ref::ResizeArithmetic::onnxruntime_real, finer).data,
            (std::vector<uint8_t>{0, 4, 12, 16}));
}

// The multiplier s_in / s_out / 2^22 at its extremes: too small to move an int32 (every output the zero
// point), and 1 or more (the accumulator shifted left, saturating). A constant image blends to itself
// exactly, so each output is z_out + round((p - z_in) * s_in / s_out), clamped.
TEST(Resize, FixedPointIntoOtherParamsAtExtremeRatios) {
  ref::ResizeParams p;
  p.mode = ref::ResizeMode::linear;
  p.out_h = 3, p.out_w = 5;
  const QuantParams in_q = QuantParams::per_tensor(0.5f, 100);
  for (const double ratio : {0x1p-12, 0x1p-9, 1.0, 0x1p10, 0x1p22, 0x1p24})
    for (const int p_value : {0, 99, 100, 101, 255}) {
      SCOPED_TRACE("ratio " + std::to_string(ratio) + ", byte " + std::to_string(p_value));
      const TensorU8 x({1, 2, 2, 1}, std::vector<uint8_t>(4, static_cast<uint8_t>(p_value)), in_q);
      const QuantParams out_q = QuantParams::per_tensor(static_cast<float>(0.5 / ratio), 7);
      const double exact = 7.0 + std::nearbyint((p_value - 100) * ratio);
      const auto want = static_cast<uint8_t>(std::clamp(exact, 0.0, 255.0));
      const TensorU8 got = ref::resize(x, p, ref::ResizeArithmetic::fixed_point, out_q);
      EXPECT_EQ(got.data, std::vector<uint8_t>(15, want));
    }
}

TEST(Resize, NearestModes) {
  // 1-D along W: 4 -> 8 (x2) and 4 -> 3 (downscale) for every rounding and coordinate mode, against the
  // ONNX formula. ONNX Runtime's arithmetics pick the same pixels from their float32 coordinates on these
  // sizes (ties included: 4 -> 8 half_pixel lands on .25 / .75, 4 -> 3 on exact halves) and copy bytes.
  const TensorU8 in({1, 1, 4, 1}, {10, 20, 30, 40}, QuantParams::per_tensor(1.0f, 0));
  for (int64_t out_w : {8, 3, 5, 1})
    for (auto rounding :
         {ref::NearestRounding::round_prefer_floor, ref::NearestRounding::round_prefer_ceil,
          ref::NearestRounding::floor, ref::NearestRounding::ceil, ref::NearestRounding::resize_10})
      for (auto mode : {ref::CoordinateMode::half_pixel, ref::CoordinateMode::asymmetric,
                        ref::CoordinateMode::align_corners}) {
        ref::ResizeParams p;
        p.out_h = 1, p.out_w = out_w, p.nearest_rounding = rounding, p.coordinate_mode = mode;
        const TensorU8 out = ref::resize(in, p);
        for (const auto arithmetic :
             {ref::ResizeArithmetic::onnxruntime_bytes, ref::ResizeArithmetic::onnxruntime_real})
          EXPECT_EQ(ref::resize(in, p, arithmetic, in.quant).data, out.data) << "out_w " << out_w;
        for (int64_t x = 0; x < out_w; ++x) {
          const double s = source(x, 4, out_w, out_w / 4.0, mode);
          double r = 0;
          // Resize-10: ceil where the axis shrinks (4 -> 3, 4 -> 1), floor where it grows.
          switch (ref::axis_rounding(rounding, out_w / 4.0)) {
            case ref::NearestRounding::round_prefer_floor:
              r = (s - std::floor(s) == 0.5) ? std::floor(s) : std::round(s);
              break;
            case ref::NearestRounding::round_prefer_ceil:
              r = (s - std::floor(s) == 0.5) ? std::ceil(s) : std::round(s);
              break;
            case ref::NearestRounding::floor:
            case ref::NearestRounding::resize_10:  // resolved above
              r = std::floor(s);
              break;
            case ref::NearestRounding::ceil:
              r = std::ceil(s);
              break;
          }
          const auto idx = static_cast<size_t>(std::clamp(r, 0.0, 3.0));
          EXPECT_EQ(out.data[x], in.data[idx]) << "out_w " << out_w << " x " << x;
        }
      }
}

TEST(Resize, NearestUpsample2xDuplicatesPixels) {
  const TensorU8 in({1, 2, 2, 1}, {1, 2, 3, 4}, QuantParams::per_tensor(1.0f, 0));
  ref::ResizeParams p;
  p.out_h = 4, p.out_w = 4;
  EXPECT_EQ(ref::resize(in, p).data, (std::vector<uint8_t>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(Resize, RejectsBadSizes) {
  const TensorU8 in({1, 2, 2, 1}, {1, 2, 3, 4}, QuantParams::per_tensor(1.0f, 0));
  ref::ResizeParams p;
  p.out_h = 0;
  EXPECT_THROW(ref::resize(in, p), Error);
  p.out_h = 2;
  p.scale_w = -1.0;
  EXPECT_THROW(ref::resize(in, p), Error);
}

}  // namespace
}  // namespace octet
