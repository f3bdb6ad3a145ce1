// The quantized Add and Mul: the vector row kernels of every ISA against ref::add / ref::mul on all 65536
// byte pairs (plain rows, rows with a repeated operand, rows against a repeated row), the fixed-point add's
// float-equivalent constants (float_equivalent_add.h), and the prepared broadcasting operator
// (kernels/elementwise/quantized_binary.h) against the reference, bit for bit, on every ISA this CPU runs,
// on 1 and 3 threads, for same-shape, squeeze-excitation ([N,H,W,C] x [N,1,1,C]), scalar, outer-product,
// random rank 1..5 and zero-size shapes, and on the table fallback.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/elementwise/float_equivalent_add.h"
#include "kernels/elementwise/fused_multiplier.h"
#include "kernels/elementwise/quantized_add.h"
#include "kernels/elementwise/quantized_binary.h"
#include "kernels/elementwise/quantized_mul.h"
#include "kernels/error.h"
#include "kernels/reference/elementwise.h"
#include "test_util.h"

namespace octet {
namespace {

using elementwise::BinaryOp;
using elementwise::QuantizedBinary;
using elementwise::Repeated;

std::string op_name(BinaryOp op) {
  return op == BinaryOp::add ? "add" : "mul";
}

TensorU8 reference(BinaryOp op, const TensorU8& a, const TensorU8& b, const QuantParams& out, Clamp clamp,
                   RequantMode mode) {
  return op == BinaryOp::add ? ref::add(a, b, out, clamp, mode) : ref::mul(a, b, out, clamp, mode);
}

const char* mode_name(RequantMode mode) {
  return mode == RequantMode::float_scale ? "float" : "fixed_point";
}

// Zero points anywhere in [0, 255], the ends a quarter of the time each.
int32_t zero_point(test::Random& rng) {
  switch (rng.integer(0, 3)) {
    case 0:
      return 0;
    case 1:
      return 255;
    default:
      return static_cast<int32_t>(rng.integer(0, 255));
  }
}

struct Params {
  QuantParams a, b, out;
  Clamp clamp;
};

// Scales log-uniform in [1e-4, 1]; on even trials the output scale is drawn around what the op produces
// (max(s_a, s_b) times 0.02 to 8 for add, s_a * s_b * 255 times 0.02 to 50 for mul), as real models have,
// so that they land on the vector kernels; on odd trials it is drawn freely, which also reaches the
// multipliers only the table takes.
Params random_params(test::Random& rng, BinaryOp op, int trial) {
  Params p;
  p.a = QuantParams::per_tensor(rng.scale(1e-4, 1.0), zero_point(rng));
  p.b = QuantParams::per_tensor(rng.scale(1e-4, 1.0), zero_point(rng));
  // Every fourth trial's inputs share a scale (a residual add's often do): both add terms are then the
  // exact halving the AVX-512 and AVX2 adds take at compile time (elementwise::StepForm::half).
  if (trial % 4 == 2) p.b = QuantParams::per_tensor(p.a.scale(), zero_point(rng));
  double out_scale = rng.scale(1e-4, 1.0);
  if (trial % 2 == 0) {
    const double typical = op == BinaryOp::add ? std::max(p.a.scale(), p.b.scale())
                                               : static_cast<double>(p.a.scale()) * p.b.scale() * 255.0;
    out_scale = typical * std::exp(rng.real(std::log(0.02), std::log(op == BinaryOp::add ? 8.0 : 50.0)));
  }
  p.out = QuantParams::per_tensor(static_cast<float>(out_scale), zero_point(rng));
  switch (rng.integer(0, 3)) {
    case 0:
      p.clamp = {};
      break;
    case 1:
      p.clamp = {p.out.zero_point(), 255};  // ReLU
      break;
    default: {
      const auto lo = static_cast<int32_t>(rng.integer(0, 200));
      p.clamp = {lo, static_cast<int32_t>(rng.integer(lo, 255))};
    }
  }
  return p;
}

// The float mode's row kernels (ONNX Runtime's arithmetic): AVX-512, AVX2, NEON; `a_first` as for
// operands of equal shapes.
std::unique_ptr<const elementwise::BinaryRows> make_float_rows(Isa isa, BinaryOp op, const Params& p) {
  return op == BinaryOp::add
             ? elementwise::make_float_add_rows(isa, ref::float_add_constants(p.a, p.b, p.out, false),
                                                p.clamp)
             : elementwise::make_float_mul_rows(isa, ref::float_mul_constants(p.a, p.b, p.out), p.clamp);
}

bool vector_supported(Isa isa, BinaryOp op, const Params& p, RequantMode mode = RequantMode::fixed_point) {
  if (mode == RequantMode::float_scale) return make_float_rows(isa, op, p) != nullptr;
  return op == BinaryOp::add ? elementwise::add_rows_supported(isa, ref::add_constants(p.a, p.b, p.out))
                             : elementwise::mul_rows_supported(isa, ref::mul_constants(p.a, p.b, p.out));
}

std::unique_ptr<const elementwise::BinaryRows> make_rows(Isa isa, BinaryOp op, const Params& p,
                                                         RequantMode mode) {
  if (mode == RequantMode::float_scale) return make_float_rows(isa, op, p);
  return op == BinaryOp::add ? elementwise::make_add_rows(isa, ref::add_constants(p.a, p.b, p.out), p.clamp)
                             : elementwise::make_mul_rows(isa, ref::mul_constants(p.a, p.b, p.out), p.clamp);
}

// Whether QuantizedBinary runs a fixed-point add on the float mode's kernel (float_equivalent_add.h).
bool takes_float_equivalent(Isa isa, BinaryOp op, const Params& p, RequantMode mode) {
  if (op != BinaryOp::add || mode != RequantMode::fixed_point || isa == Isa::scalar) return false;
  const auto f = elementwise::float_equivalent_add(p.a, p.b, p.out, p.clamp, isa);
  return f && elementwise::make_float_equivalent_add_rows(isa, *f, p.clamp) != nullptr;
}

// Random activations; half the tensors mostly the extremes 0 and 255.
TensorU8 random_tensor(test::Random& rng, const Shape& shape, const QuantParams& q) {
  TensorU8 t = rng.activations(shape, q);
  if (rng.coin())
    for (auto& v : t.data)
      if (rng.integer(0, 3) != 0) v = rng.coin() ? 0 : 255;
  return t;
}

// Every byte pair as two operand rows: a[i] = i / 256, b[i] = i % 256.
struct EveryPair {
  std::vector<uint8_t> a = std::vector<uint8_t>(65536), b = std::vector<uint8_t>(65536);
  EveryPair() {
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<uint8_t>(i / 256);
      b[i] = static_cast<uint8_t>(i % 256);
    }
  }
};

// Checks a row kernel against `want` (the 65536 results of every byte pair, [a * 256 + b]): a row of every
// pair, rows with a repeated a or b, rows against a repeated row, in place on either operand, and short rows
// of 1..40 elements at odd offsets (only their n elements written). `a` and `b` hold i / 256 and i % 256.
void expect_every_pair(const elementwise::BinaryRows& rows, const std::vector<uint8_t>& a,
                       const std::vector<uint8_t>& b, const std::vector<uint8_t>& want) {
  std::vector<uint8_t> got(65536);
  rows(a.data(), b.data(), got.data(), 65536, Repeated::none);
  ASSERT_EQ(got, want);
  // a repeated: a = x for the 256 b values of row x of the table; b repeated likewise per column.
  for (int x = 0; x < 256; ++x) {
    const auto q = static_cast<uint8_t>(x);
    rows(&q, b.data(), got.data(), 256, Repeated::a);
    for (int y = 0; y < 256; ++y)
      ASSERT_EQ(got[static_cast<size_t>(y)], want[static_cast<size_t>(x * 256 + y)])
          << "a=" << x << " b=" << y;
    rows(b.data(), &q, got.data(), 256, Repeated::b);  // a = 0..255
    for (int y = 0; y < 256; ++y)
      ASSERT_EQ(got[static_cast<size_t>(y)], want[static_cast<size_t>(y * 256 + x)])
          << "a=" << y << " b=" << x;
  }
  // Against a repeated row (the kernels' own against_row, with the row's terms computed once): the
  // row 0..255 against a = 0..255 (moving) gives op(p, i); as the first operand, op(i, p).
  for (const bool moving_is_a : {true, false}) {
    std::fill(got.begin(), got.end(), 0);
    rows.against_row(a.data(), b.data(), moving_is_a, 256, 256, got.data());
    for (int i = 0; i < 65536; ++i) {
      const int pair = moving_is_a ? i : (i % 256) * 256 + i / 256;
      ASSERT_EQ(got[static_cast<size_t>(i)], want[static_cast<size_t>(pair)])
          << "against_row, moving_is_a " << moving_is_a << ", element " << i;
    }
  }
  // Short rows: only their n elements are written.
  for (int64_t n = 1; n <= 40; ++n) {
    const int64_t offset = 1000 + 37 * n;
    std::vector<uint8_t> out(static_cast<size_t>(n + 2), 0xA5);
    rows(a.data() + offset, b.data() + offset, out.data() + 1, n, Repeated::none);
    ASSERT_EQ(out.front(), 0xA5);
    ASSERT_EQ(out.back(), 0xA5);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(out[static_cast<size_t>(i + 1)], want[static_cast<size_t>(offset + i)]) << "n=" << n;
  }
  // In place: out is the first or the second operand.
  for (const bool on_a : {true, false}) {
    std::vector<uint8_t> inout = on_a ? a : b;
    rows(on_a ? inout.data() : a.data(), on_a ? b.data() : inout.data(), inout.data(), 65536, Repeated::none);
    ASSERT_EQ(inout, want) << "in place on " << (on_a ? "a" : "b");
  }
}

class QuantizedBinaryRows : public ::testing::TestWithParam<Isa> {};

// Every (a, b) byte pair as a row, a row with a repeated a (b running over 0..255, for every a) and one with
// a repeated b; row lengths 1..40 at odd offsets for the partial vectors.
TEST_P(QuantizedBinaryRows, EveryPairMatchesReference) {
  const Isa isa = GetParam();
  const EveryPair pairs;
  const std::vector<uint8_t>&a = pairs.a, &b = pairs.b;
  for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale})
    for (BinaryOp op : {BinaryOp::add, BinaryOp::mul}) {
      int checked = 0;
      // The float mode's kernels take every finite constant: fewer trials cover them (qemu runs this too).
      const int trials = mode == RequantMode::float_scale ? 20 : 60;
      for (int trial = 0; trial < trials; ++trial) {
        SCOPED_TRACE(op_name(op) + " " + mode_name(mode) + " trial " + std::to_string(trial));
        test::Random rng(static_cast<uint64_t>(trial) + (op == BinaryOp::add ? 0 : 1000));
        Params p = random_params(rng, op, trial);
        // The multiplier corners of mul.
        if (op == BinaryOp::mul && trial == 1) {  // M = 12000: a left shift of 14
          p.a = p.b = QuantParams::per_tensor(1.0f, 0);
          p.out = QuantParams::per_tensor(1.0f / 12000.0f, 128);
        }
        if (op == BinaryOp::mul && trial == 3) {  // M = 3.3e-7: a right shift of 21
          p.a = p.b = QuantParams::per_tensor(1e-3f, 17);
          p.out = QuantParams::per_tensor(3.0f, 3);
        }
        if (!vector_supported(isa, op, p, mode)) continue;
        const auto rows = make_rows(isa, op, p, mode);
        const TensorU8 want =
            reference(op, TensorU8({65536}, a, p.a), TensorU8({65536}, b, p.b), p.out, p.clamp, mode);
        expect_every_pair(*rows, a, b, want.data);
        if (HasFatalFailure()) return;
        ++checked;
      }
      // The output scales drawn around the typical ones always reach the vector kernels (the float mode's
      // exist on x86 only).
      const Params plain{QuantParams::per_tensor(0.1f, 0),
                         QuantParams::per_tensor(0.1f, 0),
                         QuantParams::per_tensor(0.1f, 0),
                         {}};
      if (isa != Isa::scalar && (mode == RequantMode::fixed_point || make_float_rows(isa, op, plain))) {
        EXPECT_GE(checked, trials / 2) << op_name(op) << " " << mode_name(mode);
      }
    }
}

