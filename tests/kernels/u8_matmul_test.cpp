// The uint8 matmul on the GEMM kernels (kernels/gemm/u8_matmul.h) against ref::matmul_u8, on every ISA this
// CPU runs and on the AMX tile walk (on the scalar model of the tile instructions where the CPU has no AMX),
// in both requantization modes: random shapes across the 16-channel blocks, the k steps of 4
// and the 64-row tiles; broadcast batches; b's zero point 128 (no row sums) and others; operands holding only
// 0 and 255; the largest K that always fits; any thread count. The row sums on their own.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <thread>
#include <vector>

#include "kernels/error.h"
#include "kernels/gemm/row_sums.h"
#include "kernels/gemm/u8_matmul.h"
#include "kernels/reference/integer_matmul.h"
#include "test_util.h"

namespace octet {
namespace {

struct Case {
  TensorU8 a, b;
  QuantParams out;
  Clamp clamp;
};

// The output batches of [batch_a, M, K] x [batch_b, K, N] (one of them 1 or both equal).
std::vector<std::array<int64_t, 2>> operands(const Case& c) {
  const int64_t batch_a = c.a.dim(0), batch_b = c.b.dim(0), batches = std::max(batch_a, batch_b);
  std::vector<std::array<int64_t, 2>> at;
  for (int64_t i = 0; i < batches; ++i)
    at.push_back({batch_a == 1 ? 0 : i, batch_b == 1 ? 0 : i});
  return at;
}

bool cpu_runs(Isa isa) {
  const std::vector<Isa> isas = supported_isas();
  return std::find(isas.begin(), isas.end(), isa) != isas.end();
}

// `isa` avx512amx: the tile walk on AMX, or on the scalar model of the instructions where the CPU has none.
std::vector<uint8_t> fast(const Case& c, Isa isa, RequantMode mode) {
  const int64_t m = c.a.dim(1), k = c.a.dim(2), n = c.b.dim(2);
  gemm::U8MatMul mm = gemm::prepare_u8_matmul(isa, m, k, n, c.a.quant, c.b.quant, c.out, c.clamp, mode);
  EXPECT_EQ(mm.amx.has_value(), isa == Isa::avx512amx);
  mm.amx_on_model = !cpu_runs(isa);
  const auto at = operands(c);
  std::vector<uint8_t> out(at.size() * static_cast<size_t>(m * n), 0xEE);
  gemm::run(mm, c.a.data.data(), c.b.data.data(), at, out.data());
  return out;
}

void expect_same(const Case& c, Isa isa) {
  for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
    const TensorU8 want = ref::matmul_u8(c.a, c.b, c.out, c.clamp, mode);
    ASSERT_EQ(fast(c, isa, mode), want.data) << (mode == RequantMode::fixed_point ? "fixed_point" : "float");
  }
}

Case random_case(test::Random& rng, uint64_t seed) {
  Case c;
  const int64_t m = rng.integer(1, seed % 6 == 0 ? 150 : 20);
  // Half multiples of 4, read in place; the others padded.
  const int64_t k = (seed % 2 == 0 ? 4 : 1) * rng.integer(1, seed % 4 == 0 ? 75 : 10);
  const int64_t n = rng.integer(1, 70);
  const int64_t batch_a = rng.coin() ? 1 : 3, batch_b = batch_a == 1 || rng.coin() ? 3 : 1;
  c.a = rng.activations({batch_a, m, k}, rng.activation_params());
  QuantParams b_params = rng.activation_params();
  if (seed % 5 == 0) b_params.zero_points[0] = 128;  // symmetric: no row sums of a
  c.b = rng.activations({batch_b, k, n}, b_params);
  if (seed % 7 == 1)
    for (auto* t : {&c.a, &c.b})
      for (auto& v : t->data)
        v = rng.coin() ? 0 : 255;
  c.out = rng.activation_params();
  if (seed % 3 == 2)
    c.clamp = {static_cast<int32_t>(rng.integer(0, 60)), static_cast<int32_t>(rng.integer(190, 255))};
  return c;
}

class U8MatMulFast : public ::testing::TestWithParam<Isa> {};

TEST_P(U8MatMulFast, BitExactWithTheReference) {
  for (uint64_t seed = 0; seed < test::random_trials(100); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    expect_same(random_case(rng, seed), GetParam());
  }
}

// K = 33000 with every product 255 x 255: 2.146e9, just inside int32, which the params allow for any bytes.
TEST_P(U8MatMulFast, LargestSumsThatAlwaysFit) {
  const int64_t k = 33000;
  for (const uint8_t value : {uint8_t{0}, uint8_t{255}}) {
    Case c;
    const int32_t zero = value == 0 ? 255 : 0;
    c.a = TensorU8({1, 3, k}, std::vector<uint8_t>(3 * k, value), QuantParams::per_tensor(0.01f, zero));
    c.b = TensorU8({1, k, 17}, std::vector<uint8_t>(17 * k, value), QuantParams::per_tensor(0.01f, zero));
    c.b.data[5] = 128;  // one column's sum differs
    c.out = QuantParams::per_tensor(3000.0f, 7);
    ASSERT_TRUE(gemm::u8_matmul_always_fits(k, c.a.quant, c.b.quant));
    expect_same(c, GetParam());
  }
}

TEST_P(U8MatMulFast, SameBytesForAnyThreadCount) {
  test::Random rng(7);
  Case c;
  c.a = rng.activations({4, 150, 72}, rng.activation_params());
  c.b = rng.activations({1, 72, 45}, rng.activation_params());
  c.out = rng.activation_params();
  const TensorU8 want = ref::matmul_u8(c.a, c.b, c.out, c.clamp, RequantMode::fixed_point);
  for (int threads = 1; threads <= 4; ++threads) {
    tbb::task_arena arena(threads);
    arena.execute([&] { EXPECT_EQ(fast(c, GetParam(), RequantMode::fixed_point), want.data) << threads; });
  }
}

// Attention's shape: as many batches of A as of B, output batch i their i-th product, and enough of them
// that each task packs one B and multiplies it straight away; rows past one 64-row tile, K not a multiple
// of the k step. Any thread count, both modes.
TEST_P(U8MatMulFast, ManyBatchesEachPackedWhereItIsMultiplied) {
  test::Random rng(13);
  Case c;
  c.a = rng.activations({20, 70, 49}, rng.activation_params());
  c.b = rng.activations({20, 49, 33}, rng.activation_params());
  c.out = rng.activation_params();
  for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
    const TensorU8 want = ref::matmul_u8(c.a, c.b, c.out, c.clamp, mode);
    for (int threads = 1; threads <= 4; ++threads) {
      tbb::task_arena arena(threads);
      arena.execute([&] { EXPECT_EQ(fast(c, GetParam(), mode), want.data) << threads; });
    }
  }
}

