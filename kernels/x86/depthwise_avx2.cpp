// Depthwise convolution, 8 channels per ymm: two taps' activations as int16 pairs per 32-bit lane,
// multiplied with two taps' weights by vpmaddwd. Compiled with AVX2 flags; only called after the CPU check.

#include <immintrin.h>

#include <cstring>

#include "kernels/conv/depthwise_conv2d.h"
#include "kernels/x86/requant_avx2.h"

namespace octet::conv {

namespace {

// 8 activation bytes of channels [cb, cb + valid), zero-extended to int32 lanes.
inline __m256i load8(const uint8_t* p, int64_t valid) {
  if (valid >= 8) return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  uint8_t tmp[8] = {};
  std::memcpy(tmp, p, static_cast<size_t>(valid));
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(tmp)));
}

}  // namespace

void depthwise_row_avx2(const DepthwiseConv2d& d, const uint8_t* const* taps, int64_t width, uint8_t* out) {
  const int64_t c = d.channels, tap_count = d.kernel_h * d.kernel_w;
  for (int64_t cb = 0; cb < c; cb += 8) {
    const int64_t valid = std::min<int64_t>(8, c - cb);
    const x86::Requant8 requant(d.requant, cb, false);
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t* const* t = taps + x * tap_count;
      __m256i acc = _mm256_setzero_si256();
      for (int64_t pair = 0; pair < d.tap_pairs; ++pair) {
        const __m256i w = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(d.weights.data() + (pair * d.channels_padded + cb) * 2));
        __m256i a = load8(t[2 * pair] + cb, valid);
        if (2 * pair + 1 < tap_count)
          a = _mm256_or_si256(a, _mm256_slli_epi32(load8(t[2 * pair + 1] + cb, valid), 16));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a, w));
      }
      const __m128i bytes = requant(acc, 0);
      if (valid >= 8) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + x * c + cb), bytes);
      } else {
        alignas(16) uint8_t tmp[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
        std::memcpy(out + x * c + cb, tmp, static_cast<size_t>(valid));
      }
    }
  }
}

}  // namespace octet::conv
