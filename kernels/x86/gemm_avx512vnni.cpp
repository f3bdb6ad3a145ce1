// AVX-512 VNNI GEMM: vpdpbusd multiplies 4 uint8 activations by 4 int8 weights and adds the four products
// to an int32 lane, 16 lanes (output channels) per zmm register. The microkernel keeps an 8-row x
// 32-channel tile of accumulators in 16 registers; the requantization runs on the same registers.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni; only called after the CPU check.

#include <immintrin.h>

#include <cstring>

#include "kernels/gemm/packed_gemm.h"

namespace octet::gemm {

namespace {

inline int32_t load_u32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The requantization of 16 output channels [n, n + 16), bit-exact with requantize():
//   clamp(z + rdbpot(srdhm(sat_shl(acc, left), M0), right)).
// Per-channel constants are loaded once per tile and reused for every row.
struct Requant16 {
  __m512i bias, zw, m0_lo, m0_hi, left_lo, left_hi, right, mask, half, lo_clamp, hi_clamp, zp;
  bool shifts_left, has_zw;

  Requant16(const PackedWeights& w, int64_t n, bool with_row_sums) {
    bias = _mm512_loadu_si512(w.bias.data() + n);
    has_zw = with_row_sums;
    zw = has_zw ? _mm512_loadu_si512(w.weight_zero_point.data() + n) : _mm512_setzero_si512();
    const __m512i m0 = _mm512_loadu_si512(w.multiplier.data() + n);
    m0_lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(m0));
    m0_hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(m0, 1));
    const __m512i left = _mm512_loadu_si512(w.left_shift.data() + n);
    shifts_left = _mm512_test_epi32_mask(left, left) != 0;
    left_lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(left));
    left_hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(left, 1));
    right = _mm512_loadu_si512(w.right_shift.data() + n);
    const __m512i one = _mm512_set1_epi32(1);
    mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
    half = _mm512_srli_epi32(mask, 1);
    lo_clamp = _mm512_set1_epi32(w.clamp.min - w.output_zero_point);
    hi_clamp = _mm512_set1_epi32(w.clamp.max - w.output_zero_point);
    zp = _mm512_set1_epi32(w.output_zero_point);
  }

  // 8 lanes in 64 bits: saturating left shift, then the rounding doubling high multiply.
  __m256i high_mul(__m256i a, __m512i m, __m512i left) const {
    __m512i x = _mm512_cvtepi32_epi64(a);
    if (shifts_left) {
      x = _mm512_sllv_epi64(x, left);
      x = _mm512_min_epi64(_mm512_max_epi64(x, _mm512_set1_epi64(INT32_MIN)), _mm512_set1_epi64(INT32_MAX));
    }
    const __m512i product = _mm512_mul_epi32(x, m);  // signed low 32 bits x M0
    return _mm512_cvtepi64_epi32(
        _mm512_srai_epi64(_mm512_add_epi64(product, _mm512_set1_epi64(int64_t{1} << 30)), 31));
  }

  __m128i operator()(__m512i acc, int32_t row_sum) const {
    acc = _mm512_add_epi32(acc, bias);
    if (has_zw) acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(zw, _mm512_set1_epi32(row_sum)));
    const __m256i lo = high_mul(_mm512_castsi512_si256(acc), m0_lo, left_lo);
    const __m256i hi = high_mul(_mm512_extracti64x4_epi64(acc, 1), m0_hi, left_hi);
    const __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    // Rounding divide by 2^right, ties away from zero.
    const __m512i remainder = _mm512_and_si512(x, mask);
    const __m512i threshold = _mm512_add_epi32(half, _mm512_srli_epi32(x, 31));
    __m512i q = _mm512_srav_epi32(x, right);
    q = _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(remainder, threshold), q, _mm512_set1_epi32(1));
    // Clamp before adding the zero point so that the addition cannot overflow.
    q = _mm512_min_epi32(_mm512_max_epi32(q, lo_clamp), hi_clamp);
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(q, zp));
  }
};

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
        acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, wv[j]);
    }
  }
  for (int j = 0; j < NB; ++j) {
    const int64_t ch = n + j * kChannelBlock;
    const int64_t valid = std::min<int64_t>(kChannelBlock, n_end - ch);
    if (valid <= 0) continue;
    const __mmask16 keep = valid >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1);
    const Requant16 requant(w, ch, row_sums != nullptr);
    for (int r = 0; r < MR; ++r)
      _mm_mask_storeu_epi8(c + r * c_stride + ch, keep, requant(acc[r][j], row_sums ? row_sums[r] : 0));
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
