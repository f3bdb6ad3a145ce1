// Float pooling, resize, reductions, softmax and normalizations: the references against float64 math
// computed here independently (with the ONNX edge cases), and every fast kernel against its reference bit
// for bit on every ISA of this CPU, with 1 and 3 threads.
//
// Tolerances: the references are float32 sequences of operations, so they are checked against float64
// within bounds derived from their rounding steps (eps = 2^-24, the unit roundoff):
//  - a 16-partial ordered sum of n terms is at most ceil(n / 16) + 4 additions deep, so its error is at most
//    (ceil(n / 16) + 5) * eps * sum |terms| (one more step for a product term x * x or |x|);
//  - a weighted sum of t products (pooling, resize) is within (t + 2) * eps * sum |w * x| (weights rounded
//    to float add one eps each);
//  - exp / log (kernels/reference/float_math.h) are taken as accurate to a few ulps: 8 eps relative;
//  - everything else (max, min, argmax, nearest resize, ceil_mode sizes) is exact.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/isa.h"
#include "kernels/pooling/float_pooling.h"
#include "kernels/quantization/quantize.h"
#include "kernels/reduce/float_reduce.h"
#include "kernels/reduce/u8_channel_affine.h"
#include "kernels/reference/float_normalization.h"
#include "kernels/reference/float_pooling.h"
#include "kernels/reference/float_reduce.h"
#include "kernels/resize/float_resize.h"
#include "test_util.h"

namespace octet {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kEps = 0x1p-24;

// ---------------------------------------------------------------------------------------------------------
// Helpers

bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

::testing::AssertionResult identical(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (!same_float(got[i], want[i]))
      return ::testing::AssertionFailure()
             << "element " << i << ": " << got[i] << " (0x" << std::hex << std::bit_cast<uint32_t>(got[i])
             << ") vs " << want[i] << " (0x" << std::bit_cast<uint32_t>(want[i]) << std::dec << ")";
  return ::testing::AssertionSuccess();
}

// |got - want| <= tol, NaN only against NaN, infinities only against the same infinity.
::testing::AssertionResult near(double got, double want, double tol) {
  if (std::isnan(want) || std::isnan(got)) {
    if (std::isnan(want) && std::isnan(got)) return ::testing::AssertionSuccess();
  } else if (std::isinf(want) || std::isinf(got)) {
    if (got == want) return ::testing::AssertionSuccess();
  } else if (std::abs(got - want) <= tol) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (tolerance " << tol << ")";
}

std::vector<float> random_floats(test::Random& rng, int64_t n, double lo, double hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v)
    x = static_cast<float>(rng.real(lo, hi));
  return v;
}

// Special values sprinkled over about 1 element in `every`: signed zeros and infinities, NaN, denormals,
// magnitudes near the float range's ends.
void sprinkle_specials(test::Random& rng, std::vector<float>& v, int every = 12) {
  const float specials[] = {kNaN, kInf, -kInf, 0.0f, -0.0f, 1e-40f, -1e-45f, 3e38f, -3e38f, 1e-30f, -2.5f};
  for (float& x : v)
    if (rng.integer(1, every) == 1)
      x = specials[rng.integer(0, static_cast<int64_t>(std::size(specials)) - 1)];
}

Shape random_shape(test::Random& rng, int64_t rank, int64_t max_dim) {
  Shape s(static_cast<size_t>(rank));
  for (auto& d : s)
    d = rng.integer(1, max_dim);
  return s;
}

int64_t count_of(const Shape& s) {
  return element_count(s, "test");
}

// Runs f in an arena of `threads` threads.
void with_threads(int threads, const std::function<void()>& f) {
  tbb::task_arena arena(threads);
  arena.execute(f);
}

const int kThreadCounts[] = {1, 3};

std::string isa_name(const ::testing::TestParamInfo<Isa>& info) {
  return std::string(name_of(info.param));
}

// The bound of a 16-partial ordered sum of n terms of magnitude sum `magnitude`, plus `extra` roundings.
double sum_tolerance(int64_t n, double magnitude, double extra = 1.0) {
  return (static_cast<double>((n + 15) / 16) + 5.0 + extra) * kEps * magnitude;
}

// ---------------------------------------------------------------------------------------------------------
// The ordered sum

// The documented order, written out independently: 16 partials, then halves folded.
float documented_sum(const std::vector<float>& x) {
  float p[16];
  std::fill(std::begin(p), std::end(p), -0.0f);
  for (size_t i = 0; i < x.size(); ++i)
    p[i % 16] += x[i];
  for (int j = 0; j < 8; ++j)
    p[j] += p[j + 8];
  for (int j = 0; j < 4; ++j)
    p[j] += p[j + 4];
  for (int j = 0; j < 2; ++j)
    p[j] += p[j + 2];
  return p[0] + p[1];
}

TEST(OrderedSum, IsTheDocumentedOrderAndNearTheExactSum) {
  test::Random rng(1);
  for (int round = 0; round < test::random_trials(200); ++round) {
    const int64_t n = rng.integer(0, 300);
    const int64_t stride = rng.integer(1, 3);
    std::vector<float> strided = random_floats(rng, n * stride, -100.0, 100.0);
    std::vector<float> x;
    double exact = 0.0, magnitude = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      x.push_back(strided[static_cast<size_t>(i * stride)]);
      exact += x.back();
      magnitude += std::abs(x.back());
    }
    const float got = ref::ordered_sum(strided.data(), n, stride);
    EXPECT_TRUE(same_float(got, documented_sum(x))) << "n = " << n;
    EXPECT_TRUE(near(got, exact, sum_tolerance(n, magnitude)));
  }
}

TEST(OrderedSum, SignedZerosAndSpecials) {
  const std::vector<float> negative_zeros(20, -0.0f);
  // Starting from -0 (the exact identity) keeps the sign of a sum of -0s, as summing from the first element.
  EXPECT_TRUE(same_float(ref::ordered_sum(negative_zeros.data(), 20, 1), -0.0f));
  const std::vector<float> mixed = {-0.0f, 0.0f};
  EXPECT_TRUE(same_float(ref::ordered_sum(mixed.data(), 2, 1), 0.0f));
  const std::vector<float> infs = {kInf, 1.0f, -kInf};
  EXPECT_TRUE(std::isnan(ref::ordered_sum(infs.data(), 3, 1)));
  const std::vector<float> big(40, 3e38f);
  EXPECT_EQ(ref::ordered_sum(big.data(), 40, 1), kInf);
}

// ---------------------------------------------------------------------------------------------------------
// Reductions against float64

struct ExactReduce {
  std::vector<double> sum, abs_sum, square_sum, prod, max, min, lse;
  std::vector<int64_t> count;
};

// Every input element added to its output in float64; the output index drops the reduced coordinates.
ExactReduce exact_reduce(const std::vector<float>& x, const Shape& s, const std::vector<int64_t>& axes) {
  Shape out = s;
  for (int64_t a : axes)
    out[static_cast<size_t>(a)] = 1;
  const auto outputs = static_cast<size_t>(count_of(out));
  ExactReduce e;
  e.sum.assign(outputs, 0.0), e.abs_sum.assign(outputs, 0.0), e.square_sum.assign(outputs, 0.0);
  e.prod.assign(outputs, 1.0), e.max.assign(outputs, -INFINITY), e.min.assign(outputs, INFINITY);
  e.count.assign(outputs, 0);
  std::vector<int64_t> index(s.size(), 0);
  std::vector<size_t> owner(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < s.size(); ++d)
      o = o * out[d] + (out[d] == 1 ? 0 : index[d]);
    owner[i] = static_cast<size_t>(o);
    const double v = x[i];
    e.sum[owner[i]] += v, e.abs_sum[owner[i]] += std::abs(v), e.square_sum[owner[i]] += v * v;
    e.prod[owner[i]] *= v;
    e.max[owner[i]] = std::isnan(e.max[owner[i]]) || std::isnan(v) ? NAN : std::max(e.max[owner[i]], v);
    e.min[owner[i]] = std::isnan(e.min[owner[i]]) || std::isnan(v) ? NAN : std::min(e.min[owner[i]], v);
    ++e.count[owner[i]];
    for (size_t d = s.size(); d-- > 0;)
      if (++index[d] < s[d])
        break;
      else
        index[d] = 0;
  }
  e.lse.assign(outputs, 0.0);
  for (size_t i = 0; i < x.size(); ++i)
    e.lse[owner[i]] += std::exp(static_cast<double>(x[i]) - e.max[owner[i]]);
  for (size_t o = 0; o < outputs; ++o)
    e.lse[o] = std::log(e.lse[o]) + e.max[o];
  return e;
}

std::vector<int64_t> random_axes(test::Random& rng, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < rank; ++d)
    if (rng.coin()) axes.push_back(d);
  if (axes.empty()) axes.push_back(rng.integer(0, rank - 1));
  return axes;
}

TEST(FloatReduceReference, AgainstFloat64) {
  for (uint64_t seed = 0; seed < test::random_trials(150); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const Shape s = random_shape(rng, rng.integer(1, 4), 7);
    const std::vector<int64_t> axes = random_axes(rng, static_cast<int64_t>(s.size()));
    // Positive values for log_sum and a range where products stay finite.
    const std::vector<float> x = random_floats(rng, count_of(s), -3.0, 3.0);
    const std::vector<float> positive = random_floats(rng, count_of(s), 0.5, 2.0);
    const ExactReduce e = exact_reduce(x, s, axes), ep = exact_reduce(positive, s, axes);
    std::vector<float> y(e.sum.size());
    auto run = [&](ReduceOp op, const std::vector<float>& in) {
      ref::float_reduce(op, in.data(), s, axes, y.data());
      return y;
    };
    const std::vector<float> sum = run(ReduceOp::sum, x), mean = run(ReduceOp::mean, x),
                             l1 = run(ReduceOp::l1, x), l2 = run(ReduceOp::l2, x),
                             sum_square = run(ReduceOp::sum_square, x), max = run(ReduceOp::max, x),
                             min = run(ReduceOp::min, x), lse = run(ReduceOp::log_sum_exp, x),
                             prod = run(ReduceOp::prod, positive), log_sum = run(ReduceOp::log_sum, positive);
    for (size_t o = 0; o < y.size(); ++o) {
      const int64_t n = e.count[o];
      const double nd = static_cast<double>(n);
      EXPECT_TRUE(near(sum[o], e.sum[o], sum_tolerance(n, e.abs_sum[o])));
      EXPECT_TRUE(near(mean[o], e.sum[o] / nd, sum_tolerance(n, e.abs_sum[o], 2.0) / nd));
      EXPECT_TRUE(near(l1[o], e.abs_sum[o], sum_tolerance(n, e.abs_sum[o])));
      EXPECT_TRUE(near(sum_square[o], e.square_sum[o], sum_tolerance(n, e.square_sum[o], 2.0)));
      // sqrt halves the relative error of its argument and adds one rounding.
      EXPECT_TRUE(near(l2[o], std::sqrt(e.square_sum[o]),
                       (sum_tolerance(n, 1.0, 2.0) / 2.0 + kEps) * std::sqrt(e.square_sum[o])));
      EXPECT_EQ(max[o], static_cast<float>(e.max[o]));
      EXPECT_EQ(min[o], static_cast<float>(e.min[o]));
      // Each product rounds once.
      EXPECT_TRUE(near(prod[o], ep.prod[o], (nd + 5.0) * kEps * ep.prod[o]));
      // log of a sum with relative error r is off by about r, plus log's own error.
      EXPECT_TRUE(near(log_sum[o], std::log(ep.sum[o]),
                       sum_tolerance(n, 1.0) + 8.0 * kEps * std::abs(std::log(ep.sum[o]))));
      // The exp terms each carry exp's error and the rounding of x - max (relative eps * |x - max| <= 6 eps).
      EXPECT_TRUE(near(lse[o], e.lse[o], sum_tolerance(n, 1.0, 16.0) + 8.0 * kEps * std::abs(e.lse[o])));
    }
  }
}

