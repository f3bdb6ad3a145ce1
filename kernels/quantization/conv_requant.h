#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/float_requant.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet {

// Everything a convolution-like operator (conv, transposed conv, fully connected) needs to turn its int32
// accumulators into uint8 outputs: one multiplier per output channel, M[c] = s_in * s_w[c] / s_out, and the
// zero points. Computed once per layer (at load time in the runtime), shared by every kernel.
struct ConvRequant {
  int32_t input_zero_point = 0;
  std::vector<int32_t> weight_zero_points;  // one per output channel
  RequantMode mode = RequantMode::fixed_point;
  std::vector<FixedMultiplier> multipliers;  // one per output channel (fixed_point)
  std::vector<float> scales;                 // one per output channel (float_scale): float_requant_scale
  int32_t output_zero_point = 0;
  Clamp clamp;
  // The largest |acc| * scale any channel can reach (float_scale: what the float epilogue converts),
  // from the overflow bound; infinity when not known.
  double max_float_magnitude = std::numeric_limits<double>::infinity();

  // Output channel c's byte for the full accumulator (bias and zero-point terms included), in `mode`.
  int32_t requantize(int32_t acc, int64_t c) const {
    const auto i = static_cast<size_t>(c);
    return mode == RequantMode::float_scale
               ? requantize_float(acc, scales[i], output_zero_point, clamp.min, clamp.max)
               : octet::requantize(acc, multipliers[i], output_zero_point, clamp.min, clamp.max);
  }
};

// Validates the params of input (uint8, per-tensor), weights (per-tensor or per-axis along axis 0, the
// output channel), bias (int32 [out_channels], zero point 0, scale s_in * s_w[c] to 1e-3 relative) and
// output (uint8, per-tensor), and proves that no accumulator can overflow int32: for every output channel
// c, `reduction` * max|a - z_a| * max|w - z_w[c]| + |bias[c]| <= INT32_MAX, with the maxima taken over the
// actual weights. `weights` holds out_channels rows of `reduction` elements each. Throws octet::Error
// naming `op` and the parameter otherwise. Both modes' constants are computed; `mode` says which applies.
template <class W>
ConvRequant prepare_conv_requant(std::string_view op, const TensorU8& input, const Tensor<W>& weights,
                                 const TensorS32* bias, const QuantParams& output, Clamp clamp,
                                 int64_t out_channels, int64_t reduction,
                                 RequantMode mode = RequantMode::fixed_point);

// The same for weights that are not held in a Tensor (packing reads them in place instead of copying them).
template <class W>
ConvRequant prepare_conv_requant(std::string_view op, const TensorU8& input, std::span<const W> weights,
                                 const Shape& weight_shape, const QuantParams& weight_params,
                                 const TensorS32* bias, const QuantParams& output, Clamp clamp,
                                 int64_t out_channels, int64_t reduction,
                                 RequantMode mode = RequantMode::fixed_point);

}  // namespace octet
