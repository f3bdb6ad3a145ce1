#pragma once

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::ref {

// Quantized fully connected layer (Gemm / MatMul with constant int8 weights):
//   input   uint8 [..., K] (every leading dimension is a batch dimension), per-tensor params
//   weights int8 or uint8 [C_out, K], per-tensor or per-output-channel (axis 0) params
//   bias    optional int32 [C_out]
// Returns uint8 [..., C_out].
template <class W>
TensorU8 fully_connected(const TensorU8& input, const Tensor<W>& weights, const TensorS32* bias,
                         const QuantParams& output, Clamp clamp = {},
                         RequantMode mode = RequantMode::fixed_point);

}  // namespace octet::ref
