#pragma once

// Transposed convolutions whose kernel equals their stride (the case of transposed_gemm.h) with few output
// values per input pixel, N = KH * KW * C_out <= 16 (a segmentation head's 2x2 upsampling to 1 to 4
// channels), on AVX-512 VNNI. The GEMM of transposed_gemm.h gives each input pixel a 16-lane register of
// which only N lanes are used, and then copies each pixel's few result bytes into the output one by one.
// Here a register holds P = 16 / T input pixels x T lanes (T: N rounded up to a power of two): lane (p, t)
// accumulates output value t of pixel p. vpdpbusd multiplies 4 input channels at a time, so the 4 bytes of
// lane (p, t) must be channels 4q..4q+3 of pixel p: one vpermt2d per k group builds them from the P pixels'
// bytes, loaded once (at most 128 bytes, hence C_in * P <= 128). The epilogue requantizes 16 lanes (P pixels)
// at a time, and one byte shuffle per kernel row gathers that row's KW * C_out bytes of each pixel, which are
// one contiguous run of the output row. Bit-exact with ref::conv_transpose2d (the same folded bias and
// requantization as the GEMM, per lane).

#include <cstdint>
#include <vector>

#include "kernels/gemm/packed_gemm.h"
#include "kernels/quantization/channel_requant.h"

namespace octet::conv {

struct SmallTransposed {
  int64_t kernel_h = 1, kernel_w = 1, in_channels = 4, out_channels = 1;
  int64_t lanes_per_pixel = 1;  // T
  // [C_in / 4][16][4]: lane (p, t) holds value t's weights for channels 4q..4q+3 (zero for t >= N).
  std::vector<int8_t> weights;
  // 16 lanes, lane (p, t) with value t's constants (the GEMM's folded bias and multipliers).
  ChannelRequant requant;
  bool needs_row_sums = false;  // asymmetric weights: lanes subtract z_w[t] * (pixel p's channel sum)
};

// Whether `isa` has this kernel for a kernel == stride transposed convolution of these sizes: AVX-512
// VNNI, C_in a multiple of 4, N = KH * KW * C_out <= 16 (but not KW * C_out = 16, which the GEMM writes in
// place), and P pixels of C_in bytes within 128 bytes.
bool small_transposed_applies(Isa isa, int64_t kernel_h, int64_t kernel_w, int64_t in_channels,
                              int64_t out_channels);

// Spreads the GEMM's packed weights (rows (ky, kx, oc), K = C_in, see transposed_gemm.h) over the lanes.
SmallTransposed prepare_small_transposed(const gemm::PackedWeights& gemm_weights, int64_t kernel_h,
                                         int64_t kernel_w, int64_t in_channels, int64_t out_channels);

// NHWC input [n, ih, iw, C_in] -> output [n, ih * KH, iw * KW, C_out], in parallel over input rows.
void run(const SmallTransposed& conv, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
         uint8_t* output);

// The AVX-512 VNNI kernel (kernels/x86/transposed_small_avx512.cpp): input rows [first, first + count)
// of the n * ih rows, each writing its KH output rows.
void transposed_small_rows_avx512vnni(const SmallTransposed& conv, const uint8_t* input,
                                      const uint8_t* input_end, int64_t ih, int64_t iw, int64_t first,
                                      int64_t count, uint8_t* output);

}  // namespace octet::conv
