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
      return alpha * unary_value(UnaryParams{UnaryOp::tanh, 0.0f, 0.0f, 0.0f}, beta * x);
    case Form::unary:
      break;
  }
  return unary_value(unary, x);
}

Shape recurrent_output_shape(const RecurrentParams& p, RecurrentOutput output) {
  if (output == RecurrentOutput::sequence)
    return p.batch_first ? Shape{p.batch, p.steps, p.directions, p.hidden_size}
                         : Shape{p.steps, p.directions, p.batch, p.hidden_size};
  return p.batch_first ? Shape{p.batch, p.directions, p.hidden_size}
                       : Shape{p.directions, p.batch, p.hidden_size};
}

int64_t recurrent_length(const RecurrentParams& p, const int64_t* sequence_lens, int64_t n) {
  if (!sequence_lens) return p.steps;
  const int64_t length = sequence_lens[n];
  if (length < 0 || length > p.steps)
    throw Error("sequence_lens[" + std::to_string(n) + "] = " + std::to_string(length) +
                " is out of range: the sequence has " + std::to_string(p.steps) + " steps");
  return length;
}

std::vector<float> recurrent_input_bias(const RecurrentParams& p, int64_t d) {
  const int64_t rows = p.gates() * p.hidden_size;
  const float* wb = p.b.data() + d * 2 * rows;
  const float* rb = wb + rows;
  std::vector<float> bias(static_cast<size_t>(rows));
  for (int64_t j = 0; j < rows; ++j)
    bias[static_cast<size_t>(j)] = p.separate_recurrence(j) ? wb[j] : wb[j] + rb[j];
  return bias;
}

namespace {

float clipped(float v, float clip) {
  return clip > 0.0f ? std::clamp(v, -clip, clip) : v;
}

const RecurrentActivation* functions_of(const RecurrentParams& p, int64_t d) {
  return p.activations.data() + d * p.functions();
}

// acc, then the terms a[k] m[k] for k < count through fma in ascending k: one row's chain.
float chain(float acc, const float* a, const float* m, int64_t count) {
  for (int64_t k = 0; k < count; ++k)
    acc = std::fma(a[k], m[k], acc);
  return acc;
}

}  // namespace

void apply_activation(const RecurrentActivation& f, const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = f(in[i]);
}

void rnn_step(const RecurrentParams& p, int64_t d, const float* pre, float* h, float* scratch,
              const ApplyActivation& apply) {
  for (int64_t j = 0; j < p.hidden_size; ++j)
    scratch[j] = clipped(pre[j], p.clip);
  apply(functions_of(p, d)[0], scratch, h, p.hidden_size);
}

void gru_gates(const RecurrentParams& p, int64_t d, const float* pre, float* gates, float* scratch,
               const ApplyActivation& apply) {
  for (int64_t j = 0; j < 2 * p.hidden_size; ++j)
    scratch[j] = clipped(pre[j], p.clip);
  apply(functions_of(p, d)[0], scratch, gates, 2 * p.hidden_size);
}

void gru_update(const RecurrentParams& p, int64_t d, const float* gates, const float* pre_h,
                const float* recurrent_h, float* h, float* scratch, const ApplyActivation& apply) {
  const int64_t H = p.hidden_size;
  const float *z = gates, *reset = gates + H;
  float* candidate = scratch + H;
  for (int64_t j = 0; j < H; ++j)
    scratch[j] = clipped(p.linear_before_reset ? pre_h[j] + reset[j] * recurrent_h[j] : pre_h[j], p.clip);
  apply(functions_of(p, d)[1], scratch, candidate, H);
  for (int64_t j = 0; j < H; ++j)
    h[j] = (1.0f - z[j]) * candidate[j] + z[j] * h[j];
}

void lstm_step(const RecurrentParams& p, int64_t d, const float* pre, float* h, float* c, float* scratch,
               const ApplyActivation& apply) {
  const RecurrentActivation* fn = functions_of(p, d);
  const int64_t H = p.hidden_size;
  const float* peep = p.p.data() + d * 3 * H;  // i, o, f
  float *in = scratch, *forget = scratch + H, *candidate = scratch + 2 * H, *out = scratch + 3 * H,
        *squashed = scratch + 4 * H;
  for (int64_t j = 0; j < H; ++j) {
    in[j] = clipped(pre[j] + peep[j] * c[j], p.clip);
    forget[j] = clipped(pre[2 * H + j] + peep[2 * H + j] * c[j], p.clip);
    candidate[j] = clipped(pre[3 * H + j], p.clip);
  }
  apply(fn[0], in, in, H);
  if (p.input_forget)
    for (int64_t j = 0; j < H; ++j)
      forget[j] = 1.0f - in[j];
  else
    apply(fn[0], forget, forget, H);
  apply(fn[1], candidate, candidate, H);
  for (int64_t j = 0; j < H; ++j) {
    c[j] = forget[j] * c[j] + in[j] * candidate[j];  // the new cell state
    out[j] = clipped(pre[H + j] + peep[H + j] * c[j], p.clip);
  }
  apply(fn[0], out, out, H);
  apply(fn[2], c, squashed, H);
  for (int64_t j = 0; j < H; ++j)
    h[j] = out[j] * squashed[j];
}