// noop_with_empty_axes: each element reduced alone, the values ONNX Runtime 1.30 gives for these inputs
// (ONNX since onnx/onnx#7394: the operator's functions of the element, not the input unchanged).
TEST(FloatReduceReference, NoAxesReducesEachElementAlone) {
  const std::vector<float> x = {-1.5f, 3e19f, -0.0f, kNaN, -kInf, 1e-30f, 100.0f, 1e-45f};
  std::vector<float> y(x.size());
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max, ReduceOp::min, ReduceOp::prod}) {
    ref::float_reduce(op, x.data(), {2, 4}, {}, y.data());
    EXPECT_TRUE(identical(y, x));  // -0 stays -0
  }
  ref::float_reduce(ReduceOp::l1, x.data(), {2, 4}, {}, y.data());
  EXPECT_TRUE(identical(y, {1.5f, 3e19f, 0.0f, kNaN, kInf, 1e-30f, 100.0f, 1e-45f}));
  ref::float_reduce(ReduceOp::l2, x.data(), {2, 4}, {}, y.data());  // sqrt(x * x): overflow and underflow
  EXPECT_TRUE(identical(y, {1.5f, kInf, 0.0f, kNaN, kInf, 0.0f, 100.0f, 0.0f}));
  ref::float_reduce(ReduceOp::sum_square, x.data(), {2, 4}, {}, y.data());
  EXPECT_TRUE(identical(y, {2.25f, kInf, 0.0f, kNaN, kInf, 0.0f, 10000.0f, 0.0f}));
  ref::float_reduce(ReduceOp::log_sum, x.data(), {2, 4}, {}, y.data());
  EXPECT_EQ(y[2], -kInf);
  EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[3]) && std::isnan(y[4]));
  EXPECT_FLOAT_EQ(y[6], std::log(100.0f));
  ref::float_reduce(ReduceOp::log_sum_exp, x.data(), {2, 4}, {}, y.data());  // x, but -0 + log(1) is +0
  EXPECT_TRUE(identical(y, {-1.5f, 3e19f, 0.0f, kNaN, -kInf, 1e-30f, 100.0f, 1e-45f}));
}

TEST(FloatReduceReference, SizeOneAxesApplyTheOperator) {
  const std::vector<float> x = {-1.5f, 2.0f, -0.0f};
  std::vector<float> y(3);
  ref::float_reduce(ReduceOp::l1, x.data(), {3, 1}, {1}, y.data());
  EXPECT_TRUE(identical(y, {1.5f, 2.0f, 0.0f}));
  ref::float_reduce(ReduceOp::sum_square, x.data(), {3, 1}, {1}, y.data());
  EXPECT_TRUE(identical(y, {2.25f, 4.0f, 0.0f}));
  ref::float_reduce(ReduceOp::sum, x.data(), {3, 1}, {1}, y.data());
  EXPECT_TRUE(identical(y, x));  // -0 stays -0
}

TEST(FloatReduceReference, AllAxesAndEmptyReductions) {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  float y = 0.0f;
  ref::float_reduce(ReduceOp::sum, x.data(), {2, 3}, {0, 1}, &y);
  EXPECT_EQ(y, 21.0f);
  ref::float_reduce(ReduceOp::mean, x.data(), {2, 3}, {0, 1}, &y);
  EXPECT_EQ(y, 3.5f);
  ref::float_reduce(ReduceOp::prod, x.data(), {2, 3}, {0, 1}, &y);
  EXPECT_EQ(y, 720.0f);
  // A reduced axis of size 0: ONNX's identities (ReduceMean is 0 / 0).
  const struct {
    ReduceOp op;
    float value;
  } empties[] = {{ReduceOp::sum, 0.0f},         {ReduceOp::mean, kNaN},       {ReduceOp::max, -kInf},
                 {ReduceOp::min, kInf},         {ReduceOp::prod, 1.0f},       {ReduceOp::l1, 0.0f},
                 {ReduceOp::l2, 0.0f},          {ReduceOp::sum_square, 0.0f}, {ReduceOp::log_sum, -kInf},
                 {ReduceOp::log_sum_exp, -kInf}};
  for (const auto& e : empties) {
    std::vector<float> out(3, 42.0f);
    ref::float_reduce(e.op, nullptr, {3, 0}, {1}, out.data());
    EXPECT_TRUE(identical(out, std::vector<float>(3, e.value))) << static_cast<int>(e.op);
    // No outputs at all: nothing is written.
    ref::float_reduce(e.op, nullptr, {0, 4}, {1}, out.data());
    EXPECT_TRUE(same_float(out[0], e.value));
  }
}

TEST(FloatReduceReference, NanAndInfinities) {
  std::vector<float> y(2);
  const std::vector<float> with_nan = {1.0f, kNaN, 3.0f, -kInf, 2.0f, 5.0f};
  for (ReduceOp op : {ReduceOp::max, ReduceOp::min, ReduceOp::sum, ReduceOp::log_sum_exp, ReduceOp::prod}) {
    ref::float_reduce(op, with_nan.data(), {2, 3}, {1}, y.data());
    EXPECT_TRUE(std::isnan(y[0])) << static_cast<int>(op);
    EXPECT_FALSE(std::isnan(y[1])) << static_cast<int>(op);
  }
  // log_sum_exp: all -inf is -inf, a +inf is +inf, huge values do not overflow.
  const std::vector<float> edges = {-kInf, -kInf, -kInf, 1.0f, kInf, -3.0f};
  ref::float_reduce(ReduceOp::log_sum_exp, edges.data(), {2, 3}, {1}, y.data());
  EXPECT_EQ(y[0], -kInf);
  EXPECT_EQ(y[1], kInf);
  const std::vector<float> huge = {3e38f, 3e38f, -3e38f, -3e38f};
  ref::float_reduce(ReduceOp::log_sum_exp, huge.data(), {2, 2}, {1}, y.data());
  EXPECT_EQ(y[0], 3e38f);  // 3e38 + log 2: the log 2 is far below half an ulp
  EXPECT_EQ(y[1], -3e38f);
  ref::float_reduce(ReduceOp::max, edges.data(), {2, 3}, {1}, y.data());
  EXPECT_EQ(y[0], -kInf);
  EXPECT_EQ(y[1], kInf);
}

TEST(FloatReduceReference, RejectsBadAxes) {
  const std::vector<float> x(6);
  std::vector<float> y(6);
  EXPECT_THROW(ref::float_reduce(ReduceOp::sum, x.data(), {2, 3}, {2}, y.data()), Error);
  EXPECT_THROW(ref::float_reduce(ReduceOp::sum, x.data(), {2, 3}, {-1}, y.data()), Error);
  EXPECT_THROW(ref::float_reduce(ReduceOp::sum, x.data(), {2, 3}, {1, 0}, y.data()), Error);
  EXPECT_THROW(ref::float_reduce(ReduceOp::sum, x.data(), {2, 3}, {1, 1}, y.data()), Error);
  EXPECT_THROW(ref::float_reduce(ReduceOp::sum, x.data(), {2, -3}, {1}, y.data()), Error);
}

// ---------------------------------------------------------------------------------------------------------
// Softmax and ArgMax against float64

TEST(FloatSoftmaxReference, AgainstFloat64) {
  for (uint64_t seed = 0; seed < test::random_trials(120); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const Shape s = random_shape(rng, rng.integer(1, 3), 40);
    const auto axis = rng.integer(0, static_cast<int64_t>(s.size()) - 1);
    const double spread = rng.coin() ? 3.0 : 30.0;
    const double offset = rng.coin() ? 0.0 : 1e4;  // large values: only x - max matters
    const std::vector<float> x = random_floats(rng, count_of(s), offset - spread, offset + spread);
    std::vector<float> y(x.size()), ly(x.size());
    ref::float_softmax(x.data(), s, axis, false, y.data());
    ref::float_softmax(x.data(), s, axis, true, ly.data());
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
      if (d != axis) (d < axis ? outer : inner) *= s[static_cast<size_t>(d)];
    const int64_t n = s[static_cast<size_t>(axis)];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < inner; ++k) {
        auto at = [&](int64_t i) { return static_cast<size_t>((o * n + i) * inner + k); };
        double m = -INFINITY, sum = 0.0;
        for (int64_t i = 0; i < n; ++i)
          m = std::max(m, static_cast<double>(x[at(i)]));
        for (int64_t i = 0; i < n; ++i)
          sum += std::exp(x[at(i)] - m);
        for (int64_t i = 0; i < n; ++i) {
          const double shifted = x[at(i)] - m;
          // x - max is exact or rounds by eps * |x - max|; exp turns that into a relative error.
          const double relative = sum_tolerance(n, 1.0, 10.0) + kEps * std::abs(shifted);
          EXPECT_TRUE(near(y[at(i)], std::exp(shifted) / sum, relative * std::exp(shifted) / sum));
          EXPECT_TRUE(near(ly[at(i)], shifted - std::log(sum),
                           relative + 4.0 * kEps * (std::abs(shifted) + std::abs(std::log(sum)))));
        }
      }
  }
}

TEST(FloatSoftmaxReference, EdgeRows) {
  std::vector<float> y(3);
  // -inf entries get 0 (log: -inf); an all -inf row is 0 / 0, NaN, as ONNX's reference computes it.
  const std::vector<float> some = {-kInf, 0.0f, -kInf};
  ref::float_softmax(some.data(), {3}, 0, false, y.data());
  EXPECT_TRUE(identical(y, {0.0f, 1.0f, 0.0f}));
  ref::float_softmax(some.data(), {3}, 0, true, y.data());
  EXPECT_TRUE(identical(y, {-kInf, 0.0f, -kInf}));
  const std::vector<float> none(3, -kInf);
  ref::float_softmax(none.data(), {3}, 0, false, y.data());
  EXPECT_TRUE(std::all_of(y.begin(), y.end(), [](float v) { return std::isnan(v); }));
  // Large equal values: exactly uniform.
  const std::vector<float> large = {3e38f, 3e38f, -3e38f};
  ref::float_softmax(large.data(), {3}, 0, false, y.data());
  EXPECT_TRUE(identical(y, {0.5f, 0.5f, 0.0f}));
  // NaN anywhere poisons the row.
  const std::vector<float> nan_row = {1.0f, kNaN, 2.0f};
  ref::float_softmax(nan_row.data(), {3}, 0, false, y.data());
  EXPECT_TRUE(std::all_of(y.begin(), y.end(), [](float v) { return std::isnan(v); }));
  EXPECT_THROW(ref::float_softmax(nan_row.data(), {3}, 1, false, y.data()), Error);
  ref::float_softmax(nullptr, {0, 3}, 1, false, y.data());  // empty: nothing
}

// numpy's argmax / argmin with ONNX's select_last_index: NaN counts as the extreme.
int64_t expected_arg(const std::vector<float>& v, bool max, bool last) {
  int64_t best = -1;
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
    const float a = v[static_cast<size_t>(i)];
    if (best < 0) {
      best = i;
      continue;
    }
    const float b = v[static_cast<size_t>(best)];
    const bool tie = (a == b) || (std::isnan(a) && std::isnan(b));
    const bool wins = !std::isnan(b) && (std::isnan(a) || (max ? a > b : a < b));
    if (wins || (last && tie)) best = i;
  }
  return best;
}

TEST(FloatTopKReference, AgainstStableSort) {
  for (uint64_t seed = 0; seed < test::random_trials(80); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const Shape s = {rng.integer(1, 3), rng.integer(1, 9), rng.integer(1, 4)};
    const int64_t axis = rng.integer(0, 2), length = s[static_cast<size_t>(axis)];
    const int64_t k = rng.integer(0, static_cast<int>(length));
    const bool largest = rng.coin();
    // Few distinct values, so that ties are common; some NaN, -0 beside +0.
    std::vector<float> x(static_cast<size_t>(s[0] * s[1] * s[2]));
    for (float& v : x)
      v = static_cast<float>(rng.integer(-3, 3));
    if (seed % 3 == 0) x[static_cast<size_t>(rng.integer(0, static_cast<int>(x.size()) - 1))] = NAN;
    if (seed % 5 == 0) std::replace(x.begin(), x.end(), 0.0f, -0.0f);
    Shape out_shape = s;
    out_shape[static_cast<size_t>(axis)] = k;
    std::vector<float> values(static_cast<size_t>(out_shape[0] * out_shape[1] * out_shape[2]));
    std::vector<int64_t> indices(values.size());
    ref::float_top_k(x.data(), s, axis, k, largest, values.data(), indices.data());
    const int64_t inner = axis == 2 ? 1 : (axis == 1 ? s[2] : s[1] * s[2]);
    const int64_t outer = axis == 0 ? 1 : (axis == 1 ? s[0] : s[0] * s[1]);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        std::vector<int64_t> order(static_cast<size_t>(length));
        std::iota(order.begin(), order.end(), int64_t{0});
        auto at = [&](int64_t j) { return x[static_cast<size_t>((o * length + j) * inner + i)]; };
        // NaN first, then by value; stable: ties keep the lower index first.
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          if (std::isnan(at(a)) || std::isnan(at(b))) return std::isnan(at(a)) && !std::isnan(at(b));
          return largest ? at(a) > at(b) : at(a) < at(b);
        });
        for (int64_t j = 0; j < k; ++j) {
          const auto e = static_cast<size_t>((o * k + j) * inner + i);
          EXPECT_EQ(indices[e], order[static_cast<size_t>(j)]) << "row " << o << "," << i << " rank " << j;
          EXPECT_TRUE(identical({values[e]}, {at(order[static_cast<size_t>(j)])}));
        }
      }
  }
  const std::vector<float> x = {1, 2, 3};
  std::vector<float> v(4);
  EXPECT_THROW(ref::float_top_k(x.data(), {3}, 0, 4, true, v.data(), nullptr), Error);
  ref::float_top_k(x.data(), {3}, 0, 2, false, v.data(), nullptr);  // values only
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], 2.0f);
}

