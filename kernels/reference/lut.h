#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "kernels/tensor.h"

namespace octet::ref {

using Lut = std::array<uint8_t, 256>;

// The uint8 -> uint8 table of any real function f: entry q is quantize(f(dequantize(q, in)), out), with f
// evaluated in double and the result quantized like ONNX QuantizeLinear. A single-input elementwise op
// between a Dequantize and a Quantize is exactly this table, so no per-op kernel is needed.
Lut make_lut(const std::function<double(double)>& f, const QuantParams& input, const QuantParams& output);

enum class LutActivation { sigmoid, hard_sigmoid, hard_swish, tanh, leaky_relu };

// Tables of the common activations with ONNX's definitions: hard_sigmoid(x) = clamp(alpha * x + beta, 0, 1)
// (ONNX defaults alpha 0.2, beta 0.5), hard_swish(x) = x * clamp(x / 6 + 1/2, 0, 1), leaky_relu(x) =
// x >= 0 ? x : alpha * x (ONNX default alpha 0.01). Unused parameters are ignored.
Lut activation_lut(LutActivation activation, const QuantParams& input, const QuantParams& output,
                   double alpha = 0.0, double beta = 0.0);

// Maps every element through the table; the result carries `output` params.
TensorU8 apply_lut(const TensorU8& input, const Lut& table, const QuantParams& output);

}  // namespace octet::ref
