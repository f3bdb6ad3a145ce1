#pragma once

// ONNX's recurrent layers in float32: RNN, GRU and LSTM (the sequence layers after a CNN: CRNN text
// recognizers, keyword spotters). One call runs every direction over the whole sequence for every batch
// entry, and writes one of the operator's outputs: the hidden state of every step (Y), or the last hidden
// (Y_h) or cell (Y_c) state. A batch entry of length 0 has zero last states, as ONNX Runtime gives them.
//
// The arithmetic, which the fast kernel (kernels/recurrent/float_recurrent.h) reproduces bit for bit: each
// gate row j's input starts at its bias (W's and R's added, except a GRU's h rows with linear_before_reset,
// which start at W's alone), takes the terms x[i] W[j, i] in ascending i through fma (the input
// projection), then the terms h[k] R[j, k] in ascending k through fma (for a GRU's h rows without
// linear_before_reset, (r * h)[k] instead; with it, the recurrent product is its own chain from R's bias,
// scaled by r and added). The gates then combine as the cell functions below say.

#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/reference/float_elementwise.h"
#include "kernels/tensor.h"

namespace octet::ref {

enum class RecurrentCell : uint8_t { rnn, gru, lstm };
enum class RecurrentOutput : uint8_t { sequence, last_hidden, last_cell };

// An activation function of ONNX's recurrent operators: one of the unary operators, or the two that only
// these operators name, Affine (alpha x + beta) and ScaledTanh (alpha tanh(beta x)).
struct RecurrentActivation {
  enum class Form : uint8_t { unary, affine, scaled_tanh };
  Form form = Form::unary;
  UnaryParams unary;  // Form::unary
  float alpha = 1.0f, beta = 0.0f;

  float operator()(float x) const;
};

struct RecurrentParams {
  RecurrentCell cell = RecurrentCell::lstm;
  int64_t steps = 0, batch = 0, input_size = 0, hidden_size = 0;
  int64_t directions = 1;    // 2: forward then reverse
  bool reverse = false;      // one direction, run from the last step to the first
  bool batch_first = false;  // layout 1: X [N, T, I], Y [N, T, D, H], states [N, D, H]; else [T, N, I] ...
  // Per direction, the cell's functions in ONNX's order (RNN: f; GRU: f, g; LSTM: f, g, h).
  std::vector<RecurrentActivation> activations;
  float clip = 0.0f;                 // > 0: every gate's input is clipped to [-clip, clip]
  bool input_forget = false;         // LSTM: the forget gate is 1 - the input gate
  bool linear_before_reset = false;  // GRU: the reset gate applies after the recurrent product
  // ONNX's layouts, gates in ONNX's order (GRU z, r, h; LSTM i, o, f, c): W [D, G H, I], R [D, G H, H],
  // B [D, 2 G H] (W's biases, then R's; zeros if the model has none), P [D, 3 H] (LSTM peepholes i, o, f;
  // zeros if none).
  std::vector<float> w, r, b, p;

  int64_t gates() const { return cell == RecurrentCell::rnn ? 1 : cell == RecurrentCell::gru ? 3 : 4; }
  int64_t functions() const { return cell == RecurrentCell::rnn ? 1 : cell == RecurrentCell::gru ? 2 : 3; }
  // Whether gate row j's recurrent product is its own chain (a GRU's h rows with linear_before_reset).
  bool separate_recurrence(int64_t row) const {
    return cell == RecurrentCell::gru && linear_before_reset && row >= 2 * hidden_size;
  }
  // Where the sequence and state elements lie, in either layout.
  int64_t state_offset(int64_t d, int64_t n) const {  // [D, N, H] or [N, D, H]
    return (batch_first ? n * directions + d : d * batch + n) * hidden_size;
  }
  int64_t input_row(int64_t t, int64_t n) const {  // row of X [T, N, I] or [N, T, I]
    return batch_first ? n * steps + t : t * batch + n;
  }
  int64_t sequence_offset(int64_t t, int64_t d, int64_t n) const {  // [T, D, N, H] or [N, T, D, H]
    return (batch_first ? (n * steps + t) * directions + d : (t * directions + d) * batch + n) * hidden_size;
  }
};

// The shape of the output `output` selects.
Shape recurrent_output_shape(const RecurrentParams& p, RecurrentOutput output);

// Batch entry n's steps: sequence_lens[n] (checked: 0 to T; throws octet::Error naming the entry), or T
// when sequence_lens is null.
int64_t recurrent_length(const RecurrentParams& p, const int64_t* sequence_lens, int64_t n);

// The bias each gate row's input starts from (direction d): W's and R's added, or W's alone where
// separate_recurrence(j).
std::vector<float> recurrent_input_bias(const RecurrentParams& p, int64_t d);

// Applies an activation to n values (in may equal out): the reference's element by element, or a
// kernel's on whole vectors, which must give the same bytes (kernels/elementwise/float_elementwise.h).
using ApplyActivation =
    std::function<void(const RecurrentActivation& f, const float* in, float* out, int64_t n)>;
// The reference's.
void apply_activation(const RecurrentActivation& f, const float* in, float* out, int64_t n);

// The cell functions of direction d, from the gate inputs (each row's chain as above), in stages whose
// activations apply to whole arrays; each element's arithmetic is the same whatever `apply` is. They update
// h (and an LSTM's c) in place; `scratch` holds 5 H floats.
// RNN: h = f(pre).
void rnn_step(const RecurrentParams& p, int64_t d, const float* pre, float* h, float* scratch,
              const ApplyActivation& apply);
// GRU, in two calls: the z and r gates (rows [0, 2H) of pre) into gates[0, 2H); then the new h from the h
// rows' input pre_h (its chain; with linear_before_reset the x chain, to which r * recurrent_h is added).
void gru_gates(const RecurrentParams& p, int64_t d, const float* pre, float* gates, float* scratch,
               const ApplyActivation& apply);
void gru_update(const RecurrentParams& p, int64_t d, const float* gates, const float* pre_h,
                const float* recurrent_h, float* h, float* scratch, const ApplyActivation& apply);
// LSTM: the gates i, o, f, c from pre (the peepholes added to i and f from the old c, to o from the new).
void lstm_step(const RecurrentParams& p, int64_t d, const float* pre, float* h, float* c, float* scratch,
               const ApplyActivation& apply);

// Direction d of batch entry n after its `length` steps, with final states h and c: Y's steps past the
// length set to 0, or the last state written (0 for an empty sequence).
void finish_entry(const RecurrentParams& p, RecurrentOutput output, int64_t d, int64_t n, int64_t length,
                  const float* h, const float* c, float* out);

// x: X in p's layout. initial_h / initial_c: the initial states in the states' layout, or null for zeros.
// sequence_lens: [N] steps per batch entry, or null for T each; beyond its length an entry's Y is 0 and its
// state stays. Throws octet::Error for a length out of range, before writing anything.
void float_recurrent(const RecurrentParams& p, RecurrentOutput output, const float* x, const float* initial_h,
                     const float* initial_c, const int64_t* sequence_lens, float* out);

}  // namespace octet::ref
