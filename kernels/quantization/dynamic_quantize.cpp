#include "kernels/quantization/dynamic_quantize.h"

#include <algorithm>
#include <cmath>

#include "kernels/quantization/quantize.h"

namespace octet {

DynamicQuantization dynamic_quantization(const float* x, int64_t count) {
  float lo = 0.0f, hi = 0.0f;  // the range always holds zero
  for (int64_t i = 0; i < count; ++i) {
    if (std::isnan(x[i])) continue;
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  DynamicQuantization q;
  q.scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  // Compared, not clamped with std::clamp: an infinite range gives a NaN here, which must land on 0.
  float initial = 0.0f - lo / q.scale;
  if (!(initial > 0.0f)) initial = 0.0f;
  if (!(initial < 255.0f)) initial = 255.0f;
  q.zero_point = static_cast<int32_t>(std::nearbyint(initial));
  return q;
}

void dynamic_quantize_centered(const float* x, int64_t count, const DynamicQuantization& q, float* centered) {
  const IntRange u8 = range_of(ElementType::u8);
  for (int64_t i = 0; i < count; ++i)
    centered[i] = static_cast<float>(quantize_value(x[i], q.scale, q.zero_point, u8) - q.zero_point);
}

}  // namespace octet
