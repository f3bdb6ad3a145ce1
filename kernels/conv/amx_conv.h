#pragma once

// The AMX form of a convolution kernel's GEMM (the avx512amx ISA; gemm/amx_gemm.h, docs/kernels.md "AMX"):
// the kernel's weights packed once more for the tiles, in the same kernel-row segments as its VNNI
// weights, and the calls that run the tile walk where the kernel would call gemm::compute or
// gemm::compute_segmented, on the same A rows.

#include <cstdint>

#include "kernels/gemm/amx_pack.h"

namespace octet::conv {

struct AmxConv {
  gemm::AmxPackedWeights weights;
  // Run the walk on the scalar model of the tile instructions (gemm/amx_tile_model.h) instead of the
  // hardware: what the tests do where the machine has no AMX. Never set by the prepare functions.
  bool on_model = false;
};

// gemm::compute on the tiles: m rows of A, a_stride apart (w.k bytes each read), row sums only for
// asymmetric weights.
void amx_compute(const AmxConv& amx, const uint8_t* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
                 int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);

// gemm::compute_segmented on the tiles: rows[r * segments + s] is row r's segment s.
void amx_compute_segmented(const AmxConv& amx, const uint8_t* const* rows, int64_t m, int64_t n_begin,
                           int64_t n_end, uint8_t* c, int64_t c_stride);

}  // namespace octet::conv