TEST(FloatArgReduceReference, TiesNanAndSelectLastIndex) {
  for (uint64_t seed = 0; seed < test::random_trials(100); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const Shape s = random_shape(rng, rng.integer(1, 3), 9);
    const auto axis = rng.integer(0, static_cast<int64_t>(s.size()) - 1);
    std::vector<float> x(static_cast<size_t>(count_of(s)));
    for (float& v : x)  // few distinct values: many ties, signed zeros among them
      v = static_cast<float>(rng.integer(-2, 2));
    for (float& v : x)
      if (v == 0.0f && rng.coin()) v = -0.0f;
    if (seed % 3 == 0) sprinkle_specials(rng, x, 10);
    Shape ys = s;
    ys[static_cast<size_t>(axis)] = 1;
    std::vector<int64_t> y(static_cast<size_t>(count_of(ys)));
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < s.size(); ++d)
      inner *= s[d];
    const int64_t n = s[static_cast<size_t>(axis)];
    for (bool max : {true, false})
      for (bool last : {false, true}) {
        ref::float_arg_reduce(x.data(), s, axis, max, last, y.data());
        for (size_t o = 0; o < y.size(); ++o) {
          const int64_t outer = static_cast<int64_t>(o) / inner, k = static_cast<int64_t>(o) % inner;
          std::vector<float> column;
          for (int64_t i = 0; i < n; ++i)
            column.push_back(x[static_cast<size_t>((outer * n + i) * inner + k)]);
          EXPECT_EQ(y[o], expected_arg(column, max, last)) << "max " << max << " last " << last;
        }
      }
  }
  const std::vector<float> x = {1.0f, 3.0f, 3.0f, -1.0f};
  int64_t y = -1;
  ref::float_arg_reduce(x.data(), {4}, 0, true, false, &y);
  EXPECT_EQ(y, 1);
  ref::float_arg_reduce(x.data(), {4}, 0, true, true, &y);
  EXPECT_EQ(y, 2);
  EXPECT_THROW(ref::float_arg_reduce(x.data(), {2, 0}, 1, true, false, &y), Error);
}

// ---------------------------------------------------------------------------------------------------------
// Normalizations against float64

// Mean and biased variance in float64.
std::pair<double, double> exact_moments(const std::vector<float>& x, int64_t first, int64_t count,
                                        int64_t step) {
  double mean = 0.0, var = 0.0;
  for (int64_t i = 0; i < count; ++i)
    mean += x[static_cast<size_t>(first + i * step)];
  mean /= static_cast<double>(count);
  for (int64_t i = 0; i < count; ++i) {
    const double d = x[static_cast<size_t>(first + i * step)] - mean;
    var += d * d;
  }
  return {mean, var / static_cast<double>(count)};
}

// The rounding analysis of y = (x - mean) / sqrt(var + eps) * s + b in float: the mean and variance carry
// ordered-sum errors (the variance's only to first order in the mean's), every other step one rounding.
double normalized_tolerance(int64_t n, double x, double mean, double denominator, double s, double b,
                            double y) {
  const double depth = static_cast<double>((n + 15) / 16) + 8.0;
  return 4.0 * kEps *
         (depth * std::abs(s) * (std::abs(x) + std::abs(mean)) / denominator + std::abs(y) + std::abs(b));
}

TEST(FloatNormalizationReference, LayerNormAgainstFloat64) {
  for (uint64_t seed = 0; seed < test::random_trials(60); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t outer = rng.integer(1, 5), inner = rng.integer(1, 200);
    const double center = rng.real(-10.0, 10.0), spread = rng.real(0.1, 5.0);
    const std::vector<float> x = random_floats(rng, outer * inner, center - spread, center + spread);
    const std::vector<float> scale = random_floats(rng, inner, -2.0, 2.0),
                             bias = random_floats(rng, inner, -1, 1);
    const float epsilon = 1e-5f;
    const bool with_bias = rng.coin();
    std::vector<float> y(x.size());
    ref::float_layer_norm(x.data(), outer, inner, scale.data(), with_bias ? bias.data() : nullptr, epsilon,
                          y.data());
    for (int64_t o = 0; o < outer; ++o) {
      const auto [mean, var] = exact_moments(x, o * inner, inner, 1);
      const double denominator = std::sqrt(var + epsilon);
      for (int64_t i = 0; i < inner; ++i) {
        const auto e = static_cast<size_t>(o * inner + i), c = static_cast<size_t>(i);
        const double b = with_bias ? bias[c] : 0.0;
        const double want = (x[e] - mean) / denominator * scale[c] + b;
        EXPECT_TRUE(
            near(y[e], want, normalized_tolerance(inner, x[e], mean, denominator, scale[c], b, want)));
      }
    }
  }
}

TEST(FloatNormalizationReference, InstanceNormBothLayoutsAgainstFloat64) {
  for (uint64_t seed = 0; seed < test::random_trials(60); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t n = rng.integer(1, 3), channels = rng.integer(1, 20), spatial = rng.integer(1, 100);
    const bool channels_last = rng.coin();
    const std::vector<float> x = random_floats(rng, n * channels * spatial, -4.0, 6.0);
    const std::vector<float> scale = random_floats(rng, channels, -2.0, 2.0),
                             bias = random_floats(rng, channels, -1.0, 1.0);
    const float epsilon = 1e-3f;
    std::vector<float> y(x.size());
    ref::float_instance_norm(x.data(), n, channels, spatial, channels_last, scale.data(), bias.data(),
                             epsilon, y.data());
    for (int64_t b = 0; b < n; ++b)
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t first = channels_last ? b * spatial * channels + c : (b * channels + c) * spatial;
        const int64_t step = channels_last ? channels : 1;
        const auto [mean, var] = exact_moments(x, first, spatial, step);
        const double denominator = std::sqrt(var + epsilon);
        const auto cu = static_cast<size_t>(c);
        for (int64_t s = 0; s < spatial; ++s) {
          const auto e = static_cast<size_t>(first + s * step);
          const double want = (x[e] - mean) / denominator * scale[cu] + bias[cu];
          EXPECT_TRUE(near(
              y[e], want, normalized_tolerance(spatial, x[e], mean, denominator, scale[cu], bias[cu], want)));
        }
      }
  }
}

// GroupNormalization: statistics in float64, so the result is the instance-norm expression's few roundings
// (normalized_tolerance with a depth for n = 1 covers them).
TEST(FloatNormalizationReference, GroupNormBothLayoutsAgainstFloat64) {
  for (uint64_t seed = 0; seed < test::random_trials(60); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t groups = rng.integer(1, 4), n = rng.integer(1, 3), channels = groups * rng.integer(1, 5),
                  spatial = rng.integer(1, 60);
    const bool channels_last = rng.coin();
    const double center = rng.real(-10.0, 10.0);
    const std::vector<float> x = random_floats(rng, n * channels * spatial, center - 3.0, center + 5.0);
    const std::vector<float> scale = random_floats(rng, channels, -2.0, 2.0),
                             bias = random_floats(rng, channels, -1.0, 1.0);
    const float epsilon = 1e-4f;
    std::vector<float> y(x.size());
    ref::float_group_norm(x.data(), n, channels, spatial, channels_last, groups, scale.data(), bias.data(),
                          epsilon, y.data());
    const int64_t per_group = channels / groups;
    auto index = [&](int64_t b, int64_t c, int64_t sp) {
      return static_cast<size_t>(channels_last ? (b * spatial + sp) * channels + c
                                               : (b * channels + c) * spatial + sp);
    };
    for (int64_t b = 0; b < n; ++b)
      for (int64_t g = 0; g < groups; ++g) {
        double sum = 0.0, squares = 0.0;
        for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c)
          for (int64_t sp = 0; sp < spatial; ++sp)
            sum += x[index(b, c, sp)];
        const double mean = sum / static_cast<double>(per_group * spatial);
        for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c)
          for (int64_t sp = 0; sp < spatial; ++sp)
            squares += (x[index(b, c, sp)] - mean) * (x[index(b, c, sp)] - mean);
        const double denominator = std::sqrt(squares / static_cast<double>(per_group * spatial) + epsilon);
        for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c)
          for (int64_t sp = 0; sp < spatial; ++sp) {
            const size_t e = index(b, c, sp), cu = static_cast<size_t>(c);
            const double want = (x[e] - mean) / denominator * scale[cu] + bias[cu];
            EXPECT_TRUE(near(y[e], want,
                             normalized_tolerance(1, x[e], mean, denominator, scale[cu], bias[cu], want)));
          }
      }
  }
  const std::vector<float> x(12, 1.0f), ones(6, 1.0f);
  std::vector<float> y(12);
  EXPECT_THROW(ref::float_group_norm(x.data(), 1, 6, 2, false, 4, ones.data(), ones.data(), 1e-5f, y.data()),
               Error);
}

// LRN: the window's sum of squares has positive terms, so with `size` of them, the scaling by alpha / size
// (itself rounded) and the addition of the bias, t = bias + alpha / size * S is within (size + 4) eps of
// exact, relatively; t^beta then within beta times that plus the power's own error (two correctly rounded
// square roots and a product, or std::pow: 4 eps), and the division one more.
TEST(FloatNormalizationReference, LrnAgainstFloat64) {
  const float betas[] = {0.75f, 0.5f, 1.0f, 0.6f, 1.3f};
  for (uint64_t seed = 0; seed < test::random_trials(80); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t outer = rng.integer(1, 4), channels = rng.integer(1, 40),
                  inner = rng.coin() ? 1 : rng.integer(1, 30);
    const ref::LrnParams p{rng.integer(1, 9), static_cast<float>(rng.real(1e-4, 1.0)), betas[seed % 5],
                           static_cast<float>(rng.real(0.5, 2.0))};
    const std::vector<float> x = random_floats(rng, outer * channels * inner, -5.0, 5.0);
    std::vector<float> y(x.size());
    ref::float_lrn(x.data(), outer, channels, inner, p, y.data());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < inner; ++i) {
          double sum = 0.0;
          for (int64_t k = std::max<int64_t>(0, c - (p.size - 1) / 2);
               k <= std::min(channels - 1, c + p.size / 2); ++k) {
            const double v = x[static_cast<size_t>((o * channels + k) * inner + i)];
            sum += v * v;
          }
          const auto e = static_cast<size_t>((o * channels + c) * inner + i);
          const double t = static_cast<double>(p.bias) + static_cast<double>(p.alpha) / p.size * sum;
          const double want = x[e] / std::pow(t, static_cast<double>(p.beta));
          const double bound = (p.beta * static_cast<double>(p.size + 4) + 6.0) * kEps * std::abs(want);
          EXPECT_TRUE(near(y[e], want, bound)) << "element " << e << ": " << y[e] << " vs " << want;
        }
  }
}

TEST(FloatNormalizationReference, LrnWindowsAndRows) {
  // ONNX's example window: size 4 takes one channel before and two after; a window wider than the channels
  // takes them all; a row range computes only its rows.
  const std::vector<float> x = {1, 2, 3, 4, 5};
  std::vector<float> y(5);
  ref::float_lrn(x.data(), 1, 5, 1, {4, 4.0f, 1.0f, 1.0f}, y.data());
  const float sums[] = {1 + 4 + 9, 1 + 4 + 9 + 16, 4 + 9 + 16 + 25, 9 + 16 + 25, 16 + 25};
  for (size_t c = 0; c < 5; ++c)
    EXPECT_FLOAT_EQ(y[c], x[c] / (1.0f + sums[c])) << c;
  ref::float_lrn(x.data(), 1, 5, 1, {99, 99.0f, 1.0f, 1.0f}, y.data());
  for (size_t c = 0; c < 5; ++c)
    EXPECT_FLOAT_EQ(y[c], x[c] / 56.0f) << c;
  std::vector<float> rows(10, -7.0f), two(10);
  std::iota(two.begin(), two.end(), 1.0f);
  ref::float_lrn(two.data(), 2, 5, 1, {3, 1e-2f, 0.75f, 1.0f}, rows.data(), 1, 2);
  for (size_t e = 0; e < 5; ++e)
    EXPECT_EQ(rows[e], -7.0f);
  EXPECT_NE(rows[5], -7.0f);
  EXPECT_THROW(ref::float_lrn(x.data(), 1, 5, 1, {0, 1e-4f, 0.75f, 1.0f}, y.data()), Error);
}

TEST(FloatNormalizationReference, ChannelAffineIsOneFusedRounding) {
  test::Random rng(3);
  const int64_t outer = 3, channels = 5, inner = 7;
  const std::vector<float> x = random_floats(rng, outer * channels * inner, -100.0, 100.0);
  const std::vector<float> scale = random_floats(rng, channels, -3.0, 3.0),
                           shift = random_floats(rng, channels, -50, 50);
  std::vector<float> y(x.size());
  ref::float_channel_affine(x.data(), outer, channels, inner, scale.data(), shift.data(), y.data());
  for (size_t e = 0; e < x.size(); ++e) {
    const auto c = static_cast<size_t>((static_cast<int64_t>(e) / inner) % channels);
    // x * s is exact in float64; adding the shift rounds once more there, so within one float ulp.
    const double want = static_cast<double>(x[e]) * scale[c] + shift[c];
    EXPECT_TRUE(near(y[e], want, 2.0 * kEps * std::abs(want)));
  }
}

