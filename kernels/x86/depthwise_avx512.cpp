// Depthwise convolution, 16 channels per zmm: each 32-bit lane holds two taps' activations as int16, and
// vpdpwssd multiplies them with two taps' weights and accumulates, per channel. Compiled with AVX-512
// and VNNI flags; only called after the CPU check.

#include <immintrin.h>

#include "kernels/conv/depthwise_conv2d.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::conv {

void depthwise_row_avx512(const DepthwiseConv2d& d, const uint8_t* const* taps, int64_t width, uint8_t* out) {
  const int64_t c = d.channels, tap_count = d.kernel_h * d.kernel_w;
  for (int64_t cb = 0; cb < c; cb += kDepthwiseBlock) {
    const int64_t valid = std::min<int64_t>(kDepthwiseBlock, c - cb);
    // Tail channels: masked loads never touch bytes past the channel count (the last pixel of the image
    // ends there).
    const __mmask16 keep = valid >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1);
    const x86::Requant16 requant(d.requant, cb, false);
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t* const* t = taps + x * tap_count;
      __m512i acc = _mm512_setzero_si512();
      for (int64_t pair = 0; pair < d.tap_pairs; ++pair) {
        const __m512i w = _mm512_loadu_si512(d.weights.data() + (pair * d.channels_padded + cb) * 2);
        __m512i a = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(keep, t[2 * pair] + cb));
        if (2 * pair + 1 < tap_count)
          a = _mm512_or_si512(
              a,
              _mm512_slli_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(keep, t[2 * pair + 1] + cb)), 16));
        acc = _mm512_dpwssd_epi32(acc, a, w);
      }
      _mm_mask_storeu_epi8(out + x * c + cb, keep, requant(acc, 0));
    }
  }
}

}  // namespace octet::conv
