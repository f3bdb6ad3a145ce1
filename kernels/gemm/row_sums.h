#pragma once

// The sum of a row of uint8 activations, sum_k A[m][k]: the zero-point term of the GEMM where the weights
// are asymmetric (packed_gemm.h), as for attention's products of two activations (u8_matmul.h), whose rows
// are short (K = 32 to 64) and many. On x86-64 by SSE2's sum of absolute differences against zero (part
// of the baseline, so any file may use it): 16 bytes per instruction, and the bytes past the last whole
// vector through one more load that overlaps the one before it, masked. A plain loop over the bytes was a
// third of the time of Swin-T's attention products (rows of 49: 3 ns against 1 ns per row on Zen 5).

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace octet::gemm {

inline int32_t byte_sum(const uint8_t* bytes, int64_t count) {
#if defined(__SSE2__)
  if (count >= 16) {
    const __m128i zero = _mm_setzero_si128();
    __m128i sums = zero;  // two 64-bit sums
    int64_t i = 0;
    for (; i + 16 <= count; i += 16)
      sums = _mm_add_epi64(sums,
                           _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i)), zero));
    if (const int64_t left = count - i; left > 0) {
      // The last 16 bytes, of which the first 16 - left were summed already: zeroed by the mask.
      const __m128i index = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      const __m128i keep = _mm_cmpgt_epi8(index, _mm_set1_epi8(static_cast<char>(15 - left)));
      const __m128i last = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + count - 16));
      sums = _mm_add_epi64(sums, _mm_sad_epu8(_mm_and_si128(last, keep), zero));
    }
    // At most 255 * count: the callers' K fits int32 products, so the sum fits too.
    return static_cast<int32_t>(_mm_cvtsi128_si64(sums) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  int32_t sum = 0;
  for (int64_t i = 0; i < count; ++i)
    sum += bytes[i];
  return sum;
}

}  // namespace octet::gemm