TEST(FloatNormalizationReference, EdgeCases) {
  // A constant row: variance 0, the output is the bias (x - mean is exactly 0).
  const std::vector<float> x(8, 2.5f), scale(8, 3.0f), bias(8, -1.0f);
  std::vector<float> y(8);
  ref::float_layer_norm(x.data(), 1, 8, scale.data(), bias.data(), 1e-5f, y.data());
  EXPECT_TRUE(identical(y, bias));
  // No bias: nothing added, so -0 stays -0.
  ref::float_layer_norm(x.data(), 1, 8, scale.data(), nullptr, 1e-5f, y.data());
  EXPECT_TRUE(identical(y, std::vector<float>(8, 0.0f)));
  ref::float_layer_norm(x.data(), 0, 8, scale.data(), nullptr, 1e-5f, y.data());  // empty: nothing
  EXPECT_THROW(ref::float_layer_norm(x.data(), 1, 8, nullptr, nullptr, 1e-5f, y.data()), Error);
  EXPECT_THROW(ref::float_instance_norm(x.data(), 1, 2, 4, false, scale.data(), nullptr, 1e-5f, y.data()),
               Error);
  EXPECT_THROW(ref::float_channel_affine(x.data(), -1, 2, 4, scale.data(), bias.data(), y.data()), Error);
}

// ---------------------------------------------------------------------------------------------------------
// Pooling against float64

struct PoolCase {
  Shape nhwc;
  ref::Pool2dParams p;
  FloatClamp clamp;
};

PoolCase random_pool_case(test::Random& rng, bool dilation) {
  PoolCase c;
  ref::Pool2dParams& p = c.p;
  p.kernel_h = rng.integer(1, 4), p.kernel_w = rng.integer(1, 4);
  p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
  if (dilation) p.dilation_h = rng.integer(1, 3), p.dilation_w = rng.integer(1, 3);
  const int64_t eh = p.dilation_h * (p.kernel_h - 1) + 1, ew = p.dilation_w * (p.kernel_w - 1) + 1;
  p.pad = {rng.integer(0, eh - 1), rng.integer(0, ew - 1), rng.integer(0, eh - 1), rng.integer(0, ew - 1)};
  p.ceil_mode = rng.coin();
  p.count_include_pad = rng.coin();
  const int64_t ih = std::max<int64_t>(1, rng.integer(eh - p.pad.top - p.pad.bottom, eh + 8));
  const int64_t iw = std::max<int64_t>(1, rng.integer(ew - p.pad.left - p.pad.right, ew + 8));
  // 64 and 70: the max pool's side-by-side chains of 4 vectors on AVX-512, and a tail after them.
  const int64_t channels[] = {1, 3, 4, 8, 16, 17, 35, 64, 70};
  c.nhwc = {rng.integer(1, 2), ih, iw, channels[rng.integer(0, 8)]};
  if (rng.integer(0, 3) == 0)
    c.clamp = {static_cast<float>(rng.real(-1.0, 0.0)), static_cast<float>(rng.real(0.0, 1.0))};
  return c;
}

// Output size by the ONNX / PyTorch formula, written independently of pool_output_size.
int64_t onnx_pool_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, bool ceil_mode) {
  const double span = static_cast<double>(in + pb + pe - d * (k - 1) - 1) / static_cast<double>(s);
  int64_t out = static_cast<int64_t>(ceil_mode ? std::ceil(span) : std::floor(span)) + 1;
  if (ceil_mode && (out - 1) * s >= in + pb) --out;  // the last window must start inside the input or padding
  return out;
}

int64_t output_size(const PoolCase& pc, bool height) {
  const ref::Pool2dParams& p = pc.p;
  return height ? onnx_pool_size(pc.nhwc[1], p.kernel_h, p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom,
                                 p.ceil_mode)
                : onnx_pool_size(pc.nhwc[2], p.kernel_w, p.stride_w, p.dilation_w, p.pad.left, p.pad.right,
                                 p.ceil_mode);
}

size_t pooled_count(const PoolCase& pc) {
  return static_cast<size_t>(pc.nhwc[0] * output_size(pc, true) * output_size(pc, false) * pc.nhwc[3]);
}

// Every window enumerated tap by tap in float64: max exactly, the mean within the sum bound.
void check_pools_against_float64(const PoolCase& pc, const std::vector<float>& x, bool max) {
  const ref::Pool2dParams& p = pc.p;
  const int64_t n = pc.nhwc[0], ih = pc.nhwc[1], iw = pc.nhwc[2], c = pc.nhwc[3];
  const int64_t oh = output_size(pc, true), ow = output_size(pc, false);
  std::vector<float> y(pooled_count(pc));
  if (max)
    ref::float_max_pool2d(x.data(), pc.nhwc, p, pc.clamp, y.data());
  else
    ref::float_average_pool2d(x.data(), pc.nhwc, p, pc.clamp, y.data());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t ch = 0; ch < c; ++ch) {
          double best = -INFINITY, sum = 0.0, magnitude = 0.0;
          int64_t inside = 0, in_padded = 0;
          for (int64_t ky = 0; ky < p.kernel_h; ++ky)
            for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
              const int64_t iy = oy * p.stride_h - p.pad.top + ky * p.dilation_h;
              const int64_t ix = ox * p.stride_w - p.pad.left + kx * p.dilation_w;
              // count_include_pad counts the window inside the padded input (ceil_mode overhang excluded).
              if (iy < ih + p.pad.bottom && ix < iw + p.pad.right) ++in_padded;
              if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
              const double v = x[static_cast<size_t>(((b * ih + iy) * iw + ix) * c + ch)];
              best = std::max(best, v), sum += v, magnitude += std::abs(v), ++inside;
            }
          const float got = y[static_cast<size_t>(((b * oh + oy) * ow + ox) * c + ch)];
          if (max) {
            EXPECT_EQ(got, pc.clamp.apply(static_cast<float>(best)));
            continue;
          }
          const double count = static_cast<double>(p.count_include_pad ? in_padded : inside);
          const double want =
              std::clamp(sum / count, static_cast<double>(pc.clamp.lo), static_cast<double>(pc.clamp.hi));
          EXPECT_TRUE(near(got, want, (static_cast<double>(inside) + 2.0) * kEps * magnitude / count));
        }
}

TEST(FloatPoolingReference, AgainstFloat64) {
  for (uint64_t seed = 0; seed < test::random_trials(200); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const PoolCase max_case = random_pool_case(rng, true), average_case = random_pool_case(rng, false);
    const std::vector<float> x = random_floats(rng, count_of(max_case.nhwc), -5.0, 5.0);
    const std::vector<float> xa = random_floats(rng, count_of(average_case.nhwc), -5.0, 5.0);
    check_pools_against_float64(max_case, x, true);
    check_pools_against_float64(average_case, xa, false);
    // The global average pool: the mean over all pixels.
    const int64_t n = max_case.nhwc[0], hw = max_case.nhwc[1] * max_case.nhwc[2], c = max_case.nhwc[3];
    std::vector<float> mean(static_cast<size_t>(n * c));
    ref::float_global_average_pool(x.data(), max_case.nhwc, mean.data());
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0.0, magnitude = 0.0;
        for (int64_t i = 0; i < hw; ++i) {
          const double v = x[static_cast<size_t>((b * hw + i) * c + ch)];
          sum += v, magnitude += std::abs(v);
        }
        const auto o = static_cast<size_t>(b * c + ch);
        const double hwd = static_cast<double>(hw);
        EXPECT_TRUE(near(mean[o], sum / hwd, sum_tolerance(hw, magnitude, 2.0) / hwd));
      }
  }
}

std::vector<float> iota_floats(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 1.0f);
  return v;
}

TEST(FloatPoolingReference, OnnxExamples) {
  const std::vector<float> x = iota_floats(16);  // [1, 4, 4, 1]: 1 .. 16
  ref::Pool2dParams p;
  p.kernel_h = p.kernel_w = 3, p.stride_h = p.stride_w = 2, p.ceil_mode = true;
  std::vector<float> y(4);
  ref::float_average_pool2d(x.data(), {1, 4, 4, 1}, p, {}, y.data());  // averagepool_2d_ceil
  EXPECT_TRUE(identical(y, {6.0f, 7.5f, 12.0f, 13.5f}));
  ref::float_max_pool2d(x.data(), {1, 4, 4, 1}, p, {}, y.data());  // maxpool_2d_ceil
  EXPECT_TRUE(identical(y, {11.0f, 12.0f, 15.0f, 16.0f}));
  ref::Pool2dParams d;
  d.kernel_h = d.kernel_w = 2, d.dilation_h = d.dilation_w = 2;
  ref::float_max_pool2d(x.data(), {1, 4, 4, 1}, d, {}, y.data());  // maxpool_2d_dilations
  EXPECT_TRUE(identical(y, {11.0f, 12.0f, 15.0f, 16.0f}));
  // A 1x1 output: the whole image, with a Relu6 clamp.
  ref::Pool2dParams whole;
  whole.kernel_h = whole.kernel_w = 4;
  float one = 0.0f;
  ref::float_average_pool2d(x.data(), {1, 4, 4, 1}, whole, {0.0f, 6.0f}, &one);
  EXPECT_EQ(one, 6.0f);
  ref::float_max_pool2d(x.data(), {1, 4, 4, 1}, whole, {}, &one);
  EXPECT_EQ(one, 16.0f);
  // count_include_pad: a 3x3 window at the corner of a padded 2x2 image holds 4 values and 5 pads.
  ref::Pool2dParams pad;
  pad.kernel_h = pad.kernel_w = 3, pad.pad = {1, 1, 1, 1}, pad.count_include_pad = true;
  const std::vector<float> four = {1, 2, 3, 4};
  std::vector<float> y4(4);
  ref::float_average_pool2d(four.data(), {1, 2, 2, 1}, pad, {}, y4.data());
  EXPECT_TRUE(identical(y4, std::vector<float>(4, 10.0f / 9.0f)));
  pad.count_include_pad = false;
  ref::float_average_pool2d(four.data(), {1, 2, 2, 1}, pad, {}, y4.data());
  EXPECT_TRUE(identical(y4, std::vector<float>(4, 2.5f)));
}

TEST(FloatPoolingReference, NanPropagatesAndPaddingNeverWins) {
  const std::vector<float> x = {-5.0f, kNaN, -7.0f, -8.0f};
  ref::Pool2dParams p;
  p.kernel_h = p.kernel_w = 2, p.pad = {1, 1, 1, 1};
  std::vector<float> y(9);
  ref::float_max_pool2d(x.data(), {1, 2, 2, 1}, p, {}, y.data());
  EXPECT_EQ(y[0], -5.0f);  // padding (never 0) does not win over -5
  EXPECT_TRUE(std::isnan(y[1]) && std::isnan(y[4]) && std::isnan(y[2]));
  EXPECT_EQ(y[6], -7.0f);
  EXPECT_EQ(y[8], -8.0f);
  // Dilation can make a window miss the input entirely: max's identity, -inf.
  ref::Pool2dParams skip;
  skip.kernel_w = 2, skip.dilation_w = 3, skip.pad = {0, 2, 0, 2};
  const float one = 1.0f;
  std::vector<float> y2(2);
  ref::float_max_pool2d(&one, {1, 1, 1, 1}, skip, {}, y2.data());
  EXPECT_TRUE(identical(y2, {-kInf, -kInf}));
}

TEST(FloatPoolingReference, RejectsBadShapesAndParams) {
  const std::vector<float> x(16);
  std::vector<float> y(16);
  ref::Pool2dParams p;
  p.kernel_h = p.kernel_w = 2;
  EXPECT_THROW(ref::float_max_pool2d(x.data(), {1, 4, 4}, p, {}, y.data()), Error);
  EXPECT_THROW(ref::float_max_pool2d(x.data(), {1, 0, 4, 1}, p, {}, y.data()), Error);
  EXPECT_THROW(ref::float_global_average_pool(x.data(), {1, 4, 0, 1}, y.data()), Error);
  ref::Pool2dParams dilated = p;
  dilated.dilation_h = 2;
  EXPECT_THROW(ref::float_average_pool2d(x.data(), {1, 4, 4, 1}, dilated, {}, y.data()), Error);
  ref::Pool2dParams big_pad = p;
  big_pad.pad.top = 2;
  EXPECT_THROW(ref::float_max_pool2d(x.data(), {1, 4, 4, 1}, big_pad, {}, y.data()), Error);
  // Zero images or channels: nothing to do.
  ref::float_max_pool2d(x.data(), {0, 4, 4, 1}, p, {}, y.data());
  ref::float_average_pool2d(x.data(), {1, 4, 4, 0}, p, {}, y.data());
}

