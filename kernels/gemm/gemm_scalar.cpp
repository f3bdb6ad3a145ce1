// Portable GEMM over the packed layout: what the SIMD kernels compute, one multiply at a time. It also
// proves the packing (tests compare it with the reference operators on every shape).

#include <cstring>

#include "kernels/gemm/packed_gemm.h"
#include "kernels/gemm/scalar_epilogue.h"

namespace octet::gemm {

void compute_scalar(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                    int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  const auto* rows = static_cast<const uint8_t*>(a);
  const int64_t k4 = w.k_padded / 4;
  for (int64_t r = 0; r < m; ++r) {
    const uint8_t* x = rows + r * a_stride;
    for (int64_t n = n_begin; n < n_end; ++n) {
      const int8_t* block =
          w.data.data() + (n / kChannelBlock) * k4 * kChannelBlock * 4 + (n % kChannelBlock) * 4;
      // uint32 arithmetic: the sums wrap modulo 2^32 exactly as the SIMD kernels' do (see the header).
      uint32_t acc = static_cast<uint32_t>(w.requant.bias[static_cast<size_t>(n)]);
      for (int64_t q = 0; q < k4; ++q)
        for (int j = 0; j < 4; ++j)
          acc += static_cast<uint32_t>(x[q * 4 + j] * block[q * kChannelBlock * 4 + j]);
      if (w.needs_row_sums)
        acc -= static_cast<uint32_t>(w.requant.weight_zero_point[static_cast<size_t>(n)]) *
               static_cast<uint32_t>(row_sums[r]);
      c[r * c_stride + n] = requantize_accumulator(w.requant, n, acc);
    }
  }
}

}  // namespace octet::gemm