// One prepared product run from several threads at once, each on its own operands, as sessions sharing an
// operator do: each run packs into a set of its own (PackedOperandSets), and the sets are reused by later
// runs.
TEST_P(U8MatMulFast, ConcurrentRunsOfOneProduct) {
  test::Random rng(11);
  const QuantParams qa = rng.activation_params(), qb = rng.activation_params(), qo = rng.activation_params();
  gemm::U8MatMul mm =
      gemm::prepare_u8_matmul(GetParam(), 33, 20, 19, qa, qb, qo, {}, RequantMode::fixed_point);
  mm.amx_on_model = !cpu_runs(GetParam());
  constexpr int kThreads = 4, kRuns = 3;
  std::vector<Case> cases(kThreads * kRuns);
  std::vector<std::vector<uint8_t>> got(cases.size());
  for (Case& c : cases) {
    c.a = rng.activations({3, 33, 20}, qa);
    c.b = rng.activations({3, 20, 19}, qb);
    c.out = qo;
  }
  const std::vector<std::array<int64_t, 2>> at = {{0, 0}, {1, 1}, {2, 2}};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRuns; ++r) {
        const size_t i = static_cast<size_t>(t * kRuns + r);
        got[i].resize(3 * 33 * 19);
        gemm::run(mm, cases[i].a.data.data(), cases[i].b.data.data(), at, got[i].data());
      }
    });
  for (std::thread& t : threads)
    t.join();
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(got[i], ref::matmul_u8(cases[i].a, cases[i].b, qo, {}, RequantMode::fixed_point).data) << i;
}

// The ISAs this CPU runs, and avx512amx's tiles on their scalar model.
std::vector<Isa> isas_and_amx_model() {
  std::vector<Isa> isas = supported_isas();
  if (!cpu_runs(Isa::avx512amx)) isas.push_back(Isa::avx512amx);
  return isas;
}

INSTANTIATE_TEST_SUITE_P(Isas, U8MatMulFast, ::testing::ValuesIn(isas_and_amx_model()),
                         [](const auto& info) { return std::string(name_of(info.param)); });

TEST(U8MatMulFast, RefusesWhatCouldOverflowOrIsEmpty) {
  const QuantParams q = QuantParams::per_tensor(0.1f, 0);
  EXPECT_FALSE(gemm::u8_matmul_always_fits(33100, q, q));
  EXPECT_TRUE(gemm::u8_matmul_always_fits(33100, QuantParams::per_tensor(0.1f, 128), q));
  EXPECT_THROW(gemm::prepare_u8_matmul(Isa::scalar, 2, 33100, 2, q, q, q, {}, RequantMode::fixed_point),
               Error);
  EXPECT_THROW(gemm::prepare_u8_matmul(Isa::scalar, 2, 0, 2, q, q, q, {}, RequantMode::fixed_point), Error);
  const QuantParams per_axis{{0.1f, 0.2f}, {0, 0}, 1};
  EXPECT_THROW(gemm::prepare_u8_matmul(Isa::scalar, 2, 4, 2, q, per_axis, q, {}, RequantMode::fixed_point),
               Error);
}

// The row sums of the zero-point term (gemm/row_sums.h): every length up to a few vectors, from every
// alignment, with bytes on both sides that must not count; all 255 up to K = 33000 (the largest K that
// fits, LargestSumsThatAlwaysFit).
TEST(ByteSum, EqualsTheSumOfTheBytes) {
  test::Random rng(7);
  std::vector<uint8_t> bytes(200);
  for (auto& b : bytes)
    b = static_cast<uint8_t>(rng.integer(0, 255));
  for (int64_t offset = 0; offset < 16; ++offset)
    for (int64_t count = 0; count <= 80; ++count) {
      int32_t want = 0;
      for (int64_t i = 0; i < count; ++i)
        want += bytes[static_cast<size_t>(offset + 1 + i)];
      ASSERT_EQ(gemm::byte_sum(bytes.data() + offset + 1, count), want) << offset << " + " << count;
    }
  const std::vector<uint8_t> full(33000, 255);
  for (const int64_t count : {int64_t{15}, int64_t{16}, int64_t{17}, int64_t{4097}, int64_t{33000}})
    EXPECT_EQ(gemm::byte_sum(full.data(), count), 255 * count);
}

}  // namespace
}  // namespace octet
