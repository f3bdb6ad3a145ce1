#pragma once

#include <cstdint>

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::ref {

struct Padding2d {
  int64_t top = 0;
  int64_t left = 0;
  int64_t bottom = 0;
  int64_t right = 0;
};

struct Conv2dParams {
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t dilation_h = 1;
  int64_t dilation_w = 1;
  Padding2d pad;
  int64_t groups = 1;
};

// Output spatial size of a convolution window sweep (also used by pooling); throws naming `op` when the
// dilated kernel is larger than the padded input or a parameter is out of range.
int64_t conv_output_size(std::string_view op, std::string_view axis, int64_t input, int64_t kernel,
                         int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end);

// Quantized 2-D convolution, NHWC.
//   input   uint8 [N, H, W, C_in], per-tensor params
//   weights int8 or uint8 [C_out, KH, KW, C_in / groups], per-tensor or per-output-channel (axis 0) params,
//           any zero points
//   bias    optional int32 [C_out] (scale s_in * s_w[c], zero point 0)
// Returns uint8 [N, OH, OW, C_out] quantized with `output` and clamped to `clamp`. Depthwise is
// groups == C_in with C_out a multiple of C_in. Padding taps read the input's zero point (real 0.0).
template <class W>
TensorU8 conv2d(const TensorU8& input, const Tensor<W>& weights, const TensorS32* bias,
                const Conv2dParams& params, const QuantParams& output, Clamp clamp = {},
                RequantMode mode = RequantMode::fixed_point);

}  // namespace octet::ref