// ---------------------------------------------------------------------------------------------------------
// Resize against float64: ONNX's reference algorithm, re-implemented literally (the n nearest neighbours of
// the source coordinate in the edge-padded input, preferring the left one, coefficient functions of the
// ratio in (0, 1]).

struct Taps1d {
  std::vector<int64_t> index;  // unclamped
  std::vector<double> weight;
};

Taps1d onnx_taps(int64_t o, int64_t in, int64_t out, double scale, const ref::FloatResizeParams& p) {
  if (scale == 0.0) scale = static_cast<double>(out) / static_cast<double>(in);
  const double xr = static_cast<double>(o);
  double x = 0.0;
  if (p.tf_half_pixel_for_nearest) {
    x = scale == 1.0 ? xr : (xr + 0.5) / scale;  // an axis of scale 1 is left as it is (ONNX Runtime)
  } else {
    switch (p.base.coordinate_mode) {
      case ref::CoordinateMode::half_pixel:
        x = (xr + 0.5) / scale - 0.5;
        break;
      case ref::CoordinateMode::pytorch_half_pixel:
        x = out > 1 ? (xr + 0.5) / scale - 0.5 : 0.0;
        break;
      case ref::CoordinateMode::align_corners:
        x = out == 1 ? 0.0 : xr * static_cast<double>(in - 1) / static_cast<double>(out - 1);
        break;
      case ref::CoordinateMode::asymmetric:
        x = xr / scale;
        break;
    }
  }
  const double ratio = x == std::floor(x) ? 1.0 : x - std::floor(x);
  std::vector<double> coeffs;
  const double a = p.cubic_coeff_a;
  switch (p.mode) {
    case ref::FloatResizeMode::nearest: {
      bool right = true;  // integral x: [0, 1]
      if (ratio != 1.0) switch (ref::axis_rounding(p.base.nearest_rounding, scale)) {
          case ref::NearestRounding::round_prefer_floor:
            right = ratio > 0.5;
            break;
          case ref::NearestRounding::round_prefer_ceil:
            right = ratio >= 0.5;
            break;
          case ref::NearestRounding::floor:
          case ref::NearestRounding::resize_10:  // resolved above
            right = false;
            break;
          case ref::NearestRounding::ceil:
            right = true;
            break;
        }
      coeffs = {right ? 0.0 : 1.0, right ? 1.0 : 0.0};
      break;
    }
    case ref::FloatResizeMode::linear:
      coeffs = {1.0 - ratio, ratio};
      break;
    case ref::FloatResizeMode::cubic: {
      auto w = [a](double t) {  // Keys' kernel at distance t
        t = std::abs(t);
        if (t <= 1.0) return (a + 2.0) * t * t * t - (a + 3.0) * t * t + 1.0;
        if (t < 2.0) return a * t * t * t - 5.0 * a * t * t + 8.0 * a * t - 4.0 * a;
        return 0.0;
      };
      coeffs = {w(ratio + 1.0), w(ratio), w(1.0 - ratio), w(2.0 - ratio)};
      break;
    }
  }
  const auto n = static_cast<int64_t>(coeffs.size());
  // The n nearest indices of the padded input (pad = ceil(n / 2) each side), ties to the smaller.
  const int64_t pad = (n + 1) / 2;
  std::vector<int64_t> candidates;
  for (int64_t i = -pad; i < in + pad; ++i)
    candidates.push_back(i);
  std::stable_sort(candidates.begin(), candidates.end(), [x](int64_t l, int64_t r) {
    return std::abs(x - static_cast<double>(l)) < std::abs(x - static_cast<double>(r));
  });
  candidates.resize(static_cast<size_t>(n));
  std::sort(candidates.begin(), candidates.end());
  if (p.exclude_outside && p.mode != ref::FloatResizeMode::nearest) {
    double sum = 0.0;
    for (size_t t = 0; t < coeffs.size(); ++t) {
      if (candidates[t] < 0 || candidates[t] >= in) coeffs[t] = 0.0;
      sum += coeffs[t];
    }
    for (double& c : coeffs)
      c /= sum;
  }
  return {candidates, coeffs};
}

// Expected resize output in float64 with the sum of |weight * value| for the tolerance.
void onnx_resize(const std::vector<float>& x, const Shape& nhwc, const ref::FloatResizeParams& p,
                 std::vector<double>& want, std::vector<double>& magnitude) {
  const int64_t n = nhwc[0], ih = nhwc[1], iw = nhwc[2], c = nhwc[3], oh = p.base.out_h, ow = p.base.out_w;
  want.assign(static_cast<size_t>(n * oh * ow * c), 0.0);
  magnitude.assign(want.size(), 0.0);
  for (int64_t oy = 0; oy < oh; ++oy) {
    const Taps1d ty = onnx_taps(oy, ih, oh, p.base.scale_h, p);
    for (int64_t ox = 0; ox < ow; ++ox) {
      const Taps1d tx = onnx_taps(ox, iw, ow, p.base.scale_w, p);
      for (int64_t b = 0; b < n; ++b)
        for (int64_t ch = 0; ch < c; ++ch) {
          const auto o = static_cast<size_t>(((b * oh + oy) * ow + ox) * c + ch);
          for (size_t ky = 0; ky < ty.index.size(); ++ky)
            for (size_t kx = 0; kx < tx.index.size(); ++kx) {
              const double w = ty.weight[ky] * tx.weight[kx];
              if (w == 0.0 && p.mode == ref::FloatResizeMode::nearest) continue;  // nearest selects
              const int64_t iy = std::clamp<int64_t>(ty.index[ky], 0, ih - 1);
              const int64_t ix = std::clamp<int64_t>(tx.index[kx], 0, iw - 1);
              const double v = x[static_cast<size_t>(((b * ih + iy) * iw + ix) * c + ch)];
              want[o] += w * v;
              magnitude[o] += std::abs(w * v);
            }
        }
    }
  }
}

ref::FloatResizeParams random_resize_params(test::Random& rng, int64_t ih, int64_t iw) {
  ref::FloatResizeParams p;
  p.mode = static_cast<ref::FloatResizeMode>(rng.integer(0, 2));
  p.base.coordinate_mode = static_cast<ref::CoordinateMode>(rng.integer(0, 3));
  p.base.nearest_rounding = static_cast<ref::NearestRounding>(rng.integer(0, 4));
  p.tf_half_pixel_for_nearest = rng.integer(0, 4) == 0;
  p.cubic_coeff_a = rng.coin() ? -0.75f : -0.5f;
  p.exclude_outside = rng.coin();
  // Scales given (the output size their floor) or sizes given (scale 0: out / in).
  if (rng.coin()) {
    p.base.scale_h = static_cast<double>(static_cast<float>(rng.real(0.3, 3.5)));
    p.base.scale_w = static_cast<double>(static_cast<float>(rng.real(0.3, 3.5)));
    p.base.out_h =
        std::max<int64_t>(1, static_cast<int64_t>(std::floor(static_cast<double>(ih) * p.base.scale_h)));
    p.base.out_w =
        std::max<int64_t>(1, static_cast<int64_t>(std::floor(static_cast<double>(iw) * p.base.scale_w)));
  } else {
    p.base.out_h = rng.integer(1, 3 * ih), p.base.out_w = rng.integer(1, 3 * iw);
  }
  return p;
}

TEST(FloatResizeReference, AgainstOnnxAlgorithmInFloat64) {
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const Shape nhwc = {rng.integer(1, 2), rng.integer(1, 7), rng.integer(1, 7), rng.integer(1, 5)};
    const ref::FloatResizeParams p = random_resize_params(rng, nhwc[1], nhwc[2]);
    const std::vector<float> x = random_floats(rng, count_of(nhwc), -10.0, 10.0);
    std::vector<float> y(static_cast<size_t>(nhwc[0] * p.base.out_h * p.base.out_w * nhwc[3]));
    ref::float_resize(x.data(), nhwc, p, y.data());
    std::vector<double> want, magnitude;
    onnx_resize(x, nhwc, p, want, magnitude);
    for (size_t i = 0; i < y.size(); ++i) {
      // Nearest copies exactly; interpolation: 4 + 4 products and sums plus the weights' rounding.
      const double tol = p.mode == ref::FloatResizeMode::nearest ? 0.0 : 12.0 * kEps * magnitude[i];
      ASSERT_TRUE(near(y[i], want[i], tol)) << "element " << i << " mode " << static_cast<int>(p.mode)
                                            << " coordinates " << static_cast<int>(p.base.coordinate_mode);
    }
  }
}

std::vector<float> resize_2d(const std::vector<float>& x, int64_t ih, int64_t iw, ref::FloatResizeParams p) {
  std::vector<float> y(static_cast<size_t>(p.base.out_h * p.base.out_w));
  ref::float_resize(x.data(), {1, ih, iw, 1}, p, y.data());
  return y;
}

::testing::AssertionResult all_near(const std::vector<float>& got, const std::vector<double>& want,
                                    double tol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(got[i] - want[i]) <= tol))
      return ::testing::AssertionFailure() << "element " << i << ": " << got[i] << " vs " << want[i];
  return ::testing::AssertionSuccess();
}