INSTANTIATE_TEST_SUITE_P(Isas, QuantizedBinaryRows, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(name_of(info.param)); });

class QuantizedBinaryOp : public ::testing::TestWithParam<Isa> {};

// Runs the prepared operator in both requantization modes on 1 and 3 threads and checks each against the
// reference.
void expect_matches_reference(Isa isa, BinaryOp op, const Params& p, const TensorU8& a, const TensorU8& b) {
  for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_scale}) {
    SCOPED_TRACE(mode_name(mode));
    const TensorU8 want = reference(op, a, b, p.out, p.clamp, mode);
    const QuantizedBinary kernel(op, p.a, p.b, p.out, p.clamp, a.shape, b.shape, want.shape, isa, mode);
    if (isa == Isa::scalar)
      EXPECT_EQ(kernel.path(), QuantizedBinary::Path::reference);
    else if (takes_float_equivalent(isa, op, p, mode))
      EXPECT_EQ(kernel.path(), QuantizedBinary::Path::float_equivalent);
    else
      EXPECT_EQ(kernel.path(), vector_supported(isa, op, p, mode) ? QuantizedBinary::Path::vector
                                                                  : QuantizedBinary::Path::table);
    for (int threads : {1, 3}) {
      std::vector<uint8_t> got(want.data.size() + 1, 0xA5);
      tbb::task_arena(threads).execute([&] { kernel.run(a.data.data(), b.data.data(), got.data()); });
      ASSERT_EQ(got.back(), 0xA5) << "wrote past the output";
      got.pop_back();
      ASSERT_EQ(got, want.data) << threads << " threads, path " << static_cast<int>(kernel.path());
    }
  }
}

