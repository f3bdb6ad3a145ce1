// The small-output transposed convolution on AVX-512 VNNI (kernels/conv/transposed_small.h): lanes hold
// P pixels x T output values. Compiled with the AVX-512 VNNI flags; only called after the CPU check.

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/conv/transposed_small.h"
#include "kernels/x86/accumulate_avx512.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::conv {

namespace {

// Pixel groups (registers of P pixels) computed together: independent accumulators for the pipeline.
constexpr int kGroups = 4;

// The row's last tile: groups of P pixels, run bytes each, of which `pixels` remain in the row, stored
// exactly (no masked stores: slow on AMD cores). Out of line: a call in the main loop's common path made
// the compiler allocate that path's registers worse.
[[gnu::noinline]] void store_last(uint8_t* dst, const __m128i* bytes, __m128i control, int64_t P, int64_t run,
                                  int64_t pixels) {
  for (int64_t g = 0; g < kGroups && g * P < pixels; ++g) {
    alignas(16) uint8_t row[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(row), _mm_shuffle_epi8(bytes[g], control));
    std::memcpy(dst + g * P * run, row, static_cast<size_t>(std::min(P, pixels - g * P) * run));
  }
}

// 64 input bytes from `offset` on, zeros past `size` (the end of the input).
inline __m512i load_input(const uint8_t* input, int64_t offset, int64_t size) {
  if (offset + 64 <= size) return _mm512_loadu_si512(input + offset);
  const int64_t left = std::max<int64_t>(0, size - offset);
  const __mmask64 keep = left == 0 ? __mmask64(0) : (~__mmask64(0) >> (64 - left));
  return _mm512_maskz_loadu_epi8(keep, input + std::min(offset, size));
}

template <int T, bool kSums, class Requant>
void rows_kernel(const SmallTransposed& s, const Requant& requant, const uint8_t* input, int64_t size,
                 int64_t ih, int64_t iw, int64_t first, int64_t count, uint8_t* output) {
  constexpr int P = 16 / T;
  const int64_t cin = s.in_channels, k4 = cin / 4, kh = s.kernel_h, cout = s.out_channels;
  const int64_t run = s.kernel_w * cout;  // one kernel row of one pixel: contiguous output bytes
  const int64_t ow = iw * s.kernel_w, oh = ih * kh;
  const bool two_loads = P * cin > 64;
  // Lane (p, t) of k group q reads dword p * k4 + q of the group's bytes.
  alignas(64) int32_t index[32][16];
  for (int64_t q = 0; q < k4; ++q)
    for (int l = 0; l < 16; ++l)
      index[q][l] = static_cast<int32_t>(l / T * k4 + q);
  // Kernel row ky's bytes of the P pixels, in output order: byte p * run + r from lane p * T + ky * run + r.
  alignas(16) uint8_t gather[16][16];  // KH <= N <= 16
  for (int64_t ky = 0; ky < kh; ++ky)
    for (int i = 0; i < 16; ++i)
      gather[ky][i] = i < P * run ? static_cast<uint8_t>(i / run * T + ky * run + i % run) : uint8_t{0x80};
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t row = first; row < first + count; ++row) {
    const int64_t b = row / ih, y = row % ih;
    uint8_t* out = output + (b * oh + y * kh) * ow * cout;  // kernel row ky writes row y * kh + ky
    for (int64_t x0 = 0; x0 < iw; x0 += kGroups * P) {
      __m512i lo[kGroups], hi[kGroups], acc[kGroups], row_sums[kGroups];
      for (int g = 0; g < kGroups; ++g) {
        const int64_t offset = (row * iw + x0 + g * P) * cin;
        lo[g] = load_input(input, offset, size);
        hi[g] = two_loads ? load_input(input, offset + 64, size) : _mm512_setzero_si512();
        acc[g] = row_sums[g] = _mm512_setzero_si512();
      }
      for (int64_t q = 0; q < k4; ++q) {
        const __m512i w = _mm512_loadu_si512(s.weights.data() + q * 64);
        const __m512i idx = _mm512_load_si512(index[q]);
        for (int g = 0; g < kGroups; ++g) {
          const __m512i a = _mm512_permutex2var_epi32(lo[g], idx, hi[g]);
          acc[g] = x86::dpbusd(acc[g], a, w);
          if constexpr (kSums) row_sums[g] = x86::dpbusd(row_sums[g], a, ones);
        }
      }
      // Unrolled (no accumulator indexed at run time), so that the accumulators stay in registers.
      __m128i bytes[kGroups];
#pragma GCC unroll 4
      for (int g = 0; g < kGroups; ++g) {
        if constexpr (kSums)
          bytes[g] = requant(acc[g], row_sums[g]);
        else
          bytes[g] = requant(acc[g], 0);
      }
      // A group's P * run bytes go out as a 16-byte store whose excess the next group's store overwrites
      // (stores go left to right), where the row has room for the excess past this tile; two groups per
      // store when P * run is 8 (a 2x2 kernel to one channel). The row's last tile stores exact counts.
      const int64_t room = (iw - x0 - kGroups * P) * run;
      const bool overlap = room >= 0 && room >= (P * run == 8 ? 0 : 16 - P * run);
      for (int64_t ky = 0; ky < kh; ++ky) {
        const __m128i control = _mm_load_si128(reinterpret_cast<const __m128i*>(gather[ky]));
        uint8_t* dst = out + (ky * ow + x0 * s.kernel_w) * cout;
        if (overlap && P * run == 8) {
          for (int g = 0; g < kGroups; g += 2)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + g * 8),
                             _mm_unpacklo_epi64(_mm_shuffle_epi8(bytes[g], control),
                                                _mm_shuffle_epi8(bytes[g + 1], control)));
        } else if (overlap) {
          for (int g = 0; g < kGroups; ++g)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + g * P * run),
                             _mm_shuffle_epi8(bytes[g], control));
        } else {
          store_last(dst, bytes, control, P, run, iw - x0);
        }
      }
    }
  }
}

