#include "kernels/gemm/amx_gemm.h"

#include "kernels/gemm/amx_tile_model.h"

namespace octet::gemm {

void compute_amx_model(const AmxPackedWeights& w, const uint8_t* a, int64_t a_stride, const int32_t* row_sums,
                       int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride,
                       amx::BlockEpilogue epilogue) {
  amx::TileModel tiles;
  amx::walk(tiles, w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride, epilogue);
}

void compute_amx_segmented_model(const AmxPackedWeights& w, const uint8_t* const* rows, int64_t m,
                                 int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride,
                                 amx::BlockEpilogue epilogue) {
  amx::TileModel tiles;
  amx::walk_segmented(tiles, w, rows, m, n_begin, n_end, c, c_stride, epilogue);
}

}  // namespace octet::gemm
