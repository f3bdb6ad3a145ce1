#pragma once

// The AVX-512 VNNI GEMM for layers with at most kFewChannels output channels (segmentation and image
// heads: 1x1 32 -> 2, 3x3 32 -> 3), with each register holding one channel of 16 pixels instead of 16
// channels of one pixel (x86/gemm_few_channels_avx512vnni.cpp). Same arguments and results as
// compute_avx512vnni / compute_pieces_avx512vnni (gemm/packed_gemm.h) for n_end - n_begin in
// [1, kFewChannels]. Call only where the CPU has AVX-512 VNNI.

#include <cstdint>

#include "kernels/gemm/packed_gemm.h"

namespace octet::gemm {

constexpr int64_t kFewChannels = 8;

void few_channels_avx512vnni(const PackedWeights& w, const uint8_t* a, int64_t a_stride,
                             const int32_t* row_sums, int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c,
                             int64_t c_stride);
// Rows in runs of k steps as for compute_pieces, with row sums (or null) as for compute.
void few_channels_segmented_avx512vnni(const PackedWeights& w, const RowPieces& rows, const int32_t* row_sums,
                                       int64_t n_begin, int64_t n_end);

}  // namespace octet::gemm