template <bool kSums, class Requant>
void dispatch(const SmallTransposed& s, const Requant& requant, const uint8_t* input, int64_t size,
              int64_t ih, int64_t iw, int64_t first, int64_t count, uint8_t* output) {
  switch (s.lanes_per_pixel) {
    case 1:
      return rows_kernel<1, kSums>(s, requant, input, size, ih, iw, first, count, output);
    case 2:
      return rows_kernel<2, kSums>(s, requant, input, size, ih, iw, first, count, output);
    case 4:
      return rows_kernel<4, kSums>(s, requant, input, size, ih, iw, first, count, output);
    case 8:
      return rows_kernel<8, kSums>(s, requant, input, size, ih, iw, first, count, output);
    default:
      return rows_kernel<16, kSums>(s, requant, input, size, ih, iw, first, count, output);
  }
}

template <class Requant>
void dispatch(const SmallTransposed& s, const Requant& requant, const uint8_t* input, int64_t size,
              int64_t ih, int64_t iw, int64_t first, int64_t count, uint8_t* output) {
  if (s.needs_row_sums)
    dispatch<true>(s, requant, input, size, ih, iw, first, count, output);
  else
    dispatch<false>(s, requant, input, size, ih, iw, first, count, output);
}

}  // namespace

void transposed_small_rows_avx512vnni(const SmallTransposed& s, const uint8_t* input,
                                      const uint8_t* input_end, int64_t ih, int64_t iw, int64_t first,
                                      int64_t count, uint8_t* output) {
  const int64_t size = input_end - input;
  x86::with_requant(s.requant, x86::FusedRequant16::usable(s.requant, 0), [&](auto kind) {
    using Requant = typename decltype(kind)::type;
    dispatch(s, Requant(s.requant, 0, s.needs_row_sums), input, size, ih, iw, first, count, output);
  });
}

}  // namespace octet::conv
