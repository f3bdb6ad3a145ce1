#include <gtest/gtest.h>

#include <cmath>

#include "kernels/error.h"
#include "kernels/reference/lut.h"
#include "kernels/reference/softmax.h"
#include "test_util.h"

namespace octet {
namespace {

double reference_activation(ref::LutActivation a, double x, double alpha, double beta) {
  switch (a) {
    case ref::LutActivation::sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case ref::LutActivation::hard_sigmoid:
      return std::max(0.0, std::min(1.0, alpha * x + beta));
    case ref::LutActivation::hard_swish:
      return x * std::max(0.0, std::min(1.0, (x + 3.0) / 6.0));
    case ref::LutActivation::tanh:
      return std::tanh(x);
    case ref::LutActivation::leaky_relu:
      return x < 0 ? alpha * x : x;
  }
  return 0;
}

TEST(Lut, ActivationsWithinOneLsb) {
  test::Random rng(8);
  for (auto a : {ref::LutActivation::sigmoid, ref::LutActivation::hard_sigmoid,
                 ref::LutActivation::hard_swish, ref::LutActivation::tanh, ref::LutActivation::leaky_relu})
    for (int i = 0; i < 50; ++i) {
      const QuantParams in_q =
          QuantParams::per_tensor(rng.scale(0.01, 0.1), static_cast<int32_t>(rng.integer(0, 255)));
      const double alpha = a == ref::LutActivation::hard_sigmoid ? 0.2 : 0.01, beta = 0.5;
      std::vector<double> exact;
      for (int q = 0; q < 256; ++q)
        exact.push_back(reference_activation(a, (q - in_q.zero_point()) * double(in_q.scale()), alpha, beta));
      const QuantParams out_q = test::params_covering(exact);
      const ref::Lut table = ref::activation_lut(a, in_q, out_q, alpha, beta);
      TensorU8 all({256}, {}, in_q);
      for (int q = 0; q < 256; ++q)
        all.data.push_back(static_cast<uint8_t>(q));
      const TensorU8 out = ref::apply_lut(all, table, out_q);
      // The table quantizes the float32-rounded f(x): within 1 LSB of the float64 value.
      EXPECT_LE(test::max_lsb_difference(out, test::quantize_all(exact, out_q)), 1);
    }
}

TEST(Lut, ArbitraryFunctionAndShapes) {
  const QuantParams q = QuantParams::per_tensor(0.1f, 100);
  const ref::Lut table = ref::make_lut([](double x) { return x * x; }, q, QuantParams::per_tensor(1.0f, 0));
  const TensorU8 in({1, 2, 2, 1}, {100, 110, 120, 130}, q);
  EXPECT_EQ(ref::apply_lut(in, table, QuantParams::per_tensor(1.0f, 0)).data,
            (std::vector<uint8_t>{0, 1, 4, 9}));
}

TEST(Softmax, FloatAndUint8WithinTolerance) {
  for (uint64_t seed = 0; seed < test::random_trials(100); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t rows = rng.integer(1, 4), width = rng.integer(1, 300);
    const TensorU8 in = rng.activations(
        {rows, width},
        QuantParams::per_tensor(rng.scale(0.01, 0.5), static_cast<int32_t>(rng.integer(0, 255))));
    const TensorF32 pf = ref::softmax_float(in);
    const QuantParams out_q = QuantParams::per_tensor(1.0f / 256.0f, 0);
    const TensorU8 pq = ref::softmax_u8(in, out_q);
    const std::vector<double> r = test::real_values(in);
    std::vector<double> exact;
    for (int64_t row = 0; row < rows; ++row) {
      double mx = -1e300, sum = 0;
      for (int64_t i = 0; i < width; ++i)
        mx = std::max(mx, r[row * width + i]);
      for (int64_t i = 0; i < width; ++i)
        sum += std::exp(r[row * width + i] - mx);
      for (int64_t i = 0; i < width; ++i)
        exact.push_back(std::exp(r[row * width + i] - mx) / sum);
    }
    for (size_t i = 0; i < exact.size(); ++i)  // fixed-point exp: 2^-24 absolute per term, so ~1e-6 relative
      ASSERT_NEAR(pf.data[i], exact[i], 1e-6 + 1e-5 * exact[i]);
    EXPECT_LE(test::max_lsb_difference(pq, test::quantize_all(exact, out_q)), 1);
  }
}

}  // namespace
}  // namespace octet