TEST(FloatResizeReference, OnnxExamples) {
  const std::vector<float> x22 = {1, 2, 3, 4};
  ref::FloatResizeParams p;
  // resize_upsample_scales_nearest: scales 2 x 3.
  p.base.out_h = 4, p.base.out_w = 6, p.base.scale_h = 2.0, p.base.scale_w = 3.0;
  EXPECT_TRUE(identical(resize_2d(x22, 2, 2, p),
                        {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  // resize_upsample_scales_linear (half_pixel) and its align_corners variant.
  p.mode = ref::FloatResizeMode::linear;
  p.base.out_h = p.base.out_w = 4, p.base.scale_h = p.base.scale_w = 2.0;
  EXPECT_TRUE(all_near(resize_2d(x22, 2, 2, p),
                       {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4},
                       1e-6));
  p.base.coordinate_mode = ref::CoordinateMode::align_corners;
  const double t = 1.0 / 3.0;
  EXPECT_TRUE(all_near(resize_2d(x22, 2, 2, p),
                       {1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t, 3,
                        3 + t, 3 + 2 * t, 4},
                       1e-6));
  // resize_downsample_scales_linear / _nearest: scale 0.6 (not out / in = 0.5) places the samples.
  const std::vector<float> x24 = {1, 2, 3, 4, 5, 6, 7, 8};
  p.base.coordinate_mode = ref::CoordinateMode::half_pixel;
  p.base.out_h = 1, p.base.out_w = 2, p.base.scale_h = p.base.scale_w = static_cast<double>(0.6f);
  EXPECT_TRUE(all_near(resize_2d(x24, 2, 4, p), {2.6666665, 4.3333331}, 1e-6));
  p.mode = ref::FloatResizeMode::nearest;
  EXPECT_TRUE(identical(resize_2d(x24, 2, 4, p), {1, 3}));
  // align_corners with an output of size 1 samples coordinate 0 (no division by out - 1 = 0).
  p.mode = ref::FloatResizeMode::linear;
  p.base.coordinate_mode = ref::CoordinateMode::align_corners;
  p.base.scale_h = p.base.scale_w = 0.0;
  EXPECT_TRUE(identical(resize_2d(x24, 2, 4, p), {1, 4}));  // rows: coordinate 0; columns 0 and 3
  // resize_upsample_scales_cubic (A = -0.75, half_pixel), first row.
  const std::vector<float> x44 = iota_floats(16);
  ref::FloatResizeParams cubic;
  cubic.mode = ref::FloatResizeMode::cubic;
  cubic.base.out_h = cubic.base.out_w = 8, cubic.base.scale_h = cubic.base.scale_w = 2.0;
  const std::vector<float> up = resize_2d(x44, 4, 4, cubic);
  EXPECT_TRUE(all_near(
      {up.begin(), up.begin() + 8},
      {0.47265625, 0.76953125, 1.24609375, 1.875, 2.28125, 2.91015625, 3.38671875, 3.68359375}, 1e-5));
  // Exclude_outside renormalizes the in-range taps: a constant image stays exactly constant-ish.
  cubic.exclude_outside = true;
  cubic.cubic_coeff_a = -0.5f;
  const std::vector<float> flat(16, 7.0f);
  EXPECT_TRUE(all_near(resize_2d(flat, 4, 4, cubic), std::vector<double>(64, 7.0), 1e-5));
}

TEST(FloatResizeReference, NearestModesAndTfHalfPixel) {
  const std::vector<float> x = {10, 20, 30, 40, 50};
  ref::FloatResizeParams p;
  p.base.out_h = 1, p.base.out_w = 2;  // downscale 5 -> 2: scale 0.4, half_pixel coordinates 0.75, 3.25
  std::vector<std::vector<float>> want = {{20, 40}, {20, 40}, {10, 40}, {20, 50}};
  for (int r = 0; r < 4; ++r) {
    p.base.nearest_rounding = static_cast<ref::NearestRounding>(r);
    EXPECT_TRUE(identical(resize_2d(x, 1, 5, p), want[static_cast<size_t>(r)])) << r;
  }
  // Ties: asymmetric x2 upscale of 5 -> 10 gives coordinates k / 2; prefer_floor and prefer_ceil differ at
  // .5.
  p.base.coordinate_mode = ref::CoordinateMode::asymmetric;
  p.base.out_w = 10;
  p.base.nearest_rounding = ref::NearestRounding::round_prefer_floor;
  EXPECT_TRUE(identical(resize_2d(x, 1, 5, p), {10, 10, 20, 20, 30, 30, 40, 40, 50, 50}));
  p.base.nearest_rounding = ref::NearestRounding::round_prefer_ceil;
  EXPECT_TRUE(identical(resize_2d(x, 1, 5, p), {10, 20, 20, 30, 30, 40, 40, 50, 50, 50}));
  // tf_half_pixel_for_nearest: (o + 0.5) / scale, no -0.5.
  p.tf_half_pixel_for_nearest = true;
  p.base.nearest_rounding = ref::NearestRounding::floor;
  p.base.out_w = 2;
  EXPECT_TRUE(identical(resize_2d(x, 1, 5, p), {20, 40}));  // 1.25 -> 1, 3.75 -> 3
  // An axis of scale 1 stays as it is, as in ONNX Runtime, even where ceil would take o + 0.5 to o + 1.
  p.base.out_w = 5;
  for (const auto rounding : {ref::NearestRounding::ceil, ref::NearestRounding::round_prefer_ceil}) {
    p.base.nearest_rounding = rounding;
    EXPECT_TRUE(identical(resize_2d(x, 1, 5, p), x));
  }
  // Resize-10: asymmetric coordinates, ceil along an axis that shrinks (5 -> 3: 0, 1.67, 3.33), floor along
  // one that grows (5 -> 7 by 1.4: 0, 0.71, 1.43, 2.14, 2.86, 3.57, 4.29).
  p.tf_half_pixel_for_nearest = false;
  p.base.nearest_rounding = ref::NearestRounding::resize_10;
  p.base.coordinate_mode = ref::CoordinateMode::asymmetric;
  p.base.out_w = 3;
  p.base.scale_w = 0.6;
  EXPECT_TRUE(identical(resize_2d(x, 1, 5, p), {10, 30, 50}));
  p.base.out_w = 7;
  p.base.scale_w = 1.4;
  EXPECT_TRUE(identical(resize_2d(x, 1, 5, p), {10, 10, 20, 30, 30, 40, 50}));
}

TEST(FloatResizeReference, RejectsBadParams) {
  const std::vector<float> x(4);
  std::vector<float> y(16);
  ref::FloatResizeParams p;
  p.base.out_h = p.base.out_w = 2;
  EXPECT_THROW(ref::float_resize(x.data(), {1, 0, 2, 1}, p, y.data()), Error);
  EXPECT_THROW(ref::float_resize(x.data(), {2, 2, 1}, p, y.data()), Error);
  p.base.scale_h = -1.0;
  EXPECT_THROW(ref::float_resize(x.data(), {1, 2, 2, 1}, p, y.data()), Error);
  p.base.scale_h = 0.0;
  p.base.out_w = -1;
  EXPECT_THROW(ref::float_resize(x.data(), {1, 2, 2, 1}, p, y.data()), Error);
  p.base.out_w = 0;  // an empty output is fine
  ref::float_resize(x.data(), {1, 2, 2, 1}, p, y.data());
}

// ---------------------------------------------------------------------------------------------------------
// Fast kernels against the references, bit for bit, on every ISA and with 1 and 3 threads.

class FloatReduceFast : public ::testing::TestWithParam<Isa> {};

// Runs `fast` with each thread count and compares its output with `want`.
template <class Fast>
void expect_fast_matches(const std::vector<float>& want, Fast&& fast) {
  for (int threads : kThreadCounts) {
    std::vector<float> got(want.size(), 12345.0f);
    with_threads(threads, [&] { fast(got.data()); });
    EXPECT_TRUE(identical(got, want)) << threads << " threads";
  }
}

// Shapes that exercise each path: contiguous rows (tails of 16), strided columns (lane tails), interleaved
// reduced axes (the generic walk), size-1 and size-0 dimensions.
std::pair<Shape, std::vector<int64_t>> random_reduce_case(test::Random& rng) {
  const int64_t sizes[] = {0, 1, 2, 3, 7, 15, 16, 17, 33, 64, 100};
  const int64_t rank = rng.integer(1, 4);
  Shape s(static_cast<size_t>(rank));
  for (auto& d : s)
    d = rng.integer(0, 12) == 0 ? sizes[rng.integer(0, 10)] : rng.integer(1, 20);
  while (count_of(s) > 60000)
    for (auto& d : s)
      d = std::max<int64_t>(1, d / 2);
  return {s, random_axes(rng, rank)};
}

TEST_P(FloatReduceFast, ReduceMatchesReference) {
  const ReduceOp ops[] = {ReduceOp::sum,     ReduceOp::mean,       ReduceOp::max, ReduceOp::min,
                          ReduceOp::prod,    ReduceOp::l1,         ReduceOp::l2,  ReduceOp::sum_square,
                          ReduceOp::log_sum, ReduceOp::log_sum_exp};
  for (uint64_t seed = 0; seed < test::random_trials(60); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    auto [s, axes] = random_reduce_case(rng);
    if (seed < 4) axes.clear();  // no axes: each element reduced alone
    std::vector<float> x = random_floats(rng, count_of(s), -2.0, 2.0);
    if (seed % 2 == 1) sprinkle_specials(rng, x, 20);
    Shape out = s;
    for (int64_t a : axes)
      out[static_cast<size_t>(a)] = 1;
    for (ReduceOp op : ops) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " shape " + to_string(s));
      std::vector<float> want(static_cast<size_t>(count_of(out)));
      ref::float_reduce(op, x.data(), s, axes, want.data());
      // (Structured bindings are not captured by lambdas in clang 14: by name.)
      const auto& shape = s;
      const auto& reduced_axes = axes;
      expect_fast_matches(
          want, [&](float* y) { reduce::float_reduce(GetParam(), op, x.data(), shape, reduced_axes, y); });
    }
  }
}

TEST_P(FloatReduceFast, ReducePathsWithLongRowsAndColumns) {
  test::Random rng(77);
  // [outer, R] contiguous, [outer, R, K] strided (K not a multiple of any width), [R1, K, R2] generic.
  const struct {
    Shape s;
    std::vector<int64_t> axes;
  } cases[] = {{{3, 1000}, {1}},      {{1, 4099}, {1}},       {{2, 515, 37}, {1}},  {{700, 19}, {0}},
               {{9, 13, 21}, {0, 2}}, {{5, 6, 7, 8}, {1, 3}}, {{4, 1, 300}, {1, 2}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(to_string(c.s));
    std::vector<float> x = random_floats(rng, count_of(c.s), -1.0, 1.0);
    Shape out = c.s;
    for (int64_t a : c.axes)
      out[static_cast<size_t>(a)] = 1;
    for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::log_sum_exp, ReduceOp::l2, ReduceOp::mean}) {
      std::vector<float> want(static_cast<size_t>(count_of(out)));
      ref::float_reduce(op, x.data(), c.s, c.axes, want.data());
      expect_fast_matches(want,
                          [&](float* y) { reduce::float_reduce(GetParam(), op, x.data(), c.s, c.axes, y); });
    }
  }
}

TEST_P(FloatReduceFast, SoftmaxMatchesReference) {
  for (uint64_t seed = 0; seed < test::random_trials(60); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t lengths[] = {1, 2, 5, 15, 16, 17, 31, 48, 100, 257};
    const int64_t rank = rng.integer(1, 3);
    Shape s = random_shape(rng, rank, 12);
    const auto axis = rng.integer(0, rank - 1);
    s[static_cast<size_t>(axis)] = lengths[rng.integer(0, 9)];
    std::vector<float> x = random_floats(rng, count_of(s), -20.0, 20.0);
    if (seed % 3 == 0) sprinkle_specials(rng, x, 25);
    if (seed % 5 == 0)  // rows of -inf
      std::fill(x.begin(), x.begin() + std::min<int64_t>(count_of(s), 40), -kInf);
    for (bool log : {false, true}) {
      std::vector<float> want(x.size());
      ref::float_softmax(x.data(), s, axis, log, want.data());
      expect_fast_matches(want,
                          [&](float* y) { reduce::float_softmax(GetParam(), x.data(), s, axis, log, y); });
    }
  }
}

// Rows of several whole vectors and of every tail length after them, with specials in some lanes.
TEST_P(FloatReduceFast, SoftmaxRowsOfManyVectors) {
  test::Random rng(91);
  for (const int64_t length : {32, 63, 64, 65, 79, 127, 128, 129, 200, 1000}) {
    for (bool specials : {false, true}) {
      SCOPED_TRACE("length " + std::to_string(length) + (specials ? " with specials" : ""));
      const Shape s = {3, length};
      std::vector<float> x = random_floats(rng, count_of(s), -30.0, 30.0);
      if (specials) sprinkle_specials(rng, x, 10);
      for (bool log : {false, true}) {
        std::vector<float> want(x.size());
        ref::float_softmax(x.data(), s, 1, log, want.data());
        expect_fast_matches(want,
                            [&](float* y) { reduce::float_softmax(GetParam(), x.data(), s, 1, log, y); });
      }
    }
  }
}

TEST_P(FloatReduceFast, ArgReduceMatchesReference) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const Shape s = random_shape(rng, rng.integer(1, 3), 90);
    const auto axis = rng.integer(0, static_cast<int64_t>(s.size()) - 1);
    std::vector<float> x(static_cast<size_t>(count_of(s)));
    for (float& v : x)
      v = static_cast<float>(rng.integer(-3, 3));
    sprinkle_specials(rng, x, 30);
    Shape ys = s;
    ys[static_cast<size_t>(axis)] = 1;
    for (bool max : {true, false})
      for (bool last : {false, true}) {
        std::vector<int64_t> want(static_cast<size_t>(count_of(ys)));
        ref::float_arg_reduce(x.data(), s, axis, max, last, want.data());
        for (int threads : kThreadCounts) {
          std::vector<int64_t> got(want.size(), -7);
          with_threads(threads, [&] {
            reduce::float_arg_reduce(GetParam(), x.data(), s, axis, max, last, got.data());
          });
          EXPECT_EQ(got, want);
        }
      }
  }
}

// BatchNormalization with its Relu / Clip and activation fused: the bytes of the operators it stands for,
// the affine, the Relu (a clamp from 0) or Clip, then the activation, whatever the layout, block boundaries
// and threads.
TEST_P(FloatReduceFast, ChannelAffineClampsAndActivatesAsTheSeparateSteps) {
  const UnaryParams activations[] = {
      {}, {UnaryOp::silu}, {UnaryOp::sigmoid}, {UnaryOp::hard_swish}, {UnaryOp::tanh}};
  const FloatClamp clamps[] = {{}, {0.0f, INFINITY}, {0.0f, 6.0f}, {-1.0f, 1.0f}, {-INFINITY, 0.5f}};
  for (uint64_t seed = 0; seed < 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t widths[] = {1, 3, 16, 17, 40, 96, 200, 768};
    // Channels last (inner 1, rows of channels) half of the time, with enough rows for several tasks.
    const int64_t channels = widths[rng.integer(0, 7)], inner = seed % 2 == 0 ? 1 : widths[rng.integer(0, 5)],
                  outer = inner == 1 ? rng.integer(1, 40000 / channels + 2) : rng.integer(1, 5);
    std::vector<float> x = random_floats(rng, outer * channels * inner, -8.0, 8.0);
    if (seed % 3 == 2) sprinkle_specials(rng, x, 50);
    const std::vector<float> scale = random_floats(rng, channels, -2.0, 2.0),
                             shift = random_floats(rng, channels, -1.0, 1.0);
    const FloatClamp clamp = clamps[rng.integer(0, 4)];
    const UnaryParams activation = activations[rng.integer(0, 4)];
    std::vector<float> want(x.size());
    ref::float_channel_affine(x.data(), outer, channels, inner, scale.data(), shift.data(), want.data());
    const auto count = static_cast<int64_t>(want.size());
    if (clamp.lo == 0.0f && clamp.hi == INFINITY)
      ref::float_unary({UnaryOp::relu}, want.data(), want.data(), count);
    else if (!clamp.is_identity())
      ref::float_unary({UnaryOp::clip, clamp.lo, clamp.hi}, want.data(), want.data(), count);
    ref::float_unary(activation, want.data(), want.data(), count);
    expect_fast_matches(want, [&](float* y) {
      reduce::float_channel_affine(GetParam(), x.data(), outer, channels, inner, scale.data(), shift.data(),
                                   y, clamp, activation);
    });
  }
}

