#include "kernels/reference/concat.h"

#include <gtest/gtest.h>

#include "kernels/error.h"
#include "kernels/reference/requantize.h"
#include "test_util.h"

namespace octet {
namespace {

TEST(Concat, ChannelsWithDifferentParams) {
  for (uint64_t seed = 0; seed < test::random_trials(100); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t n = rng.integer(1, 2), h = rng.integer(1, 5), w = rng.integer(1, 5);
    const int64_t count = rng.integer(1, 4);
    std::vector<TensorU8> inputs;
    for (int64_t i = 0; i < count; ++i)
      inputs.push_back(rng.activations({n, h, w, rng.integer(1, 6)}, rng.activation_params()));
    const QuantParams out_q = rng.coin() ? inputs[0].quant : rng.activation_params();
    std::vector<const TensorU8*> ptrs;
    for (const auto& t : inputs)
      ptrs.push_back(&t);
    const int64_t axis = rng.coin() ? 3 : -1;
    // Both requantization modes stay within 1 LSB of exact float64 arithmetic.
    const RequantMode mode = seed % 2 == 0 ? RequantMode::fixed_point : RequantMode::float_scale;
    const TensorU8 out = ref::concat(ptrs, axis, out_q, mode);
    int64_t total_c = 0;
    for (const auto& t : inputs)
      total_c += t.dim(3);
    ASSERT_EQ(out.shape, (Shape{n, h, w, total_c}));
    std::vector<int32_t> expected;
    for (int64_t p = 0; p < n * h * w; ++p)
      for (const auto& t : inputs) {
        const std::vector<double> r = test::real_values(t);
        for (int64_t c = 0; c < t.dim(3); ++c)
          expected.push_back(test::quantize_exact(r[p * t.dim(3) + c], out_q));
      }
    EXPECT_LE(test::max_lsb_difference(out, expected), 1);
    // An input whose params equal the output's is copied bit for bit.
    if (inputs[0].quant == out_q) {
      for (int64_t p = 0; p < n * h * w; ++p)
        for (int64_t c = 0; c < inputs[0].dim(3); ++c)
          ASSERT_EQ(out.data[p * total_c + c], inputs[0].data[p * inputs[0].dim(3) + c]);
    }
  }
}

TEST(Concat, OtherAxes) {
  const TensorU8 a({2, 1, 3}, {1, 2, 3, 4, 5, 6}, QuantParams::per_tensor(1.0f, 0));
  const TensorU8 b({2, 2, 3}, {7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18},
                   QuantParams::per_tensor(1.0f, 0));
  const TensorU8 out = ref::concat({&a, &b}, 1, a.quant, RequantMode::fixed_point);
  EXPECT_EQ(out.shape, (Shape{2, 3, 3}));
  EXPECT_EQ(out.data, (std::vector<uint8_t>{1, 2, 3, 7, 8, 9, 10, 11, 12, 4, 5, 6, 13, 14, 15, 16, 17, 18}));
}

TEST(Concat, RejectsMismatches) {
  const TensorU8 a({1, 2, 2, 3}, std::vector<uint8_t>(12, 0), QuantParams::per_tensor(1.0f, 0));
  const TensorU8 b({1, 3, 2, 3}, std::vector<uint8_t>(18, 0), QuantParams::per_tensor(1.0f, 0));
  EXPECT_THROW(ref::concat({&a, &b}, 3, a.quant, RequantMode::fixed_point), Error);
  EXPECT_THROW(ref::concat({&a, &a}, 4, a.quant, RequantMode::fixed_point), Error);
  EXPECT_THROW(ref::concat({}, 0, a.quant, RequantMode::fixed_point), Error);
}

TEST(Requantize, WithinOneLsbAndClamp) {
  test::Random rng(4);
  for (int i = 0; i < 200; ++i) {
    const TensorU8 in = rng.activations({50}, rng.activation_params());
    const QuantParams out_q = rng.activation_params();
    const std::vector<double> r = test::real_values(in);
    for (RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
      const TensorU8 out = ref::requantize_tensor(in, out_q, {}, mode);
      EXPECT_LE(test::max_lsb_difference(out, test::quantize_all(r, out_q)), 1);
    }
  }
  const TensorU8 in({4}, {0, 100, 200, 255}, QuantParams::per_tensor(1.0f, 0));
  EXPECT_EQ(ref::clamp(in, {50, 210}).data, (std::vector<uint8_t>{50, 100, 200, 210}));
}

}  // namespace
}  // namespace octet
