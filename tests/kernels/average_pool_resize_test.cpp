// The fast average pooling, global average pooling and resize kernels, bit-exact against the reference
// operators on random shapes, windows, paddings and quantization params, and on extreme values.

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/error.h"
#include "kernels/pooling/average_pool.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/resize.h"
#include "kernels/resize/resize.h"
#include "test_util.h"

namespace octet {
namespace {

QuantParams random_output(test::Random& rng) {
  return QuantParams::per_tensor(rng.scale(1e-3, 1.0), static_cast<int32_t>(rng.integer(0, 255)));
}

TEST(AveragePoolFast, MatchesReference) {
  int checked = 0, fused = 0, unfused = 0;
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    ref::Pool2dParams p;
    p.kernel_h = rng.integer(1, 4), p.kernel_w = rng.integer(1, 4);
    p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
    p.pad = {rng.integer(0, p.kernel_h - 1), rng.integer(0, p.kernel_w - 1), rng.integer(0, p.kernel_h - 1),
             rng.integer(0, p.kernel_w - 1)};
    p.ceil_mode = rng.coin();
    p.count_include_pad = rng.coin();
    const int64_t c = rng.integer(1, 70);  // whole vectors of 8 and 16 lanes, and the channels past them
    TensorU8 in =
        rng.activations({rng.integer(1, 2), rng.integer(p.kernel_h, 9), rng.integer(p.kernel_w, 9), c},
                        rng.activation_params());
    if (seed % 5 == 0)
      for (auto& v : in.data)
        v = rng.coin() ? 0 : 255;
    const QuantParams out = random_output(rng);
    const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 100)), 220};
    // Both requantization modes, alternately: each has its own arithmetic in the fast kernel.
    const RequantMode mode = seed % 2 ? RequantMode::float_scale : RequantMode::fixed_point;
    TensorU8 want;
    try {
      want = ref::average_pool2d(in, p, out, clamp, mode);
    } catch (const Error&) {
      continue;  // a window the reference refuses (e.g. starting in the padding after ceil_mode)
    }
    const pooling::AveragePool pool = pooling::prepare_average_pool(p, in.quant, out, clamp, mode);
    if (mode == RequantMode::fixed_point) ++(pool.fused.empty() ? unfused : fused);
    for (const Isa isa : supported_isas()) {
      std::vector<uint8_t> got(want.data.size());
      pooling::run(isa, pool, in.data.data(), in.dim(0), in.dim(1), in.dim(2), c, got.data());
      ASSERT_EQ(got, want.data) << name_of(isa);
    }
    ++checked;
  }
  EXPECT_GT(checked, test::random_trials(200));
  // Both the fused fixed-point step of the vector kernels and the reference arithmetic they fall back to.
  EXPECT_GT(fused, 0);
  EXPECT_GT(unfused, 0);
}

TEST(GlobalAveragePoolFast, MatchesReference) {
  for (uint64_t seed = 0; seed < test::random_trials(200); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t c = rng.integer(1, 70), h = rng.integer(1, 20), w = rng.integer(1, 20);
    TensorU8 in = rng.activations({rng.integer(1, 3), h, w, c}, rng.activation_params());
    if (seed % 5 == 0)
      for (auto& v : in.data)
        v = seed % 2 ? 255 : 0;
    const QuantParams out = random_output(rng);
    const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 100)), 220};
    const RequantMode mode = seed % 3 ? RequantMode::fixed_point : RequantMode::float_scale;
    const TensorU8 want = ref::global_average_pool(in, out, clamp, mode);
    const pooling::AveragePool pool = pooling::prepare_global_average_pool(h, w, in.quant, out, clamp, mode);
    for (const Isa isa : supported_isas()) {
      std::vector<uint8_t> got(want.data.size());
      pooling::run(isa, pool, in.data.data(), in.dim(0), h, w, c, got.data());
      ASSERT_EQ(got, want.data) << name_of(isa);
    }
  }
}

