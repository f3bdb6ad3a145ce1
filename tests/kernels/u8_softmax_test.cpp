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
    const QuantParams out_q = seed % 3 == 0   ? QuantParams::per_tensor(1.0f / 256.0f, 0)
                              : seed % 3 == 1 ? QuantParams::per_tensor(1.0f / 255.0f, 0)
                                              : rng.activation_params();
    for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
      const TensorU8 want = ref::softmax_u8(x, out_q, mode);
      const reduce::U8Softmax s = reduce::prepare_u8_softmax(in_q, width, out_q, mode);
      std::vector<uint8_t> got(want.data.size());
      reduce::run(GetParam(), s, x.data.data(), rows, got.data());
      ASSERT_EQ(got, want.data) << (mode == RequantMode::fixed_point ? "fixed_point" : "float");
    }
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
