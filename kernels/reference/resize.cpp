#include "kernels/reference/resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"

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
  constexpr int32_t one = 1 << kResizeWeightBits;
  for (int64_t o = 0; o < out; ++o) {
    const double x = resize_source_coordinate(o, in, out, scale, params.coordinate_mode);
    ResizeTap& t = taps[static_cast<size_t>(o)];
    if (params.mode == ResizeMode::nearest) {
      t.index0 = t.index1 = std::clamp<int64_t>(round_nearest(x, params.nearest_rounding), 0, in - 1);
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

TensorU8 resize(const TensorU8& input, const ResizeParams& p) {
  check_nhwc(input, "resize input");
  const int64_t n = input.dim(0), ih = input.dim(1), iw = input.dim(2), c = input.dim(3);
  const std::vector<ResizeTap> ty = resize_axis_taps(ih, p.out_h, p.scale_h, p);
  const std::vector<ResizeTap> tx = resize_axis_taps(iw, p.out_w, p.scale_w, p);
  TensorU8 out({n, p.out_h, p.out_w, c}, input.quant);
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
          out.data[o++] = static_cast<uint8_t>((blended + half) >> (2 * kResizeWeightBits));
        }
  return out;
}

}  // namespace octet::ref
