#include "kernels/reference/float_conv2d.h"

#include <cmath>
#include <string>

#include "kernels/error.h"

namespace octet::ref {

namespace {

// The sizes of a convolution's operands, checked the way the uint8 references check them (groups dividing
// both channel counts, the weights' per-group input channels); zero-sized batch and channel dimensions are
// allowed and produce nothing (or, with no input channels, the bias alone).
struct ConvShape {
  int64_t n = 0, ih = 0, iw = 0, cin = 0;
  int64_t cout = 0, kh = 0, kw = 0, cin_g = 0, cout_g = 0;
};

ConvShape conv_shape(std::string_view op, const Shape& input, const Shape& weights, int64_t groups) {
  const std::string name(op);
  if (input.size() != 4) throw Error(name + ": input must be NHWC (rank 4), got " + to_string(input));
  if (weights.size() != 4)
    throw Error(name + ": weights must be [C_out, KH, KW, C_in / groups] (rank 4), got " +
                to_string(weights));
  element_count(input, name + " input");  // throws for negative dimensions
  element_count(weights, name + " weights");
  ConvShape s{input[0], input[1], input[2], input[3], weights[0], weights[1], weights[2], weights[3], 0};
  if (groups < 1 || s.cin % groups != 0 || s.cout % groups != 0)
    throw Error(name + ": group count " + std::to_string(groups) + " must divide input channels " +
                std::to_string(s.cin) + " and output channels " + std::to_string(s.cout));
  if (s.cin_g != s.cin / groups)
    throw Error(name + ": weights have " + std::to_string(s.cin_g) + " input channels per group, expected " +
                std::to_string(s.cin / groups));
  s.cout_g = s.cout / groups;
  return s;
}

}  // namespace

void float_conv2d(const float* input, const Shape& input_shape, const float* weights,
                  const Shape& weight_shape, const float* bias, const Conv2dParams& p, FloatClamp clamp,
                  float* output) {
  constexpr std::string_view op = "float_conv2d";
  const ConvShape s = conv_shape(op, input_shape, weight_shape, p.groups);
  const int64_t oh =
      conv_output_size(op, "height", s.ih, s.kh, p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom);
  const int64_t ow =
      conv_output_size(op, "width", s.iw, s.kw, p.stride_w, p.dilation_w, p.pad.left, p.pad.right);
  float* out = output;
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t oc = 0; oc < s.cout; ++oc) {
          const int64_t group = oc / s.cout_g;
          float acc = bias ? bias[oc] : 0.0f;
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
              const bool inside = iy >= 0 && iy < s.ih && ix >= 0 && ix < s.iw;
              const float* a =
                  inside ? input + ((b * s.ih + iy) * s.iw + ix) * s.cin + group * s.cin_g : nullptr;
              const float* w = weights + ((oc * s.kh + ky) * s.kw + kx) * s.cin_g;
              // Padding taps are part of the definition: fma(0, w, acc) is not always acc (-0, inf, NaN).
              for (int64_t c = 0; c < s.cin_g; ++c)
                acc = std::fma(inside ? a[c] : 0.0f, w[c], acc);
            }
          }
          *out++ = clamp.apply(acc);
        }
}

void float_conv_transpose2d(const float* input, const Shape& input_shape, const float* weights,
                            const Shape& weight_shape, const float* bias, const ConvTranspose2dParams& p,
                            FloatClamp clamp, float* output) {
  const ConvShape s = conv_shape("float_conv_transpose2d", input_shape, weight_shape, p.groups);
  const int64_t oh = conv_transpose_output_size("height", s.ih, s.kh, p.stride_h, p.dilation_h, p.pad.top,
                                                p.pad.bottom, p.output_padding_h);
  const int64_t ow = conv_transpose_output_size("width", s.iw, s.kw, p.stride_w, p.dilation_w, p.pad.left,
                                                p.pad.right, p.output_padding_w);
  float* out = output;
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t oc = 0; oc < s.cout; ++oc) {
          const int64_t group = oc / s.cout_g;
          float acc = bias ? bias[oc] : 0.0f;
          // Gather form: the input pixels that land on (y, x), through which taps; the others contribute
          // nothing (no multiply by zero).
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t ty = y + p.pad.top - ky * p.dilation_h;
            if (ty < 0 || ty % p.stride_h != 0 || ty / p.stride_h >= s.ih) continue;
            const int64_t iy = ty / p.stride_h;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const int64_t tx = x + p.pad.left - kx * p.dilation_w;
              if (tx < 0 || tx % p.stride_w != 0 || tx / p.stride_w >= s.iw) continue;
              const int64_t ix = tx / p.stride_w;
              const float* a = input + ((b * s.ih + iy) * s.iw + ix) * s.cin + group * s.cin_g;
              const float* w = weights + ((oc * s.kh + ky) * s.kw + kx) * s.cin_g;
              for (int64_t c = 0; c < s.cin_g; ++c)
                acc = std::fma(a[c], w[c], acc);
            }
          }
          *out++ = clamp.apply(acc);
        }
}

}  // namespace octet::ref
