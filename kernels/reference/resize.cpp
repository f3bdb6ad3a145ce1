#include "kernels/reference/resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/quantization/quantize.h"
#include "kernels/reference/requantize.h"

namespace octet::ref {

double resize_source_coordinate(int64_t o, int64_t in, int64_t out, double scale, CoordinateMode mode) {
  const double x = static_cast<double>(o);
  switch (mode) {
    case CoordinateMode::half_pixel:
      return (x + 0.5) / scale - 0.5;
    case CoordinateMode::pytorch_half_pixel:
      return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case CoordinateMode::align_corners:
      return out > 1 ? x * static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
    case CoordinateMode::asymmetric:
      return x / scale;
  }
  return 0.0;
}

namespace {

int64_t round_nearest(double x, NearestRounding rounding) {
  switch (rounding) {
    case NearestRounding::round_prefer_floor:
      return static_cast<int64_t>(std::ceil(x - 0.5));
    case NearestRounding::round_prefer_ceil:
      return static_cast<int64_t>(std::floor(x + 0.5));
    case NearestRounding::floor:
    case NearestRounding::resize_10:  // (resolved per axis by axis_rounding before)
      return static_cast<int64_t>(std::floor(x));
    case NearestRounding::ceil:
      return static_cast<int64_t>(std::ceil(x));
  }
  return 0;
}

}  // namespace

std::vector<ResizeTap> resize_axis_taps(int64_t in, int64_t out, double scale, const ResizeParams& params) {
  if (in < 1 || out < 1)
    throw Error("resize: sizes must be >= 1, got input " + std::to_string(in) + ", output " +
                std::to_string(out));
  if (scale == 0.0) scale = static_cast<double>(out) / static_cast<double>(in);
  if (!std::isfinite(scale) || !(scale > 0.0))
    throw Error("resize: scale " + std::to_string(scale) + " must be finite and > 0");
  std::vector<ResizeTap> taps(static_cast<size_t>(out));
  const NearestRounding rounding = axis_rounding(params.nearest_rounding, scale);
  constexpr int32_t one = 1 << kResizeWeightBits;
  for (int64_t o = 0; o < out; ++o) {
    const double x = resize_source_coordinate(o, in, out, scale, params.coordinate_mode);
    ResizeTap& t = taps[static_cast<size_t>(o)];
    if (params.mode == ResizeMode::nearest) {
      t.index0 = t.index1 = std::clamp<int64_t>(round_nearest(x, rounding), 0, in - 1);
      continue;
    }
    const double clamped = std::clamp(x, 0.0, static_cast<double>(in - 1));
    t.index0 = static_cast<int64_t>(std::floor(clamped));
    t.index1 = std::min(t.index0 + 1, in - 1);
    t.weight1 = static_cast<int32_t>(std::lround((clamped - static_cast<double>(t.index0)) * one));
    if (t.index1 == t.index0) t.weight1 = 0;
  }
  return taps;
}

ResizeRequant resize_requant(const QuantParams& input, const QuantParams& output) {
  if (!input.is_per_tensor() || !output.is_per_tensor())
    throw Error("resize: requantizing needs per-tensor params");
  constexpr double blend_steps = double{int64_t{1} << (2 * kResizeWeightBits)};
  return {quantize_multiplier(static_cast<double>(input.scale()) / static_cast<double>(output.scale()) /
                              blend_steps),
          input.zero_point() << (2 * kResizeWeightBits), output.zero_point()};
}

namespace {

// octet's fixed-point resize, into the input's params (requant null) or through `requant` into `params`.
TensorU8 fixed_point_resize(const TensorU8& input, const ResizeParams& p, const ResizeRequant* requant,
                            const QuantParams& params) {
  check_nhwc(input, "resize input");
  const int64_t n = input.dim(0), ih = input.dim(1), iw = input.dim(2), c = input.dim(3);
  const std::vector<ResizeTap> ty = resize_axis_taps(ih, p.out_h, p.scale_h, p);
  const std::vector<ResizeTap> tx = resize_axis_taps(iw, p.out_w, p.scale_w, p);
  TensorU8 out({n, p.out_h, p.out_w, c}, params);
  constexpr int32_t one = 1 << kResizeWeightBits;
  constexpr int64_t half = int64_t{1} << (2 * kResizeWeightBits - 1);
  auto at = [&](int64_t b, int64_t y, int64_t x, int64_t ch) {
    return static_cast<int64_t>(input.data[static_cast<size_t>(((b * ih + y) * iw + x) * c + ch)]);
  };
  size_t o = 0;
  for (int64_t b = 0; b < n; ++b)
    for (const ResizeTap& y : ty)
      for (const ResizeTap& x : tx)
        for (int64_t ch = 0; ch < c; ++ch) {
          const int64_t top =
              (one - x.weight1) * at(b, y.index0, x.index0, ch) + x.weight1 * at(b, y.index0, x.index1, ch);
          const int64_t bottom =
              (one - x.weight1) * at(b, y.index1, x.index0, ch) + x.weight1 * at(b, y.index1, x.index1, ch);
          const int64_t blended = (one - y.weight1) * top + y.weight1 * bottom;
          out.data[o++] = requant != nullptr
                              ? requantize_blend(static_cast<int32_t>(blended), *requant)
                              : static_cast<uint8_t>((blended + half) >> (2 * kResizeWeightBits));
        }
  return out;
}

}  // namespace

TensorU8 resize(const TensorU8& input, const ResizeParams& p) {
  return fixed_point_resize(input, p, nullptr, input.quant);
}

namespace {

// ONNX Runtime's get_original_coordinate, in float32 as it computes it.
float onnxruntime_coordinate(int64_t o, int64_t in, int64_t out, float scale, CoordinateMode mode) {
  const auto x = static_cast<float>(o);
  switch (mode) {
    case CoordinateMode::half_pixel:
      return (x + 0.5f) / scale - 0.5f;
    case CoordinateMode::pytorch_half_pixel:
      return out > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case CoordinateMode::align_corners:
      return out == 1 ? 0.0f : x * static_cast<float>(in - 1) / static_cast<float>(out - 1);
    case CoordinateMode::asymmetric:
      return x / scale;
  }
  return 0.0f;
}

// ONNX Runtime's nearest pixel (before clamping) of a float32 coordinate.
int64_t onnxruntime_nearest(float x, NearestRounding rounding) {
  switch (rounding) {
    case NearestRounding::round_prefer_floor:
      // Exact halves go down; everything else rounds half away from zero.
      if (x == static_cast<float>(static_cast<int64_t>(x)) + 0.5f) return static_cast<int64_t>(std::floor(x));
      return static_cast<int64_t>(std::round(x));
    case NearestRounding::round_prefer_ceil:
      return static_cast<int64_t>(std::round(x));
    case NearestRounding::floor:
    case NearestRounding::resize_10:  // (resolved per axis by axis_rounding before)
      return static_cast<int64_t>(std::floor(x));
    case NearestRounding::ceil:
      return static_cast<int64_t>(std::ceil(x));
  }
  return 0;
}

}  // namespace

std::vector<OnnxRuntimeTap> onnxruntime_axis_taps(int64_t in, int64_t out, double scale,
                                                  const ResizeParams& params) {
  if (in < 1 || out < 1)
    throw Error("resize: sizes must be >= 1, got input " + std::to_string(in) + ", output " +
                std::to_string(out));
  // ONNX Runtime holds the scale in float32: the given one, or output / input when sizes are given.
  const float s = scale == 0.0 ? static_cast<float>(out) / static_cast<float>(in) : static_cast<float>(scale);
  if (!std::isfinite(s) || !(s > 0.0f))
    throw Error("resize: scale " + std::to_string(scale) + " must be finite and > 0");
  std::vector<OnnxRuntimeTap> taps(static_cast<size_t>(out));
  const NearestRounding rounding = axis_rounding(params.nearest_rounding, s);  // shrinking by the float scale
  for (int64_t o = 0; o < out; ++o) {
    // An axis it does not scale maps each index to itself, whatever the coordinate mode.
    const float x =
        s == 1.0f ? static_cast<float>(o) : onnxruntime_coordinate(o, in, out, s, params.coordinate_mode);
    OnnxRuntimeTap& t = taps[static_cast<size_t>(o)];
    if (params.mode == ResizeMode::nearest) {
      // Held to [-1, in] first, which picks the same pixel, so that the conversion to an integer is defined.
      const float held = std::clamp(x, -1.0f, static_cast<float>(in));
      t.index0 = t.index1 = std::clamp<int64_t>(onnxruntime_nearest(held, rounding), 0, in - 1);
      continue;
    }
    const float clamped = std::max(0.0f, std::min(x, static_cast<float>(in - 1)));
    t.index0 = std::min(static_cast<int64_t>(clamped), in - 1);
    t.index1 = std::min(t.index0 + 1, in - 1);
    if (t.index0 == t.index1) {
      t.weight0 = t.weight1 = 0.5f;
      t.weight0_q10 = t.weight1_q10 = 512;
      continue;
    }
    // The weight of each pixel is the distance to the other one.
    t.weight0 = std::fabs(clamped - static_cast<float>(t.index1));
    t.weight1 = std::fabs(clamped - static_cast<float>(t.index0));
    // The integer kernel truncates the coordinate to 10 fractional bits (times 1024 is exact in float32).
    const auto fixed = static_cast<int64_t>(clamped * 1024.0f);
    t.weight1_q10 = static_cast<int32_t>(fixed - t.index0 * 1024);
    t.weight0_q10 = 1024 - t.weight1_q10;
  }
  return taps;
}

TensorU8 resize(const TensorU8& input, const ResizeParams& p, ResizeArithmetic arithmetic,
                const QuantParams& output) {
  if (arithmetic == ResizeArithmetic::fixed_point) {
    if (output == input.quant) return resize(input, p);
    if (p.mode == ResizeMode::nearest)
      return requantize_tensor(resize(input, p), output, {}, RequantMode::fixed_point);
    const ResizeRequant requant = resize_requant(input.quant, output);
    return fixed_point_resize(input, p, &requant, output);
  }
  if (arithmetic == ResizeArithmetic::onnxruntime_bytes) {
    if (!(output == input.quant))
      throw Error("resize: this arithmetic moves bytes; the output params must be the input's");
  } else if (!input.quant.is_per_tensor() || !output.is_per_tensor()) {
    throw Error("resize: requantizing needs per-tensor params");
  }
  check_nhwc(input, "resize input");
  const int64_t n = input.dim(0), ih = input.dim(1), iw = input.dim(2), c = input.dim(3);
  const std::vector<OnnxRuntimeTap> ty = onnxruntime_axis_taps(ih, p.out_h, p.scale_h, p);
  const std::vector<OnnxRuntimeTap> tx = onnxruntime_axis_taps(iw, p.out_w, p.scale_w, p);
  TensorU8 out({n, p.out_h, p.out_w, c}, output);
  auto at = [&](int64_t b, int64_t y, int64_t x, int64_t ch) {
    return input.data[static_cast<size_t>(((b * ih + y) * iw + x) * c + ch)];
  };
  const bool real = arithmetic == ResizeArithmetic::onnxruntime_real;
  const float in_scale = input.quant.scale(), out_scale = real ? output.scale() : 1.0f;
  const int32_t in_zp = input.quant.zero_point(), out_zp = real ? output.zero_point() : 0;
  auto real_at = [&](int64_t b, int64_t y, int64_t x, int64_t ch) {
    return dequantize_value(at(b, y, x, ch), in_scale, in_zp);
  };
  size_t o = 0;
  for (int64_t b = 0; b < n; ++b)
    for (const OnnxRuntimeTap& y : ty)
      for (const OnnxRuntimeTap& x : tx)
        for (int64_t ch = 0; ch < c; ++ch) {
          if (!real) {
            // Integer weights of 2^-20 summing to one, non-negative terms: the shift truncates.
            const int32_t sum = x.weight0_q10 * y.weight0_q10 * at(b, y.index0, x.index0, ch) +
                                x.weight1_q10 * y.weight0_q10 * at(b, y.index0, x.index1, ch) +
                                x.weight0_q10 * y.weight1_q10 * at(b, y.index1, x.index0, ch) +
                                x.weight1_q10 * y.weight1_q10 * at(b, y.index1, x.index1, ch);
            out.data[o++] = static_cast<uint8_t>(sum >> 20);
            continue;
          }
          // ONNX Runtime's order: each pixel times the product of its two weights, summed left to right.
          float v = (x.weight0 * y.weight0) * real_at(b, y.index0, x.index0, ch);
          v = v + (x.weight1 * y.weight0) * real_at(b, y.index0, x.index1, ch);
          v = v + (x.weight0 * y.weight1) * real_at(b, y.index1, x.index0, ch);
          v = v + (x.weight1 * y.weight1) * real_at(b, y.index1, x.index1, ch);
          out.data[o++] =
              static_cast<uint8_t>(quantize_value(v, out_scale, out_zp, range_of(ElementType::u8)));
        }
  return out;
}

}  // namespace octet::ref
