// RNN, GRU and LSTM: the reference against the operators' equations in float64, and the GEMM-based kernel
// of every ISA this machine runs against the reference, byte for byte, on random layers (every cell,
// direction, layout, optional input and output) and on 1 and 3 threads; lengths out of range are errors
// raised before anything is written.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <string>

#include "kernels/error.h"
#include "kernels/recurrent/float_recurrent.h"
#include "kernels/reference/float_recurrent.h"
#include "test_util.h"

namespace octet {
namespace {

using ref::RecurrentActivation;
using ref::RecurrentCell;
using ref::RecurrentOutput;
using ref::RecurrentParams;

// A layer, its inputs and what to compute.
struct Layer {
  RecurrentParams p;
  RecurrentOutput output = RecurrentOutput::sequence;
  std::vector<float> x, initial_h, initial_c;
  std::vector<int64_t> lengths;
  bool has_h = false, has_c = false, has_lengths = false;

  const float* h0() const { return has_h ? initial_h.data() : nullptr; }
  const float* c0() const { return has_c ? initial_c.data() : nullptr; }
  const int64_t* lens() const { return has_lengths ? lengths.data() : nullptr; }
  size_t output_size() const {
    return static_cast<size_t>(element_count(ref::recurrent_output_shape(p, output), "out"));
  }
};

RecurrentActivation unary(UnaryOp op, float alpha = 0.0f, float beta = 0.0f) {
  RecurrentActivation f;
  f.unary = UnaryParams{op, alpha, beta, 0.0f};
  return f;
}

std::vector<float> uniform(test::Random& rng, size_t n, double lo, double hi) {
  std::vector<float> v(n);
  for (float& x : v)
    x = static_cast<float>(rng.real(lo, hi));
  return v;
}

// A random layer; `defaults`: the cell's default activations and no clip (what the float64 check models).
Layer random_layer(test::Random& rng, bool defaults) {
  Layer l;
  RecurrentParams& p = l.p;
  p.cell = static_cast<RecurrentCell>(rng.integer(0, 2));
  p.steps = rng.integer(0, 6);
  p.batch = rng.integer(0, 3);
  // Mostly small; one layer in four wide enough for the GEMM's full tiles and their edges.
  const bool wide = rng.integer(0, 3) == 0;
  p.input_size = wide ? rng.integer(20, 70) : rng.integer(0, 9);
  p.hidden_size = wide ? rng.integer(20, 70) : rng.integer(1, 19);
  p.directions = rng.integer(1, 2);
  p.reverse = p.directions == 1 && rng.coin();
  p.batch_first = rng.coin();
  p.input_forget = p.cell == RecurrentCell::lstm && rng.coin();
  p.linear_before_reset = p.cell == RecurrentCell::gru && rng.coin();
  l.output = static_cast<RecurrentOutput>(rng.integer(0, p.cell == RecurrentCell::lstm ? 2 : 1));
  const int64_t D = p.directions, G = p.gates(), H = p.hidden_size, I = p.input_size;
  for (int64_t d = 0; d < D; ++d) {
    if (defaults) {
      if (p.cell == RecurrentCell::rnn) p.activations.push_back(unary(UnaryOp::tanh));
      if (p.cell == RecurrentCell::gru)
        p.activations.insert(p.activations.end(), {unary(UnaryOp::sigmoid), unary(UnaryOp::tanh)});
      if (p.cell == RecurrentCell::lstm)
        p.activations.insert(p.activations.end(),
                             {unary(UnaryOp::sigmoid), unary(UnaryOp::tanh), unary(UnaryOp::tanh)});
      continue;
    }
    for (int64_t f = 0; f < p.functions(); ++f) {
      switch (rng.integer(0, 4)) {
        case 0:
          p.activations.push_back(unary(UnaryOp::hard_sigmoid, 0.3f, 0.4f));
          break;
        case 1: {
          RecurrentActivation a;
          a.form = RecurrentActivation::Form::scaled_tanh;
          a.alpha = 0.9f, a.beta = 1.1f;
          p.activations.push_back(a);
          break;
        }
        case 2: {
          RecurrentActivation a;
          a.form = RecurrentActivation::Form::affine;
          a.alpha = 0.5f, a.beta = -0.1f;
          p.activations.push_back(a);
          break;
        }
        case 3:
          p.activations.push_back(unary(UnaryOp::relu));
          break;
        default:
          p.activations.push_back(unary(UnaryOp::sigmoid));
      }
    }
  }
  if (!defaults && rng.coin()) p.clip = static_cast<float>(rng.real(0.2, 2.0));
  p.w = uniform(rng, static_cast<size_t>(D * G * H * I), -0.5, 0.5);
  p.r = uniform(rng, static_cast<size_t>(D * G * H * H), -0.5, 0.5);
  p.b = uniform(rng, static_cast<size_t>(D * 2 * G * H), -0.3, 0.3);
  p.p = p.cell == RecurrentCell::lstm ? uniform(rng, static_cast<size_t>(D * 3 * H), -0.4, 0.4)
                                      : std::vector<float>{};
  l.x = uniform(rng, static_cast<size_t>(p.steps * p.batch * I), -1.5, 1.5);
  l.has_h = rng.coin();
  l.has_c = p.cell == RecurrentCell::lstm && rng.coin();
  l.initial_h = uniform(rng, static_cast<size_t>(D * p.batch * H), -0.8, 0.8);
  l.initial_c = uniform(rng, static_cast<size_t>(D * p.batch * H), -0.8, 0.8);
  l.has_lengths = rng.coin();
  for (int64_t n = 0; n < p.batch; ++n)
    l.lengths.push_back(rng.integer(0, p.steps));
  return l;
}

std::string describe(const Layer& l) {
  const RecurrentParams& p = l.p;
  return "cell " + std::to_string(static_cast<int>(p.cell)) + " T " + std::to_string(p.steps) + " N " +
         std::to_string(p.batch) + " I " + std::to_string(p.input_size) + " H " +
         std::to_string(p.hidden_size) + " D " + std::to_string(p.directions) +
         (p.reverse ? " reverse" : "") + (p.batch_first ? " batch-first" : "") +
         (p.linear_before_reset ? " lbr" : "") + (p.input_forget ? " input_forget" : "") + " clip " +
         std::to_string(p.clip) + " output " + std::to_string(static_cast<int>(l.output)) +
         (l.has_h ? " h0" : "") + (l.has_c ? " c0" : "") + (l.has_lengths ? " lengths" : "");
}

std::vector<float> run_reference(const Layer& l) {
  std::vector<float> out(l.output_size(), -7.0f);
  ref::float_recurrent(l.p, l.output, l.x.data(), l.h0(), l.c0(), l.lens(), out.data());
  return out;
}

class RecurrentFast : public ::testing::TestWithParam<Isa> {};

TEST_P(RecurrentFast, MatchesTheReferenceByteForByte) {
  test::Random rng(4021);
  for (int trial = 0; trial < test::random_trials(300); ++trial) {
    Layer l = random_layer(rng, rng.coin());
    auto params = std::make_shared<const RecurrentParams>(l.p);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + describe(l));
    const std::vector<float> want = run_reference(l);
    const recurrent::FloatRecurrent kernel(GetParam(), params);
    for (const int threads : {1, 3}) {
      std::vector<float> got(l.output_size(), 7.0f);
      tbb::task_arena(threads).execute(
          [&] { kernel.run(l.output, l.x.data(), l.h0(), l.c0(), l.lens(), got.data()); });
      // An empty output has no data pointer to compare (memcmp takes none, even for 0 bytes).
      ASSERT_TRUE(want.empty() || std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0)
          << threads << " threads";
    }
  }
}

TEST_P(RecurrentFast, LengthOutOfRangeIsAnErrorBeforeAnyWrite) {
  test::Random rng(77);
  Layer l;
  do {
    l = random_layer(rng, true);
  } while (l.p.batch < 2 || l.p.steps < 1);
  l.has_lengths = true;
  const recurrent::FloatRecurrent kernel(GetParam(), std::make_shared<const RecurrentParams>(l.p));
  for (const int64_t bad : {l.p.steps + 1, int64_t{-1}}) {
    l.lengths[1] = bad;
    std::vector<float> out(l.output_size(), 7.0f);
    try {
      kernel.run(l.output, l.x.data(), l.h0(), l.c0(), l.lens(), out.data());
      ADD_FAILURE() << "no error for length " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("sequence_lens[1] = " + std::to_string(bad)), std::string::npos)
          << e.what();
    }
    for (const float v : out)
      ASSERT_EQ(v, 7.0f) << "written before the error";
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, RecurrentFast, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(name_of(info.param)); });