TEST_P(QuantizedBinaryOp, SqueezeExcitationAndChannelRows) {
  const Isa isa = GetParam();
  for (int64_t c : {1, 3, 8, 24, 64, 96, 200, 700}) {
    for (int trial = 0; trial < 8; ++trial) {
      const BinaryOp op = trial % 4 < 2 ? BinaryOp::mul : BinaryOp::add;
      SCOPED_TRACE(op_name(op) + " C=" + std::to_string(c) + " trial " + std::to_string(trial));
      test::Random rng(static_cast<uint64_t>(c * 100 + trial));
      const Params p = random_params(rng, op, trial);
      const int64_t n = rng.integer(1, 3), h = rng.integer(1, 9), w = rng.integer(1, 13);
      // [N,H,W,C] x [N,1,1,C] (either order), and [N,H,W,C] x [1,1,1,C] / [C] (a per-channel constant).
      const Shape full{n, h, w, c};
      Shape row{n, 1, 1, c};
      if (trial % 2 == 1) row = rng.coin() ? Shape{1, 1, 1, c} : Shape{c};
      const bool row_first = rng.coin();
      const TensorU8 x = random_tensor(rng, row_first ? row : full, p.a);
      const TensorU8 y = random_tensor(rng, row_first ? full : row, p.b);
      expect_matches_reference(isa, op, p, x, y);
      if (isa != Isa::scalar && c > 1 && h * w > 1 && 2 * c <= 1024) {
        const QuantizedBinary kernel(op, p.a, p.b, p.out, p.clamp, x.shape, y.shape,
                                     ref::broadcast_shapes("t", x.shape, y.shape), isa);
        EXPECT_TRUE(kernel.repeats_rows());
      }
    }
  }
}

