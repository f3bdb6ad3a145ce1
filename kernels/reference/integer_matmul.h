#pragma once

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::ref {

// NumPy matmul of two uint8 tensors with per-tensor params (a QDQ MatMul of two activations: attention's
// Q K^T and its product with V): a [..., M, K], b [..., K, N], the batch dimensions broadcast, out
// [..., M, N]. Each batch is the fully connected layer of a's rows by b's columns, with b's params as the
// weights' (zero point included): the exact int32 sum of (a - z_a)(b - z_b), requantized in `mode` with
// M = s_a s_b / s_out (fixed point) or ONNX Runtime's QLinearMatMul arithmetic (float). Throws octet::Error
// for shapes that do not multiply and for sums that could overflow int32 (K * |a - z_a| * |b - z_b|, with
// the operands' actual values).
TensorU8 matmul_u8(const TensorU8& a, const TensorU8& b, const QuantParams& output, Clamp clamp,
                   RequantMode mode);

// Column n of b's batch matrix [K, N] as row n of a fully connected layer's weights [N, K].
TensorU8 matmul_weights(const uint8_t* b, int64_t k, int64_t n, const QuantParams& params);

}  // namespace octet::ref
