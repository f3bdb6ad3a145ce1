// AVX2 GEMM, exact for every input: activations and weights are widened to int16 and multiplied in pairs
// with vpmaddwd (int16 x int16 -> int32, summed in pairs: at most 2 * 255 * 128, no overflow). vpmaddubsw
// would be twice as fast but saturates its int16 pair sums (255 * 127 * 2 > 32767) and gives wrong
// answers on large activations. The microkernel keeps a 4-row x 16-channel tile in 8 ymm accumulators:
// with 6 rows (12 accumulators, 2 weight vectors, a broadcast and a product in 16 registers) GCC 12
// spills accumulators to the stack inside the loop.
// Compiled with -mavx2 -mfma; only called after the CPU check.

#include <immintrin.h>

#include <cstring>

#include "kernels/gemm/packed_gemm.h"
#include "kernels/x86/requant_avx2.h"

namespace octet::gemm {

namespace {

inline int32_t load_u32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline void store(uint8_t* dst, __m128i bytes, int64_t valid) {
  if (valid >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), bytes);
  } else if (valid > 0) {
    alignas(16) uint8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
    std::memcpy(dst, tmp, static_cast<size_t>(valid));
  }
}

// MR rows x 16 channels starting at channel n. A rows hold int16 values, k_padded per row.
template <int MR>
void tile(const PackedWeights& w, const uint8_t* a, int64_t a_stride, const int32_t* row_sums, int64_t n,
          uint8_t* c, int64_t c_stride, int64_t n_end) {
  const int64_t k2 = w.k_padded / 2;
  const int8_t* b = w.data.data() + (n / kChannelBlock) * k2 * kChannelBlock * 4;
  __m256i acc[MR][2];
  for (int r = 0; r < MR; ++r)
    acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int64_t q = 0; q < k2; ++q) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + q * 64));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + q * 64 + 32));
    for (int r = 0; r < MR; ++r) {
      const __m256i av = _mm256_set1_epi32(load_u32(a + r * a_stride + q * 4));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, w0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, w1));
    }
  }
  for (int j = 0; j < 2; ++j) {
    const int64_t ch = n + j * 8;
    const int64_t valid = std::min<int64_t>(8, n_end - ch);
    if (valid <= 0) continue;
    const x86::Requant8 requant(w.requant, ch, row_sums != nullptr);
    for (int r = 0; r < MR; ++r)
      store(c + r * c_stride + ch, requant(acc[r][j], row_sums ? row_sums[r] : 0), valid);
  }
}

}  // namespace

void compute_avx2(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
                  int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  const auto* x = static_cast<const uint8_t*>(a);
  const int32_t* sums = w.needs_row_sums ? row_sums : nullptr;
  constexpr int kRows = 4;
  for (int64_t n = n_begin; n < n_end; n += kChannelBlock) {
    int64_t r = 0;
    for (; r + kRows <= m; r += kRows)
      tile<kRows>(w, x + r * a_stride, a_stride, sums ? sums + r : nullptr, n, c + r * c_stride, c_stride,
                  n_end);
    const uint8_t* ar = x + r * a_stride;
    const int32_t* sr = sums ? sums + r : nullptr;
    uint8_t* cr = c + r * c_stride;
    switch (m - r) {
      case 5:
        tile<5>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
        break;
      case 4:
        tile<4>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
        break;
      case 3:
        tile<3>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
        break;
      case 2:
        tile<2>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
        break;
      case 1:
        tile<1>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
        break;
      default:
        break;
    }
  }
}

}  // namespace octet::gemm
