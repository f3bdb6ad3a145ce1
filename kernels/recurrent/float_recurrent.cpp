#include "kernels/recurrent/float_recurrent.h"

#include <algorithm>

#include "kernels/elementwise/float_elementwise.h"
#include "kernels/parallel.h"

namespace octet::recurrent {

using ref::RecurrentCell;
using ref::RecurrentOutput;

FloatRecurrent::FloatRecurrent(Isa isa, std::shared_ptr<const ref::RecurrentParams> params)
    : params_(std::move(params)) {
  const ref::RecurrentParams& p = *params_;
  const int64_t H = p.hidden_size, I = p.input_size, rows = p.gates() * H;
  for (int64_t d = 0; d < p.directions; ++d) {
    Direction dir;
    const float* W = p.w.data() + d * rows * I;
    const float* R = p.r.data() + d * rows * H;
    // W [G H, I] and R [G H, H] are B transposed ([N, K]).
    if (I > 0) dir.w = gemm::pack_float_b(isa, W, I, rows, true);
    if (p.cell == RecurrentCell::gru) {
      dir.r = gemm::pack_float_b(isa, R, H, 2 * H, true);
      dir.r_h = gemm::pack_float_b(isa, R + 2 * H * H, H, H, true);
      if (p.linear_before_reset) {
        const float* Rb = p.b.data() + d * 2 * rows + rows;
        dir.recurrent_bias_h.assign(Rb + 2 * H, Rb + 3 * H);
      }
    } else {
      dir.r = gemm::pack_float_b(isa, R, H, rows, true);
    }
    dir.input_bias = ref::recurrent_input_bias(p, d);
    directions_.push_back(std::move(dir));
  }
}

void FloatRecurrent::run_entry(RecurrentOutput output, int64_t d, int64_t n, const float* projected,
                               const float* initial_h, const float* initial_c, int64_t length,
                               float* out) const {
  const ref::RecurrentParams& p = *params_;
  const Direction& dir = directions_[static_cast<size_t>(d)];
  const int64_t H = p.hidden_size, rows = p.gates() * H;
  const FloatClamp none;
  std::vector<float> h(static_cast<size_t>(H), 0.0f), c(static_cast<size_t>(H), 0.0f);
  if (initial_h) std::copy_n(initial_h + p.state_offset(d, n), H, h.begin());
  if (initial_c) std::copy_n(initial_c + p.state_offset(d, n), H, c.begin());
  std::vector<float> pre(static_cast<size_t>(rows)), gates(static_cast<size_t>(2 * H)),
      rh(static_cast<size_t>(H)), pre_h(static_cast<size_t>(H)), recurrent_h(static_cast<size_t>(H)),
      scratch(static_cast<size_t>(5 * H)), scaled(static_cast<size_t>(2 * H));
  // The activations on whole arrays with the ISA's elementwise kernels (bit-exact with the reference's,
  // element by element); at most 2 H values at a time (a GRU's z and r).
  const Isa isa = dir.r.isa;
  const ref::ApplyActivation apply = [isa, &scaled](const ref::RecurrentActivation& f, const float* in,
                                                    float* to, int64_t count) {
    using Form = ref::RecurrentActivation::Form;
    switch (f.form) {
      case Form::unary:
        elementwise::float_unary(isa, f.unary, in, to, count);
        return;
      case Form::affine:
        for (int64_t i = 0; i < count; ++i)
          to[i] = f.alpha * in[i] + f.beta;
        return;
      case Form::scaled_tanh:  // alpha tanh(beta x), in the reference's steps
        for (int64_t i = 0; i < count; ++i)
          scaled[i] = f.beta * in[i];
        elementwise::float_unary(isa, UnaryParams{UnaryOp::tanh, 0.0f, 0.0f, 0.0f}, scaled.data(), to, count);
        for (int64_t i = 0; i < count; ++i)
          to[i] = f.alpha * to[i];
        return;
    }
  };
  const bool backwards = d == 1 || p.reverse;
  for (int64_t s = 0; s < length; ++s) {
    const int64_t t = backwards ? length - 1 - s : s;
    // This step's input projection: the chains so far, which the recurrent product continues.
    const float* x_chain = projected + p.input_row(t, n) * rows;
    if (p.cell == RecurrentCell::gru) {
      gemm::float_gemm(h.data(), 1, H, dir.r, x_chain, none, pre.data(), 2 * H);
      ref::gru_gates(p, d, pre.data(), gates.data(), scratch.data(), apply);
      if (p.linear_before_reset) {
        gemm::float_gemm(h.data(), 1, H, dir.r_h, dir.recurrent_bias_h.data(), none, recurrent_h.data(), H);
        std::copy_n(x_chain + 2 * H, H, pre_h.begin());
      } else {
        for (int64_t k = 0; k < H; ++k)
          rh[k] = gates[H + k] * h[k];
        gemm::float_gemm(rh.data(), 1, H, dir.r_h, x_chain + 2 * H, none, pre_h.data(), H);
      }
      ref::gru_update(p, d, gates.data(), pre_h.data(), recurrent_h.data(), h.data(), scratch.data(), apply);
    } else {
      gemm::float_gemm(h.data(), 1, H, dir.r, x_chain, none, pre.data(), rows);
      if (p.cell == RecurrentCell::rnn)
        ref::rnn_step(p, d, pre.data(), h.data(), scratch.data(), apply);
      else
        ref::lstm_step(p, d, pre.data(), h.data(), c.data(), scratch.data(), apply);
    }
    if (output == RecurrentOutput::sequence) std::copy_n(h.begin(), H, out + p.sequence_offset(t, d, n));
  }
  ref::finish_entry(p, output, d, n, length, h.data(), c.data(), out);
}

void FloatRecurrent::run(RecurrentOutput output, const float* x, const float* initial_h,
                         const float* initial_c, const int64_t* sequence_lens, float* out) const {
  const ref::RecurrentParams& p = *params_;
  std::vector<int64_t> lengths(static_cast<size_t>(p.batch));
  for (int64_t n = 0; n < p.batch; ++n)
    lengths[static_cast<size_t>(n)] = ref::recurrent_length(p, sequence_lens, n);
  const int64_t rows = p.gates() * p.hidden_size, inputs = p.steps * p.batch;
  // Every step's input projection, per direction: [T N, G H], each row from the gate rows' biases.
  std::vector<float> projected(static_cast<size_t>(p.directions * inputs * rows));
  for (int64_t d = 0; d < p.directions; ++d) {
    const Direction& dir = directions_[static_cast<size_t>(d)];
    float* dst = projected.data() + d * inputs * rows;
    if (p.input_size == 0) {
      for (int64_t row = 0; row < inputs; ++row)
        std::copy(dir.input_bias.begin(), dir.input_bias.end(), dst + row * rows);
    } else if (inputs > 0) {
      gemm::float_gemm(x, inputs, p.input_size, dir.w, dir.input_bias.data(), FloatClamp{}, dst, rows);
    }
  }
  parallel_ranges(p.directions * p.batch, 1, [&](int64_t first, int64_t last) {
    for (int64_t k = first; k < last; ++k) {
      const int64_t d = k / p.batch, n = k % p.batch;
      run_entry(output, d, n, projected.data() + d * inputs * rows, initial_h, initial_c,
                lengths[static_cast<size_t>(n)], out);
    }
  });
}

}  // namespace octet::recurrent
