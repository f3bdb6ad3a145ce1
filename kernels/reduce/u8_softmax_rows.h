#pragma once

// The rows of the uint8 softmax (u8_softmax.h), as plain loops compiled once per ISA (kernels/x86/
// u8_softmax_*.cpp, with that ISA's flags) so that the divisions, most of the work, vectorise at its width.
// Every step is an IEEE operation without contraction, so each compilation gives ref::softmax_u8's bytes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels/reduce/u8_softmax.h"
#include "kernels/reference/softmax.h"

namespace octet::reduce {

// `p` holds `p_rows` rows of `s.width` floats: the probabilities of that many rows are computed into it and
// quantized in one call, quantize(p, n, scale, zero_point, out), a QuantizeLinear row bit-exact with
// quantize_value (attention's rows are short: a call per row cost more than its work). `looked_up` holds
// `s.width` doubles (fixed point only).
//
// Each row's table lookups are made once, in one scalar pass that also sums them, and the divisions then
// run over contiguous values. Vectorised, the lookups were gathers (slow on AMD cores), made twice: once
// for the sum and once for the quotients. Fixed point, rows of 49 (Swin's windows), AMD Zen 5:
// 1.2 -> 0.9 ns per element, float mode 1.7 -> 0.8 (both binaries alternated in one run).
template <class QuantizeRow>
void u8_softmax_rows(const U8Softmax& s, const uint8_t* x, int64_t rows, float* p, int64_t p_rows,
                     double* looked_up, uint8_t* y, QuantizeRow quantize) {
  const int64_t width = s.width;
  const bool fixed = s.mode == RequantMode::fixed_point;
  for (int64_t first = 0; first < rows; first += p_rows) {
    const int64_t chunk = rows - first < p_rows ? rows - first : p_rows;
    for (int64_t row = 0; row < chunk; ++row) {
      const uint8_t* xr = x + (first + row) * width;
      float* pr = p + row * width;
      uint8_t max_q = 0;  // a plain loop rather than std::max_element, so that it vectorises
      for (int64_t i = 0; i < width; ++i)
        max_q = std::max(max_q, xr[i]);
      if (fixed) {
        // t[-q] = softmax_exp_table[max_q - q], and reals the same values as doubles.
        const int64_t* t = s.fixed_table.data() + max_q;
        const double* reals = s.fixed_reals.data() + max_q;
        int64_t sum = 0;  // exact, so in any order
        for (int64_t i = 0; i < width; ++i) {
          const ptrdiff_t d = -static_cast<ptrdiff_t>(xr[i]);
          sum += t[d];
          looked_up[i] = reals[d];
        }
        const auto total = static_cast<double>(sum);
        for (int64_t i = 0; i < width; ++i)
          pr[i] = static_cast<float>(looked_up[i] / total);
        continue;
      }
      const float* shifted = s.float_table.data() + 255 - max_q;
      float sum = 0.0f;  // in order, as ONNX Runtime sums: a chain of additions, which the stores ride along
      for (int64_t i = 0; i < width; ++i) {
        const float v = shifted[xr[i]];
        sum += v;
        pr[i] = v;
      }
      // A quotient at or past ref::kOnnxRuntimeSoftmaxLimit gives the zero point (as NaN, which
      // QuantizeLinear maps to it) or saturates (as an infinity): s.float_overflow.
      for (int64_t i = 0; i < width; ++i) {
        const float v = pr[i] * s.float_numerator / sum;
        pr[i] = v < ref::kOnnxRuntimeSoftmaxLimit ? v : s.float_overflow;
      }
    }
    // Fixed point: QuantizeLinear with the output's scale. Float: rne(p) + z_out clamped to [0, 255],
    // QuantizeLinear with scale 1 (the division by 1 is exact).
    quantize(p, chunk * width, fixed ? s.output_scale : 1.0f, s.output_zero_point, y + first * width);
  }
}

void u8_softmax_rows_avx2(const U8Softmax& s, const uint8_t* x, int64_t rows, float* p, int64_t p_rows,
                          double* looked_up, uint8_t* y);
void u8_softmax_rows_avx512(const U8Softmax& s, const uint8_t* x, int64_t rows, float* p, int64_t p_rows,
                            double* looked_up, uint8_t* y);

}  // namespace octet::reduce
