#include "kernels/reference/lut.h"

#include <algorithm>
#include <cmath>

#include "kernels/error.h"
#include "kernels/quantization/quantize.h"

namespace octet::ref {

Lut make_lut(const std::function<double(double)>& f, const QuantParams& input, const QuantParams& output) {
  validate(input, ElementType::u8, {}, "lookup table input");
  validate(output, ElementType::u8, {}, "lookup table output");
  if (!input.is_per_tensor() || !output.is_per_tensor())
    throw Error("lookup table: params must be per tensor");
  const IntRange u8 = range_of(ElementType::u8);
  Lut table{};
  for (int32_t q = 0; q < 256; ++q) {
    const double x = dequantize_value(q, input.scale(), input.zero_point());
    const auto y = static_cast<float>(f(x));
    table[static_cast<size_t>(q)] =
        static_cast<uint8_t>(quantize_value(y, output.scale(), output.zero_point(), u8));
  }
  return table;
}

Lut activation_lut(LutActivation activation, const QuantParams& input, const QuantParams& output,
                   double alpha, double beta) {
  switch (activation) {
    case LutActivation::sigmoid:
      return make_lut([](double x) { return 1.0 / (1.0 + std::exp(-x)); }, input, output);
    case LutActivation::hard_sigmoid:
      return make_lut([=](double x) { return std::clamp(alpha * x + beta, 0.0, 1.0); }, input, output);
    case LutActivation::hard_swish:
      return make_lut([](double x) { return x * std::clamp(x / 6.0 + 0.5, 0.0, 1.0); }, input, output);
    case LutActivation::tanh:
      return make_lut([](double x) { return std::tanh(x); }, input, output);
    case LutActivation::leaky_relu:
      return make_lut([=](double x) { return x >= 0.0 ? x : alpha * x; }, input, output);
  }
  throw Error("lookup table: unknown activation");
}

TensorU8 apply_lut(const TensorU8& input, const Lut& table, const QuantParams& output) {
  check_consistent(input, "lookup table input");
  TensorU8 out(input.shape, output);
  std::transform(input.data.begin(), input.data.end(), out.data.begin(), [&](uint8_t q) { return table[q]; });
  return out;
}

}  // namespace octet::ref
