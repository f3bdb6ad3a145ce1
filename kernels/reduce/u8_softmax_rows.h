#pragma once

// The rows of the uint8 softmax (u8_softmax.h), as plain loops compiled once per ISA (kernels/x86/
// u8_softmax_*.cpp, with that ISA's flags) so that the divisions, most of the work, vectorise at its width.
// Every step is an IEEE operation without contraction, so each compilation gives ref::softmax_u8's bytes.

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/reduce/u8_softmax.h"
#include "kernels/reference/softmax.h"

namespace octet::reduce {

// `p` holds `s.width` floats; quantize(p, n, scale, zero_point, out) is a QuantizeLinear
// row bit-exact with quantize_value.
template <class QuantizeRow>
void u8_softmax_rows(const U8Softmax& s, const uint8_t* x, int64_t rows, float* p, uint8_t* y,
                     QuantizeRow quantize) {
  const int64_t width = s.width;
  for (int64_t row = 0; row < rows; ++row, x += width, y += width) {
    const int32_t max_q = *std::max_element(x, x + width);
    if (s.mode == RequantMode::fixed_point) {
      const int64_t* t = s.fixed_table.data();
      int64_t sum = 0;  // exact, so in any order
      for (int64_t i = 0; i < width; ++i)
        sum += t[max_q - x[i]];
      // Gathers of the doubles, divisions and conversions in one loop, which vectorises.
      const auto total = static_cast<double>(sum);
      const double* reals = s.fixed_reals.data() + max_q;
      for (int64_t i = 0; i < width; ++i)
        p[i] = static_cast<float>(reals[-static_cast<int32_t>(x[i])] / total);
      quantize(p, width, s.output_scale, s.output_zero_point, y);
      continue;
    }
    const float* shifted = s.float_table.data() + 255 - max_q;
    float sum = 0.0f;  // in order, as ONNX Runtime sums
    for (int64_t i = 0; i < width; ++i)
      sum += shifted[x[i]];
    for (int64_t i = 0; i < width; ++i)
      p[i] = shifted[x[i]];
    for (int64_t i = 0; i < width; ++i)
      p[i] = p[i] * s.float_numerator / sum;
    // A quotient at or past ref::kOnnxRuntimeSoftmaxLimit gives the zero point: as NaN, which QuantizeLinear
    // maps to it.
    for (int64_t i = 0; i < width; ++i)
      if (!(p[i] < ref::kOnnxRuntimeSoftmaxLimit)) p[i] = std::numeric_limits<float>::quiet_NaN();
    // rne(p) + z_out clamped to [0, 255]: QuantizeLinear with scale 1 (the division by 1 is exact).
    quantize(p, width, 1.0f, s.output_zero_point, y);
  }
}

void u8_softmax_rows_avx2(const U8Softmax& s, const uint8_t* x, int64_t rows, float* p, uint8_t* y);
void u8_softmax_rows_avx512(const U8Softmax& s, const uint8_t* x, int64_t rows, float* p, uint8_t* y);

}  // namespace octet::reduce