// The affine over a Concat's pieces read where they are (graph/passes/fuse_concat_affine.h) gives the bytes
// of the affine over the concatenated tensor: pieces of every width (empty ones too), one row or many.
TEST_P(FloatReduceFast, ChannelAffineOverPiecesMatchesTheConcatenatedTensor) {
  const UnaryParams activations[] = {{}, {UnaryOp::silu}, {UnaryOp::tanh}};
  const FloatClamp clamps[] = {{}, {0.0f, INFINITY}, {0.0f, 6.0f}};
  for (uint64_t seed = 0; seed < 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t widths[] = {0, 1, 3, 16, 17, 32, 40, 100};
    std::vector<int64_t> piece_channels(static_cast<size_t>(rng.integer(1, 5)));
    int64_t channels = 0;
    for (int64_t& c : piece_channels)
      channels += c = widths[rng.integer(0, 7)];
    const int64_t outer = seed % 5 == 0 ? 1 : rng.integer(2, 3000);
    std::vector<std::vector<float>> pieces;
    for (const int64_t c : piece_channels) {
      pieces.push_back(random_floats(rng, outer * c, -6.0, 6.0));
      if (seed % 3 == 1) sprinkle_specials(rng, pieces.back(), 20);
    }
    std::vector<float> joined;  // [outer, channels]: the Concat's output
    for (int64_t r = 0; r < outer; ++r)
      for (size_t p = 0; p < pieces.size(); ++p)
        joined.insert(joined.end(), pieces[p].begin() + r * piece_channels[p],
                      pieces[p].begin() + (r + 1) * piece_channels[p]);
    const std::vector<float> scale = random_floats(rng, channels, -2.0, 2.0),
                             shift = random_floats(rng, channels, -1.0, 1.0);
    const FloatClamp clamp = clamps[rng.integer(0, 2)];
    const UnaryParams activation = activations[rng.integer(0, 2)];
    std::vector<float> want(joined.size());
    reduce::float_channel_affine(Isa::scalar, joined.data(), outer, channels, 1, scale.data(), shift.data(),
                                 want.data(), clamp, activation);
    std::vector<reduce::ChannelPiece> views;
    for (size_t p = 0; p < pieces.size(); ++p)
      views.push_back({pieces[p].data(), piece_channels[p]});
    expect_fast_matches(want, [&](float* y) {
      reduce::float_channel_affine_pieces(GetParam(), views, outer, scale.data(), shift.data(), y, clamp,
                                          activation);
    });
  }
  // No rows: nothing to read, even from pieces without data.
  const std::vector<reduce::ChannelPiece> empty = {{nullptr, 4}, {nullptr, 0}};
  const float one = 1.0f;
  EXPECT_NO_THROW(reduce::float_channel_affine_pieces(GetParam(), empty, 0, &one, &one, nullptr));
  EXPECT_THROW(reduce::float_channel_affine_pieces(GetParam(), empty, 2, &one, &one, nullptr), Error);
}

elementwise::ByteTable random_table(test::Random& rng) {
  elementwise::ByteTable table;
  for (uint8_t& t : table)
    t = static_cast<uint8_t>(rng.integer(0, 255));
  return table;
}

// A uint8 channel affine's bytes from the references of its three operators (dequantize_value, the affine
// with its clamp and activation, quantize_value).
std::vector<uint8_t> reference_u8_affine(const std::vector<uint8_t>& x, int64_t rows, int64_t channels,
                                         const std::vector<float>& scale, const std::vector<float>& shift,
                                         FloatClamp clamp, const UnaryParams& activation,
                                         const reduce::U8AffineQuantization& q) {
  std::vector<float> real(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    real[i] = dequantize_value(x[i], q.in_scale, q.in_zero_point);
  ref::float_channel_affine(real.data(), rows, channels, 1, scale.data(), shift.data(), real.data());
  const auto count = static_cast<int64_t>(real.size());
  if (!clamp.is_identity())
    ref::float_unary({UnaryOp::clip, clamp.lo, clamp.hi}, real.data(), real.data(), count);
  ref::float_unary(activation, real.data(), real.data(), count);
  std::vector<uint8_t> want(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    want[i] = static_cast<uint8_t>(
        quantize_value(real[i], q.out_scale, q.out_zero_point, range_of(ElementType::u8)));
  return want;
}

// A channel affine between a Dequantize and a Quantize, on uint8 (graph/passes/fold_affine_quantization.h):
// the bytes of the three operators one by one, from their references, over all byte values and the extremes
// 0 and 255, outputs that saturate at both ends, NaN and infinite params (a NaN quantizes to the zero point),
// rows of 1 to 5000 channels across the one-pass loop's chunks, the blocks and tasks, on 1 and 3 threads.
// Half the seeds have no activation: the ISA's one-pass loop (u8_affine_simd.h); the others the blocked
// three kernels.
TEST_P(FloatReduceFast, Uint8ChannelAffineIsDequantizeAffineQuantize) {
  const UnaryParams activations[] = {{}, {UnaryOp::sigmoid}, {UnaryOp::hard_swish}};
  const FloatClamp clamps[] = {{}, {0.0f, INFINITY}, {-1.0f, 1.0f}};
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t widths[] = {1, 3, 16, 17, 64, 65, 200, 256, 300, 5000};
    const int64_t channels = widths[rng.integer(0, 9)];
    const int64_t rows = seed % 5 == 0 ? 1 : rng.integer(1, 60000 / channels + 2);
    std::vector<uint8_t> x(static_cast<size_t>(rows * channels));
    for (uint8_t& v : x)
      v = static_cast<uint8_t>(seed % 4 == 3 ? 255 * rng.integer(0, 1) : rng.integer(0, 255));
    // Wide maps on some seeds: most outputs saturate.
    const double spread = seed % 3 == 0 ? 40.0 : 2.0;
    std::vector<float> scale = random_floats(rng, channels, -spread, spread),
                       shift = random_floats(rng, channels, -spread, spread);
    if (seed % 7 == 6) {
      // inf * 0 is NaN where a byte is the zero point; elsewhere the infinities saturate.
      shift[0] = NAN;
      scale[static_cast<size_t>(channels - 1)] = INFINITY;
    }
    const reduce::U8AffineQuantization q{rng.scale(), static_cast<int32_t>(rng.integer(0, 255)),
                                         rng.scale(1e-2, 0.5), static_cast<int32_t>(rng.integer(0, 255))};
    const FloatClamp clamp = clamps[rng.integer(0, 2)];
    const UnaryParams activation = seed % 2 == 0 ? UnaryParams{} : activations[rng.integer(0, 2)];
    // A byte table after it on a third of the seeds (a Relu requantized, folded in): applied to the bytes.
    const std::optional<elementwise::ByteTable> table =
        seed % 3 == 1 ? std::optional(random_table(rng)) : std::nullopt;
    std::vector<uint8_t> want = reference_u8_affine(x, rows, channels, scale, shift, clamp, activation, q);
    if (table)
      for (uint8_t& v : want)
        v = (*table)[v];
    for (int threads : kThreadCounts) {
      std::vector<uint8_t> got(x.size(), 7);
      with_threads(threads, [&] {
        reduce::u8_channel_affine(GetParam(), x.data(), rows, channels, scale.data(), shift.data(), clamp,
                                  activation, q, got.data(), table ? &*table : nullptr);
      });
      EXPECT_EQ(got, want) << threads << " threads, " << rows << " x " << channels;
    }
  }
  const float one = 1.0f;
  uint8_t byte = 0;
  EXPECT_NO_THROW(reduce::u8_channel_affine(GetParam(), nullptr, 0, 4, &one, &one, {}, {}, {}, nullptr));
  EXPECT_THROW(reduce::u8_channel_affine(GetParam(), &byte, -1, 1, &one, &one, {}, {}, {}, &byte), Error);
  EXPECT_THROW(reduce::u8_channel_affine(GetParam(), &byte, 1, 1, nullptr, &one, {}, {}, {}, &byte), Error);
}

// The same over a Concat's pieces (graph/passes/fuse_concat_affine.h): the bytes of the Concat (each piece
// through its requantization table, or copied) followed by the affine, and on some seeds a table after it. 1
// to 6 pieces of 1 to 300 channels, some with a table, across the joined blocks and tasks, with and without
// an activation, 1 and 3 threads.
TEST_P(FloatReduceFast, Uint8ChannelAffineOfPiecesIsConcatThenAffine) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t piece_widths[] = {1, 3, 16, 17, 32, 64, 100, 300};
    const auto count = static_cast<size_t>(rng.integer(1, 6));
    std::vector<int64_t> widths;
    std::vector<std::vector<uint8_t>> data;
    std::vector<elementwise::ByteTable> tables;
    int64_t channels = 0;
    for (size_t p = 0; p < count; ++p) {
      widths.push_back(piece_widths[rng.integer(0, 7)]);
      channels += widths.back();
      tables.push_back(random_table(rng));
    }
    const int64_t rows = seed % 5 == 0 ? 1 : rng.integer(1, 40000 / channels + 2);
    std::vector<reduce::U8ChannelPiece> pieces;
    std::vector<uint8_t> joined(static_cast<size_t>(rows * channels));
    int64_t first = 0;
    for (size_t p = 0; p < count; ++p) {
      data.emplace_back(static_cast<size_t>(rows * widths[p]));
      for (uint8_t& v : data[p])
        v = static_cast<uint8_t>(rng.integer(0, 255));
      const bool mapped = rng.integer(0, 1) == 1;
      pieces.push_back({data[p].data(), widths[p], mapped ? &tables[p] : nullptr});
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < widths[p]; ++c) {
          const uint8_t v = data[p][static_cast<size_t>(r * widths[p] + c)];
          joined[static_cast<size_t>(r * channels + first + c)] = mapped ? tables[p][v] : v;
        }
      first += widths[p];
    }
    const std::vector<float> scale = random_floats(rng, channels, -2.0, 2.0),
                             shift = random_floats(rng, channels, -2.0, 2.0);
    const reduce::U8AffineQuantization q{rng.scale(), static_cast<int32_t>(rng.integer(0, 255)),
                                         rng.scale(1e-2, 0.5), static_cast<int32_t>(rng.integer(0, 255))};
    const FloatClamp clamp = seed % 3 == 0 ? FloatClamp{0.0f, INFINITY} : FloatClamp{};
    const UnaryParams activation = seed % 2 == 0 ? UnaryParams{} : UnaryParams{UnaryOp::sigmoid};
    const std::optional<elementwise::ByteTable> output_table =
        seed % 4 == 1 ? std::optional(random_table(rng)) : std::nullopt;
    std::vector<uint8_t> want =
        reference_u8_affine(joined, rows, channels, scale, shift, clamp, activation, q);
    if (output_table)
      for (uint8_t& v : want)
        v = (*output_table)[v];
    for (int threads : kThreadCounts) {
      std::vector<uint8_t> got(joined.size(), 7);
      with_threads(threads, [&] {
        reduce::u8_channel_affine_pieces(GetParam(), pieces, rows, scale.data(), shift.data(), clamp,
                                         activation, q, got.data(), output_table ? &*output_table : nullptr);
      });
      EXPECT_EQ(got, want) << threads << " threads, " << rows << " x " << channels << ", " << count
                           << " pieces";
    }
  }
  const float one = 1.0f;
  uint8_t byte = 0;
  const reduce::U8ChannelPiece missing{nullptr, 2, nullptr};
  EXPECT_THROW(
      reduce::u8_channel_affine_pieces(GetParam(), std::span(&missing, 1), 1, &one, &one, {}, {}, {}, &byte),
      Error);
  EXPECT_NO_THROW(reduce::u8_channel_affine_pieces(GetParam(), {}, 3, &one, &one, {}, {}, {}, nullptr));
}

