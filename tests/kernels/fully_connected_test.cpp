#include "kernels/reference/fully_connected.h"
#include "kernels/reference/integer_matmul.h"

#include <gtest/gtest.h>

#include "kernels/error.h"
#include "test_util.h"

namespace octet {
namespace {

template <class W>
std::vector<double> fc_float64(const TensorU8& in, const Tensor<W>& w, const TensorS32* bias) {
  const std::vector<double> x = test::real_values(in), k = test::real_values(w);
  const int64_t kdim = in.shape.back(), co = w.dim(0), rows = in.size() / kdim;
  std::vector<double> out;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t oc = 0; oc < co; ++oc) {
      double acc = bias ? bias->data[oc] * static_cast<double>(in.quant.scale()) * w.quant.scale(oc) : 0.0;
      for (int64_t i = 0; i < kdim; ++i)
        acc += x[r * kdim + i] * k[oc * kdim + i];
      out.push_back(acc);
    }
  return out;
}

template <class W>
void run_random_fc(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  test::Random rng(seed);
  const int64_t k = rng.integer(1, 300), co = rng.integer(1, 20);
  Shape shape = {rng.integer(1, 4), k};
  if (rng.coin()) shape.insert(shape.begin(), rng.integer(1, 3));  // extra leading batch dimension
  const TensorU8 in = rng.activations(shape, rng.activation_params());
  const auto w = test::random_weights<W>(rng, {co, k}, rng.coin(),
                                         rng.coin() || element_type_of<W>() == ElementType::u8);
  const TensorS32 bias = test::random_bias(rng, co, in.quant, w);
  const bool use_bias = rng.coin();
  const std::vector<double> exact = fc_float64(in, w, use_bias ? &bias : nullptr);
  const QuantParams out_q = test::params_covering(exact);
  const TensorU8 out = ref::fully_connected(in, w, use_bias ? &bias : nullptr, out_q);
  Shape expected_shape = shape;
  expected_shape.back() = co;
  ASSERT_EQ(out.shape, expected_shape);
  EXPECT_LE(test::max_lsb_difference(out, test::quantize_all(exact, out_q)), 1);
  const TensorS32 unit_bias = test::with_unit_scales(bias);
  const std::vector<double> accs =
      fc_float64(test::with_unit_scales(in), test::with_unit_scales(w), use_bias ? &unit_bias : nullptr);
  EXPECT_EQ(test::max_lsb_difference(out, test::requantize_exact_accumulators(accs, in.quant.scale(), w.quant,
                                                                              out_q, co, Clamp{})),
            0);

  // The float requantization mode: within 1 LSB of float64 too, and bit-exact with its float32 definition.
  const TensorU8 out_float =
      ref::fully_connected(in, w, use_bias ? &bias : nullptr, out_q, Clamp{}, RequantMode::float_scale);
  ASSERT_EQ(out_float.shape, expected_shape);
  EXPECT_LE(test::max_lsb_difference(out_float, test::quantize_all(exact, out_q)), 1);
  EXPECT_EQ(test::max_lsb_difference(
                out_float, test::requantize_exact_accumulators(accs, in.quant.scale(), w.quant, out_q, co,
                                                               Clamp{}, RequantMode::float_scale)),
            0);
}

TEST(FullyConnected, RandomInt8Weights) {
  for (uint64_t seed = 0; seed < test::random_trials(200); ++seed)
    run_random_fc<int8_t>(seed);
}

TEST(FullyConnected, RandomUint8Weights) {
  for (uint64_t seed = 500; seed < 500 + test::random_trials(100); ++seed)
    run_random_fc<uint8_t>(seed);
}

TEST(FullyConnected, RejectsMismatchedK) {
  const TensorU8 in({2, 5}, std::vector<uint8_t>(10, 1), QuantParams::per_tensor(0.1f, 0));
  const TensorS8 w({3, 4}, std::vector<int8_t>(12, 1), QuantParams::per_tensor(0.1f, 0));
  try {
    (void)ref::fully_connected(in, w, nullptr, QuantParams::per_tensor(0.1f, 0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("K = 5"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace octet

namespace octet {
namespace {

// A MatMul of two uint8 activations (ref::matmul_u8) against exact float64 arithmetic in both modes: random
// shapes with broadcast batch dimensions, random params, extreme bytes.
TEST(MatmulU8, WithinOneLsbOfFloat64) {
  for (uint64_t seed = 0; seed < test::random_trials(60); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t m = rng.integer(1, 9), k = rng.integer(1, 40), n = rng.integer(1, 12);
    const int64_t batch_a = rng.coin() ? 1 : 3, batch_b = batch_a == 1 || rng.coin() ? 3 : 1;
    TensorU8 a = rng.activations({batch_a, m, k}, rng.activation_params());
    TensorU8 b = rng.activations({batch_b, k, n}, rng.activation_params());
    if (seed % 4 == 0)
      for (auto& v : a.data)
        v = rng.coin() ? 0 : 255;
    const QuantParams out = rng.activation_params();
    const int64_t batches = std::max(batch_a, batch_b);
    std::vector<double> exact;
    for (int64_t t = 0; t < batches; ++t)
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < n; ++c) {
          double acc = 0.0;
          for (int64_t j = 0; j < k; ++j)
            acc += (a.data[static_cast<size_t>(((batch_a == 1 ? 0 : t) * m + r) * k + j)] -
                    a.quant.zero_point()) *
                   double(b.data[static_cast<size_t>(((batch_b == 1 ? 0 : t) * k + j) * n + c)] -
                          b.quant.zero_point());
          exact.push_back(acc * a.quant.scale() * b.quant.scale());
        }
    for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
      const TensorU8 got = ref::matmul_u8(a, b, out, {}, mode);
      ASSERT_EQ(got.shape, (Shape{batches, m, n}));
      EXPECT_LE(test::max_lsb_difference(got, test::quantize_all(exact, out)), 1);
    }
  }
}

TEST(MatmulU8, RejectsWhatDoesNotMultiply) {
  const QuantParams q = QuantParams::per_tensor(0.1f, 10);
  const TensorU8 a({2, 3, 4}, std::vector<uint8_t>(24, 1), q), b({2, 5, 6}, std::vector<uint8_t>(60, 1), q);
  EXPECT_THROW(ref::matmul_u8(a, b, q, {}, RequantMode::fixed_point), Error);
  const TensorU8 per_axis({1, 4, 2}, std::vector<uint8_t>(8, 1), QuantParams{{0.1f, 0.2f}, {0, 0}, 2});
  EXPECT_THROW(ref::matmul_u8(a, per_axis, q, {}, RequantMode::fixed_point), Error);
}

// K = 40000 products can overflow int32 only where b's bytes are far from its zero point: the check reads
// b's actual bytes (a's worst case comes from its params), and names the matmul and the column.
TEST(MatmulU8, RefusesSumsThatCanOverflowFromTheActualBytes) {
  const int64_t k = 40000;
  const QuantParams q = QuantParams::per_tensor(0.01f, 0);
  const TensorU8 a({1, 1, k}, std::vector<uint8_t>(k, 1), q);
  TensorU8 b({1, k, 2}, std::vector<uint8_t>(2 * k, 200), q);
  EXPECT_NO_THROW(ref::matmul_u8(a, b, QuantParams::per_tensor(100.0f, 0), {}, RequantMode::fixed_point));
  b.data[2 * 123 + 1] = 255;
  try {
    (void)ref::matmul_u8(a, b, QuantParams::per_tensor(100.0f, 0), {}, RequantMode::fixed_point);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("matmul: column 1 of b's batch 0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace octet
