// Grouped convolutions as block-diagonal groups == 1 convolutions (grouped_gemm_conv.h).

#include "kernels/conv/grouped_gemm_conv.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>

#include "kernels/error.h"
#include "kernels/gemm/packed_gemm.h"

namespace octet::conv {

int64_t groups_per_part(int64_t group_out_channels, int64_t groups) {
  // Merge where whole groups fill the channel block exactly; a group of 12 channels stays alone (padded to
  // 16: fewer wasted multiplies than 24 merged channels padded to 32 with half of each block zero).
  if (group_out_channels >= gemm::kChannelBlock || gemm::kChannelBlock % group_out_channels != 0) return 1;
  return std::min(groups, gemm::kChannelBlock / group_out_channels);
}

namespace {

// The parts of `per_part` consecutive groups each.
template <class W>
GroupedGemmConv prepare_parts(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                              const ref::Conv2dParams& params, const QuantParams& input,
                              const QuantParams& output, Clamp clamp, RequantMode mode, int64_t per_part) {
  const int64_t groups = params.groups;
  const int64_t cout = weights.shape.at(0), kh = weights.shape.at(1), kw = weights.shape.at(2);
  const int64_t cin_g = weights.shape.at(3);
  const int64_t cout_g = cout / groups, taps = kh * kw;
  GroupedGemmConv c;
  c.in_channels = groups * cin_g;
  c.out_channels = cout;
  ref::Conv2dParams dense = params;
  dense.groups = 1;
  for (int64_t g0 = 0; g0 < groups; g0 += per_part) {
    const int64_t g1 = std::min(groups, g0 + per_part), channels_out = (g1 - g0) * cout_g;
    const int64_t channels_in = (g1 - g0) * cin_g;
    GroupedGemmConv::Part part;
    part.first_input = g0 * cin_g;
    part.input_channels = channels_in;
    part.first_output = g0 * cout_g;
    QuantParams wq = weights.quant;
    if (!wq.is_per_tensor()) {
      wq.scales.assign(weights.quant.scales.begin() + part.first_output,
                       weights.quant.scales.begin() + part.first_output + channels_out);
      wq.zero_points.assign(weights.quant.zero_points.begin() + part.first_output,
                            weights.quant.zero_points.begin() + part.first_output + channels_out);
    }
    // Block-diagonal weights: output channel o reads only its own group's input channels; elsewhere the
    // weight zero point, which contributes (a - z_a)(z_w - z_w) = 0 to the accumulator.
    Tensor<W> w({channels_out, kh, kw, channels_in}, wq);
    for (int64_t o = 0; o < channels_out; ++o) {
      const auto zero = static_cast<W>(wq.zero_point(o));
      const int64_t global = part.first_output + o, block = o / cout_g;
      for (int64_t t = 0; t < taps; ++t) {
        W* row = w.data.data() + (o * taps + t) * channels_in;
        std::fill(row, row + channels_in, zero);
        std::copy_n(weights.data.data() + (global * taps + t) * cin_g, cin_g, row + block * cin_g);
      }
    }
    TensorS32 part_bias;
    if (bias) {
      part_bias = TensorS32({channels_out});
      std::copy_n(bias->data.begin() + part.first_output, channels_out, part_bias.data.begin());
    }
    part.conv = prepare_gemm_conv2d(isa, w, bias ? &part_bias : nullptr, dense, input, output, clamp, mode);
    c.parts.push_back(std::move(part));
  }
  return c;
}

}  // namespace

template <class W>
GroupedGemmConv prepare_grouped_gemm_conv(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                                          const ref::Conv2dParams& params, const QuantParams& input,
                                          const QuantParams& output, Clamp clamp, RequantMode mode) {
  const int64_t groups = params.groups;
  const int64_t cout = weights.shape.at(0), kh = weights.shape.at(1), kw = weights.shape.at(2);
  const int64_t cin_g = weights.shape.at(3);
  if (groups < 2 || cout < groups || cout % groups != 0)
    throw Error("grouped conv2d: " + std::to_string(cout) + " output channels in " + std::to_string(groups) +
                " groups");
  if (bias && static_cast<int64_t>(bias->data.size()) != cout)
    throw Error("grouped conv2d: bias has " + std::to_string(bias->data.size()) + " values for " +
                std::to_string(cout) + " output channels");
  const int64_t cout_g = cout / groups, taps = kh * kw;
  // Merged parts sum over more (zero) terms: keep their accumulator bound, which the packing checks against
  // int32 from the part's K, near the layer's own.
  constexpr int64_t kMaxMergedK = int64_t{1} << 14;
  const int64_t merged = groups_per_part(cout_g, groups);
  if (merged > 1 && cin_g * taps * merged <= kMaxMergedK) {
    // The packing bounds each channel's accumulator from its part's K: a channel whose bias is near that
    // bound passes as its own group but not merged, so such a layer is packed group by group instead.
    try {
      return prepare_parts(isa, weights, bias, params, input, output, clamp, mode, merged);
    } catch (const Error&) {
    }
  }
  return prepare_parts(isa, weights, bias, params, input, output, clamp, mode, 1);
}

template GroupedGemmConv prepare_grouped_gemm_conv(Isa, const Tensor<int8_t>&, const TensorS32*,
                                                   const ref::Conv2dParams&, const QuantParams&,
                                                   const QuantParams&, Clamp, RequantMode);
template GroupedGemmConv prepare_grouped_gemm_conv(Isa, const Tensor<uint8_t>&, const TensorS32*,
                                                   const ref::Conv2dParams&, const QuantParams&,
                                                   const QuantParams&, Clamp, RequantMode);

void run(const GroupedGemmConv& c, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output) {
  const int64_t pixels = n * ih * iw;
  // Parts in parallel as well as each part's pixel tiles: a late layer's part may be one tile.
  tbb::parallel_for(size_t{0}, c.parts.size(), [&](size_t i) {
    const GroupedGemmConv::Part& part = c.parts[i];
    std::vector<uint8_t> slice;
    const uint8_t* source = input;
    if (part.input_channels != c.in_channels) {
      slice.resize(static_cast<size_t>(pixels * part.input_channels));
      for (int64_t p = 0; p < pixels; ++p)
        std::memcpy(slice.data() + p * part.input_channels, input + p * c.in_channels + part.first_input,
                    static_cast<size_t>(part.input_channels));
      source = slice.data();
    }
    run(part.conv, source, n, ih, iw, output + part.first_output, nullptr, c.out_channels);
  });
}

}  // namespace octet::conv
