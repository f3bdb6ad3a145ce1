#include "kernels/reference/conv2d.h"

#include <string>

#include "kernels/error.h"
#include "kernels/quantization/conv_requant.h"
#include "kernels/quantization/fixed_point.h"

namespace octet::ref {

int64_t conv_output_size(std::string_view op, std::string_view axis, int64_t input, int64_t kernel,
                         int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end) {
  const std::string where = std::string(op) + ": " + std::string(axis);
  if (kernel < 1) throw Error(where + " kernel size must be >= 1, got " + std::to_string(kernel));
  if (stride < 1) throw Error(where + " stride must be >= 1, got " + std::to_string(stride));
  if (dilation < 1) throw Error(where + " dilation must be >= 1, got " + std::to_string(dilation));
  if (pad_begin < 0 || pad_end < 0) throw Error(where + " padding must be >= 0");
  // A malformed model's attributes can be anything up to 2^63: the sums are checked, not left to wrap.
  int64_t padded = 0, extent = 0;
  if (__builtin_add_overflow(input, pad_begin, &padded) || __builtin_add_overflow(padded, pad_end, &padded) ||
      __builtin_mul_overflow(dilation, kernel - 1, &extent) || __builtin_add_overflow(extent, 1, &extent))
    throw Error(where + " size overflows: input " + std::to_string(input) + ", padding " +
                std::to_string(pad_begin) + " + " + std::to_string(pad_end) + ", kernel " +
                std::to_string(kernel) + ", dilation " + std::to_string(dilation));
  if (extent > padded)
    throw Error(where + " kernel extent " + std::to_string(extent) + " is larger than the padded input " +
                std::to_string(padded));
  return (padded - extent) / stride + 1;
}

template <class W>
TensorU8 conv2d(const TensorU8& input, const Tensor<W>& weights, const TensorS32* bias, const Conv2dParams& p,
                const QuantParams& output, Clamp clamp, RequantMode mode) {
  constexpr std::string_view op = "conv2d";
  check_nhwc(input, "conv2d input");
  check_nhwc(weights, "conv2d weights");
  const int64_t n = input.dim(0), ih = input.dim(1), iw = input.dim(2), cin = input.dim(3);
  const int64_t cout = weights.dim(0), kh = weights.dim(1), kw = weights.dim(2), cin_g = weights.dim(3);
  if (p.groups < 1 || cin % p.groups != 0 || cout % p.groups != 0)
    throw Error("conv2d: group count " + std::to_string(p.groups) + " must divide input channels " +
                std::to_string(cin) + " and output channels " + std::to_string(cout));
  if (cin_g != cin / p.groups)
    throw Error("conv2d: weights have " + std::to_string(cin_g) + " input channels per group, expected " +
                std::to_string(cin / p.groups));
  const int64_t oh =
      conv_output_size(op, "height", ih, kh, p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom);
  const int64_t ow = conv_output_size(op, "width", iw, kw, p.stride_w, p.dilation_w, p.pad.left, p.pad.right);
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
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
            if (iy < 0 || iy >= ih) continue;  // padding: a - z_a == 0
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
              if (ix < 0 || ix >= iw) continue;
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

template TensorU8 conv2d(const TensorU8&, const Tensor<int8_t>&, const TensorS32*, const Conv2dParams&,
                         const QuantParams&, Clamp, RequantMode);
template TensorU8 conv2d(const TensorU8&, const Tensor<uint8_t>&, const TensorS32*, const Conv2dParams&,
                         const QuantParams&, Clamp, RequantMode);

}  // namespace octet::ref
