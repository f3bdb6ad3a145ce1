// Depthwise convolution, 16 channels per zmm: each 32-bit lane holds two taps' activations as int16, and
// vpdpwssd multiplies them with two taps' weights and accumulates, per channel. Compiled with AVX-512
// and VNNI flags; only called after the CPU check.

#include <immintrin.h>

#include "kernels/conv/depthwise_conv2d.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::conv {

namespace {

// 16 activation bytes zero-extended to int32 lanes; the masked form never reads past the channel count
// (the last pixel of the image ends there).
template <bool kFull>
inline __m512i load16(const uint8_t* p, __mmask16 keep) {
  if constexpr (kFull) return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(keep, p));
}

// One channel block of one output row. kTaps > 0: the tap count known at compile time (3x3, 5x5), so the
// pair loop unrolls and the weights stay in registers; 0: any count. Four pixels at a time: each pixel's
// vpdpwssd chain depends on itself, so one pixel alone waits on the instruction's latency at every tap.
template <int kTaps, bool kFull>
void block_row(const DepthwiseConv2d& d, const uint8_t* const* taps, int64_t width, uint8_t* out, int64_t cb,
               __mmask16 keep) {
  constexpr int kPixels = 4;
  const int64_t tap_count = kTaps > 0 ? kTaps : d.kernel_h * d.kernel_w;
  const int64_t pairs = kTaps > 0 ? (kTaps + 1) / 2 : d.tap_pairs;
  constexpr int kMaxPairs = kTaps > 0 ? (kTaps + 1) / 2 : 1;
  __m512i w[kMaxPairs];
  if constexpr (kTaps > 0)
    for (int p = 0; p < kMaxPairs; ++p)
      w[p] = _mm512_loadu_si512(d.weights.data() + (p * d.channels_padded + cb) * 2);
  const x86::Requant16 requant(d.requant, cb, false);
  const int64_t c = d.channels;
  auto store = [&](uint8_t* dst, __m512i acc) {
    if constexpr (kFull)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), requant(acc, 0));
    else
      _mm_mask_storeu_epi8(dst, keep, requant(acc, 0));
  };
  // Taps 2p and 2p + 1 of pixel t as int16 pairs in each 32-bit lane.
  auto pair_of = [&](const uint8_t* const* t, int64_t p) {
    __m512i a = load16<kFull>(t[2 * p] + cb, keep);
    if (2 * p + 1 < tap_count)
      a = _mm512_or_si512(a, _mm512_slli_epi32(load16<kFull>(t[2 * p + 1] + cb, keep), 16));
    return a;
  };
  auto weight = [&](int64_t p) {
    if constexpr (kTaps > 0) return w[p];
    return _mm512_loadu_si512(d.weights.data() + (p * d.channels_padded + cb) * 2);
  };
  int64_t x = 0;
  for (; x + kPixels <= width; x += kPixels) {
    const uint8_t* const* t = taps + x * tap_count;
    __m512i acc[kPixels];
    for (auto& a : acc)
      a = _mm512_setzero_si512();
    for (int64_t p = 0; p < pairs; ++p) {
      const __m512i wp = weight(p);
      for (int i = 0; i < kPixels; ++i)
        acc[i] = _mm512_dpwssd_epi32(acc[i], pair_of(t + i * tap_count, p), wp);
    }
    for (int i = 0; i < kPixels; ++i)
      store(out + (x + i) * c + cb, acc[i]);
  }
  for (; x < width; ++x) {
    const uint8_t* const* t = taps + x * tap_count;
    __m512i acc = _mm512_setzero_si512();
    for (int64_t p = 0; p < pairs; ++p)
      acc = _mm512_dpwssd_epi32(acc, pair_of(t, p), weight(p));
    store(out + x * c + cb, acc);
  }
}

template <int kTaps>
void row(const DepthwiseConv2d& d, const uint8_t* const* taps, int64_t width, uint8_t* out) {
  for (int64_t cb = 0; cb < d.channels; cb += kDepthwiseBlock) {
    const int64_t valid = std::min<int64_t>(kDepthwiseBlock, d.channels - cb);
    if (valid == kDepthwiseBlock) {
      block_row<kTaps, true>(d, taps, width, out, cb, __mmask16(0xFFFF));
    } else {
      block_row<kTaps, false>(d, taps, width, out, cb, static_cast<__mmask16>((1u << valid) - 1));
    }
  }
}

}  // namespace

void depthwise_row_avx512(const DepthwiseConv2d& d, const uint8_t* const* taps, int64_t width, uint8_t* out) {
  switch (d.kernel_h * d.kernel_w) {
    case 9:
      return row<9>(d, taps, width, out);
    case 25:
      return row<25>(d, taps, width, out);
    default:
      return row<0>(d, taps, width, out);
  }
}

}  // namespace octet::conv
