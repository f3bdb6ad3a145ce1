#pragma once

#include <cstdint>

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/reference/conv2d.h"
#include "kernels/tensor.h"

namespace octet::ref {

struct ConvTranspose2dParams {
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t dilation_h = 1;
  int64_t dilation_w = 1;
  Padding2d pad;  // removed from the full output, as ONNX's pads
  int64_t output_padding_h = 0;
  int64_t output_padding_w = 0;
  int64_t groups = 1;
};

// Output size of a transposed convolution along one axis:
// (input - 1) * stride - pad_begin - pad_end + dilation * (kernel - 1) + output_padding + 1.
int64_t conv_transpose_output_size(std::string_view axis, int64_t input, int64_t kernel, int64_t stride,
                                   int64_t dilation, int64_t pad_begin, int64_t pad_end,
                                   int64_t output_padding);

// Quantized 2-D transposed convolution (the gradient of conv2d with respect to its input), NHWC.
//   input   uint8 [N, H, W, C_in], per-tensor params
//   weights int8 or uint8 [C_out, KH, KW, C_in / groups] (the same layout as conv2d's: output channel
//           first), per-tensor or per-output-channel params; output channel oc of group g reads input
//           channels [g * C_in/groups, (g + 1) * C_in/groups)
//   bias    optional int32 [C_out]
// Input pixel (iy, ix) contributes through tap (ky, kx) to output pixel
// (iy * stride_h - pad.top + ky * dilation_h, ix * stride_w - pad.left + kx * dilation_w).
template <class W>
TensorU8 conv_transpose2d(const TensorU8& input, const Tensor<W>& weights, const TensorS32* bias,
                          const ConvTranspose2dParams& params, const QuantParams& output, Clamp clamp = {},
                          RequantMode mode = RequantMode::fixed_point);

}  // namespace octet::ref
