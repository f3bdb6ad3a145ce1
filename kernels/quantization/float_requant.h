#pragma once

// The float requantization mode (RequantMode::float_scale): what the ONNX operator definitions say,
// evaluated as ONNX Runtime's MLAS evaluates it, so that octet's bytes equal ONNX Runtime's:
//
//   scale  = (s_in * s_w[c]) / s_out                    in float32, in that order (QLinearConv,
//   QLinearMatMul) output = clamp(nearest_even(float32(acc) * scale), qmin - z_out, qmax - z_out) + z_out
//
// where acc is the exact int32 accumulator with the bias and every zero-point term in it (octet's kernels
// build the same int32 as the fixed-point path, modulo 2^32). The int32 to float32 conversion rounds to
// nearest even, the product is a single rounded float32 multiply (no fused multiply-add: the project
// builds with -ffp-contract=off), and the clamp bounds are integers, so clamping before or after the
// rounding gives the same result. Every SIMD kernel reproduces these steps with its own instructions
// (cvtdq2ps / mulps / maxps / minps / cvtps2dq under the default rounding mode; NEON SCVTF / FMUL / FMAX /
// FMIN / FCVTNS).

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace octet {

constexpr float float_requant_scale(float input_scale, float weight_scale, float output_scale) {
  return input_scale * weight_scale / output_scale;
}

inline int32_t requantize_float(int32_t acc, float scale, int32_t zp_out, int32_t qmin, int32_t qmax) {
  float v = static_cast<float>(acc) * scale;
  v = std::min(std::max(v, static_cast<float>(qmin - zp_out)), static_cast<float>(qmax - zp_out));
  return static_cast<int32_t>(std::nearbyint(v)) + zp_out;
}

}  // namespace octet