TEST_P(QuantizedBinaryOp, SameShapeScalarsAndOuterProducts) {
  const Isa isa = GetParam();
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{1, 5, 7, 16}, {1, 5, 7, 16}},  // same shape (hard-swish's x * t)
      {{1, 3, 4, 33}, {1, 3, 4, 33}},
      {{1, 4, 5, 3}, {1}},  // [1]-scalar, either side
      {{1}, {2, 3, 2, 9}},
      {{1}, {1}},
      {{7}, {}},               // a rank-0 scalar
      {{6, 5, 1}, {1, 1, 7}},  // [H,W,1] x [1,1,C]
      {{1, 1, 40}, {9, 11, 1}},
      {{2, 6, 5, 1}, {2, 1, 1, 1}},   // one channel, per-image scalar: long runs with a repeated operand
      {{2, 3, 4, 24}, {2, 3, 4, 1}},  // per-pixel scalar: short runs with a repeated operand
      {{3, 1, 5, 2}, {1, 4, 5, 2}},   // both operands repeating rows, in turns
      {{1, 3, 1, 200}, {2, 1, 4, 1}}};
  for (int trial = 0; trial < 12; ++trial)
    for (const auto& [sa, sb] : shapes) {
      const BinaryOp op = trial % 2 == 0 ? BinaryOp::mul : BinaryOp::add;
      SCOPED_TRACE(op_name(op) + " " + to_string(sa) + " x " + to_string(sb) + " trial " +
                   std::to_string(trial));
      test::Random rng(static_cast<uint64_t>(trial * 31 + sa.size() * 7 + sb.size()));
      const Params p = random_params(rng, op, trial / 2);
      expect_matches_reference(isa, op, p, random_tensor(rng, sa, p.a), random_tensor(rng, sb, p.b));
    }
}

// Random shapes of rank 1..5, every dimension of either operand independently 1 (broadcast) or dropped.
TEST_P(QuantizedBinaryOp, RandomBroadcastShapes) {
  const Isa isa = GetParam();
  for (int trial = 0; trial < test::random_trials(150); ++trial) {
    test::Random rng(static_cast<uint64_t>(5000 + trial));
    const auto rank = static_cast<size_t>(rng.integer(1, 5));
    Shape out(rank);
    for (auto& d : out)
      d = rng.integer(1, rank > 3 ? 6 : 20);
    auto operand = [&] {
      const int64_t dropped = rng.coin() ? rng.integer(0, static_cast<int64_t>(rank) - 1) : 0;
      Shape s(out.begin() + dropped, out.end());
      for (auto& d : s)
        if (rng.integer(0, 2) == 0) d = 1;
      return s;
    };
    Shape sa = operand(), sb = operand();
    // Keep `out` the broadcast: its dimensions come from one operand or the other.
    for (size_t i = 0; i < rank; ++i) {
      const size_t from_end = rank - 1 - i;
      const bool in_a = from_end < sa.size() && sa[sa.size() - 1 - from_end] == out[i];
      const bool in_b = from_end < sb.size() && sb[sb.size() - 1 - from_end] == out[i];
      if (!in_a && !in_b) {
        if (from_end >= sa.size()) sa.insert(sa.begin(), rank - sa.size(), 1);
        sa[sa.size() - 1 - from_end] = out[i];
      }
    }
    const BinaryOp op = rng.coin() ? BinaryOp::add : BinaryOp::mul;
    SCOPED_TRACE(op_name(op) + " " + to_string(sa) + " x " + to_string(sb) + " trial " +
                 std::to_string(trial));
    const Params p = random_params(rng, op, trial);
    expect_matches_reference(isa, op, p, random_tensor(rng, sa, p.a), random_tensor(rng, sb, p.b));
  }
}

