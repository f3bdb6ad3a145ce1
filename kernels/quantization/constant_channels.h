#pragma once

// Output channels whose output no accumulator can change. Quantizers protect an int32 bias from overflow by
// raising a channel's weight scale (or write a dead channel with a scale like 7e-36 and a bias near
// INT32_MIN): then every accumulator the channel can reach requantizes to the same output byte, yet the
// worst-case accumulator exceeds int32, which a kernel must not risk. Such a channel is rewritten to
// compute that byte exactly with no risk at all: its weights at their zero point (contributing nothing),
// its multiplier 1 (weight scale s_out / s_in) and its bias the byte minus the output zero point.
// ONNX defines the channel's output as the exact real result quantized (round half to even, saturate);
// the byte is that, evaluated at both ends of the accumulator's reachable range.

#include <cstdint>
#include <vector>

#include "kernels/quantization/clamp.h"
#include "kernels/tensor.h"

namespace octet {

// Rewrites, in `weights` ([out_channels, reduction], per-tensor params become per-channel when needed) and
// `bias` (created when absent, zero for the other channels), every output channel whose worst-case
// accumulator exceeds int32 but whose output byte is the same for every reachable accumulator. Returns the
// indices of the rewritten channels. Channels that could still overflow are left for the overflow check.
template <class W>
std::vector<int64_t> settle_constant_channels(const QuantParams& input, Tensor<W>& weights, TensorS32& bias,
                                              bool& has_bias, const QuantParams& output, Clamp clamp,
                                              int64_t out_channels, int64_t reduction);

}  // namespace octet
