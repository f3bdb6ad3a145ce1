#include "kernels/quantization/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/error.h"
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

}  // namespace
}  // namespace octet
