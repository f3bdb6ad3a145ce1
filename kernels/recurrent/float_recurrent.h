#pragma once

// RNN, GRU and LSTM on the active ISA: the reference's arithmetic (kernels/reference/float_recurrent.h),
// bit for bit, with its products on the float GEMM. The input projection of every step is one GEMM per
// direction (X [T N, I] by W^T, from the gate rows' biases); each step's recurrent product is one GEMV of
// the hidden state by R^T that continues those rows' fma chains. Both keep each output's terms in ascending
// order through fma, as the reference does, so the vector width, the blocking and the thread count change
// nothing. The direction-and-batch-entry tasks run in parallel and write disjoint parts of the output.

#include <memory>
#include <vector>

#include "kernels/gemm/float_gemm.h"
#include "kernels/isa.h"
#include "kernels/reference/float_recurrent.h"

namespace octet::recurrent {

class FloatRecurrent {
 public:
  // Packs the weights for `isa` once (the model's load).
  FloatRecurrent(Isa isa, std::shared_ptr<const ref::RecurrentParams> params);

  // As ref::float_recurrent: the same arguments, the same bytes. Throws octet::Error for a length out of
  // range before writing anything.
  void run(ref::RecurrentOutput output, const float* x, const float* initial_h, const float* initial_c,
           const int64_t* sequence_lens, float* out) const;

 private:
  struct Direction {
    gemm::PackedFloatB w;                 // [I, G H]
    gemm::PackedFloatB r;                 // [H, G H]; a GRU's: its z and r rows, [H, 2 H]
    gemm::PackedFloatB r_h;               // a GRU's h rows, [H, H]
    std::vector<float> input_bias;        // ref::recurrent_input_bias
    std::vector<float> recurrent_bias_h;  // a GRU's h rows with linear_before_reset: R's bias
  };
  void run_entry(ref::RecurrentOutput output, int64_t d, int64_t n, const float* projected,
                 const float* initial_h, const float* initial_c, int64_t length, float* out) const;

  std::shared_ptr<const ref::RecurrentParams> params_;
  std::vector<Direction> directions_;
};

}  // namespace octet::recurrent
