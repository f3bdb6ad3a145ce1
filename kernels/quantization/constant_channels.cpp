#include "kernels/quantization/constant_channels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace octet {

namespace {

// The model's output byte for accumulator `acc` (exact real arithmetic, round half to even, clamp).
int32_t exact_output(double acc, double multiplier, int32_t zero_point, Clamp clamp) {
  const double q = std::nearbyint(acc * multiplier) + zero_point;
  return static_cast<int32_t>(std::clamp(q, static_cast<double>(clamp.min), static_cast<double>(clamp.max)));
}

}  // namespace

template <class W>
std::vector<int64_t> settle_constant_channels(const QuantParams& input, Tensor<W>& weights, TensorS32& bias,
                                              bool& has_bias, const QuantParams& output, Clamp clamp,
                                              int64_t out_channels, int64_t reduction) {
  std::vector<int64_t> settled;
  const int32_t za = input.zero_point();
  const double s_in = input.scale(), s_out = output.scale();
  const int64_t max_input_dev = std::max(za, 255 - za);
  for (int64_t c = 0; c < out_channels; ++c) {
    const int32_t zw = weights.quant.zero_point(c);
    const W* row = weights.data.data() + c * reduction;
    const int64_t b = has_bias ? bias.data[static_cast<size_t>(c)] : 0;
    // Every channel is checked at load, so the common case (no overflow risk) is one integer pass that the
    // compiler vectorises; the exact reachable range is computed only for the rare channels at risk.
    int32_t max_weight_dev = 0;
    for (int64_t k = 0; k < reduction; ++k)
      max_weight_dev = std::max(max_weight_dev, std::abs(static_cast<int32_t>(row[k]) - zw));
    const int64_t bound = reduction * max_input_dev * max_weight_dev + std::abs(b);
    if (bound <= std::numeric_limits<int32_t>::max()) continue;  // no overflow risk: nothing to settle
    // The reachable accumulators: each product (a - za)(w - zw) ranges over a in [0, 255].
    double lo = static_cast<double>(b), hi = lo;
    for (int64_t k = 0; k < reduction; ++k) {
      const int64_t d = row[k] - zw;
      const double p0 = static_cast<double>(-za * d), p1 = static_cast<double>((255 - za) * d);
      lo += std::min(p0, p1);
      hi += std::max(p0, p1);
    }
    const double m = s_in * static_cast<double>(weights.quant.scale(c)) / s_out;
    const int32_t byte = exact_output(lo, m, output.zero_point(), clamp);
    if (byte != exact_output(hi, m, output.zero_point(), clamp)) continue;  // the overflow check reports it
    if (weights.quant.is_per_tensor())
      weights.quant =
          QuantParams::per_axis(std::vector<float>(static_cast<size_t>(out_channels), weights.quant.scale()),
                                std::vector<int32_t>(static_cast<size_t>(out_channels), zw), 0);
    weights.quant.scales[static_cast<size_t>(c)] = static_cast<float>(s_out / s_in);
    std::fill(weights.data.begin() + c * reduction, weights.data.begin() + (c + 1) * reduction,
              static_cast<W>(zw));
    if (!has_bias) {
      bias = TensorS32({out_channels});
      has_bias = true;
    }
    bias.data[static_cast<size_t>(c)] = byte - output.zero_point();
    if (!bias.quant.scales.empty()) bias.quant.scales[static_cast<size_t>(c)] = static_cast<float>(s_out);
    settled.push_back(c);
  }
  return settled;
}

template std::vector<int64_t> settle_constant_channels(const QuantParams&, Tensor<int8_t>&, TensorS32&, bool&,
                                                       const QuantParams&, Clamp, int64_t, int64_t);
template std::vector<int64_t> settle_constant_channels(const QuantParams&, Tensor<uint8_t>&, TensorS32&,
                                                       bool&, const QuantParams&, Clamp, int64_t, int64_t);

}  // namespace octet
