#pragma once

// Depthwise convolution (groups == C_in == C_out), vectorised over channels: each output pixel is a sum
// over the KH x KW taps, per channel. Padding taps point at a row of input zero points (an indirection
// buffer, built per output row), so every tap contributes (a - z_a) uniformly and z_a folds into the bias.
// Taps are processed in pairs: two activations and two weights per 32-bit lane, multiplied as int16 with
// vpdpwssd / vpmaddwd, which is exact for (a, w - z_w) in [0, 255] x [-255, 255]. On AVX-512 and AVX2, 3x3,
// 5x5 and 7x7 layers (any dilation) take a column kernel instead (depthwise_row_columns_*): each input
// column of a block of output pixels is loaded once and its rows paired (AVX2, and AVX-512 3x3 with any
// weights), or, on AVX-512 where every w - z_w fits int8 (symmetric int8 weights), a kernel column's taps
// are multiplied as bytes with vpdpbusd, four rows at a time.

#include <cstdint>
#include <vector>

#include "kernels/isa.h"
#include "kernels/quantization/channel_requant.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/reference/conv2d.h"

namespace octet::conv {

// Channels per vector block of the packed weights (AVX-512: one zmm of int32 lanes).
constexpr int64_t kDepthwiseBlock = 16;

// Within a 64-channel block of DepthwiseConv2d::lanes64: the channel at entry `position` (16v + 4L + i:
// vector v, 128-bit lane L, dword i) is 16L + 4v + i. Its own inverse.
constexpr int64_t lanes64_channel(int64_t position) {
  return (position & ~int64_t{63}) | (((position >> 4) & 3) << 2) | (((position >> 2) & 3) << 4) |
         (position & 3);
}

// The largest kernel size K of the column kernels (DepthwiseConv2d::column_kernel).
constexpr int64_t kMaxColumnKernel = 7;

struct DepthwiseConv2d {
  Isa isa = Isa::scalar;
  ref::Conv2dParams params;
  int64_t kernel_h = 1, kernel_w = 1, channels = 1, channels_padded = 16;
  int64_t tap_pairs = 1;  // ceil(KH * KW / 2)
  // int16 [tap_pairs][channels_padded][2]: w - z_w of taps 2p and 2p + 1 (0 past the last tap).
  std::vector<int16_t> weights;
  ChannelRequant requant;         // bias folded: bias - z_a * sum_taps (w - z_w)
  std::vector<uint8_t> zero_row;  // channels_padded bytes of z_a: where padding taps point
  // The column kernel's K (kernel_h == kernel_w == K, stride_w 1 or 2, AVX-512 or AVX2; dilated rows only
  // where their phases are wide enough, see run()): 3, 5
  // or 7; 0 where the tap kernel runs. AVX2 and AVX-512 3x3 layers take it with any weights, AVX-512 5x5
  // and 7x7 ones where column_bytes is set.
  int64_t column_kernel = 0;
  // The column kernel's weights as int16 pairs (AVX2, and AVX-512 3x3): int16 [P][K][channels_padded][2]
  // with P = ceil(K / 2), for pair p and column kx (w[2p][kx], w[2p + 1][kx]), 0 past row K - 1. Empty when
  // not used.
  std::vector<int16_t> column_weights;
  // The column kernel's weights as bytes where every w - z_w fits int8 (symmetric int8 weights), for
  // vpdpbusd: int8 [K][Q][channels_padded][4] with Q = ceil(K / 4) quads per kernel column, for each kx the
  // quads (w[0][kx], w[1][kx], w[2][kx], w[3][kx]) and then (w[4][kx], 0, 0, 0) (5x5) or (w[4][kx],
  // w[5][kx], w[6][kx], 0) (7x7), or (w[0][kx], w[1][kx], w[2][kx], 0) (3x3). Half the multiplies of
  // column_weights; empty where some weight does not fit.
  std::vector<int8_t> column_bytes;
  // With 3x3 column_bytes, the channels [0, channels) in whole blocks of 64 again, for a kernel that builds a
  // column of 64 channels with byte unpacks, which leave channel 16L + 4v + i in dword i of 128-bit lane L
  // of vector v (lanes64_channel). `weights` (int8 [3][channels][4], as column_bytes) and
  // `requant` hold each block's channels in that transposed order, so that vector v of a block loads its
  // constants as 16 consecutive entries; the bias is the folded one. channels == 0: not used.
  struct Lanes64 {
    int64_t channels = 0;
    std::vector<int8_t> weights;
    ChannelRequant requant;
  } lanes64;
};

// Prepares a depthwise convolution for `isa` (avx2, avx512vnni or a neon ISA). Weights [C, KH, KW, 1].
template <class W>
DepthwiseConv2d prepare_depthwise_conv2d(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                                         const ref::Conv2dParams& params, const QuantParams& input,
                                         const QuantParams& output, Clamp clamp,
                                         RequantMode mode = RequantMode::fixed_point);

// Runs it on NHWC `input` [n, ih, iw, C] into `output` [n, oh, ow, C], in parallel over output rows.
void run(const DepthwiseConv2d& conv, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
         uint8_t* output);

// One output row: `taps` holds, for each of the `width` output pixels, KH * KW pointers to the C input
// bytes of each tap (the zero row for padding). Per ISA (kernels/x86/depthwise_*.cpp).
void depthwise_row_avx512(const DepthwiseConv2d& conv, const uint8_t* const* taps, int64_t width,
                          uint8_t* out);
// One output row of the column kernel (column_kernel K > 0), or one phase of it. With dilation_w = D > 1
// the output pixels x = phase + D x' read only the input columns congruent to phase * stride_w - pad_left
// modulo D, so each phase is a convolution without horizontal dilation over every D-th column: both pitches
// become D * channels and run() computes the D phases one after the other.
struct ColumnRow {
  const uint8_t* const* rows = nullptr;  // rows[ky], ky < K: kernel row ky's input row at the phase's first
                                         // column (nullptr where the row is padding)
  int64_t ix_origin = 0;     // output pixel x reads the row's columns x * stride_w + ix_origin + kx
  int64_t iw = 0;            // the row's columns (those of the phase)
  int64_t width = 0;         // output pixels
  int64_t column_pitch = 0;  // bytes from one input column to the next
  uint8_t* out = nullptr;    // output pixel 0
  int64_t pixel_pitch = 0;   // bytes from one output pixel to the next
};

// Channels [c_begin, c_end) (c_begin a multiple of kDepthwiseBlock) of `row`.
void depthwise_row_columns_avx512(const DepthwiseConv2d& conv, const ColumnRow& row, int64_t c_begin,
                                  int64_t c_end);
// The same two for AVX2, 8 channels per vector (kernels/x86/depthwise_avx2.cpp).
void depthwise_row_avx2(const DepthwiseConv2d& conv, const uint8_t* const* taps, int64_t width, uint8_t* out);
void depthwise_row_columns_avx2(const DepthwiseConv2d& conv, const ColumnRow& row, int64_t c_begin,
                                int64_t c_end);
// Every aarch64 ISA (kernels/arm/depthwise_neon.cpp).
void depthwise_row_neon(const DepthwiseConv2d& conv, const uint8_t* const* taps, int64_t width, uint8_t* out);

}  // namespace octet::conv
