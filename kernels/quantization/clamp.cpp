#include "kernels/quantization/clamp.h"

#include <algorithm>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/quantization/quantize.h"

namespace octet {

Clamp activation_clamp(Activation activation, const QuantParams& output, float clip_min, float clip_max) {
  validate(output, ElementType::u8, {}, "activation output");
  const IntRange u8 = range_of(ElementType::u8);
  const float scale = output.scale();
  const int32_t zp = output.zero_point();
  switch (activation) {
    case Activation::none:
      return {u8.min, u8.max};
    case Activation::relu:
      return {zp, u8.max};
    case Activation::relu6:
      return {zp, quantize_value(6.0f, scale, zp, u8)};
    case Activation::clip:
      if (!(clip_min <= clip_max))
        throw Error("Clip: min " + std::to_string(clip_min) + " is greater than max " +
                    std::to_string(clip_max));
      return {quantize_value(clip_min, scale, zp, u8), quantize_value(clip_max, scale, zp, u8)};
  }
  throw Error("unknown activation");
}

void validate(const Clamp& clamp, std::string_view what) {
  if (clamp.min < 0 || clamp.max > 255 || clamp.min > clamp.max)
    throw Error(std::string(what) + ": output clamp [" + std::to_string(clamp.min) + ", " +
                std::to_string(clamp.max) + "] is not a non-empty sub-range of [0, 255]");
}

}  // namespace octet
