#pragma once

// ONNX's recurrent layers in float32: RNN, GRU and LSTM (the sequence models after a CNN: CRNN text
// recognizers, keyword spotters). One call runs every direction over the whole sequence for every batch
// entry, and writes one of the operator's outputs: the hidden state of every step (Y), or the last hidden
// (Y_h) or cell (Y_c) state. The batch entries are independent, so they run in parallel with the same bytes
// on any thread count; within one, each step's sums run in a fixed order.

#include <cstdint>
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
  RecurrentOutput output = RecurrentOutput::sequence;

  int64_t gates() const { return cell == RecurrentCell::rnn ? 1 : cell == RecurrentCell::gru ? 3 : 4; }
  int64_t functions() const { return cell == RecurrentCell::rnn ? 1 : cell == RecurrentCell::gru ? 2 : 3; }
};

// The shape of the output `p.output` selects.
Shape recurrent_output_shape(const RecurrentParams& p);

// x: X in p's layout. initial_h / initial_c: the initial states in the states' layout, or null for zeros.
// sequence_lens: [N] steps per batch entry (0 to T), or null for T each; beyond its length an entry's Y is 0
// and its state stays. Throws octet::Error for a length out of range.
void float_recurrent(const RecurrentParams& p, const float* x, const float* initial_h, const float* initial_c,
                     const int64_t* sequence_lens, float* out);

// The pieces of float_recurrent, for callers that run the entries in parallel: the steps of batch entry n
// (checked), and the whole sequence of direction d for entry n over `length` steps, which writes only that
// direction's and entry's part of `out`.
int64_t recurrent_length(const RecurrentParams& p, const int64_t* sequence_lens, int64_t n);
void float_recurrent_entry(const RecurrentParams& p, int64_t d, int64_t n, const float* x,
                           const float* initial_h, const float* initial_c, int64_t length, float* out);

}  // namespace octet::ref
