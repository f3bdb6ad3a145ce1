// AVX2 GEMM, exact for every input: activations and weights are widened to int16 and multiplied in pairs
// with vpmaddwd (int16 x int16 -> int32, summed in pairs: at most 2 * 255 * 128, no overflow). vpmaddubsw
// would be twice as fast but saturates its int16 pair sums (255 * 127 * 2 > 32767) and gives wrong
// answers on large activations. The microkernel keeps a 6-row x 16-channel tile in 12 ymm accumulators.
// Compiled with -mavx2 -mfma; only called after the CPU check.

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

// 8 int32 accumulators of channels [n, n + 8) -> 8 uint8 (in the low 8 bytes), bit-exact with requantize().
inline __m128i requantize8(__m256i acc, const PackedWeights& w, int64_t n) {
  const __m256i m0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.multiplier.data() + n));
  const __m256i left = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.left_shift.data() + n));
  const __m256i right = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.right_shift.data() + n));
  const __m256i int_min = _mm256_set1_epi64x(INT32_MIN), int_max = _mm256_set1_epi64x(INT32_MAX);
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  // Even and odd lanes separately in 64 bits. AVX2 has no 64-bit arithmetic shift, but the result fits
  // int32, so bits 31..62 of the sum, taken by a logical shift, are the two's-complement answer.
  // Sign-extend the even dword lanes (0, 2, 4, 6) and the odd ones (1, 3, 5, 7) to 64 bits.
  const __m256i sign = _mm256_srai_epi32(acc, 31);
  const __m256i even =
      _mm256_blend_epi32(acc, _mm256_shuffle_epi32(sign, _MM_SHUFFLE(2, 2, 0, 0)), 0b10101010);
  const __m256i odd = _mm256_blend_epi32(_mm256_srli_epi64(acc, 32),
                                         _mm256_shuffle_epi32(sign, _MM_SHUFFLE(3, 3, 1, 1)), 0b10101010);
  auto high_mul = [&](__m256i x64, __m256i l64, __m256i m64) {
    x64 = _mm256_sllv_epi64(x64, l64);
    x64 = _mm256_blendv_epi8(x64, int_max, _mm256_cmpgt_epi64(x64, int_max));
    x64 = _mm256_blendv_epi8(x64, int_min, _mm256_cmpgt_epi64(int_min, x64));
    const __m256i product = _mm256_mul_epi32(x64, m64);
    return _mm256_srli_epi64(_mm256_add_epi64(product, nudge), 31);
  };
  const __m256i mask32 = _mm256_set1_epi64x(0xFFFFFFFF);
  const __m256i lo = high_mul(even, _mm256_and_si256(left, mask32), _mm256_and_si256(m0, mask32));
  const __m256i hi = high_mul(odd, _mm256_srli_epi64(left, 32), _mm256_srli_epi64(m0, 32));
  const __m256i x = _mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0b10101010);
  // Rounding divide by 2^right, ties away from zero.
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_srli_epi32(x, 31));
  __m256i q = _mm256_srav_epi32(x, right);
  q = _mm256_sub_epi32(q, _mm256_cmpgt_epi32(remainder, threshold));  // the compare gives -1 where true
  const int32_t zp = w.output_zero_point;
  q = _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(w.clamp.min - zp)),
                       _mm256_set1_epi32(w.clamp.max - zp));
  q = _mm256_add_epi32(q, _mm256_set1_epi32(zp));
  // 8 values in [0, 255]: pack to 16-bit, then 8-bit, and keep the low 8 bytes.
  const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  return _mm_packus_epi16(words, words);
}

inline __m256i initial(const PackedWeights& w, int64_t n, const int32_t* row_sums, int64_t r) {
  __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.bias.data() + n));
  if (row_sums) {
    const __m256i zw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.weight_zero_point.data() + n));
    acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(zw, _mm256_set1_epi32(row_sums[r])));
  }
  return acc;
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
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < 2; ++j) {
      const int64_t ch = n + j * 8;
      const __m256i total = _mm256_add_epi32(acc[r][j], initial(w, ch, row_sums, r));
      store(c + r * c_stride + ch, requantize8(total, w, ch), std::min<int64_t>(8, n_end - ch));
    }
}

}  // namespace

void compute_avx2(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
                  int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  const auto* x = static_cast<const uint8_t*>(a);
  const int32_t* sums = w.needs_row_sums ? row_sums : nullptr;
  constexpr int kRows = 6;
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
