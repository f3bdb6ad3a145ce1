#pragma once

#include <cstdint>
#include <vector>

#include "kernels/tensor.h"

namespace octet::ref {

enum class ResizeMode { nearest, linear };
// How an output coordinate maps back to the input (ONNX Resize's coordinate_transformation_mode).
enum class CoordinateMode { half_pixel, pytorch_half_pixel, align_corners, asymmetric };
// How nearest mode rounds a fractional input coordinate (ONNX Resize's nearest_mode).
enum class NearestRounding { round_prefer_floor, round_prefer_ceil, floor, ceil };

struct ResizeParams {
  int64_t out_h = 1;
  int64_t out_w = 1;
  // The scale factors the coordinate transform divides by; 0 means out / in (ONNX: when sizes are given).
  double scale_h = 0.0;
  double scale_w = 0.0;
  ResizeMode mode = ResizeMode::nearest;
  CoordinateMode coordinate_mode = CoordinateMode::half_pixel;
  NearestRounding nearest_rounding = NearestRounding::round_prefer_floor;
};

// The input coordinate that output index `o` maps back to along an axis resized from `in` to `out`
// elements by `scale` (ONNX Resize's coordinate_transformation_mode); the uint8 and the float resizes both
// start from it.
double resize_source_coordinate(int64_t o, int64_t in, int64_t out, double scale, CoordinateMode mode);

// Bilinear interpolation weights are fixed point with this many fractional bits, so interpolation is exact
// integer arithmetic that every kernel reproduces; the weight rounding moves a result by at most 1/8 LSB.
constexpr int kResizeWeightBits = 11;

// For every output index along one axis: the two input indices to blend and the fixed-point weight of the
// second (nearest mode: both indices equal, weight 0). Computed once per layer, shared by all kernels.
struct ResizeTap {
  int64_t index0 = 0;
  int64_t index1 = 0;
  int32_t weight1 = 0;  // in [0, 2^kResizeWeightBits]
};
std::vector<ResizeTap> resize_axis_taps(int64_t in, int64_t out, double scale, const ResizeParams& params);

// Resizes a uint8 NHWC tensor to [N, out_h, out_w, C], keeping its params.
TensorU8 resize(const TensorU8& input, const ResizeParams& params);

}  // namespace octet::ref
