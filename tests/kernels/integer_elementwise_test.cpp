// int64 binary operators (kernels/reference/integer_elementwise.h) against their definitions written here:
// random broadcasting shapes and values across the whole int64 range, the edges (INT64_MIN / -1, wrapping
// sums and products, remainders of every sign combination), and division by zero as a named error.

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/integer_elementwise.h"
#include "test_util.h"

namespace octet {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// The definitions, through 128-bit integers where int64 would overflow (a GCC / Clang extension).
__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

int64_t expected(BinaryOp op, int64_t a, int64_t b) {
  const Int128 wa = a, wb = b;
  auto wrap = [](Int128 v) { return static_cast<int64_t>(static_cast<uint64_t>(static_cast<UInt128>(v))); };
  switch (op) {
    case BinaryOp::add:
      return wrap(wa + wb);
    case BinaryOp::sub:
      return wrap(wa - wb);
    case BinaryOp::mul:
      return wrap(wa * wb);
    case BinaryOp::div:
      return wrap(wa / wb);  // C truncation; INT64_MIN / -1 = 2^63 wraps to INT64_MIN
    case BinaryOp::fmod:
      return wrap(wa % wb);
    case BinaryOp::mod: {
      Int128 r = wa % wb;
      if (r != 0 && ((r < 0) != (wb < 0))) r += wb;
      return wrap(r);
    }
    case BinaryOp::min:
      return a < b ? a : b;
    case BinaryOp::max:
      return a > b ? a : b;
    case BinaryOp::equal:
      return a == b;
    case BinaryOp::less:
      return a < b;
    case BinaryOp::less_equal:
      return a <= b;
    case BinaryOp::greater:
      return a > b;
    case BinaryOp::greater_equal:
      return a >= b;
    default:
      return 0;
  }
}

constexpr BinaryOp kOps[] = {BinaryOp::add,          BinaryOp::sub,  BinaryOp::mul,        BinaryOp::div,
                             BinaryOp::mod,          BinaryOp::fmod, BinaryOp::min,        BinaryOp::max,
                             BinaryOp::equal,        BinaryOp::less, BinaryOp::less_equal, BinaryOp::greater,
                             BinaryOp::greater_equal};

int64_t random_value(test::Random& rng) {
  switch (rng.integer(0, 3)) {
    case 0:
      return rng.integer(-20, 20);
    case 1:
      return rng.integer(kMin, kMax);
    case 2:
      return std::vector<int64_t>{kMin, kMax, -1, 1, kMin + 1}[static_cast<size_t>(rng.integer(0, 4))];
    default:
      return rng.integer(-100000, 100000);
  }
}

TEST(Int64Binary, MatchesDefinitionsWithBroadcasting) {
  test::Random rng(601);
  for (int round = 0; round < test::random_trials(300); ++round)
    for (const BinaryOp op : kOps) {
      Shape sa(static_cast<size_t>(rng.integer(0, 3))), sb(static_cast<size_t>(rng.integer(0, 3)));
      for (auto& d : sa)
        d = rng.integer(1, 4);
      for (auto& d : sb)
        d = rng.integer(1, 4);
      // Make them broadcastable: where both have a dimension, one of them is 1 or they agree.
      for (size_t i = 1; i <= std::min(sa.size(), sb.size()); ++i) {
        int64_t& x = sa[sa.size() - i];
        int64_t& y = sb[sb.size() - i];
        if (x != y && x != 1 && y != 1) (rng.coin() ? x : y) = 1;
      }
      std::vector<int64_t> a(static_cast<size_t>(element_count(sa, "a"))),
          b(static_cast<size_t>(element_count(sb, "b")));
      for (auto& v : a)
        v = random_value(rng);
      for (auto& v : b) {
        v = random_value(rng);
        if (v == 0) v = 7;  // divisors are checked separately
      }
      const Shape so = broadcast_shape("test", sa, sb);
      const int64_t n = element_count(so, "out");
      const bool to_bool = produces_bool(op);
      std::vector<int64_t> got(static_cast<size_t>(n));
      std::vector<uint8_t> got_bool(static_cast<size_t>(n));
      ref::int64_binary(op, a.data(), sa, b.data(), sb,
                        to_bool ? static_cast<void*>(got_bool.data()) : got.data(), "test");
      const BroadcastRuns<2> runs("test", so, {sa, sb});
      runs.for_runs(0, runs.outer(), [&](int64_t o, const std::array<int64_t, 2>& in) {
        for (int64_t i = 0; i < runs.inner(); ++i) {
          const int64_t want = expected(op, a[static_cast<size_t>(in[0] + i * runs.step(0))],
                                        b[static_cast<size_t>(in[1] + i * runs.step(1))]);
          const int64_t have =
              to_bool ? got_bool[static_cast<size_t>(o + i)] : got[static_cast<size_t>(o + i)];
          ASSERT_EQ(have, want) << name_of(op) << " " << to_string(sa) << " x " << to_string(sb)
                                << " element " << o + i;
        }
      });
    }
}

TEST(Int64Binary, Edges) {
  auto one = [](BinaryOp op, int64_t a, int64_t b) {
    int64_t y = 0;
    ref::int64_binary(op, &a, {}, &b, {}, &y, "edge");
    return y;
  };
  EXPECT_EQ(one(BinaryOp::div, kMin, -1), kMin);
  EXPECT_EQ(one(BinaryOp::mod, kMin, -1), 0);
  EXPECT_EQ(one(BinaryOp::fmod, kMin, -1), 0);
  EXPECT_EQ(one(BinaryOp::add, kMax, 1), kMin);
  EXPECT_EQ(one(BinaryOp::mul, kMax, 2), -2);
  // ONNX's Mod examples: fmod = 0 takes the divisor's sign, fmod = 1 the dividend's.
  EXPECT_EQ(one(BinaryOp::mod, -4, 3), 2);
  EXPECT_EQ(one(BinaryOp::mod, 4, -3), -2);
  EXPECT_EQ(one(BinaryOp::fmod, -4, 3), -1);
  EXPECT_EQ(one(BinaryOp::div, -7, 2), -3);
  EXPECT_EQ(one(BinaryOp::mod, kMin, kMax), kMax - 1);
}

TEST(Int64Binary, DivisionByZeroIsNamed) {
  const std::vector<int64_t> a = {1, 2, 3}, b = {1, 0, 2};
  std::vector<int64_t> y(3, -9);
  for (const BinaryOp op : {BinaryOp::div, BinaryOp::mod, BinaryOp::fmod}) {
    try {
      ref::int64_binary(op, a.data(), {3}, b.data(), {3}, y.data(), "node 'decode'");
      ADD_FAILURE() << "no error for " << name_of(op);
    } catch (const Error& e) {
      EXPECT_NE(
          std::string(e.what()).find("node 'decode': integer division by zero (element 1 of the divisor)"),
          std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(y, std::vector<int64_t>(3, -9)) << "nothing written";
  EXPECT_FALSE(ref::int64_computes(BinaryOp::pow));
  EXPECT_THROW(ref::int64_binary(BinaryOp::pow, a.data(), {3}, b.data(), {3}, y.data(), "p"), Error);
}

}  // namespace
}  // namespace octet
