#pragma once

// The two ways octet turns an int32 accumulator into an 8-bit output, both bit-exact across ISAs and thread
// counts against their scalar references (docs/quantization.md):
//   fixed_point  the default: the multiplier as a Q31 M0 and a shift, rounding as gemmlowp / TFLite do
//                (kernels/quantization/fixed_point.h);
//   float_scale  ONNX's definition with ONNX Runtime's arithmetic: the accumulator converted to float32,
//                times a float32 scale, rounded half to even (kernels/quantization/float_requant.h), so
//                that users moving from ONNX Runtime get its bytes.

#include <optional>
#include <string_view>

namespace octet {

enum class RequantMode { fixed_point, float_scale };

// "fixed_point" or "float": the names the command and octet info use.
constexpr std::string_view name_of(RequantMode mode) {
  return mode == RequantMode::fixed_point ? "fixed_point" : "float";
}

// Accepts "fixed_point", "fixed" and "float"; nullopt otherwise.
constexpr std::optional<RequantMode> parse_requant_mode(std::string_view text) {
  if (text == "fixed_point" || text == "fixed") return RequantMode::fixed_point;
  if (text == "float") return RequantMode::float_scale;
  return std::nullopt;
}

}  // namespace octet