TEST_P(QuantizedBinaryOp, ZeroSizeShapesProduceNothing) {
  const Isa isa = GetParam();
  test::Random rng(11);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{0}, {0}}, {{1, 0, 4, 8}, {1, 1, 1, 8}}, {{0, 3}, {1}}, {{2, 1, 5}, {2, 0, 1}}};
  for (BinaryOp op : {BinaryOp::add, BinaryOp::mul})
    for (const auto& [sa, sb] : shapes) {
      const Params p = random_params(rng, op, 0);
      const TensorU8 a(sa, p.a), b(sb, p.b);
      const Shape so = ref::broadcast_shapes("t", sa, sb);
      const QuantizedBinary kernel(op, p.a, p.b, p.out, p.clamp, sa, sb, so, isa);
      uint8_t sentinel = 0xA5;
      kernel.run(nullptr, nullptr, &sentinel);
      EXPECT_EQ(sentinel, 0xA5);
      EXPECT_EQ(reference(op, a, b, p.out, p.clamp, RequantMode::fixed_point).data.size(), 0u);
    }
}

// Multipliers outside the x86 fused form's range (a tiny mul multiplier, an add whose output step would
// shift right by more than 22) go to the table there, with the same results; the add only where no float
// constants give its bytes (expect_matches_reference checks the path either way; BinaryTable's own test
// covers the add's table). NEON's rows rescale with
// SQRDMULH and rounding shifts, which take every multiplier, so they keep the vector path and must match too.
TEST_P(QuantizedBinaryOp, TableFallbackMatchesReference) {
  const Isa isa = GetParam();
#if defined(__aarch64__)
  const bool vector_expected = isa != Isa::scalar;
#else
  const bool vector_expected = false;
#endif
  test::Random rng(3);
  Params mul{QuantParams::per_tensor(1e-4f, 3),
             QuantParams::per_tensor(2e-4f, 250),
             QuantParams::per_tensor(1.0f, 9),
             {}};
  Params add{QuantParams::per_tensor(1e-4f, 0),
             QuantParams::per_tensor(1e-4f, 200),
             QuantParams::per_tensor(0.9f, 255),
             {10, 255}};
  for (const auto& [op, p] : {std::pair{BinaryOp::mul, mul}, std::pair{BinaryOp::add, add}}) {
    SCOPED_TRACE(op_name(op));
    EXPECT_EQ(vector_supported(isa, op, p), vector_expected);
    expect_matches_reference(isa, op, p, random_tensor(rng, {2, 5, 6, 24}, p.a),
                             random_tensor(rng, {2, 1, 1, 24}, p.b));
    expect_matches_reference(isa, op, p, random_tensor(rng, {3, 70}, p.a), random_tensor(rng, {3, 70}, p.b));
  }
}

// Large enough for many parallel tasks, in every schedule.
TEST_P(QuantizedBinaryOp, ManyTasksAnyThreadCount) {
  const Isa isa = GetParam();
  const std::vector<std::pair<Shape, Shape>> shapes = {{{1, 60, 80, 24}, {1, 1, 1, 24}},
                                                       {{2, 15, 20, 200}, {2, 1, 1, 200}},
                                                       {{1, 64, 64, 8}, {1, 64, 64, 8}},
                                                       {{1, 100, 100, 3}, {1}},
                                                       {{1, 40, 40, 16}, {1, 40, 40, 1}}};
  int trial = 0;
  for (const auto& [sa, sb] : shapes)
    for (BinaryOp op : {BinaryOp::add, BinaryOp::mul}) {
      SCOPED_TRACE(op_name(op) + " " + to_string(sa) + " x " + to_string(sb));
      test::Random rng(static_cast<uint64_t>(900 + trial));
      const Params p = random_params(rng, op, 2 * trial++);
      expect_matches_reference(isa, op, p, random_tensor(rng, sa, p.a), random_tensor(rng, sb, p.b));
    }
}

INSTANTIATE_TEST_SUITE_P(Isas, QuantizedBinaryOp, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(name_of(info.param)); });

// The add's vector rows replace the term step of the input with the larger scale (of both, where the scales
// are equal) by a halving (StepForm::half on x86, halves_even_inputs on NEON). That rests on two facts
// checked here over scale pairs from 1e-5 to 10: add_constants gives that term the multiplier 1/2 exactly,
// and multiply_by_fixed with it halves every term input (q - z) << kAddLeftShift exactly.
TEST(AddTermSteps, TheLargerScaleTermIsAnExactHalving) {
  test::Random rng(77);
  for (int trial = 0; trial < test::random_trials(2000); ++trial) {
    const float sa = static_cast<float>(rng.scale(1e-5, 10.0));
    const float sb = trial % 5 == 0 ? sa : static_cast<float>(rng.scale(1e-5, 10.0));
    const ref::AddConstants k =
        ref::add_constants(QuantParams::per_tensor(sa, 3), QuantParams::per_tensor(sb, 250),
                           QuantParams::per_tensor(sa + sb, 128));
    SCOPED_TRACE("scales " + std::to_string(sa) + " and " + std::to_string(sb));
    EXPECT_EQ(elementwise::halves_even_inputs(k.a), sa >= sb);
    EXPECT_EQ(elementwise::halves_even_inputs(k.b), sb >= sa);
  }
  const FixedMultiplier half = quantize_multiplier(0.5);
  ASSERT_TRUE(elementwise::halves_even_inputs(half));
  for (int32_t d = -255; d <= 255; ++d) {
    const int32_t x = d * (1 << ref::kAddLeftShift);
    ASSERT_EQ(multiply_by_fixed(x, half), x / 2) << d;
  }
  EXPECT_FALSE(elementwise::halves_even_inputs(quantize_multiplier(0.4999999)));
  EXPECT_FALSE(elementwise::halves_even_inputs(quantize_multiplier(0.25)));
}

