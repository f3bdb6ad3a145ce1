#pragma once

// Convolution (groups == 1) as a GEMM over im2col rows, built one tile of output pixels at a time in a
// small buffer (never the whole im2col matrix): rows are the tile's pixels, K = KH * KW * C_in in
// (ky, kx, c) order, matching the weights' [C_out, KH, KW, C_in] rows. Padding taps hold the input zero
// point (real 0.0), as the folded bias requires. A 1x1, stride-1 convolution whose K needs no padding
// reads the NHWC input in place.

#include <cstdint>
#include <optional>

#include "kernels/conv/amx_conv.h"
#include "kernels/conv/conv_pixel_lanes.h"
#include "kernels/conv/residual_add.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/reference/conv2d.h"

namespace octet::conv {

struct GemmConv2d {
  ref::Conv2dParams params;
  int64_t kernel_h = 1, kernel_w = 1, in_channels = 1, out_channels = 1;
  gemm::PackedWeights weights;
  bool segmented = false;  // weights packed in kernel-row segments, A read through segment pointers
  // Few output channels over tiny input rows (conv_pixel_lanes.h), where the CPU has that kernel: run
  // instead of the GEMM.
  std::optional<PixelLaneConv> pixel_lanes;
  // avx512amx, where the pixel-lane kernel does not take the layer: run the GEMM on AMX tiles, on the A
  // rows of the VNNI path (in place, the segment table, im2col rows).
  std::optional<AmxConv> amx;
};

// Packs a groups == 1 convolution for `isa` (avx512amx: for the VNNI kernels, and for AMX tiles as `amx`).
// Weights [C_out, KH, KW, C_in].
template <class W>
GemmConv2d prepare_gemm_conv2d(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                               const ref::Conv2dParams& params, const QuantParams& input,
                               const QuantParams& output, Clamp clamp,
                               RequantMode mode = RequantMode::fixed_point);

// Runs it on NHWC uint8 `input` [n, ih, iw, C_in] into `output` [n, oh, ow, C_out], in parallel over
// tiles of output pixels inside the caller's oneTBB arena. The same bytes for any thread count. With
// `residual`, each tile's output goes through that operator as soon as it is stored (residual_add.h).
// `output_stride` > 0: output pixels that many bytes apart (>= C_out; a convolution writing its channels
// into a concatenation's output), without `residual`; the bytes between them are left as they are.
void run(const GemmConv2d& conv, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output,
         const ResidualAdd* residual = nullptr, int64_t output_stride = 0);

}  // namespace octet::conv
