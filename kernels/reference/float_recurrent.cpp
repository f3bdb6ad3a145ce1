#include "kernels/reference/float_recurrent.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"

namespace octet::ref {

float RecurrentActivation::operator()(float x) const {
  switch (form) {
    case Form::affine:
      return alpha * x + beta;
    case Form::scaled_tanh:
      return alpha * std::tanh(beta * x);
    case Form::unary:
      break;
  }
  return unary_value(unary, x);
}

Shape recurrent_output_shape(const RecurrentParams& p) {
  if (p.output == RecurrentOutput::sequence)
    return p.batch_first ? Shape{p.batch, p.steps, p.directions, p.hidden_size}
                         : Shape{p.steps, p.directions, p.batch, p.hidden_size};
  return p.batch_first ? Shape{p.batch, p.directions, p.hidden_size}
                       : Shape{p.directions, p.batch, p.hidden_size};
}

namespace {

// Where element 0 of an [N, H] state slice or of X's / Y's rows lies, in either layout.
struct Layout {
  const RecurrentParams& p;
  int64_t state(int64_t d, int64_t n) const {  // [D, N, H] or [N, D, H]
    return (p.batch_first ? n * p.directions + d : d * p.batch + n) * p.hidden_size;
  }
  int64_t input(int64_t t, int64_t n) const {  // [T, N, I] or [N, T, I]
    return (p.batch_first ? n * p.steps + t : t * p.batch + n) * p.input_size;
  }
  int64_t sequence(int64_t t, int64_t d, int64_t n) const {  // [T, D, N, H] or [N, T, D, H]
    return (p.batch_first ? (n * p.steps + t) * p.directions + d : (t * p.directions + d) * p.batch + n) *
           p.hidden_size;
  }
};

// One gate row's pre-activation: bias_w + bias_r + x . w_row + h . r_row, in that order.
float gate_input(const float* x, const float* w_row, int64_t inputs, const float* h, const float* r_row,
                 int64_t hidden, float bias) {
  float sum = bias;
  for (int64_t i = 0; i < inputs; ++i)
    sum += x[i] * w_row[i];
  for (int64_t k = 0; k < hidden; ++k)
    sum += h[k] * r_row[k];
  return sum;
}

float clipped(float v, float clip) {
  return clip > 0.0f ? std::clamp(v, -clip, clip) : v;
}

}  // namespace

void float_recurrent_entry(const RecurrentParams& p, int64_t d, int64_t n, const float* x,
                           const float* initial_h, const float* initial_c, int64_t length, float* out) {
  const Layout at{p};
  const int64_t H = p.hidden_size, I = p.input_size, G = p.gates();
  const float* W = p.w.data() + d * G * H * I;
  const float* R = p.r.data() + d * G * H * H;
  const float* Wb = p.b.data() + d * 2 * G * H;
  const float* Rb = Wb + G * H;
  const float* P = p.cell == RecurrentCell::lstm ? p.p.data() + d * 3 * H : nullptr;
  const RecurrentActivation* fn = p.activations.data() + d * p.functions();
  const bool backwards = d == 1 || p.reverse;

  std::vector<float> h(static_cast<size_t>(H), 0.0f), c(static_cast<size_t>(H), 0.0f);
  if (initial_h) std::copy_n(initial_h + at.state(d, n), H, h.begin());
  if (initial_c) std::copy_n(initial_c + at.state(d, n), H, c.begin());
  std::vector<float> next(static_cast<size_t>(H)), gate(static_cast<size_t>(G * H));
  for (int64_t s = 0; s < length; ++s) {
    const int64_t t = backwards ? length - 1 - s : s;
    const float* xt = x + at.input(t, n);
    auto pre = [&](int64_t row, const float* state) {
      return gate_input(xt, W + row * I, I, state, R + row * H, H, Wb[row] + Rb[row]);
    };
    switch (p.cell) {
      case RecurrentCell::rnn:
        for (int64_t j = 0; j < H; ++j)
          next[j] = fn[0](clipped(pre(j, h.data()), p.clip));
        break;
      case RecurrentCell::gru: {
        // Rows: z [0, H), r [H, 2H), h [2H, 3H).
        for (int64_t j = 0; j < 2 * H; ++j)
          gate[j] = fn[0](clipped(pre(j, h.data()), p.clip));
        const float* z = gate.data();
        const float* reset = gate.data() + H;
        std::vector<float>& rh = next;  // reset * h, before it is overwritten below
        if (!p.linear_before_reset)
          for (int64_t k = 0; k < H; ++k)
            rh[k] = reset[k] * h[k];
        for (int64_t j = 0; j < H; ++j) {
          const int64_t row = 2 * H + j;
          float v;
          if (p.linear_before_reset) {
            const float recurrent = gate_input(nullptr, nullptr, 0, h.data(), R + row * H, H, Rb[row]);
            v = gate_input(xt, W + row * I, I, nullptr, nullptr, 0, Wb[row]) + reset[j] * recurrent;
          } else {
            v = gate_input(xt, W + row * I, I, rh.data(), R + row * H, H, Wb[row] + Rb[row]);
          }
          gate[row] = fn[1](clipped(v, p.clip));
        }
        for (int64_t j = 0; j < H; ++j)
          next[j] = (1.0f - z[j]) * gate[2 * H + j] + z[j] * h[j];
        break;
      }
      case RecurrentCell::lstm: {
        // Rows: i [0, H), o [H, 2H), f [2H, 3H), c [3H, 4H); peepholes i, o, f.
        for (int64_t j = 0; j < H; ++j) {
          const float in = fn[0](clipped(pre(j, h.data()) + P[j] * c[j], p.clip));
          const float forget = p.input_forget
                                   ? 1.0f - in
                                   : fn[0](clipped(pre(2 * H + j, h.data()) + P[2 * H + j] * c[j], p.clip));
          const float candidate = fn[1](clipped(pre(3 * H + j, h.data()), p.clip));
          gate[j] = forget * c[j] + in * candidate;  // the new cell state
        }
        for (int64_t j = 0; j < H; ++j) {
          const float o = fn[0](clipped(pre(H + j, h.data()) + P[H + j] * gate[j], p.clip));
          next[j] = o * fn[2](gate[j]);
        }
        std::copy_n(gate.begin(), H, c.begin());
        break;
      }
    }
    h.swap(next);
    if (p.output == RecurrentOutput::sequence) std::copy_n(h.begin(), H, out + at.sequence(t, d, n));
  }
  if (p.output == RecurrentOutput::sequence) {
    for (int64_t t = length; t < p.steps; ++t)
      std::fill_n(out + at.sequence(t, d, n), H, 0.0f);
  } else {
    const std::vector<float>& state = p.output == RecurrentOutput::last_cell ? c : h;
    std::copy_n(state.begin(), H, out + at.state(d, n));
  }
}

int64_t recurrent_length(const RecurrentParams& p, const int64_t* sequence_lens, int64_t n) {
  if (!sequence_lens) return p.steps;
  const int64_t length = sequence_lens[n];
  if (length < 0 || length > p.steps)
    throw Error("sequence_lens[" + std::to_string(n) + "] = " + std::to_string(length) +
                " is out of range: the sequence has " + std::to_string(p.steps) + " steps");
  return length;
}

void float_recurrent(const RecurrentParams& p, const float* x, const float* initial_h, const float* initial_c,
                     const int64_t* sequence_lens, float* out) {
  for (int64_t n = 0; n < p.batch; ++n) {
    const int64_t length = recurrent_length(p, sequence_lens, n);
    for (int64_t d = 0; d < p.directions; ++d)
      float_recurrent_entry(p, d, n, x, initial_h, initial_c, length, out);
  }
}

}  // namespace octet::ref
