#pragma once

// Transposed convolution whose kernel equals its stride, without padding or dilation (the 2x2 stride-2
// upsampling of a U-Net): every output pixel then receives exactly one tap of exactly one input pixel, so
// the whole layer is one GEMM, input pixels x (KH * KW * C_out) columns, whose results scatter into
// KH x KW output blocks. Bit-exact with ref::conv_transpose2d, on the GEMM kernels of any ISA.

#include <cstdint>
#include <optional>

#include "kernels/conv/amx_conv.h"
#include "kernels/conv/transposed_small.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/reference/conv_transpose2d.h"

namespace octet::conv {

struct TransposedGemm {
  int64_t kernel_h = 1, kernel_w = 1, in_channels = 1, out_channels = 1;
  gemm::PackedWeights weights;  // rows (ky, kx, oc), K = C_in
  // Few output values per input pixel (transposed_small.h), where the ISA has that kernel: run instead.
  std::optional<SmallTransposed> small;
  // avx512amx, where the small kernel does not take the layer: the GEMM on AMX tiles (amx_conv.h).
  std::optional<AmxConv> amx;
};

// Whether `params` and the weights' kernel size allow this kernel.
bool transposed_gemm_applies(const ref::ConvTranspose2dParams& params, int64_t kernel_h, int64_t kernel_w);

// Weights [C_out, KH, KW, C_in] (groups == 1).
template <class W>
TransposedGemm prepare_transposed_gemm(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                                       const QuantParams& input, const QuantParams& output, Clamp clamp,
                                       RequantMode mode = RequantMode::fixed_point);

// NHWC input [n, ih, iw, C_in] -> output [n, ih * KH, iw * KW, C_out], in parallel over input pixels.
// `output_stride` > 0: output pixels that many bytes apart (>= C_out: a convolution writing its channels
// into a concatenation's output); the bytes between them are left as they are.
void run(const TransposedGemm& conv, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output,
         int64_t output_stride = 0);

}  // namespace octet::conv
