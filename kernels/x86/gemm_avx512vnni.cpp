// AVX-512 VNNI GEMM: vpdpbusd multiplies 4 uint8 activations by 4 int8 weights and adds the four products
// to an int32 lane, 16 lanes (output channels) per zmm register. The microkernel keeps an 8-row x
// 32-channel tile of accumulators in 16 registers; the requantization runs on the same registers.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni; only called after the CPU check.

#include <immintrin.h>

#include <cstring>

#include "kernels/gemm/packed_gemm.h"
#include "kernels/x86/accumulate_avx512.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::gemm {

namespace {

inline int32_t load_u32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// MR rows x NB blocks of 16 channels starting at channel n.
template <int MR, int NB>
void tile(const PackedWeights& w, const uint8_t* a, int64_t a_stride, const int32_t* row_sums, int64_t n,
          uint8_t* c, int64_t c_stride, int64_t n_end) {
  const int64_t k4 = w.k_padded / 4;
  const int8_t* b[NB];
  for (int j = 0; j < NB; ++j)
    b[j] = w.data.data() + (n / kChannelBlock + j) * k4 * kChannelBlock * 4;
  __m512i acc[MR][NB];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NB; ++j)
      acc[r][j] = _mm512_setzero_si512();
  for (int64_t q = 0; q < k4; ++q) {
    __m512i wv[NB];
    for (int j = 0; j < NB; ++j)
      wv[j] = _mm512_loadu_si512(b[j] + q * 64);
    for (int r = 0; r < MR; ++r) {
      const __m512i av = _mm512_set1_epi32(load_u32(a + r * a_stride + q * 4));
      for (int j = 0; j < NB; ++j)
        acc[r][j] = x86::dpbusd(acc[r][j], av, wv[j]);
    }
  }
  for (int j = 0; j < NB; ++j) {
    const int64_t ch = n + j * kChannelBlock;
    const int64_t valid = std::min<int64_t>(kChannelBlock, n_end - ch);
    if (valid <= 0) continue;
    const __mmask16 keep = valid >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1);
    const x86::Requant16 requant(w.requant, ch, row_sums != nullptr);
    // Full blocks take plain stores: a masked store is far slower on AMD cores, most of all when the
    // line is not in L1.
    for (int r = 0; r < MR; ++r) {
      const __m128i bytes = requant(acc[r][j], row_sums ? row_sums[r] : 0);
      if (valid == kChannelBlock)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(c + r * c_stride + ch), bytes);
      else
        _mm_mask_storeu_epi8(c + r * c_stride + ch, keep, bytes);
    }
  }
}

template <int NB>
void rows(const PackedWeights& w, const uint8_t* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
          int64_t n, uint8_t* c, int64_t c_stride, int64_t n_end) {
  constexpr int kRows = 8;
  int64_t r = 0;
  for (; r + kRows <= m; r += kRows)
    tile<kRows, NB>(w, a + r * a_stride, a_stride, row_sums ? row_sums + r : nullptr, n, c + r * c_stride,
                    c_stride, n_end);
  const int64_t left = m - r;
  const uint8_t* ar = a + r * a_stride;
  const int32_t* sr = row_sums ? row_sums + r : nullptr;
  uint8_t* cr = c + r * c_stride;
  switch (left) {
    case 7:
      return tile<7, NB>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 6:
      return tile<6, NB>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 5:
      return tile<5, NB>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 4:
      return tile<4, NB>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 3:
      return tile<3, NB>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 2:
      return tile<2, NB>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    case 1:
      return tile<1, NB>(w, ar, a_stride, sr, n, cr, c_stride, n_end);
    default:
      return;
  }
}

}  // namespace

void compute_avx512vnni(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                        int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  const auto* x = static_cast<const uint8_t*>(a);
  const int32_t* sums = w.needs_row_sums ? row_sums : nullptr;
  int64_t n = n_begin;
  for (; n + 2 * kChannelBlock <= n_end || (n + kChannelBlock < n_end); n += 2 * kChannelBlock)
    rows<2>(w, x, a_stride, sums, m, n, c, c_stride, n_end);
  if (n < n_end) rows<1>(w, x, a_stride, sums, m, n, c, c_stride, n_end);
}

}  // namespace octet::gemm
