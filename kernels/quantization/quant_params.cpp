#include "kernels/quantization/quant_params.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"

namespace octet {

namespace {

std::string prefix(std::string_view what) {
  return std::string(what) + ": ";
}

}  // namespace

void validate(const QuantParams& params, ElementType type, const std::vector<int64_t>& shape,
              std::string_view what) {
  if (type == ElementType::f32) return;
  if (params.scales.empty()) throw Error(prefix(what) + "quantization scale is missing");
  if (params.zero_points.size() != params.scales.size())
    throw Error(prefix(what) + std::to_string(params.scales.size()) + " scales but " +
                std::to_string(params.zero_points.size()) + " zero points");
  if (params.is_per_tensor()) {
    if (params.scales.size() != 1)
      throw Error(prefix(what) + "per-tensor quantization needs one scale, got " +
                  std::to_string(params.scales.size()));
  } else {
    if (static_cast<size_t>(params.axis) >= shape.size())
      throw Error(prefix(what) + "quantization axis " + std::to_string(params.axis) +
                  " is outside a tensor of rank " + std::to_string(shape.size()));
    const int64_t axis_len = shape[static_cast<size_t>(params.axis)];
    if (static_cast<int64_t>(params.scales.size()) != axis_len)
      throw Error(prefix(what) + "per-axis quantization along axis " + std::to_string(params.axis) +
                  " needs " + std::to_string(axis_len) + " scales, got " +
                  std::to_string(params.scales.size()));
  }
  const IntRange range = range_of(type);
  for (size_t i = 0; i < params.scales.size(); ++i) {
    const float s = params.scales[i];
    if (!std::isfinite(s) || !(s > 0.0f))
      throw Error(prefix(what) + "scale[" + std::to_string(i) + "] = " + std::to_string(s) +
                  " is not a finite positive number");
    const int32_t zp = params.zero_points[i];
    if (zp < range.min || zp > range.max)
      throw Error(prefix(what) + "zero point[" + std::to_string(i) + "] = " + std::to_string(zp) +
                  " is outside the " + std::string(name_of(type)) + " range [" + std::to_string(range.min) +
                  ", " + std::to_string(range.max) + "]");
  }
}

QuantParams choose_qparams(double min, double max, ElementType type, bool symmetric) {
  if (type != ElementType::u8 && type != ElementType::s8)
    throw Error("choose_qparams: only uint8 and int8 are supported, got " + std::string(name_of(type)));
  if (!std::isfinite(min) || !std::isfinite(max) || min > max)
    throw Error("choose_qparams: invalid range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  min = std::min(min, 0.0);
  max = std::max(max, 0.0);
  // Keeps the scale a normal float32 however degenerate the range; 1.0 for an all-zero tensor.
  constexpr double kMinRange = 1e-30;
  if (symmetric) {
    const double bound = std::max(std::abs(min), std::abs(max));
    if (type == ElementType::s8) {
      const double scale = bound > kMinRange ? bound / 127.0 : 1.0;
      return QuantParams::per_tensor(static_cast<float>(scale), 0);
    }
    // uint8 symmetric: zero point in the middle, 128, so that the negative half is representable.
    const double scale = bound > kMinRange ? bound / 127.0 : 1.0;
    return QuantParams::per_tensor(static_cast<float>(scale), 128);
  }
  const IntRange r = range_of(type);
  const double levels = static_cast<double>(r.max - r.min);
  const double span = max - min;
  const float scale = span > kMinRange ? static_cast<float>(span / levels) : 1.0f;
  // Zero point: the integer nearest to the exact real-zero position, clamped into range. Rounding here (not
  // in the mapping) is what makes 0.0 exactly representable.
  const double zp_real = r.min - min / static_cast<double>(scale);
  const auto zp = static_cast<int32_t>(std::clamp(std::nearbyint(zp_real), double(r.min), double(r.max)));
  return QuantParams::per_tensor(scale, zp);
}

}  // namespace octet
