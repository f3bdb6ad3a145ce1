#pragma once

#include <cstdint>
#include <vector>

#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::ref {

enum class ResizeMode { nearest, linear };
// How an output coordinate maps back to the input (ONNX Resize's coordinate_transformation_mode).
enum class CoordinateMode { half_pixel, pytorch_half_pixel, align_corners, asymmetric };
// How nearest mode rounds a fractional input coordinate (ONNX Resize's nearest_mode). resize_10: Resize-10
// and Upsample, which have no nearest_mode: floor, but ceil along an axis that shrinks (scale < 1), as ONNX
// Runtime computes them and as ONNX's opset-10 test data has them (axis_rounding resolves it per axis).
enum class NearestRounding { round_prefer_floor, round_prefer_ceil, floor, ceil, resize_10 };

// The rounding along an axis resized by `scale` (> 0): resize_10 resolved, the others as they are.
constexpr NearestRounding axis_rounding(NearestRounding rounding, double scale) {
  if (rounding != NearestRounding::resize_10) return rounding;
  return scale < 1.0 ? NearestRounding::ceil : NearestRounding::floor;
}

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

// Resizes a uint8 NHWC tensor to [N, out_h, out_w, C], keeping its params (octet's fixed-point arithmetic).
TensorU8 resize(const TensorU8& input, const ResizeParams& params);

// octet's fixed-point bilinear blend into other params than the input's (a QDQ Resize whose QuantizeLinear
// has its own), rounded once: the blend is exact in input steps with 2 * kResizeWeightBits fractional bits,
// so q = z_out + round((blend - z_in * 2^22) * s_in / s_out / 2^22), in the fixed-point requantization.
// (Rounding the blend to a byte first, then requantizing the byte, would round twice: off by up to
// s_in / (2 s_out) + 1/2 output steps.)
struct ResizeRequant {
  FixedMultiplier multiplier;
  int32_t input_offset = 0;  // z_in * 2^(2 * kResizeWeightBits)
  int32_t output_zero_point = 0;
};
// Throws octet::Error unless both are per-tensor.
ResizeRequant resize_requant(const QuantParams& input, const QuantParams& output);
constexpr uint8_t requantize_blend(int32_t blend, const ResizeRequant& r) {
  return static_cast<uint8_t>(requantize(blend - r.input_offset, r.multiplier, r.output_zero_point, 0, 255));
}

// How a resize of uint8 data computes its bytes. Nearest mode copies bytes in each; they differ in how the
// source coordinates are computed and in how linear mode blends and rounds.
//   fixed_point     octet's own (the default): coordinates in float64, weights with kResizeWeightBits
//                   fractional bits, the blend rounded to nearest: within 1/8 LSB of exact interpolation.
//   onnxruntime_bytes  ONNX Runtime 1.30's uint8 Resize as it runs one in a QOperator network (behind a
//                   QLinearConv, in its NHWC layout): float32 coordinates, weights truncated to 10 fractional
//                   bits, the blend truncated.
//   onnxruntime_real   DequantizeLinear -> float32 Resize -> QuantizeLinear, as ONNX Runtime 1.30 runs a
//                   QDQ Resize (it keeps such a Resize in float): float32 coordinates and weights, the four
//                   products summed in float32 in ONNX Runtime's order, quantized with the output's params
//                   (round half to even).
// ONNX Runtime's uint8 Resize outside an NHWC chain (fed by a graph input, say) blends in float32 and
// truncates; octet does not reproduce that one.
enum class ResizeArithmetic { fixed_point, onnxruntime_bytes, onnxruntime_real };

// The arithmetic that `mode` asks for: octet's fixed point, or ONNX Runtime's for the form the model gives
// the Resize in (real_values: between a DequantizeLinear and a QuantizeLinear; otherwise on raw uint8).
constexpr ResizeArithmetic resize_arithmetic(RequantMode mode, bool real_values) {
  if (mode == RequantMode::fixed_point) return ResizeArithmetic::fixed_point;
  return real_values ? ResizeArithmetic::onnxruntime_real : ResizeArithmetic::onnxruntime_bytes;
}

// ONNX Runtime's taps along one axis, from float32 coordinates: the two input indices (both the chosen pixel
// in nearest mode) with the weight of each in float32 and in units of 2^-10 (linear mode at the last pixel:
// one half each).
struct OnnxRuntimeTap {
  int64_t index0 = 0;
  int64_t index1 = 0;
  float weight0 = 1.0f;
  float weight1 = 0.0f;
  int32_t weight0_q10 = 1024;
  int32_t weight1_q10 = 0;
};
std::vector<OnnxRuntimeTap> onnxruntime_axis_taps(int64_t in, int64_t out, double scale,
                                                  const ResizeParams& params);

// Resizes with `arithmetic` into `output` params. onnxruntime_bytes moves bytes and needs `output` equal to
// the input's params; onnxruntime_real and fixed_point in linear mode requantize as they blend
// (ResizeRequant), so their params may differ (per-tensor); fixed_point in nearest mode copies bytes and
// requantizes them.
TensorU8 resize(const TensorU8& input, const ResizeParams& params, ResizeArithmetic arithmetic,
                const QuantParams& output);

}  // namespace octet::ref