// The scale sets of mobilenetv2_like's residual adds (ONNX Runtime's quantizer) that the float formula misses
// on a pair or two: their real sums lie within about 1e-9 of a rounding tie.
const Params kNearTieAdds[] = {
    {QuantParams::per_tensor(0.0671058819f, 121),
     QuantParams::per_tensor(0.058878433f, 133),
     QuantParams::per_tensor(0.0865098014f, 122),
     {}},
    {QuantParams::per_tensor(0.129450977f, 131),
     QuantParams::per_tensor(0.0817450956f, 134),
     QuantParams::per_tensor(0.146862745f, 129),
     {}},
    {QuantParams::per_tensor(0.0970196053f, 134),
     QuantParams::per_tensor(0.0828470588f, 143),
     QuantParams::per_tensor(0.113960788f, 126),
     {}},
    {QuantParams::per_tensor(0.137686267f, 130),
     QuantParams::per_tensor(0.0975294113f, 141),
     QuantParams::per_tensor(0.142274514f, 125),
     {}},
};

// What float_equivalent_add finds gives ref::add's fixed-point bytes on every pair (checked here against
// ref::add itself, not the table the search used): the float formula with its constants, its exceptions'
// values where it lists them (only pairs the formula misses, at most kMaxPairExceptions, each once). It
// finds constants for most scale sets, and exceptions are needed for the near-tie sets.
TEST(FloatEquivalentAdd, GivesTheFixedPointBytesOnEveryPair) {
  const Isa isa = active_isa();
  if (isa == Isa::scalar) GTEST_SKIP() << "no float add kernel on the scalar ISA";
  const EveryPair pairs;
  TensorU8 left({65536}, pairs.a, QuantParams::per_tensor(1.0f, 0));
  TensorU8 right({65536}, pairs.b, QuantParams::per_tensor(1.0f, 0));
  std::vector<Params> sets;
  constexpr int kRandomSets = test::random_trials(120);
  for (int trial = 0; trial < kRandomSets; ++trial) {
    test::Random rng(static_cast<uint64_t>(7000 + trial));
    sets.push_back(random_params(rng, BinaryOp::add, trial));
  }
  sets.insert(sets.end(), std::begin(kNearTieAdds), std::end(kNearTieAdds));
  int found = 0, with_exceptions = 0;
  for (size_t set = 0; set < sets.size(); ++set) {
    SCOPED_TRACE("scale set " + std::to_string(set));
    const Params& p = sets[set];
    const auto f = elementwise::float_equivalent_add(p.a, p.b, p.out, p.clamp, isa);
    if (set >= kRandomSets) {
      EXPECT_TRUE(f.has_value());
    }
    if (!f) continue;
    ++found;
    with_exceptions += f->exceptions.empty() ? 0 : 1;
    ASSERT_LE(f->exceptions.size(), elementwise::FloatEquivalentAdd::kMaxPairExceptions);
    std::vector<int> exception_at(65536, -1);
    for (size_t e = 0; e < f->exceptions.size(); ++e) {
      const int pair = f->exceptions[e].a * 256 + f->exceptions[e].b;
      ASSERT_EQ(exception_at[static_cast<size_t>(pair)], -1) << "pair listed twice";
      exception_at[static_cast<size_t>(pair)] = static_cast<int>(e);
    }
    left.quant = p.a;
    right.quant = p.b;
    const TensorU8 want = ref::add(left, right, p.out, p.clamp);
    for (int i = 0; i < 65536; ++i) {
      const int32_t formula =
          std::clamp(ref::float_add_value(f->constants, i / 256, i % 256), p.clamp.min, p.clamp.max);
      const int e = exception_at[static_cast<size_t>(i)];
      if (e >= 0) {
        ASSERT_NE(formula, want.data[static_cast<size_t>(i)]) << "an exception the formula does not miss";
        ASSERT_EQ(f->exceptions[static_cast<size_t>(e)].value, want.data[static_cast<size_t>(i)]);
      } else {
        ASSERT_EQ(formula, want.data[static_cast<size_t>(i)]) << "a=" << i / 256 << " b=" << i % 256;
      }
    }
  }
  EXPECT_GE(found, kRandomSets * 9 / 10);
  EXPECT_GE(with_exceptions, 2);
}

// The float-equivalent rows of every ISA (the float kernel, then the exceptions' bytes put back) against
// ref::add on every pair, in every way a row is called, in place too; the near-tie sets have exceptions.
class FloatEquivalentRows : public ::testing::TestWithParam<Isa> {};