TEST_P(FloatReduceFast, NormalizationsMatchReference) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t widths[] = {1, 3, 8, 16, 17, 40, 67, 200, 768};
    const int64_t outer = rng.integer(1, 6), channels = widths[rng.integer(0, 8)],
                  inner = widths[rng.integer(0, 7)];
    std::vector<float> x = random_floats(rng, outer * channels * inner, -3.0, 5.0);
    if (seed % 4 == 3) sprinkle_specials(rng, x, 50);
    const std::vector<float> scale = random_floats(rng, channels * inner, -2.0, 2.0),
                             shift = random_floats(rng, channels * inner, -1.0, 1.0);
    std::vector<float> want(x.size());
    ref::float_channel_affine(x.data(), outer, channels, inner, scale.data(), shift.data(), want.data());
    expect_fast_matches(want, [&](float* y) {
      reduce::float_channel_affine(GetParam(), x.data(), outer, channels, inner, scale.data(), shift.data(),
                                   y);
    });
    for (bool channels_last : {false, true}) {
      ref::float_instance_norm(x.data(), outer, channels, inner, channels_last, scale.data(), shift.data(),
                               1e-5f, want.data());
      expect_fast_matches(want, [&](float* y) {
        reduce::float_instance_norm(GetParam(), x.data(), outer, channels, inner, channels_last, scale.data(),
                                    shift.data(), 1e-5f, y);
      });
    }
    const int64_t groups = channels % 4 == 0 ? 4 : 1;
    for (bool channels_last : {false, true}) {
      ref::float_group_norm(x.data(), outer, channels, inner, channels_last, groups, scale.data(),
                            shift.data(), 1e-5f, want.data());
      expect_fast_matches(want, [&](float* y) {
        reduce::float_group_norm(x.data(), outer, channels, inner, channels_last, groups, scale.data(),
                                 shift.data(), 1e-5f, y);
      });
    }
    const ref::LrnParams lrn{rng.integer(1, 7), 1e-2f, seed % 2 == 0 ? 0.75f : 0.9f, 1.0f};
    ref::float_lrn(x.data(), outer, channels, inner, lrn, want.data());
    expect_fast_matches(want, [&](float* y) { reduce::float_lrn(x.data(), outer, channels, inner, lrn, y); });
    for (bool bias : {false, true}) {
      ref::float_layer_norm(x.data(), outer, channels * inner, scale.data(), bias ? shift.data() : nullptr,
                            1e-5f, want.data());
      expect_fast_matches(want, [&](float* y) {
        reduce::float_layer_norm(GetParam(), x.data(), outer, channels * inner, scale.data(),
                                 bias ? shift.data() : nullptr, 1e-5f, y);
      });
    }
  }
}

TEST_P(FloatReduceFast, MaxPoolKeepsTheReferencesZerosAndNaNs) {
  // The max pool's fast steps (x86's max) equal the reference's NaN-propagating max only until a NaN comes
  // in; a window holding one is taken again the reference's way, which keeps the first NaN's payload. And
  // on ties of -0 and +0 both keep the later tap. Windows of only these values, in every chain and the tail.
  const float nan_a = std::bit_cast<float>(0x7fc00001u), nan_b = std::bit_cast<float>(0xffc00002u);
  const float values[] = {0.0f, -0.0f, nan_a, nan_b, kInf, -kInf, 1.0f, -1.0f};
  for (uint64_t seed = 0; seed < 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    PoolCase pc;
    pc.p.kernel_h = pc.p.kernel_w = 3;
    pc.p.stride_h = pc.p.stride_w = seed % 2 == 0 ? 1 : 2;
    pc.p.pad = {1, 1, 1, 1};
    pc.nhwc = {1, 5, 6, seed % 3 == 0 ? 64 : 70};
    std::vector<float> x(static_cast<size_t>(count_of(pc.nhwc)));
    // Mostly zeros of both signs; NaNs rare enough that many windows have none (seed 0: none at all).
    for (float& v : x) {
      const int64_t pick = rng.integer(0, 99);
      v = pick < 80 ? values[pick % 2] : (seed == 0 ? values[4 + pick % 4] : values[pick % 8]);
    }
    std::vector<float> want(pooled_count(pc));
    ref::float_max_pool2d(x.data(), pc.nhwc, pc.p, pc.clamp, want.data());
    for (int threads : kThreadCounts) {
      std::vector<float> got(want.size(), 12345.0f);
      with_threads(threads, [&] {
        pooling::float_max_pool2d(GetParam(), x.data(), pc.nhwc, pc.p, pc.clamp, got.data());
      });
      for (size_t i = 0; i < want.size(); ++i)  // bit for bit: the sign of a zero, a NaN's payload
        ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
            << "element " << i << ", " << threads << " threads";
    }
  }
}

TEST_P(FloatReduceFast, PoolingMatchesReference) {
  for (uint64_t seed = 0; seed < test::random_trials(80); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    for (bool max : {true, false}) {
      const PoolCase pc = random_pool_case(rng, max);
      std::vector<float> x = random_floats(rng, count_of(pc.nhwc), -4.0, 4.0);
      if (seed % 2 == 1) sprinkle_specials(rng, x, 30);
      std::vector<float> want(pooled_count(pc));
      if (max) {
        ref::float_max_pool2d(x.data(), pc.nhwc, pc.p, pc.clamp, want.data());
        expect_fast_matches(want, [&](float* y) {
          pooling::float_max_pool2d(GetParam(), x.data(), pc.nhwc, pc.p, pc.clamp, y);
        });
      } else {
        ref::float_average_pool2d(x.data(), pc.nhwc, pc.p, pc.clamp, want.data());
        expect_fast_matches(want, [&](float* y) {
          pooling::float_average_pool2d(GetParam(), x.data(), pc.nhwc, pc.p, pc.clamp, y);
        });
      }
      want.assign(static_cast<size_t>(pc.nhwc[0] * pc.nhwc[3]), 0.0f);
      ref::float_global_average_pool(x.data(), pc.nhwc, want.data());
      expect_fast_matches(
          want, [&](float* y) { pooling::float_global_average_pool(GetParam(), x.data(), pc.nhwc, y); });
    }
  }
  // A large global pool (many 16-element rounds per lane) and an empty batch.
  test::Random rng(9);
  const Shape big = {2, 37, 29, 70};
  const std::vector<float> x = random_floats(rng, count_of(big), -1.0, 1.0);
  std::vector<float> want(2 * 70);
  ref::float_global_average_pool(x.data(), big, want.data());
  expect_fast_matches(want,
                      [&](float* y) { pooling::float_global_average_pool(GetParam(), x.data(), big, y); });
  ref::Pool2dParams p;
  p.kernel_h = p.kernel_w = 3;
  pooling::float_max_pool2d(GetParam(), x.data(), {0, 5, 5, 3}, p, {}, want.data());
  EXPECT_THROW(pooling::float_max_pool2d(GetParam(), x.data(), {1, 0, 5, 3}, p, {}, want.data()), Error);
}

TEST_P(FloatReduceFast, ResizeMatchesReference) {
  for (uint64_t seed = 0; seed < test::random_trials(120); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t channels[] = {1, 3, 4, 8, 16, 19, 40};
    const Shape nhwc = {rng.integer(1, 2), rng.integer(1, 9), rng.integer(1, 9), channels[rng.integer(0, 6)]};
    const ref::FloatResizeParams p = random_resize_params(rng, nhwc[1], nhwc[2]);
    std::vector<float> x = random_floats(rng, count_of(nhwc), -5.0, 5.0);
    if (seed % 3 == 2) sprinkle_specials(rng, x, 30);
    std::vector<float> want(static_cast<size_t>(nhwc[0] * p.base.out_h * p.base.out_w * nhwc[3]));
    ref::float_resize(x.data(), nhwc, p, want.data());
    expect_fast_matches(want, [&](float* y) { resize::float_resize(GetParam(), x.data(), nhwc, p, y); });
  }
}

// Images with few channels (the per-layer x taps and rows reused between output rows) large enough for
// whole vectors and several rows per task: same size (taps of weight 0 past the edge), up and down, linear
// and cubic, with infinities and NaN among the inputs (a weight-0 tap still reads them).
TEST_P(FloatReduceFast, FewChannelResizeMatchesReference) {
  struct Case {
    Shape nhwc;
    int64_t out_h, out_w;
    ref::FloatResizeMode mode;
  };
  const Case cases[] = {{{1, 40, 40, 3}, 40, 40, ref::FloatResizeMode::linear},
                        {{2, 37, 53, 3}, 61, 29, ref::FloatResizeMode::cubic},
                        {{1, 64, 48, 1}, 23, 150, ref::FloatResizeMode::linear},
                        {{2, 19, 33, 8}, 57, 35, ref::FloatResizeMode::linear},
                        {{1, 30, 31, 4}, 30, 95, ref::FloatResizeMode::cubic},
                        {{1, 21, 26, 2}, 43, 13, ref::FloatResizeMode::linear},
                        {{2, 17, 19, 5}, 17, 40, ref::FloatResizeMode::cubic},
                        {{1, 12, 29, 6}, 31, 29, ref::FloatResizeMode::linear},
                        {{1, 25, 14, 7}, 9, 33, ref::FloatResizeMode::linear}};
  test::Random rng(31);
  for (const Case& k : cases) {
    for (const auto coordinates : {ref::CoordinateMode::half_pixel, ref::CoordinateMode::align_corners}) {
      SCOPED_TRACE(::testing::PrintToString(k.nhwc) + " to " + std::to_string(k.out_h) + "x" +
                   std::to_string(k.out_w));
      ref::FloatResizeParams p;
      p.mode = k.mode;
      p.base.coordinate_mode = coordinates;
      p.base.out_h = k.out_h;
      p.base.out_w = k.out_w;
      std::vector<float> x = random_floats(rng, count_of(k.nhwc), -5.0, 5.0);
      sprinkle_specials(rng, x, 20);
      std::vector<float> want(static_cast<size_t>(k.nhwc[0] * k.out_h * k.out_w * k.nhwc[3]));
      ref::float_resize(x.data(), k.nhwc, p, want.data());
      expect_fast_matches(want, [&](float* y) { resize::float_resize(GetParam(), x.data(), k.nhwc, p, y); });
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, FloatReduceFast, ::testing::ValuesIn(test::float_kernel_isas()), isa_name);

}  // namespace
}  // namespace octet

namespace octet {
namespace {

// CumSum: each output is the float32 sum of its prefix (suffix when reversed, without the element itself
// when exclusive) accumulated one element at a time in the scan's direction; int64 sums wrap around.
template <class T>
std::vector<T> expected_cumsum(const std::vector<T>& x, const Shape& s, size_t axis, bool exclusive,
                               bool reverse) {
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d)
    outer *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d)
    inner *= s[d];
  const int64_t n = s[axis];
  std::vector<T> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t k = 0; k < n; ++k) {
        T sum{};
        for (int64_t step = 0; step < n; ++step) {
          const int64_t j = reverse ? n - 1 - step : step;
          const bool included = reverse ? (exclusive ? j > k : j >= k) : (exclusive ? j < k : j <= k);
          if (!included) continue;
          const T v = x[static_cast<size_t>((o * n + j) * inner + i)];
          if constexpr (std::is_integral_v<T>)
            sum = static_cast<T>(static_cast<uint64_t>(sum) + static_cast<uint64_t>(v));
          else
            sum += v;
        }
        y[static_cast<size_t>((o * n + k) * inner + i)] = sum;
      }
  return y;
}

TEST(CumulativeSum, MatchesThePrefixSumsInScanOrder) {
  test::Random rng(71);
  for (int round = 0; round < test::random_trials(200); ++round) {
    Shape s(static_cast<size_t>(rng.integer(1, 4)));
    for (auto& d : s)
      d = rng.integer(0, 5);
    const auto axis = static_cast<size_t>(rng.integer(0, static_cast<int64_t>(s.size()) - 1));
    const bool exclusive = rng.coin(), reverse = rng.coin();
    const auto n = static_cast<size_t>(element_count(s, "test"));
    std::vector<float> xf(n);
    for (auto& v : xf)
      v = static_cast<float>(rng.real(-100, 100));
    std::vector<float> yf(n, -1.0f);
    ref::cumulative_sum(xf.data(), s, static_cast<int64_t>(axis), exclusive, reverse, yf.data());
    ASSERT_EQ(yf, expected_cumsum(xf, s, axis, exclusive, reverse)) << to_string(s) << " axis " << axis;
    std::vector<float> in_place = xf;
    ref::cumulative_sum(in_place.data(), s, static_cast<int64_t>(axis), exclusive, reverse, in_place.data());
    ASSERT_EQ(in_place, yf) << "in place";
    std::vector<int64_t> xi(n);
    for (auto& v : xi)
      v = rng.integer(std::numeric_limits<int64_t>::min() / 2, std::numeric_limits<int64_t>::max() / 2);
    std::vector<int64_t> yi(n);
    ref::cumulative_sum(xi.data(), s, static_cast<int64_t>(axis), exclusive, reverse, yi.data());
    ASSERT_EQ(yi, expected_cumsum(xi, s, axis, exclusive, reverse)) << to_string(s) << " axis " << axis;
  }
  // ONNX's examples.
  const std::vector<float> x = {1, 2, 3, 4, 5};
  std::vector<float> y(5);
  ref::cumulative_sum(x.data(), {5}, 0, true, true, y.data());
  EXPECT_EQ(y, (std::vector<float>{14, 12, 9, 5, 0}));
  const std::vector<float> m = {1, 2, 3, 4, 5, 6};
  std::vector<float> z(6);
  ref::cumulative_sum(m.data(), {2, 3}, 1, false, false, z.data());
  EXPECT_EQ(z, (std::vector<float>{1, 3, 6, 4, 9, 15}));
  EXPECT_THROW(ref::cumulative_sum(m.data(), {2, 3}, 2, false, false, z.data()), Error);
}

}  // namespace
}  // namespace octet
