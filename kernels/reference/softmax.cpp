#include "kernels/reference/softmax.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "kernels/error.h"
#include "kernels/quantization/quantize.h"

namespace octet::ref {

namespace {

using ExpTable = std::array<int64_t, 256>;

ExpTable exp_table(float scale) {
  ExpTable t{};
  for (size_t d = 0; d < t.size(); ++d)
    t[d] = std::llround(
        std::ldexp(std::exp(-static_cast<double>(scale) * static_cast<double>(d)), kSoftmaxExpBits));
  return t;
}

// Calls emit(flat_index, probability) for every element, row by row.
template <class Emit>
void softmax_rows(const TensorU8& input, Emit emit) {
  check_consistent(input, "softmax input");
  validate(input.quant, ElementType::u8, input.shape, "softmax input");
  if (!input.quant.is_per_tensor()) throw Error("softmax: input must be quantized per tensor");
  if (input.rank() < 1 || input.shape.back() < 1) throw Error("softmax: input needs a non-empty last axis");
  const ExpTable table = exp_table(input.quant.scale());
  const int64_t width = input.shape.back();
  for (int64_t row = 0; row < input.size(); row += width) {
    const uint8_t* x = input.data.data() + row;
    const int32_t max_q = *std::max_element(x, x + width);
    int64_t sum = 0;
    for (int64_t i = 0; i < width; ++i)
      sum += table[static_cast<size_t>(max_q - x[i])];
    // sum >= table[0] = 2^kSoftmaxExpBits > 0: the maximum contributes exp(0).
    for (int64_t i = 0; i < width; ++i)
      emit(row + i, static_cast<double>(table[static_cast<size_t>(max_q - x[i])]) / static_cast<double>(sum));
  }
}

}  // namespace

TensorF32 softmax_float(const TensorU8& input) {
  TensorF32 out(input.shape);
  softmax_rows(input, [&](int64_t i, double p) { out.data[static_cast<size_t>(i)] = static_cast<float>(p); });
  return out;
}

TensorU8 softmax_u8(const TensorU8& input, const QuantParams& output) {
  validate(output, ElementType::u8, {}, "softmax output");
  if (!output.is_per_tensor()) throw Error("softmax: output must be quantized per tensor");
  TensorU8 out(input.shape, output);
  const IntRange u8 = range_of(ElementType::u8);
  softmax_rows(input, [&](int64_t i, double p) {
    out.data[static_cast<size_t>(i)] =
        static_cast<uint8_t>(quantize_value(static_cast<float>(p), output.scale(), output.zero_point(), u8));
  });
  return out;
}

}  // namespace octet::ref
