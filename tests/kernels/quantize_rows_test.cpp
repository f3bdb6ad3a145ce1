// The vectorised QuantizeLinear rows on every ISA against quantize_value(), special values included, and the
// DequantizeLinear row against dequantize_value().

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/elementwise/quantize_rows.h"
#include "kernels/quantization/quantize.h"
#include "test_util.h"

namespace octet {
namespace {

class QuantizeRows : public ::testing::TestWithParam<Isa> {};

TEST_P(QuantizeRows, BitExactWithScalarDefinition) {
  test::Random rng(5);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (int round = 0; round < 50; ++round) {
    const float scale = rng.scale(1e-3, 1.0);
    const auto zp = static_cast<int32_t>(rng.integer(0, 255));
    std::vector<float> x(static_cast<size_t>(rng.integer(1, 700)));  // several 256-element blocks
    for (auto& v : x)
      v = static_cast<float>(rng.real(-300.0, 300.0)) * scale;
    // Exact ties (k + 0.5 steps), the range ends, and the non-finite values.
    for (size_t i = 0; i < x.size(); i += 7)
      x[i] = (static_cast<float>(rng.integer(-300, 300)) + 0.5f) * scale;
    const float specials[] = {nan, inf, -inf, 0.0f, -0.0f, 3e38f, -3e38f, 255.0f * scale, -1e-30f};
    for (size_t i = 0; i < std::size(specials) && i < x.size(); ++i)
      x[i * 3 % x.size()] = specials[i];
    std::vector<uint8_t> got(x.size());
    elementwise::quantize_row(GetParam(), x.data(), static_cast<int64_t>(x.size()), scale, zp, got.data());
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(got[i], quantize_value(x[i], scale, zp, range_of(ElementType::u8))) << "x = " << x[i];
  }
}

// Every byte value and zero point, scales from tiny to large, rows of every length around the vector widths.
TEST(DequantizeRow, BitExactWithScalarDefinition) {
  test::Random rng(6);
  std::vector<uint8_t> x(300);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<uint8_t>(i % 256);
  for (int round = 0; round < 50; ++round) {
    const float scale = round == 0 ? 1e-30f : round == 1 ? 3e30f : rng.scale(1e-4, 10.0);
    const auto zp = static_cast<int32_t>(rng.integer(0, 255));
    const auto n = static_cast<int64_t>(rng.integer(1, 300));
    std::vector<float> got(static_cast<size_t>(n));
    elementwise::dequantize_row(x.data(), n, scale, zp, got.data());
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(got[static_cast<size_t>(i)], dequantize_value(x[static_cast<size_t>(i)], scale, zp)) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, QuantizeRows, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(name_of(info.param)); });

}  // namespace
}  // namespace octet