// The operators' equations in float64 (default activations, no clip): ONNX's definitions, written
// independently of the reference's chains.
std::vector<double> float64_recurrent(const Layer& l) {
  const RecurrentParams& p = l.p;
  const int64_t D = p.directions, G = p.gates(), H = p.hidden_size, I = p.input_size;
  std::vector<double> out(l.output_size(), 0.0);
  const auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int64_t d = 0; d < D; ++d)
    for (int64_t n = 0; n < p.batch; ++n) {
      std::vector<double> h(static_cast<size_t>(H), 0.0), c(static_cast<size_t>(H), 0.0);
      for (int64_t j = 0; j < H; ++j) {
        if (l.has_h) h[j] = l.initial_h[static_cast<size_t>(p.state_offset(d, n) + j)];
        if (l.has_c) c[j] = l.initial_c[static_cast<size_t>(p.state_offset(d, n) + j)];
      }
      const int64_t length = l.has_lengths ? l.lengths[static_cast<size_t>(n)] : p.steps;
      const auto W = [&](int64_t row, int64_t i) {
        return double{p.w[static_cast<size_t>((d * G * H + row) * I + i)]};
      };
      const auto R = [&](int64_t row, int64_t k) {
        return double{p.r[static_cast<size_t>((d * G * H + row) * H + k)]};
      };
      const auto Wb = [&](int64_t row) { return double{p.b[static_cast<size_t>(d * 2 * G * H + row)]}; };
      const auto Rb = [&](int64_t row) {
        return double{p.b[static_cast<size_t>(d * 2 * G * H + G * H + row)]};
      };
      for (int64_t s = 0; s < length; ++s) {
        const int64_t t = d == 1 || p.reverse ? length - 1 - s : s;
        const float* x = l.x.data() + p.input_row(t, n) * I;
        const auto xw = [&](int64_t row) {
          double v = Wb(row);
          for (int64_t i = 0; i < I; ++i)
            v += x[i] * W(row, i);
          return v;
        };
        const auto hr = [&](int64_t row, const std::vector<double>& state) {
          double v = Rb(row);
          for (int64_t k = 0; k < H; ++k)
            v += state[k] * R(row, k);
          return v;
        };
        std::vector<double> next(static_cast<size_t>(H));
        if (p.cell == RecurrentCell::rnn) {
          for (int64_t j = 0; j < H; ++j)
            next[j] = std::tanh(xw(j) + hr(j, h));
        } else if (p.cell == RecurrentCell::gru) {
          std::vector<double> z(static_cast<size_t>(H)), r(static_cast<size_t>(H)),
              rh(static_cast<size_t>(H));
          for (int64_t j = 0; j < H; ++j) {
            z[j] = sigmoid(xw(j) + hr(j, h));
            r[j] = sigmoid(xw(H + j) + hr(H + j, h));
            rh[j] = r[j] * h[j];
          }
          for (int64_t j = 0; j < H; ++j) {
            const double candidate = p.linear_before_reset
                                         ? std::tanh(xw(2 * H + j) + r[j] * hr(2 * H + j, h))
                                         : std::tanh(xw(2 * H + j) + hr(2 * H + j, rh));
            next[j] = (1 - z[j]) * candidate + z[j] * h[j];
          }
        } else {
          const float* P = p.p.data() + d * 3 * H;
          for (int64_t j = 0; j < H; ++j) {
            const double in = sigmoid(xw(j) + hr(j, h) + P[j] * c[j]);
            const double forget =
                p.input_forget ? 1 - in : sigmoid(xw(2 * H + j) + hr(2 * H + j, h) + P[2 * H + j] * c[j]);
            const double cell = forget * c[j] + in * std::tanh(xw(3 * H + j) + hr(3 * H + j, h));
            const double o = sigmoid(xw(H + j) + hr(H + j, h) + P[H + j] * cell);
            c[j] = cell;
            next[j] = o * std::tanh(cell);
          }
        }
        h = next;
        if (l.output == RecurrentOutput::sequence)
          for (int64_t j = 0; j < H; ++j)
            out[static_cast<size_t>(p.sequence_offset(t, d, n) + j)] = h[j];
      }
      if (l.output != RecurrentOutput::sequence && length > 0)
        for (int64_t j = 0; j < H; ++j)
          out[static_cast<size_t>(p.state_offset(d, n) + j)] =
              l.output == RecurrentOutput::last_cell ? c[j] : h[j];
    }
  return out;
}

TEST(RecurrentReference, MatchesTheEquationsInFloat64) {
  test::Random rng(1234);
  for (int trial = 0; trial < test::random_trials(300); ++trial) {
    const Layer l = random_layer(rng, true);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + describe(l));
    const std::vector<float> got = run_reference(l);
    const std::vector<double> want = float64_recurrent(l);
    // Gate inputs of at most I + H + 2 terms of magnitude below 1.5 (|x| 1.5, |w| 0.5, |h| < 1, a cell state
    // that grows by at most 1 a step), in float32: a few 1e-7 each step, carried through at most 6 steps with
    // gains near 1. 2e-5 is far below what a wrong gate, bias or order would cost.
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-5) << "element " << i;
  }
}

}  // namespace
}  // namespace octet
