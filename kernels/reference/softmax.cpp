#include "kernels/reference/softmax.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "kernels/error.h"
#include "kernels/quantization/quantize.h"

namespace octet::ref {

namespace {

// Calls emit(flat_index, probability) for every element, row by row.
template <class Emit>
void softmax_rows(const TensorU8& input, Emit emit) {
  check_consistent(input, "softmax input");
  validate(input.quant, ElementType::u8, input.shape, "softmax input");
  if (!input.quant.is_per_tensor()) throw Error("softmax: input must be quantized per tensor");
  if (input.rank() < 1 || input.shape.back() < 1) throw Error("softmax: input needs a non-empty last axis");
  const std::array<int64_t, 256> table = softmax_exp_table(input.quant.scale());
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

namespace {

TensorU8 softmax_u8_onnxruntime(const TensorU8& input, const QuantParams& output, SoftmaxOverflow overflow) {
  check_consistent(input, "softmax input");
  validate(input.quant, ElementType::u8, input.shape, "softmax input");
  if (!input.quant.is_per_tensor()) throw Error("softmax: input must be quantized per tensor");
  if (input.rank() < 1 || input.shape.back() < 1) throw Error("softmax: input needs a non-empty last axis");
  const int64_t width = input.shape.back();
  const std::array<float, 256> table = onnxruntime_softmax_table(input.quant.scale(), width);
  const float y_scale = std::floor(1.0f / output.scale());
  const int32_t zp = output.zero_point();
  TensorU8 out(input.shape, output);
  for (int64_t row = 0; row < input.size(); row += width) {
    const uint8_t* x = input.data.data() + row;
    const int32_t max_q = *std::max_element(x, x + width);
    const float* shifted = table.data() + 255 - max_q;
    float sum = 0.0f;
    for (int64_t i = 0; i < width; ++i)
      sum += shifted[x[i]];
    for (int64_t i = 0; i < width; ++i) {
      const float v = shifted[x[i]] * y_scale / sum;
      // A quotient past int32 (rows of one element: the table's top entry times floor(1 / s_out) overflows
      // float32) gives what ONNX Runtime's conversion of it does (measured; SoftmaxOverflow).
      if (!(v < kOnnxRuntimeSoftmaxLimit)) {
        out.data[static_cast<size_t>(row + i)] = softmax_overflow_byte(overflow, zp);
        continue;
      }
      const int64_t q = static_cast<int64_t>(std::nearbyint(v)) + zp;
      out.data[static_cast<size_t>(row + i)] = static_cast<uint8_t>(std::clamp<int64_t>(q, 0, 255));
    }
  }
  return out;
}

}  // namespace

std::array<int64_t, 256> softmax_exp_table(float input_scale) {
  std::array<int64_t, 256> t{};
  for (size_t d = 0; d < t.size(); ++d)
    t[d] = std::llround(
        std::ldexp(std::exp(-static_cast<double>(input_scale) * static_cast<double>(d)), kSoftmaxExpBits));
  return t;
}

std::array<float, 256> onnxruntime_softmax_table(float input_scale, int64_t width) {
  const float x_scale = input_scale;
  // Each step in ONNX Runtime's types: FLT_MAX / D in float, its logarithm in float too (ONNX Runtime's
  // log(numeric_limits<float>::max() / reduce_len) takes and returns a float: logf), the shift in double.
  // The logarithm in double would scale the whole table by exp(its float rounding error), a factor within
  // 4e-6 of 1, and change about one row of 10 random logits in 10^5 (such rows are in
  // tests/kernels/data/ort_requant/softmax_10_telling.ortv). logf is computed here as the double logarithm
  // rounded to float: the correctly rounded value, which glibc's logf returns for every row length 1 to 5000
  // and every power of ten up to 10^8, and which does not depend on the platform's logf.
  const float headroom = std::numeric_limits<float>::max() / static_cast<float>(width);
  const auto log_headroom = static_cast<float>(std::log(static_cast<double>(headroom)));
  const double shift = std::max(0.0, static_cast<double>(log_headroom) - 5.0) / static_cast<double>(x_scale);
  std::array<float, 256> table{};
  for (int i = 0; i < 256; ++i)
    table[static_cast<size_t>(i)] =
        static_cast<float>(std::exp((static_cast<double>(i) - 255.0 + shift) * static_cast<double>(x_scale)));
  return table;
}

TensorU8 softmax_u8(const TensorU8& input, const QuantParams& output, RequantMode mode,
                    SoftmaxOverflow overflow) {
  validate(output, ElementType::u8, {}, "softmax output");
  if (!output.is_per_tensor()) throw Error("softmax: output must be quantized per tensor");
  if (mode == RequantMode::float_scale) return softmax_u8_onnxruntime(input, output, overflow);
  TensorU8 out(input.shape, output);
  const IntRange u8 = range_of(ElementType::u8);
  softmax_rows(input, [&](int64_t i, double p) {
    out.data[static_cast<size_t>(i)] =
        static_cast<uint8_t>(quantize_value(static_cast<float>(p), output.scale(), output.zero_point(), u8));
  });
  return out;
}

}  // namespace octet::ref
