#pragma once

// Convolutions (groups 1) over a few input channels, the first layer of most CNNs (3x3 stride 2, 3 -> 8
// channels in a detector, 3 -> 32 at 3x3 or 3 -> 64 at 7x7 stride 2 in classifiers), on AVX-512 VNNI with
// VBMI. The GEMM kernels give each output pixel a register of 16 output channels (two pixels of 8 with the
// paired tail) and read each kernel row through a pointer per pixel; with K = 27 the pointers, broadcasts
// and the per-pixel epilogue cost far more than the multiplies. Here a register holds one output channel of
// 16 consecutive output pixels: lane p's 4 bytes are 4 taps of pixel p's window, picked by one vpermt2b
// from the 128 bytes of input row that the 16 pixels' windows span in a kernel row (hence (15 * stride_w +
// KW) * C_in <= 128 or so), each tap group is multiplied by one broadcast weight dword per output channel,
// and the registers of 16 pixels are requantized and interleaved into NHWC bytes by saturating packs and byte
// permutes. Up to 8 output channels all stay in registers (two tiles of 16 pixels for the pipeline); more go
// in blocks of 16 channels, over a row's taps gathered once into a buffer. Padding: each kernel row reads a
// copy of its input row with the input zero point on both sides. Bit-exact with ref::conv2d: the same folded
// bias and requantization as the GEMM (gemm/packed_gemm.h), per lane. The taps are grouped by 4 across kernel
// rows (PixelLaneConv::groups): a group that spans two rows takes a second permute from the next row's window
// and a byte blend.

#include <cstdint>
#include <vector>

#include "kernels/gemm/packed_gemm.h"
#include "kernels/quantization/channel_requant.h"
#include "kernels/reference/conv2d.h"

namespace octet::conv {

struct PixelLaneConv {
  ref::Conv2dParams params;
  int64_t kernel_h = 1, kernel_w = 1, in_channels = 1, out_channels = 1;
  // The tap groups: 4 consecutive taps of the pixel's window in (ky, kx, c) order, KH * KW * C_in taps
  // rounded up to 4, so that a group may end one kernel row and begin the next (3 -> 32 at 3x3: 7 groups
  // instead of 3 per row, 9 multiplies in all). Rows of fewer than 3 taps are padded to 4 each instead,
  // so that no group spans more than two rows.
  int64_t groups = 1;
  // Weight dwords per tap group: C_out up to 8, C_out rounded up to 4 above (blocks of 4, 8, 12 or 16).
  int64_t channel_stride = 1;
  // [groups][channel_stride]: channel c's weights for the group's taps (zero for the padding taps, and for
  // the channels past C_out), as the dword that lane p's 4 input bytes meet.
  std::vector<int32_t> weights;
  // 16 lanes per output channel (channel_stride of them; the padding channels repeat the last one's), all
  // holding that channel's constants (the GEMM's folded bias).
  ChannelRequant requant;
  // The same constants once per channel (channel_stride entries), which the kernel applies as embedded
  // broadcasts where a register holds one channel: the folded bias, and in fixed point where every channel
  // has the fused form (ChannelRequant::fused_ok) M0 (the low dword of a qword, as vpmuldq reads it), the
  // fused rounding constant and the fused shift; in float mode the scale.
  struct ChannelScalars {
    std::vector<int32_t> bias;
    std::vector<int64_t> multiplier, round;
    std::vector<int32_t> shift;
    std::vector<float> scale;
  } scalars;
  // Groups row_first_group[ky] to row_first_group[ky + 1] - 1 begin in kernel row ky ([KH + 1] entries);
  // where next_row_bytes[g] is not zero, group g takes those bytes of the register from the row after.
  std::vector<int64_t> row_first_group;
  std::vector<uint64_t> next_row_bytes;
  // vpermt2b indices: [groups][64], lane p of group g takes bytes p * stride_w * C_in + (the taps' offsets
  // in their rows) of its row's 128-byte window (tap_index) or of the next row's (next_tap_index, for the
  // bytes of next_row_bytes); [128] (C_out <= 8 only), NHWC bytes of 16 pixels from the kernel's two tables
  // of packed results (channel oc of pixel p at byte 64 * (oc / 4) + 16 * (p / 4) + 4 * (oc % 4) + p % 4).
  std::vector<uint8_t> tap_index, next_tap_index, interleave;
  int32_t input_zero_point = 0;
};

// The most output channels the kernel takes: above this the taps' permutes, repeated per block of 16
// channels, are no longer cheap beside the multiplies, and few layers with so many outputs have so few
// inputs.
constexpr int64_t kPixelLanesMaxOutChannels = 64;

// Whether this kernel takes a convolution of these sizes on `isa` (and this CPU): AVX-512 VNNI with VBMI,
// groups 1, no horizontal dilation, C_out <= kPixelLanesMaxOutChannels, and 16 output pixels' kernel rows
// within 128 input bytes.
bool pixel_lanes_apply(Isa isa, const ref::Conv2dParams& params, int64_t kernel_h, int64_t kernel_w,
                       int64_t in_channels, int64_t out_channels);

// From the convolution's GEMM weights packed in kernel-row segments (gemm_conv2d.h: segments = KH, rows
// the C_out channels) for avx512vnni; symmetric weights only (no row sums).
PixelLaneConv prepare_pixel_lanes(const gemm::PackedWeights& weights, const ref::Conv2dParams& params,
                                  int64_t kernel_h, int64_t kernel_w, int64_t in_channels,
                                  int64_t out_channels);

// NHWC uint8 [n, ih, iw, C_in] -> [n, oh, ow, C_out], in parallel over output rows; the same bytes for
// any thread count.
void run(const PixelLaneConv& conv, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output);

// The kernel (kernels/x86/conv_pixel_lanes_avx512vbmi.cpp): one output row of `ow` pixels from the KH
// input rows `rows` (each a padded copy: column -pad_left at byte 0, readable for 128 bytes past the last
// window).
void pixel_lanes_row_avx512vbmi(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow,
                                uint8_t* output);

}  // namespace octet::conv