TEST_P(FloatEquivalentRows, EveryPairMatchesReference) {
  const Isa isa = GetParam();
  if (isa == Isa::scalar) GTEST_SKIP() << "the scalar ISA runs the reference";
  const EveryPair pairs;
  const std::vector<uint8_t>&a = pairs.a, &b = pairs.b;
  std::vector<Params> sets(std::begin(kNearTieAdds), std::end(kNearTieAdds));
  for (int trial = 0; trial < 12; ++trial) {
    test::Random rng(static_cast<uint64_t>(7500 + trial));
    sets.push_back(random_params(rng, BinaryOp::add, trial));
  }
  int patched = 0;
  for (size_t set = 0; set < sets.size(); ++set) {
    SCOPED_TRACE("scale set " + std::to_string(set));
    const Params& p = sets[set];
    const auto f = elementwise::float_equivalent_add(p.a, p.b, p.out, p.clamp, isa);
    if (!f) continue;
    const auto rows = elementwise::make_float_equivalent_add_rows(isa, *f, p.clamp);
    if (!rows) continue;  // no float add kernel on this ISA
    patched += f->exceptions.empty() ? 0 : 1;
    const TensorU8 want = ref::add(TensorU8({65536}, a, p.a), TensorU8({65536}, b, p.b), p.out, p.clamp);
    expect_every_pair(*rows, a, b, want.data);
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(patched, 2);
}

INSTANTIATE_TEST_SUITE_P(Isas, FloatEquivalentRows, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(name_of(info.param)); });

// Every patch function (the portable one and each x86 one this CPU runs) against a plain scalar patch:
// 1 to 4 exceptions, every Repeated form, lengths around the vector widths and past a chunk, with the
// exceptions' pairs planted in the rows.
TEST(PatchPairs, EveryFormMatchesAScalarPatch) {
  std::vector<std::pair<std::string, elementwise::PatchPairs>> forms = {
      {"portable", elementwise::patch_pairs_portable}};
#if defined(__x86_64__)
  if (cpu_supports(Isa::avx2)) forms.emplace_back("avx2", elementwise::patch_pairs_avx2);
  if (cpu_supports(Isa::avx512vnni)) forms.emplace_back("avx512", elementwise::patch_pairs_avx512);
#endif
  test::Random rng(404);
  for (size_t count = 1; count <= elementwise::FloatEquivalentAdd::kMaxPairExceptions; ++count)
    for (const Repeated repeated : {Repeated::none, Repeated::a, Repeated::b})
      for (const int64_t n : {0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 200, 5000}) {
        SCOPED_TRACE(std::to_string(count) + " exceptions, repeated " +
                     std::to_string(static_cast<int>(repeated)) + ", n " + std::to_string(n));
        std::vector<elementwise::PairException> exceptions;
        while (exceptions.size() < count) {
          const elementwise::PairException e{static_cast<uint8_t>(rng.integer(0, 255)),
                                             static_cast<uint8_t>(rng.integer(0, 255)),
                                             static_cast<uint8_t>(rng.integer(0, 255))};
          bool distinct = true;
          for (const auto& x : exceptions)
            distinct = distinct && !(x.a == e.a && x.b == e.b);
          if (distinct) exceptions.push_back(e);
        }
        const auto size = static_cast<size_t>(std::max<int64_t>(n, 1));
        std::vector<uint8_t> a(size), b(size), out(size);
        for (size_t i = 0; i < size; ++i) {
          a[i] = static_cast<uint8_t>(rng.integer(0, 255));
          b[i] = static_cast<uint8_t>(rng.integer(0, 255));
          out[i] = static_cast<uint8_t>(rng.integer(0, 255));
          if (rng.integer(0, 7) == 0) {  // plant an exception's pair
            const auto& e = exceptions[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(count) - 1))];
            a[i] = e.a;
            b[i] = e.b;
          }
        }
        // A repeated operand holds an exception's byte on most trials.
        if (repeated == Repeated::a && rng.integer(0, 3) != 0) a[0] = exceptions[0].a;
        if (repeated == Repeated::b && rng.integer(0, 3) != 0) b[0] = exceptions[0].b;
        std::vector<uint8_t> want = out;
        for (int64_t i = 0; i < n; ++i) {
          const uint8_t x = repeated == Repeated::a ? a[0] : a[static_cast<size_t>(i)];
          const uint8_t y = repeated == Repeated::b ? b[0] : b[static_cast<size_t>(i)];
          for (const auto& e : exceptions)
            if (e.a == x && e.b == y) want[static_cast<size_t>(i)] = e.value;
        }
        for (const auto& [name, patch] : forms) {
          std::vector<uint8_t> got = out;
          patch(exceptions.data(), exceptions.size(), a.data(), b.data(), got.data(), n, repeated);
          ASSERT_EQ(got, want) << name;
        }
      }
}

