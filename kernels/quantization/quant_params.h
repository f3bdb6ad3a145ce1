#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/quantization/element_type.h"

namespace octet {

// Affine quantization: real = scale * (q - zero_point).
// Per-tensor when `axis` is negative (one scale, one zero point); per-axis (per-channel) otherwise, with one
// scale and one zero point for every index along dimension `axis`.
struct QuantParams {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  int axis = -1;

  static QuantParams per_tensor(float scale, int32_t zero_point) { return {{scale}, {zero_point}, -1}; }
  static QuantParams per_axis(std::vector<float> scales, std::vector<int32_t> zero_points, int axis) {
    return {std::move(scales), std::move(zero_points), axis};
  }

  bool is_per_tensor() const { return axis < 0; }
  // Scale and zero point that apply to index `i` along the quantized axis (any i for per-tensor params).
  float scale(int64_t i = 0) const {
    return is_per_tensor() ? scales.at(0) : scales.at(static_cast<size_t>(i));
  }
  int32_t zero_point(int64_t i = 0) const {
    return is_per_tensor() ? zero_points.at(0) : zero_points.at(static_cast<size_t>(i));
  }

  friend bool operator==(const QuantParams&, const QuantParams&) = default;
};

// Throws octet::Error naming `what` unless the params are usable for a tensor of `type` and `shape`:
// every scale finite and > 0, every zero point inside the type's range, as many of them as the quantized
// axis is long (one for per-tensor params), and the axis inside the shape's rank.
void validate(const QuantParams& params, ElementType type, const std::vector<int64_t>& shape,
              std::string_view what);

// Chooses per-tensor params that cover [min, max] for `type`. The range is first widened to contain 0, so
// that real 0.0 maps exactly onto an integer (zero padding must be exact). Symmetric params have zero point
// 0 (for int8 the narrow range [-127, 127] is used, so that negation never overflows); asymmetric ones
// spread the range over all levels. A degenerate range (all zeros) still gets a usable scale > 0.
QuantParams choose_qparams(double min, double max, ElementType type, bool symmetric);

}  // namespace octet
