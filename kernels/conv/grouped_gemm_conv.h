#pragma once

// Grouped convolutions (1 < groups, more than one input channel per group or more than one output channel
// per input channel: ResNeXt, RegNet, grouped 1x1 layers) on the GEMM. Each part is a run of consecutive
// groups computed as one groups == 1 convolution (gemm_conv2d.h) whose weights hold the weight zero point
// (real 0) outside its groups' diagonal blocks, so its accumulators are the grouped convolution's exactly.
// Groups with fewer than 16 output channels are merged until a part has 16 (the GEMM's channel block, to
// which it pads each part's channels anyway): a merged part does as many multiplies as the padded one
// would, in one pass over its pixels instead of several. A part's input channels are copied out of the
// NHWC input (a small fraction of the multiplies' time); its output is written in place, its pixels the
// whole output's channel count apart.

#include <cstdint>
#include <vector>

#include "kernels/conv/gemm_conv2d.h"

namespace octet::conv {

struct GroupedGemmConv {
  struct Part {
    GemmConv2d conv;
    int64_t first_input = 0, input_channels = 0;  // its channels of the input
    int64_t first_output = 0;                     // its first output channel
  };
  std::vector<Part> parts;
  int64_t in_channels = 0, out_channels = 0;
};

// How many consecutive groups of `group_out_channels` output channels one part takes.
int64_t groups_per_part(int64_t group_out_channels, int64_t groups);

// Packs a grouped convolution (params.groups > 1) for `isa`. Weights [C_out, KH, KW, C_in / groups].
template <class W>
GroupedGemmConv prepare_grouped_gemm_conv(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                                          const ref::Conv2dParams& params, const QuantParams& input,
                                          const QuantParams& output, Clamp clamp,
                                          RequantMode mode = RequantMode::fixed_point);

// Runs it on NHWC uint8 `input` [n, ih, iw, C_in] into `output` [n, oh, ow, C_out], in parallel over the
// parts and each part's pixels inside the caller's oneTBB arena. The same bytes for any thread count.
void run(const GroupedGemmConv& conv, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
         uint8_t* output);

}  // namespace octet::conv