namespace {

// Direction d of batch entry n over `length` steps: each step's gate inputs row by row, then the cell.
void run_entry(const RecurrentParams& p, RecurrentOutput output, int64_t d, int64_t n, const float* x,
               const float* initial_h, const float* initial_c, int64_t length, float* out) {
  const int64_t H = p.hidden_size, I = p.input_size, rows = p.gates() * H;
  const float* W = p.w.data() + d * rows * I;
  const float* R = p.r.data() + d * rows * H;
  const float* Rb = p.b.data() + d * 2 * rows + rows;
  const std::vector<float> bias = recurrent_input_bias(p, d);
  std::vector<float> h(static_cast<size_t>(H), 0.0f), c(static_cast<size_t>(H), 0.0f);
  if (initial_h) std::copy_n(initial_h + p.state_offset(d, n), H, h.begin());
  if (initial_c) std::copy_n(initial_c + p.state_offset(d, n), H, c.begin());
  std::vector<float> pre(static_cast<size_t>(rows)), gates(static_cast<size_t>(2 * H)),
      rh(static_cast<size_t>(H)), pre_h(static_cast<size_t>(H)), recurrent_h(static_cast<size_t>(H)),
      scratch(static_cast<size_t>(5 * H));
  const ApplyActivation apply = apply_activation;
  const bool backwards = d == 1 || p.reverse;
  for (int64_t s = 0; s < length; ++s) {
    const int64_t t = backwards ? length - 1 - s : s;
    const float* xt = x + p.input_row(t, n) * I;
    for (int64_t j = 0; j < rows; ++j)
      pre[j] = chain(bias[j], xt, W + j * I, I);
    if (p.cell == RecurrentCell::gru) {
      for (int64_t j = 0; j < 2 * H; ++j)
        pre[j] = chain(pre[j], h.data(), R + j * H, H);
      gru_gates(p, d, pre.data(), gates.data(), scratch.data(), apply);
      for (int64_t k = 0; k < H; ++k)
        rh[k] = gates[H + k] * h[k];
      for (int64_t j = 0; j < H; ++j) {
        const int64_t row = 2 * H + j;
        if (p.linear_before_reset) {
          pre_h[j] = pre[row];
          recurrent_h[j] = chain(Rb[row], h.data(), R + row * H, H);
        } else {
          pre_h[j] = chain(pre[row], rh.data(), R + row * H, H);
        }
      }
      gru_update(p, d, gates.data(), pre_h.data(), recurrent_h.data(), h.data(), scratch.data(), apply);
    } else {
      for (int64_t j = 0; j < rows; ++j)
        pre[j] = chain(pre[j], h.data(), R + j * H, H);
      if (p.cell == RecurrentCell::rnn)
        rnn_step(p, d, pre.data(), h.data(), scratch.data(), apply);
      else
        lstm_step(p, d, pre.data(), h.data(), c.data(), scratch.data(), apply);
    }
    if (output == RecurrentOutput::sequence) std::copy_n(h.begin(), H, out + p.sequence_offset(t, d, n));
  }
  finish_entry(p, output, d, n, length, h.data(), c.data(), out);
}

}  // namespace

void finish_entry(const RecurrentParams& p, RecurrentOutput output, int64_t d, int64_t n, int64_t length,
                  const float* h, const float* c, float* out) {
  const int64_t H = p.hidden_size;
  if (output == RecurrentOutput::sequence) {
    for (int64_t t = length; t < p.steps; ++t)
      std::fill_n(out + p.sequence_offset(t, d, n), H, 0.0f);
  } else if (length == 0) {
    std::fill_n(out + p.state_offset(d, n), H, 0.0f);
  } else {
    std::copy_n(output == RecurrentOutput::last_cell ? c : h, H, out + p.state_offset(d, n));
  }
}

void float_recurrent(const RecurrentParams& p, RecurrentOutput output, const float* x, const float* initial_h,
                     const float* initial_c, const int64_t* sequence_lens, float* out) {
  std::vector<int64_t> lengths(static_cast<size_t>(p.batch));
  for (int64_t n = 0; n < p.batch; ++n)
    lengths[static_cast<size_t>(n)] = recurrent_length(p, sequence_lens, n);
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t d = 0; d < p.directions; ++d)
      run_entry(p, output, d, n, x, initial_h, initial_c, lengths[static_cast<size_t>(n)], out);
}

}  // namespace octet::ref
