#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/float_pooling.h"

namespace octet::ref {

namespace {

double source_coordinate(int64_t o, int64_t in, int64_t out, double scale, const FloatResizeParams& p) {
  // An axis of scale 1 maps each pixel onto itself, as ONNX Runtime takes it. TensorFlow's coordinates
  // alone would move it: o + 0.5, which ceil and round_prefer_ceil take to the next pixel (every other
  // mode gives o there already).
  if (p.tf_half_pixel_for_nearest)
    return scale == 1.0 ? static_cast<double>(o) : (static_cast<double>(o) + 0.5) / scale;
  return resize_source_coordinate(o, in, out, scale, p.base.coordinate_mode);
}

// ONNX's nearest rounding of x = base + ratio (ratio in (0, 1), x not integral).
int64_t nearest_offset(double ratio, NearestRounding rounding) {
  switch (rounding) {
    case NearestRounding::round_prefer_floor:
      return ratio <= 0.5 ? 0 : 1;
    case NearestRounding::round_prefer_ceil:
      return ratio < 0.5 ? 0 : 1;
    case NearestRounding::floor:
    case NearestRounding::resize_10:  // (resolved per axis by axis_rounding before)
      return 0;
    case NearestRounding::ceil:
      return 1;
  }
  return 0;
}

// Keys' cubic convolution weights of the 4 taps around a point `ratio` past the second tap.
void cubic_weights(double ratio, double a, double* w) {
  const double r0 = ratio + 1.0, r1 = ratio, r2 = 1.0 - ratio, r3 = r2 + 1.0;  // distances to the taps
  const auto far = [a](double d) { return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a; };
  const auto near = [a](double d) { return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0; };
  w[0] = far(r0);
  w[1] = near(r1);
  w[2] = near(r2);
  w[3] = far(r3);
}

}  // namespace

FloatResizeAxis float_resize_axis(int64_t in, int64_t out, double scale, const FloatResizeParams& p) {
  if (in < 1 || out < 0)
    throw Error("float_resize: sizes must be input >= 1 and output >= 0, got input " + std::to_string(in) +
                ", output " + std::to_string(out));
  if (!std::isfinite(p.cubic_coeff_a)) throw Error("float_resize: cubic_coeff_a must be finite");
  FloatResizeAxis axis;
  axis.taps = p.mode == FloatResizeMode::nearest ? 1 : p.mode == FloatResizeMode::linear ? 2 : 4;
  if (out == 0) return axis;
  if (scale == 0.0) scale = static_cast<double>(out) / static_cast<double>(in);
  if (!std::isfinite(scale) || !(scale > 0.0))
    throw Error("float_resize: scale " + std::to_string(scale) + " must be finite and > 0");
  const auto taps = static_cast<size_t>(axis.taps);
  axis.index.resize(static_cast<size_t>(out) * taps);
  axis.weight.resize(static_cast<size_t>(out) * taps);
  const auto last = static_cast<double>(in - 1);
  for (int64_t o = 0; o < out; ++o) {
    // Clamped a little beyond the padded edge: the same taps there, and no overflow converting to int64.
    const double x = std::clamp(source_coordinate(o, in, out, scale, p), -8.0, last + 8.0);
    double base = std::floor(x), ratio = x - base;
    if (ratio == 0.0) {
      // ONNX's reference prefers the pixel left of an integral coordinate: ratio 1 from the one before.
      base -= 1.0;
      ratio = 1.0;
    }
    double w[4] = {1.0, 0.0, 0.0, 0.0};
    int64_t first = 0;  // the first tap's index
    const auto b = static_cast<int64_t>(base);
    switch (p.mode) {
      case FloatResizeMode::nearest:
        first =
            ratio == 1.0 ? b + 1 : b + nearest_offset(ratio, axis_rounding(p.base.nearest_rounding, scale));
        break;
      case FloatResizeMode::linear:
        first = b;
        w[0] = 1.0 - ratio;
        w[1] = ratio;
        break;
      case FloatResizeMode::cubic:
        first = b - 1;
        cubic_weights(ratio, static_cast<double>(p.cubic_coeff_a), w);
        break;
    }
    if (p.exclude_outside && p.mode != FloatResizeMode::nearest) {
      double sum = 0.0;
      for (size_t t = 0; t < taps; ++t) {
        const int64_t i = first + static_cast<int64_t>(t);
        if (i < 0 || i >= in) w[t] = 0.0;
        sum += w[t];
      }
      if (sum != 0.0)
        for (size_t t = 0; t < taps; ++t)
          w[t] /= sum;
    }
    for (size_t t = 0; t < taps; ++t) {
      const size_t k = static_cast<size_t>(o) * taps + t;
      axis.index[k] = std::clamp<int64_t>(first + static_cast<int64_t>(t), 0, in - 1);
      axis.weight[k] = static_cast<float>(w[t]);
    }
  }
  return axis;
}

void float_resize(const float* x, const Shape& nhwc, const FloatResizeParams& p, float* y) {
  if (nhwc.size() != 4) throw Error("float_resize: input must be NHWC (rank 4), got " + to_string(nhwc));
  element_count(nhwc, "float_resize");
  const int64_t n = nhwc[0], ih = nhwc[1], iw = nhwc[2], c = nhwc[3];
  const FloatResizeAxis ay = float_resize_axis(ih, p.base.out_h, p.base.scale_h, p);
  const FloatResizeAxis ax = float_resize_axis(iw, p.base.out_w, p.base.scale_w, p);
  const int64_t taps = ay.taps;
  auto at = [&](int64_t b, int64_t iy, int64_t ix, int64_t ch) {
    return x[((b * ih + iy) * iw + ix) * c + ch];
  };
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < p.base.out_h; ++oy)
      for (int64_t ox = 0; ox < p.base.out_w; ++ox) {
        const int64_t* iy = &ay.index[static_cast<size_t>(oy * taps)];
        const int64_t* ix = &ax.index[static_cast<size_t>(ox * taps)];
        const float* wy = &ay.weight[static_cast<size_t>(oy * taps)];
        const float* wx = &ax.weight[static_cast<size_t>(ox * taps)];
        for (int64_t ch = 0; ch < c; ++ch) {
          if (p.mode == FloatResizeMode::nearest) {
            *y++ = at(b, iy[0], ix[0], ch);
            continue;
          }
          float acc = 0.0f;
          for (int64_t ky = 0; ky < taps; ++ky) {
            float row = wx[0] * at(b, iy[ky], ix[0], ch);
            for (int64_t kx = 1; kx < taps; ++kx)
              row = row + wx[kx] * at(b, iy[ky], ix[kx], ch);
            acc = ky == 0 ? wy[0] * row : acc + wy[ky] * row;
          }
          *y++ = acc;
        }
      }
}

}  // namespace octet::ref
