#pragma once

// Convolution (groups == 1) as a GEMM over im2col rows, K = KH * KW * C_in in (ky, kx, c) order, matching
// the weights' [C_out, KH, KW, C_in] rows, one tile of output pixels at a time. Where the ISA has the
// segmented kernel, rows are read in place: a pointer per pixel and kernel row (or tap), the pixels
// grouped by the taps inside the image so that padding taps are skipped (segment_rows.h). Elsewhere they
// are copied into a small buffer (never the whole im2col matrix), padding taps holding the input zero
// point (real 0.0), as the folded bias requires. A 1x1, stride-1 convolution whose K needs no padding
// reads the NHWC input in place.

#include <cstdint>
#include <optional>
#include <vector>

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
  // Weights packed in segments, A read through pointers per pixel and segment (segment_rows.h): one
  // segment per kernel row, or with horizontal dilation one per tap.
  bool segmented = false;
  bool per_tap_segments = false;
  // Each tap's weights summed over the input channels, [kernel_h * kernel_w][n_padded]: what a pixel that
  // skips a padding tap starts its sums from (segmented layouts only).
  std::vector<int32_t> tap_sums;
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
