#pragma once

// Any transposed convolution with groups == 1 and no horizontal dilation, on AVX-512 VNNI, as
// stride_h x stride_w ordinary convolutions ("phases"). Output pixel (oy, ox) gathers input row
// iy = (oy + pad_top - ky * dilation_h) / stride_h for the taps ky that make the division exact, and
// which taps those are depends only on (oy + pad_top) mod stride_h; the same holds for columns. All outputs
// of one phase therefore see the same sub-kernel, and along a phase's output row consecutive pixels read
// consecutive input columns. Each phase is packed like a segmented convolution (gemm_conv2d.h): one
// segment per kernel row of the sub-kernel, holding its taps in increasing input-column order, read in
// place from the input (copies with the input zero point where the window leaves it). The phase's outputs
// sit stride_w pixels apart in an output row, which the GEMM writes through its row stride. Bit-exact with
// ref::conv_transpose2d; a phase with no taps outputs the requantized bias.

#include <cstdint>
#include <optional>
#include <vector>

#include "kernels/conv/amx_conv.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/reference/conv_transpose2d.h"

namespace octet::conv {

struct TransposedPhase {
  int64_t residue_h = 0, residue_w = 0;  // (oy + pad_top) mod stride_h, (ox + pad_left) mod stride_w
  std::vector<int64_t> row_offsets;      // per segment: iy = (oy + pad_top - residue_h) / stride_h - offset
  int64_t columns = 0;                   // taps per segment: input columns Qx - (columns - 1) .. Qx
  gemm::PackedWeights weights;           // segments of `columns` * C_in; one dummy zero segment if no taps
  std::optional<AmxConv> amx;            // avx512amx: the same segments on AMX tiles (amx_conv.h)
};

struct TransposedPhases {
  ref::ConvTranspose2dParams params;
  int64_t kernel_h = 1, kernel_w = 1, in_channels = 1, out_channels = 1;
  std::vector<TransposedPhase> phases;  // stride_h * stride_w of them
};

// Whether this kernel takes `params` on `isa`.
bool transposed_phases_apply(Isa isa, const ref::ConvTranspose2dParams& params);

// Weights [C_out, KH, KW, C_in]. Throws octet::Error as the reference operator would (same overflow guard).
template <class W>
TransposedPhases prepare_transposed_phases(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                                           const ref::ConvTranspose2dParams& params, const QuantParams& input,
                                           const QuantParams& output, Clamp clamp,
                                           RequantMode mode = RequantMode::fixed_point);

// NHWC [n, ih, iw, C_in] -> [n, oh, ow, C_out], in parallel over phases, output rows and pixel tiles.
void run(const TransposedPhases& conv, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
         uint8_t* output);

}  // namespace octet::conv
