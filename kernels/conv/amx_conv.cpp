#include "kernels/conv/amx_conv.h"

#include "kernels/error.h"
#include "kernels/gemm/amx_gemm.h"

namespace octet::conv {

void amx_compute(const AmxConv& amx, const uint8_t* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
                 int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  if (amx.on_model)
    return gemm::compute_amx_model(amx.weights, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
#if defined(__x86_64__)
  gemm::compute_amx(amx.weights, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
#else
  throw Error("conv: AMX tiles on a CPU that is not x86");
#endif
}

void amx_compute_segmented(const AmxConv& amx, const uint8_t* const* rows, int64_t m, int64_t n_begin,
                           int64_t n_end, uint8_t* c, int64_t c_stride) {
  if (amx.on_model)
    return gemm::compute_amx_segmented_model(amx.weights, rows, m, n_begin, n_end, c, c_stride);
#if defined(__x86_64__)
  gemm::compute_amx_segmented(amx.weights, rows, m, n_begin, n_end, c, c_stride);
#else
  throw Error("conv: AMX tiles on a CPU that is not x86");
#endif
}

}  // namespace octet::conv
