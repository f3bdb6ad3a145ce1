#pragma once

// int64 arithmetic and comparisons with NumPy broadcasting, as ONNX defines them for integer tensors: the
// index arithmetic detection and keypoint heads run on TopK / ArgMax indices (CenterNet's x = index % W,
// y = index / W) and the ignore-index masks of the loss functions. Integer tensors are small there (a few
// indices per image), so this one reference serves every ISA.

#include <cstdint>
#include <string_view>

#include "kernels/reference/float_elementwise.h"
#include "kernels/tensor.h"

namespace octet::ref {

// The binary operators int64 tensors have: add, sub, mul (wrapping around on overflow, as two's complement
// hardware does), div (truncated toward zero, as C and ONNX Runtime), mod (the sign of the divisor, Python's
// %) and fmod (the sign of the dividend, C's %), min, max and the comparisons (bool out).
bool int64_computes(BinaryOp op);

// out = a op b; out has broadcast_shape(sa, sb) of int64 (bool for comparisons). A zero divisor in div,
// mod or fmod throws octet::Error naming `what` and the divisor's element, before anything is written;
// INT64_MIN / -1 wraps to INT64_MIN (its remainder is 0).
void int64_binary(BinaryOp op, const int64_t* a, const Shape& sa, const int64_t* b, const Shape& sb,
                  void* out, std::string_view what);

}  // namespace octet::ref
