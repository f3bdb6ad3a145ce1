// The fast uint8 softmax (kernels/reduce/u8_softmax.h) against ref::softmax_u8, in both requantization modes
// and on every ISA: random row lengths (1 to 1000, across the quantization row's vector blocks; rows of one
// element), scales and zero points, rows of one repeated value, rows holding only 0 and 255, and the usual
// output params.

#include <gtest/gtest.h>

#include <vector>

#include "kernels/error.h"
#include "kernels/reduce/u8_softmax.h"
#include "kernels/reference/softmax.h"
#include "test_util.h"

namespace octet {
namespace {

class U8SoftmaxFast : public ::testing::TestWithParam<Isa> {};

TEST_P(U8SoftmaxFast, BitExactWithTheReference) {
  for (uint64_t seed = 0; seed < test::random_trials(120); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    // Every 11th: rows of one element, whose float-mode quotient overflows with s_out = 1/256 or 1/255.
    const int64_t width = seed % 11 == 0 ? 1 : seed % 7 == 0 ? rng.integer(200, 1000) : rng.integer(1, 80);
    const int64_t rows = rng.integer(1, 40);
    const QuantParams in_q =
        QuantParams::per_tensor(rng.scale(0.01, 0.5), static_cast<int32_t>(rng.integer(0, 255)));
    TensorU8 x = rng.activations({rows, width}, in_q);
    if (seed % 5 == 1)
      for (auto& v : x.data)
        v = rng.coin() ? 0 : 255;
    if (seed % 5 == 2) std::fill(x.data.begin(), x.data.end(), static_cast<uint8_t>(rng.integer(0, 255)));
    // (Zero points 0, 128 and others: int8 outputs with zero points -128, 0 and others.)
    const QuantParams out_q = seed % 3 == 0 ? QuantParams::per_tensor(1.0f / 256.0f, 0)
                              : seed % 3 == 1
                                  ? QuantParams::per_tensor(1.0f / 255.0f, seed % 2 == 0 ? 0 : 128)
                                  : rng.activation_params();
    for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale})
      for (const auto overflow : {ref::SoftmaxOverflow::zero_point, ref::SoftmaxOverflow::int8_saturation}) {
        const TensorU8 want = ref::softmax_u8(x, out_q, mode, overflow);
        const reduce::U8Softmax s = reduce::prepare_u8_softmax(in_q, width, out_q, mode, overflow);
        std::vector<uint8_t> got(want.data.size());
        reduce::run(GetParam(), s, x.data.data(), rows, got.data());
        ASSERT_EQ(got, want.data) << (mode == RequantMode::fixed_point ? "fixed_point" : "float")
                                  << " overflow " << static_cast<int>(overflow);
      }
  }
}

// Rows of one element in float mode, whose quotient overflows: ONNX Runtime 1.30 gives the zero point in its
// uint8 kernel (and the QDQ form, uint8 or int8), and saturates in its int8 QLinearSoftmax: 127 for int8 zero points -128
// and -100, -128 for 0 (measured, scale 1/256). Fixed point gives probability 1, saturated.
TEST(U8SoftmaxReference, OverflowingRowsOfOneElement) {
  const TensorU8 x({3, 1}, std::vector<uint8_t>{0, 77, 255}, QuantParams::per_tensor(0.01f, 0));
  for (const int32_t int8_zero_point : {-128, -100, 0}) {
    SCOPED_TRACE("int8 zero point " + std::to_string(int8_zero_point));
    const QuantParams out_q = QuantParams::per_tensor(1.0f / 256.0f, int8_zero_point + 128);
    const auto zp = static_cast<uint8_t>(int8_zero_point + 128);
    const uint8_t saturated = int8_zero_point < 0 ? 255 : 0;
    EXPECT_EQ(ref::softmax_u8(x, out_q, RequantMode::float_scale).data, std::vector<uint8_t>(3, zp));
    EXPECT_EQ(ref::softmax_u8(x, out_q, RequantMode::float_scale, ref::SoftmaxOverflow::int8_saturation).data,
              std::vector<uint8_t>(3, saturated));
    EXPECT_EQ(ref::softmax_u8(x, out_q, RequantMode::fixed_point, ref::SoftmaxOverflow::int8_saturation).data,
              std::vector<uint8_t>(3, static_cast<uint8_t>(std::min(255, int8_zero_point + 128 + 256))));
  }
}

TEST(U8SoftmaxFast, RejectsWhatTheReferenceRejects) {
  const QuantParams q = QuantParams::per_tensor(0.1f, 10);
  EXPECT_THROW(reduce::prepare_u8_softmax(q, 0, q, RequantMode::fixed_point), Error);
  const QuantParams per_axis{{0.1f, 0.2f}, {0, 0}, 0};
  EXPECT_THROW(reduce::prepare_u8_softmax(per_axis, 4, q, RequantMode::fixed_point), Error);
}

INSTANTIATE_TEST_SUITE_P(Isas, U8SoftmaxFast, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(name_of(info.param)); });

}  // namespace
}  // namespace octet
