#pragma once

// Softmax over the last axis of uint8 rows, bit-exact with ref::softmax_u8 in either requantization mode:
// the reference's tables, built once when the operator is prepared; rows in parallel; each row's
// probabilities computed into a float buffer (u8_softmax_rows.h: plain loops compiled per ISA, where the
// divisions, most of the work, vectorise) and quantized by the QuantizeLinear row of that ISA, which is
// bit-exact with quantize_value.

#include <array>
#include <cstdint>
#include <limits>

#include "kernels/isa.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/reference/softmax.h"
#include "kernels/tensor.h"

namespace octet::reduce {

struct U8Softmax {
  RequantMode mode = RequantMode::fixed_point;
  int64_t width = 1;
  float output_scale = 1.0f;
  int32_t output_zero_point = 0;
  std::array<int64_t, 256> fixed_table{};  // fixed_point: ref::softmax_exp_table
  std::array<double, 256> fixed_reals{};   // fixed_point: the same values as doubles (exact: below 2^53)
  std::array<float, 256> float_table{};    // float_scale: ref::onnxruntime_softmax_table
  float float_numerator = 1.0f;            // float_scale: floor(1 / s_out)
  // float_scale: what a quotient at or past ref::kOnnxRuntimeSoftmaxLimit becomes before QuantizeLinear
  // (scale 1): NaN gives the zero point, +inf 255, -inf 0 (ref::softmax_overflow_byte).
  float float_overflow = std::numeric_limits<float>::quiet_NaN();
};

// For rows of `width` bytes with per-tensor params; throws octet::Error as the reference does.
U8Softmax prepare_u8_softmax(const QuantParams& input, int64_t width, const QuantParams& output,
                             RequantMode mode,
                             ref::SoftmaxOverflow overflow = ref::SoftmaxOverflow::zero_point);

void run(Isa isa, const U8Softmax& s, const uint8_t* x, int64_t rows, uint8_t* y);

}  // namespace octet::reduce
