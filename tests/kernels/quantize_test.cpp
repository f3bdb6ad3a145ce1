#include "kernels/quantization/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/error.h"
#include "kernels/quantization/dynamic_quantize.h"
#include "test_util.h"

namespace octet {
namespace {

TEST(Quantize, RoundsHalfToEvenAndSaturates) {
  const IntRange u8 = range_of(ElementType::u8);
  EXPECT_EQ(quantize_value(0.5f, 1.0f, 0, u8), 0);
  EXPECT_EQ(quantize_value(1.5f, 1.0f, 0, u8), 2);
  EXPECT_EQ(quantize_value(2.5f, 1.0f, 0, u8), 2);
  EXPECT_EQ(quantize_value(-0.5f, 1.0f, 10, u8), 10);
  EXPECT_EQ(quantize_value(-1.5f, 1.0f, 10, u8), 8);
  EXPECT_EQ(quantize_value(1000.0f, 1.0f, 0, u8), 255);
  EXPECT_EQ(quantize_value(-1000.0f, 1.0f, 0, u8), 0);
  const IntRange s8 = range_of(ElementType::s8);
  EXPECT_EQ(quantize_value(-1000.0f, 1.0f, 0, s8), -128);
  EXPECT_EQ(quantize_value(1000.0f, 1.0f, 0, s8), 127);
  // Non-finite inputs are defined: NaN is the zero point (real 0), infinities saturate.
  EXPECT_EQ(quantize_value(std::numeric_limits<float>::quiet_NaN(), 0.1f, 77, u8), 77);
  EXPECT_EQ(quantize_value(std::numeric_limits<float>::infinity(), 0.1f, 77, u8), 255);
  EXPECT_EQ(quantize_value(-std::numeric_limits<float>::infinity(), 0.1f, 77, u8), 0);
  EXPECT_EQ(quantize_value(3e38f, 1e-30f, 0, u8), 255);
}

TEST(Quantize, RoundTripIsWithinHalfAStep) {
  test::Random rng(3);
  for (int i = 0; i < 100; ++i) {
    const QuantParams q = rng.activation_params();
    TensorF32 x({64});
    for (auto& v : x.data)
      v = static_cast<float>(rng.real(-(q.zero_point()) * q.scale(), (255 - q.zero_point()) * q.scale()));
    const TensorF32 back = dequantize(quantize<uint8_t>(x, q));
    for (size_t j = 0; j < x.data.size(); ++j)
      EXPECT_LE(std::fabs(back.data[j] - x.data[j]), q.scale() * 0.5001f);
  }
}

TEST(Quantize, PerAxisUsesEachChannelsParams) {
  // [2, 3] with per-axis params along axis 1.
  const TensorF32 x({2, 3}, {1.0f, 1.0f, 1.0f, -1.0f, -1.0f, -1.0f});
  const QuantParams q = QuantParams::per_axis({0.5f, 0.25f, 1.0f}, {0, 1, -2}, 1);
  const TensorS8 y = quantize<int8_t>(x, q);
  EXPECT_EQ(y.data, (std::vector<int8_t>{2, 5, -1, -2, -3, -3}));
  const TensorF32 back = dequantize(y);
  EXPECT_EQ(back.data, x.data);
}

TEST(Quantize, RejectsBadParamsAndShapes) {
  const TensorF32 x({2, 2}, {0, 0, 0, 0});
  EXPECT_THROW(quantize<uint8_t>(x, QuantParams::per_tensor(0.0f, 0)), Error);
  EXPECT_THROW(quantize<uint8_t>(x, QuantParams::per_tensor(1.0f, 300)), Error);
  EXPECT_THROW(quantize<int8_t>(x, QuantParams::per_axis({1, 1, 1}, {0, 0, 0}, 0)), Error);
  const TensorF32 inconsistent({2, 3}, {0, 0});
  EXPECT_THROW(quantize<uint8_t>(inconsistent, QuantParams::per_tensor(1.0f, 0)), Error);
  const TensorS32 acc({2}, {std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()},
                      QuantParams::per_tensor(1.0f, -5));
  const TensorF32 d = dequantize(acc);  // no int32 overflow in q - zp
  EXPECT_FLOAT_EQ(d.data[0], 2147483652.0f);
}

// DynamicQuantizeLinear against ONNX's definition worked in float32 here: the range always holds 0, scale =
// (max - min) / 255, zero point = round(0 - min / scale) within [0, 255].
TEST(DynamicQuantize, RangeScaleAndZeroPoint) {
  const std::vector<float> x = {-1.5f, 0.25f, 3.0f, 2.0f, -0.75f};
  const DynamicQuantization q = dynamic_quantization(x.data(), static_cast<int64_t>(x.size()));
  const float scale = (3.0f - -1.5f) / 255.0f;
  EXPECT_EQ(q.scale, scale);
  EXPECT_EQ(q.zero_point, static_cast<int32_t>(std::nearbyint(0.0f - -1.5f / scale)));
  std::vector<float> centered(x.size());
  dynamic_quantize_centered(x.data(), static_cast<int64_t>(x.size()), q, centered.data());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(centered[i],
              static_cast<float>(quantize_value(x[i], scale, q.zero_point, range_of(ElementType::u8)) -
                                 q.zero_point));
    EXPECT_NEAR(centered[i] * scale, x[i], scale / 2 + 1e-6f) << i;
  }
}

TEST(DynamicQuantize, OneSidedZeroAndSpecialInputs) {
  const std::vector<float> positive = {0.5f, 2.0f}, negative = {-4.0f, -1.0f}, zeros = {0.0f, 0.0f, -0.0f};
  EXPECT_EQ(dynamic_quantization(positive.data(), 2).zero_point, 0);  // the range starts at 0
  EXPECT_EQ(dynamic_quantization(negative.data(), 2).zero_point, 255);
  const DynamicQuantization z = dynamic_quantization(zeros.data(), 3);  // ONNX Runtime: scale 1
  EXPECT_EQ(z.scale, 1.0f);
  EXPECT_EQ(z.zero_point, 0);
  // NaN is left out of the range (and quantizes to the zero point); an infinite range stays defined.
  const std::vector<float> with_nan = {NAN, -2.0f, 2.0f};
  const DynamicQuantization n = dynamic_quantization(with_nan.data(), 3);
  EXPECT_EQ(n.scale, 4.0f / 255.0f);
  std::vector<float> centered(3);
  dynamic_quantize_centered(with_nan.data(), 3, n, centered.data());
  EXPECT_EQ(centered[0], 0.0f);
  const std::vector<float> infinite = {-INFINITY, 1.0f};
  const DynamicQuantization i = dynamic_quantization(infinite.data(), 2);
  EXPECT_TRUE(i.zero_point >= 0 && i.zero_point <= 255);
  dynamic_quantize_centered(infinite.data(), 2, i, centered.data());  // no undefined behaviour (UBSan)
}

}  // namespace
}  // namespace octet
