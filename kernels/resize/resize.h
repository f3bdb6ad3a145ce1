#pragma once

// Resize (nearest and bilinear) over NHWC uint8, bit-exact with ref::resize in each of its arithmetics: the
// axis taps are computed once, when the operator is prepared, by the reference's own functions; each output
// pixel then copies one input pixel (nearest) or blends four across the channel vector (bilinear), in loops
// the compiler vectorises:
//   fixed_point        int32 (at most 2^11 * 2^11 * 255 + 2^21 < 2^31: what the reference computes in int64),
//                      bilinear into other params through ref::requantize_blend;
//   onnxruntime_bytes  int32 with 10-bit weights (at most 2^20 * 255);
//   onnxruntime_real   float32 from a table of the 256 dequantized values, then QuantizeLinear.

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "kernels/reference/resize.h"

namespace octet::resize {

struct Resize {
  bool nearest = false;
  ref::ResizeArithmetic arithmetic = ref::ResizeArithmetic::fixed_point;
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::vector<ref::ResizeTap> rows, columns;               // fixed_point
  std::optional<ref::ResizeRequant> requant;               // fixed_point bilinear into other params
  std::vector<ref::OnnxRuntimeTap> ort_rows, ort_columns;  // the ONNX Runtime arithmetics
  std::array<float, 256> dequantized{};                    // onnxruntime_real: each byte's real value
  float output_scale = 1.0f;
  int32_t output_zero_point = 0;
};

// For inputs of in_h x in_w in octet's fixed-point arithmetic; throws octet::Error as the reference does.
Resize prepare_resize(const ref::ResizeParams& params, int64_t in_h, int64_t in_w);

// In any arithmetic, from `input` params into `output` params (as ref::resize checks them; fixed_point's
// nearest mode moves bytes only: its output params must be the input's, the caller requantizes).
Resize prepare_resize(const ref::ResizeParams& params, int64_t in_h, int64_t in_w,
                      ref::ResizeArithmetic arithmetic, const QuantParams& input, const QuantParams& output);

// [n, in_h, in_w, c] -> [n, out_h, out_w, c], in parallel over output rows.
void run(const Resize& r, const uint8_t* input, int64_t n, int64_t c, uint8_t* output);

}  // namespace octet::resize
