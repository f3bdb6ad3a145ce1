#include "kernels/reference/conv_transpose2d.h"

#include <string>

#include "kernels/error.h"
#include "kernels/quantization/conv_requant.h"
#include "kernels/quantization/fixed_point.h"

namespace octet::ref {

int64_t conv_transpose_output_size(std::string_view axis, int64_t input, int64_t kernel, int64_t stride,
                                   int64_t dilation, int64_t pad_begin, int64_t pad_end,
                                   int64_t output_padding) {
  const std::string where = "conv_transpose2d: " + std::string(axis);
  if (kernel < 1) throw Error(where + " kernel size must be >= 1, got " + std::to_string(kernel));
  if (stride < 1) throw Error(where + " stride must be >= 1, got " + std::to_string(stride));
  if (dilation < 1) throw Error(where + " dilation must be >= 1, got " + std::to_string(dilation));
  if (pad_begin < 0 || pad_end < 0) throw Error(where + " padding must be >= 0");
  if (output_padding < 0 || (output_padding >= stride && output_padding >= dilation))
    throw Error(where + " output_padding " + std::to_string(output_padding) +
                " must be >= 0 and smaller than the stride or the dilation");
  // (input - 1) stride - pads + dilation (kernel - 1) + output_padding + 1, each step checked: a malformed
  // model's attributes can be anything up to 2^63.
  int64_t size = 0, extent = 0;
  if (__builtin_mul_overflow(input - 1, stride, &size) || __builtin_sub_overflow(size, pad_begin, &size) ||
      __builtin_sub_overflow(size, pad_end, &size) || __builtin_mul_overflow(dilation, kernel - 1, &extent) ||
      __builtin_add_overflow(size, extent, &size) || __builtin_add_overflow(size, output_padding + 1, &size))
    throw Error(where + " size overflows: input " + std::to_string(input) + ", stride " +
                std::to_string(stride) + ", padding " + std::to_string(pad_begin) + " + " +
                std::to_string(pad_end) + ", kernel " + std::to_string(kernel) + ", dilation " +
                std::to_string(dilation));
  if (size < 1)
    throw Error(where + " padding " + std::to_string(pad_begin) + " + " + std::to_string(pad_end) +
                " removes the whole output (size " + std::to_string(size) + ")");
  return size;
}

template <class W>
TensorU8 conv_transpose2d(const TensorU8& input, const Tensor<W>& weights, const TensorS32* bias,
                          const ConvTranspose2dParams& p, const QuantParams& output, Clamp clamp,
                          RequantMode mode) {
  constexpr std::string_view op = "conv_transpose2d";
  check_nhwc(input, "conv_transpose2d input");
  check_nhwc(weights, "conv_transpose2d weights");
  const int64_t n = input.dim(0), ih = input.dim(1), iw = input.dim(2), cin = input.dim(3);
  const int64_t cout = weights.dim(0), kh = weights.dim(1), kw = weights.dim(2), cin_g = weights.dim(3);
  if (p.groups < 1 || cin % p.groups != 0 || cout % p.groups != 0)
    throw Error("conv_transpose2d: group count " + std::to_string(p.groups) + " must divide input channels " +
                std::to_string(cin) + " and output channels " + std::to_string(cout));
  if (cin_g != cin / p.groups)
    throw Error("conv_transpose2d: weights have " + std::to_string(cin_g) +
                " input channels per group, expected " + std::to_string(cin / p.groups));
  const int64_t oh = conv_transpose_output_size("height", ih, kh, p.stride_h, p.dilation_h, p.pad.top,
                                                p.pad.bottom, p.output_padding_h);
  const int64_t ow = conv_transpose_output_size("width", iw, kw, p.stride_w, p.dilation_w, p.pad.left,
                                                p.pad.right, p.output_padding_w);
  const ConvRequant rq =
      prepare_conv_requant(op, input, weights, bias, output, clamp, cout, kh * kw * cin_g, mode);

  TensorU8 out({n, oh, ow, cout}, output);
  const int64_t cout_g = cout / p.groups;
  const int32_t za = rq.input_zero_point;
  size_t o = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t oc = 0; oc < cout; ++oc) {
          const int64_t group = oc / cout_g;
          const int32_t zw = rq.weight_zero_points[static_cast<size_t>(oc)];
          int32_t acc = bias ? bias->data[static_cast<size_t>(oc)] : 0;
          // Gather form: which input pixels land on (y, x) through which taps.
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int64_t ty = y + p.pad.top - ky * p.dilation_h;
            if (ty < 0 || ty % p.stride_h != 0 || ty / p.stride_h >= ih) continue;
            const int64_t iy = ty / p.stride_h;
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t tx = x + p.pad.left - kx * p.dilation_w;
              if (tx < 0 || tx % p.stride_w != 0 || tx / p.stride_w >= iw) continue;
              const int64_t ix = tx / p.stride_w;
              const uint8_t* a =
                  &input.data[static_cast<size_t>(((b * ih + iy) * iw + ix) * cin + group * cin_g)];
              const W* w = &weights.data[static_cast<size_t>(((oc * kh + ky) * kw + kx) * cin_g)];
              for (int64_t c = 0; c < cin_g; ++c)
                acc += (a[c] - za) * (w[c] - zw);
            }
          }
          out.data[o++] = static_cast<uint8_t>(rq.requantize(acc, oc));
        }
  return out;
}

template TensorU8 conv_transpose2d(const TensorU8&, const Tensor<int8_t>&, const TensorS32*,
                                   const ConvTranspose2dParams&, const QuantParams&, Clamp, RequantMode);
template TensorU8 conv_transpose2d(const TensorU8&, const Tensor<uint8_t>&, const TensorS32*,
                                   const ConvTranspose2dParams&, const QuantParams&, Clamp, RequantMode);

}  // namespace octet::ref
