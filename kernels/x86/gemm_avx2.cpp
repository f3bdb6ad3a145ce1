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

// MR rows x 16 channels starting at channel n (with kHalf the block's first 8 channels alone: a last block
// of at most 8 channels skips the half it does not store). A rows hold int16 values, k_padded per row.
template <int MR, bool kHalf = false>
void tile(const PackedWeights& w, const uint8_t* a, int64_t a_stride, const int32_t* row_sums, int64_t n,
          uint8_t* c, int64_t c_stride, int64_t n_end) {
  constexpr int kHalves = kHalf ? 1 : 2;
  const int64_t k2 = w.k_padded / 2;
  const int8_t* b = w.data.data() + (n / kChannelBlock) * k2 * kChannelBlock * 4;
  // Unrolled: GCC 12 otherwise zero-fills a dead copy of the array in memory on every call.
  __m256i acc[MR][kHalves];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < kHalves; ++j)
      acc[r][j] = _mm256_setzero_si256();
  for (int64_t q = 0; q < k2; ++q) {
    __m256i wv[kHalves];
    for (int j = 0; j < kHalves; ++j)
      wv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + q * 64 + j * 32));
    for (int r = 0; r < MR; ++r) {
      const __m256i av = _mm256_set1_epi32(load_u32(a + r * a_stride + q * 4));
      for (int j = 0; j < kHalves; ++j)
        acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(av, wv[j]));
    }
  }
  for (int j = 0; j < kHalves; ++j) {
    const int64_t ch = n + j * 8;
    const int64_t valid = std::min<int64_t>(8, n_end - ch);
    if (valid <= 0) continue;
    auto emit = [&](const auto& requant) {
      for (int r = 0; r < MR; ++r)
        store(c + r * c_stride + ch, requant(acc[r][j], row_sums ? row_sums[r] : 0), valid);
    };
    if (row_sums == nullptr && x86::FusedRequant8::usable(w.requant, ch))
      emit(x86::FusedRequant8(w.requant, ch));
    else
      emit(x86::Requant8(w.requant, ch, row_sums != nullptr));
  }
}

// The row tiles of one block of 16 channels: 4 rows (8 accumulators), or 8 rows of the first half alone.
template <bool kHalf>
void block(const PackedWeights& w, const uint8_t* x, int64_t a_stride, const int32_t* sums, int64_t m,
           int64_t n, uint8_t* c, int64_t c_stride, int64_t n_end) {
  constexpr int kRows = kHalf ? 8 : 4;
  int64_t r = 0;
  for (; r + kRows <= m; r += kRows)
    tile<kRows, kHalf>(w, x + r * a_stride, a_stride, sums ? sums + r : nullptr, n, c + r * c_stride,
                       c_stride, n_end);
  const uint8_t* ar = x + r * a_stride;
  const int32_t* sr = sums ? sums + r : nullptr;
  uint8_t* cr = c + r * c_stride;
  switch (m - r) {
    case 7:
      return tile<7, kHalf>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 6:
      return tile<6, kHalf>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 5:
      return tile<5, kHalf>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 4:
      return tile<4, kHalf>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 3:
      return tile<3, kHalf>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 2:
      return tile<2, kHalf>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 1:
      return tile<1, kHalf>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    default:
      return;
  }
}

}  // namespace

void compute_avx2(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
                  int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  const auto* x = static_cast<const uint8_t*>(a);
  const int32_t* sums = w.needs_row_sums ? row_sums : nullptr;
  for (int64_t n = n_begin; n < n_end; n += kChannelBlock) {
    if (n_end - n <= kChannelBlock / 2)
      block<true>(w, x, a_stride, sums, m, n, c, c_stride, n_end);
    else
      block<false>(w, x, a_stride, sums, m, n, c, c_stride, n_end);
  }
}

}  // namespace octet::gemm
