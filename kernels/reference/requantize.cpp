#include "kernels/reference/requantize.h"

#include <algorithm>

#include "kernels/error.h"

namespace octet::ref {

Rescale::Rescale(const QuantParams& from, const QuantParams& to, RequantMode requant_mode)
    : input_zero_point(from.zero_point()),
      output_zero_point(to.zero_point()),
      multiplier(
          quantize_multiplier(static_cast<double>(from.scale()) /
                              (static_cast<double>(to.scale()) * static_cast<double>(1 << kLeftShift)))),
      mode(requant_mode),
      input_scale(from.scale()),
      output_scale(to.scale()) {}

TensorU8 requantize_tensor(const TensorU8& input, const QuantParams& output, Clamp clamp, RequantMode mode) {
  check_consistent(input, "requantize input");
  validate(input.quant, ElementType::u8, input.shape, "requantize input");
  validate(output, ElementType::u8, {}, "requantize output");
  if (!input.quant.is_per_tensor() || !output.is_per_tensor())
    throw Error("requantize: input and output must be quantized per tensor");
  validate(clamp, "requantize");
  TensorU8 out(input.shape, output);
  if (input.quant == output) {
    std::transform(input.data.begin(), input.data.end(), out.data.begin(), [&](uint8_t q) {
      return static_cast<uint8_t>(std::clamp<int32_t>(q, clamp.min, clamp.max));
    });
    return out;
  }
  const Rescale rescale(input.quant, output, mode);
  std::transform(input.data.begin(), input.data.end(), out.data.begin(),
                 [&](uint8_t q) { return static_cast<uint8_t>(rescale(q, clamp)); });
  return out;
}

TensorU8 clamp(const TensorU8& input, Clamp clamp) {
  check_consistent(input, "clamp input");
  validate(clamp, "clamp");
  TensorU8 out(input.shape, input.quant);
  std::transform(input.data.begin(), input.data.end(), out.data.begin(), [&](uint8_t q) {
    return static_cast<uint8_t>(std::clamp<int32_t>(q, clamp.min, clamp.max));
  });
  return out;
}

}  // namespace octet::ref