// The near-tie adds through the prepared operator on every ISA (their float kernel with its exception pairs
// put back): same shapes, a broadcast row (against_row) and a broadcast scalar, rows longer than a patch
// chunk, 1 and 3 threads, with every exception's pair planted in the data.
TEST_P(QuantizedBinaryOp, NearTieAddsWithTheirExceptionPairs) {
  const Isa isa = GetParam();
  test::Random rng(808);
  for (size_t set = 0; set < std::size(kNearTieAdds); ++set) {
    SCOPED_TRACE("near-tie set " + std::to_string(set));
    const Params& p = kNearTieAdds[set];
    const auto f = elementwise::float_equivalent_add(p.a, p.b, p.out, p.clamp, active_isa());
    ASSERT_TRUE(f.has_value());
    ASSERT_FALSE(f->exceptions.empty());
    const std::vector<std::pair<Shape, Shape>> shapes = {{{1, 60, 80, 24}, {1, 60, 80, 24}},
                                                         {{1, 60, 80, 24}, {1, 1, 1, 24}},
                                                         {{1, 1, 1, 24}, {2, 30, 40, 24}},
                                                         {{1, 100, 100, 3}, {1}},
                                                         {{1}, {1, 100, 100, 3}}};
    for (const auto& [sa, sb] : shapes) {
      TensorU8 x = random_tensor(rng, sa, p.a), y = random_tensor(rng, sb, p.b);
      // Plant each exception where the broadcast pairs an element of x with one of y.
      const Shape so = ref::broadcast_shapes("t", sa, sb);
      for (const auto& e : f->exceptions) {
        const int64_t total = element_count(so, "t");
        const int64_t at = rng.integer(0, total - 1);
        const int64_t c = so.back();
        const int64_t xi =
            x.data.size() == 1 ? 0 : (static_cast<int64_t>(x.data.size()) == total ? at : at % c);
        const int64_t yi =
            y.data.size() == 1 ? 0 : (static_cast<int64_t>(y.data.size()) == total ? at : at % c);
        x.data[static_cast<size_t>(xi)] = e.a;
        y.data[static_cast<size_t>(yi)] = e.b;
      }
      SCOPED_TRACE(to_string(sa) + " x " + to_string(sb));
      expect_matches_reference(isa, BinaryOp::add, p, x, y);
    }
  }
}

// Where exact ties fall on both sides of the output zero point (ratios of exactly 1/2 with centred zero
// points: out = 128 + (a + b - 256) / 2), the fixed-point add rounds them away from it and the float formula
// to even, and no nudge of its constants moves ties on both sides the right way: they miss many pairs, too
// many to list, and the operator keeps the fixed-point kernels (and their bytes).
TEST(FloatEquivalentAdd, TiesOnBothSidesOfTheZeroPointHaveNone) {
  const Params p{QuantParams::per_tensor(0.1f, 128),
                 QuantParams::per_tensor(0.1f, 128),
                 QuantParams::per_tensor(0.2f, 128),
                 {}};
  for (const Isa isa : supported_isas()) {
    const auto f = elementwise::float_equivalent_add(p.a, p.b, p.out, p.clamp, isa);
    EXPECT_FALSE(f.has_value()) << f->exceptions.size() << " exceptions";
  }
  test::Random rng(5);
  for (const Isa isa : supported_isas())
    expect_matches_reference(isa, BinaryOp::add, p, random_tensor(rng, {1, 9, 9, 32}, p.a),
                             random_tensor(rng, {1, 9, 9, 32}, p.b));
}

TEST(QuantizedBinaryOp, RejectsWhatMakesNoSense) {
  const QuantParams q = QuantParams::per_tensor(0.1f, 128);
  const Isa isa = active_isa();
  auto make = [&](const QuantParams& a, const Shape& sa, const Shape& sb, const Shape& so, Clamp clamp = {}) {
    return QuantizedBinary(BinaryOp::add, a, q, q, clamp, sa, sb, so, isa);
  };
  EXPECT_THROW(make(q, {2, 3}, {3}, {3, 3}), Error);              // output is not the broadcast
  EXPECT_THROW(make(q, {2, 3}, {4}, {2, 4}), Error);              // incompatible shapes
  EXPECT_THROW(make(q, {2, 3}, {3}, {2, 3}, {200, 100}), Error);  // min > max
  EXPECT_THROW(make(q, {2, 3}, {3}, {2, 3}, {0, 300}), Error);
  EXPECT_THROW(make(QuantParams::per_axis({0.1f, 0.2f, 0.3f}, {0, 0, 0}, 1), {2, 3}, {3}, {2, 3}), Error);
  EXPECT_THROW(make(QuantParams::per_tensor(0.0f, 0), {2, 3}, {3}, {2, 3}), Error);
  EXPECT_THROW(make(QuantParams::per_tensor(0.1f, 256), {2, 3}, {3}, {2, 3}), Error);
  EXPECT_NO_THROW(make(q, {2, 3}, {3}, {2, 3}));
}

}  // namespace
}  // namespace octet
