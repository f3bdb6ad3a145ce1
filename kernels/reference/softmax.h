#pragma once

#include "kernels/tensor.h"

namespace octet::ref {

// Softmax over the last axis of a uint8 tensor.
// exp(s * (q - max_q)) depends only on the integer difference d = max_q - q in [0, 255], so it is a 256-entry
// table of fixed-point values (kSoftmaxExpBits fractional bits); the row sum is exact int64 arithmetic and
// each output is one double division, so every kernel can reproduce the reference bit for bit.
constexpr int kSoftmaxExpBits = 24;

TensorF32 softmax_float(const TensorU8& input);

// As softmax_float, then quantized to `output` (typically scale 1/256, zero point 0).
TensorU8 softmax_u8(const TensorU8& input, const QuantParams& output);

}  // namespace octet::ref