TEST(ResizeFast, MatchesReference) {
  const ref::CoordinateMode modes[] = {ref::CoordinateMode::half_pixel,
                                       ref::CoordinateMode::pytorch_half_pixel,
                                       ref::CoordinateMode::align_corners, ref::CoordinateMode::asymmetric};
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    ref::ResizeParams p;
    p.mode = rng.coin() ? ref::ResizeMode::nearest : ref::ResizeMode::linear;
    p.coordinate_mode = modes[seed % 4];
    p.out_h = rng.integer(1, 17), p.out_w = rng.integer(1, 17);
    const int64_t c = rng.integer(1, 40);
    TensorU8 in = rng.activations({rng.integer(1, 2), rng.integer(1, 9), rng.integer(1, 9), c},
                                  rng.activation_params());
    if (seed % 5 == 0)
      for (auto& v : in.data)
        v = rng.coin() ? 0 : 255;
    // Every arithmetic; the ones that blend into other params (ONNX Runtime's QDQ form, octet's bilinear)
    // also into other params.
    for (const auto arithmetic :
         {ref::ResizeArithmetic::fixed_point, ref::ResizeArithmetic::onnxruntime_bytes,
          ref::ResizeArithmetic::onnxruntime_real}) {
      SCOPED_TRACE("arithmetic " + std::to_string(static_cast<int>(arithmetic)));
      const bool blends_into_params =
          arithmetic == ref::ResizeArithmetic::onnxruntime_real ||
          (arithmetic == ref::ResizeArithmetic::fixed_point && p.mode == ref::ResizeMode::linear);
      const QuantParams out_q = blends_into_params && rng.coin() ? rng.activation_params() : in.quant;
      const TensorU8 want = ref::resize(in, p, arithmetic, out_q);
      EXPECT_EQ(want.quant, out_q);
      const resize::Resize r = resize::prepare_resize(p, in.dim(1), in.dim(2), arithmetic, in.quant, out_q);
      std::vector<uint8_t> got(want.data.size());
      resize::run(r, in.data.data(), in.dim(0), c, got.data());
      ASSERT_EQ(got, want.data);
    }
    // The fixed-point overloads are the same operator.
    EXPECT_EQ(ref::resize(in, p).data, ref::resize(in, p, ref::ResizeArithmetic::fixed_point, in.quant).data);
  }
}

// Bilinear into other params at extreme ratios s_in / s_out (tests/kernels/resize_test.cpp has the values).
TEST(ResizeFast, IntoOtherParamsAtExtremeRatiosMatchesReference) {
  ref::ResizeParams p;
  p.mode = ref::ResizeMode::linear;
  p.out_h = 5, p.out_w = 7;
  test::Random rng(3);
  const QuantParams in_q = QuantParams::per_tensor(0.5f, 100);
  const TensorU8 x = rng.activations({1, 3, 4, 5}, in_q);
  for (const double ratio : {0x1p-12, 0x1p-9, 1.0, 0x1p10, 0x1p22, 0x1p24}) {
    SCOPED_TRACE("ratio " + std::to_string(ratio));
    const QuantParams out_q = QuantParams::per_tensor(static_cast<float>(0.5 / ratio), 7);
    const TensorU8 want = ref::resize(x, p, ref::ResizeArithmetic::fixed_point, out_q);
    const resize::Resize r = resize::prepare_resize(p, 3, 4, ref::ResizeArithmetic::fixed_point, in_q, out_q);
    std::vector<uint8_t> got(want.data.size());
    resize::run(r, x.data.data(), 1, 5, got.data());
    EXPECT_EQ(got, want.data);
  }
}

TEST(ResizeFast, ByteArithmeticsRejectOtherOutputParams) {
  ref::ResizeParams p;
  p.mode = ref::ResizeMode::linear;
  p.out_h = p.out_w = 4;
  const QuantParams a = QuantParams::per_tensor(0.1f, 10), b = QuantParams::per_tensor(0.2f, 10);
  EXPECT_THROW(resize::prepare_resize(p, 2, 2, ref::ResizeArithmetic::onnxruntime_bytes, a, b), Error);
  EXPECT_NO_THROW(resize::prepare_resize(p, 2, 2, ref::ResizeArithmetic::onnxruntime_real, a, b));
  EXPECT_NO_THROW(resize::prepare_resize(p, 2, 2, ref::ResizeArithmetic::fixed_point, a, b));
  p.mode = ref::ResizeMode::nearest;  // copies bytes: the caller requantizes them
  EXPECT_THROW(resize::prepare_resize(p, 2, 2, ref::ResizeArithmetic::fixed_point, a, b), Error);
}

}  // namespace
}  // namespace octet
