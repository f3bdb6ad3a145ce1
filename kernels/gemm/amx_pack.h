#pragma once

// Weights packed for AMX's TDPBUSD (kernels/gemm/amx_gemm.h; docs/kernels.md, "AMX").
//
// A B tile holds 16 output channels x 64 k of int8 weights in the "VNNI" form TDPBUSD multiplies: 16 rows
// of 64 bytes, row g holding, for each channel n of the block, its 4 weights k = 4g .. 4g + 3. That is the
// layout gemm::pack already writes for VNNI and the scalar kernel ([N/16][K/4][16][4], packed_gemm.h), cut
// into tiles of 16 k groups: so amx_pack is gemm::pack (the same overflow guard, multipliers, zero points and
// folded bias) with k padded with zero weights to a multiple of 64 instead of 4, which makes every B tile
// a full 16 x 64 one and lets one tile configuration serve the whole walk. Channels are padded to a
// multiple of 16 with zero weights and zero requantization constants (computed, never stored).
//
// The accumulator is, as for gemm::compute,
//   acc = bias'[n] + sum_k A[m][k] * W[n][k] - z_w[n] * sum_k A[m][k]
// with bias'[n] = bias[n] - z_a * sum_k W[n][k] + K * z_a * z_w[n] folded at pack time (packed_gemm.h);
// the last term, for asymmetric weights (needs_row_sums), takes the row sums of A from the caller.

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/gemm/packed_gemm.h"

namespace octet::gemm {

constexpr int64_t kAmxTileRows = 16;     // rows of A (pixels) per A tile and k groups per B tile
constexpr int64_t kAmxKStep = 64;        // k per tile step: the bytes of one A tile row
constexpr int64_t kAmxTileBytes = 1024;  // one B tile: 16 rows x 64 bytes

struct AmxPackedWeights {
  int64_t n = 0;         // output channels
  int64_t k = 0;         // reduction length
  int64_t k_padded = 0;  // segments * segment_padded
  int64_t n_padded = 0;  // n rounded up to kChannelBlock
  // k split into `segments` equal runs (a convolution's kernel rows, read in place where they lie: see
  // amx::walk_segmented), each padded with zero weights to a multiple of kAmxKStep on its own, so that no
  // k step straddles two segments. One segment for a plain GEMM.
  int64_t segments = 1;
  int64_t segment_padded = 0;
  // int8 [n_padded / 16][k_padded / 64] B tiles, each [16 k groups][16 channels][4 k] (1024 bytes).
  std::vector<int8_t> data;
  ChannelRequant requant;        // bias folded as above
  bool needs_row_sums = false;   // some weight zero point is not 0
  int32_t input_zero_point = 0;  // what k padding of A would have to hold were it not zero-weighted

  int64_t k_steps() const { return k_padded / kAmxKStep; }
  int64_t segment_k() const { return k / segments; }  // real bytes per segment
  int64_t segment_steps() const { return segment_padded / kAmxKStep; }
  // The B tile of channel block `block` (16 channels) and k step `step` (64 k): 16 rows, 64 bytes apart.
  const int8_t* b_tile(int64_t block, int64_t step) const {
    return data.data() + (block * k_steps() + step) * kAmxTileBytes;
  }
};

// Packs `rows` x `k` weights (row-major, one row per output channel) for the AMX walk. Params, bias,
// segments and errors as for gemm::pack; uint8 weights are stored minus 128, as there.
template <class W>
AmxPackedWeights amx_pack(const W* weights, int64_t rows, int64_t k, const QuantParams& weight_params,
                          const int32_t* bias, const QuantParams& input, const QuantParams& output,
                          Clamp clamp, std::string_view op, RequantMode mode = RequantMode::fixed_point,
                          int64_t segments = 1);

// The weights as the tiles hold them, back in rows x k order ([n][k] int8: for uint8 weights, w - 128), for
// tests; padding is checked by amx_padding_is_zero.
std::vector<int8_t> amx_unpack(const AmxPackedWeights& w);

// Whether every packed weight outside the n x k real ones is zero.
bool amx_padding_is_zero(const AmxPackedWeights& w);

}  // namespace octet::gemm
