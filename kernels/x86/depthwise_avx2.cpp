// Depthwise convolution, 8 channels per ymm: two taps' activations as int16 pairs per 32-bit lane,
// multiplied with two taps' weights by vpmaddwd. Per tap pair (depthwise_row_avx2), or per input column
// (depthwise_row_columns_avx2: 3x3, 5x5 and 7x7). Compiled with AVX2 flags; only called after the CPU
// check.

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/conv/depthwise_column_blocks.h"
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

// The first `valid` (at most 8) of the bytes to dst.
inline void store8(uint8_t* dst, __m128i bytes, int64_t valid) {
  if (valid >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), bytes);
    return;
  }
  alignas(16) uint8_t tmp[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
  std::memcpy(dst, tmp, static_cast<size_t>(valid));
}

// The column kernel (the AVX-512 file has its design): a block of kPixels output pixels reads each of its
// (kPixels - 1) * kStride + K input columns once, pairs the column's K rows as int16 per 32-bit lane
// ((r0, r1), (r2, r3), ..., the last odd row with 0: P = ceil(K / 2) vectors) and multiplies every pair
// with the weights of each pixel's kernel column kx by vpmaddwd. Per pixel that is K * P vpmaddwd and
// vpaddd, against K * K loads, shifts and ORs and the same multiplies in the tap kernel. The weights come
// from L1 as memory operands: 16 ymm registers hold the 4 accumulators and a column, not 6 to 28 weights.
// Every block, interior or not, reads its columns through its pointer table (depthwise_column_blocks.h):
// with computed addresses for interior blocks 3x3 layers ran up to 6% faster, 5x5 and 7x7 ones 8-15%
// slower, and the file's ASan build took 2 minutes instead of 20 s.
template <int K, int kPixels, int kStride>
using Block = ColumnBlock<kPixels, kStride, K>;

// One block, channels [cb, cb + valid): the weights and output from channel cb on. The count is a run-time
// value: a copy of the loop for whole groups of 8 was no faster.
template <int K, int kPixels, int kStride, class Requant>
[[gnu::always_inline]] inline void column_block(const DepthwiseConv2d& d,
                                                const Block<K, kPixels, kStride>& block, int64_t cb,
                                                const int16_t* weights, const Requant& requant, uint8_t* out,
                                                int64_t pixel_pitch, int64_t valid) {
  constexpr int kPairs = (K + 1) / 2;
  constexpr int kColumns = kColumnsOf<kPixels, kStride, K>;
  const int64_t pair_stride = K * d.channels_padded * 2, column_stride = d.channels_padded * 2;
  __m256i acc[kPixels];
#pragma GCC unroll 4
  for (int i = 0; i < kPixels; ++i)
    acc[i] = _mm256_setzero_si256();
#pragma GCC unroll 16
  for (int j = 0; j < kColumns; ++j) {
    const uint8_t* r[K];
#pragma GCC unroll 8
    for (int ky = 0; ky < K; ++ky)
      r[ky] = block.columns[ky][j] + cb;
    __m256i pairs[kPairs];
#pragma GCC unroll 4
    for (int p = 0; p < kPairs; ++p) {
      pairs[p] = load8(r[2 * p], valid);
      if (2 * p + 1 < K)
        pairs[p] = _mm256_or_si256(pairs[p], _mm256_slli_epi32(load8(r[2 * p + 1], valid), 16));
    }
#pragma GCC unroll 4
    for (int i = 0; i < kPixels; ++i) {
      const int kx = j - i * kStride;
      if (kx < 0 || kx >= K) continue;
#pragma GCC unroll 4
      for (int p = 0; p < kPairs; ++p) {
        const __m256i w = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(weights + p * pair_stride + kx * column_stride));
        acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(pairs[p], w));
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < kPixels; ++i)
    store8(out + i * pixel_pitch, requant(acc[i], 0), valid);
}

// Channels [cb, cb + valid) (valid <= 8) of a row's blocks, with the fused epilogue where the channels
// have it.
template <int K, int kPixels, int kStride>
void channel_group(const DepthwiseConv2d& d, const Block<K, kPixels, kStride>* blocks, size_t block_count,
                   const ColumnRow& row, int64_t cb, int64_t valid) {
  const int16_t* weights = d.column_weights.data() + cb * 2;
  auto each_block = [&](const auto& requant) {
    for (size_t n = 0; n < block_count; ++n)
      column_block(d, blocks[n], cb, weights, requant, row.out + blocks[n].x * row.pixel_pitch + cb,
                   row.pixel_pitch, valid);
  };
  const bool fused = x86::FusedRequant8::usable(d.requant, cb);
  if (fused && d.requant.fused_skip_correction)
    each_block(x86::FusedRequant8Uncorrected(d.requant, cb));
  else if (fused)
    each_block(x86::FusedRequant8(d.requant, cb));
  else
    each_block(x86::Requant8(d.requant, cb, false));
}

// Channels [c_begin, c_end) of one output row, block by block.
template <int K, int kPixels, int kStride>
void row_columns(const DepthwiseConv2d& d, const ColumnRow& row, int64_t c_begin, int64_t c_end) {
  const std::vector<Block<K, kPixels, kStride>>& blocks = row_blocks<kPixels, kStride, K>(d, row, true);
  for (int64_t cb = c_begin; cb < c_end; cb += 8)
    channel_group(d, blocks.data(), blocks.size(), row, cb, std::min<int64_t>(8, c_end - cb));
}

template <int K>
void row_columns_any_width(const DepthwiseConv2d& d, const ColumnRow& row, int64_t c_begin, int64_t c_end) {
  const bool wide = row.width >= 4;
  if (d.params.stride_w == 1)
    return wide ? row_columns<K, 4, 1>(d, row, c_begin, c_end) : row_columns<K, 1, 1>(d, row, c_begin, c_end);
  return wide ? row_columns<K, 4, 2>(d, row, c_begin, c_end) : row_columns<K, 1, 2>(d, row, c_begin, c_end);
}

}  // namespace

void depthwise_row_columns_avx2(const DepthwiseConv2d& d, const ColumnRow& row, int64_t c_begin,
                                int64_t c_end) {
  switch (d.column_kernel) {
    case 3:
      return row_columns_any_width<3>(d, row, c_begin, c_end);
    case 5:
      return row_columns_any_width<5>(d, row, c_begin, c_end);
    default:
      return row_columns_any_width<7>(d, row, c_begin, c_end);
  }
}

void depthwise_row_avx2(const DepthwiseConv2d& d, const uint8_t* const* taps, int64_t width, uint8_t* out) {
  const int64_t c = d.channels, tap_count = d.kernel_h * d.kernel_w;
  for (int64_t cb = 0; cb < c; cb += 8) {
    const int64_t valid = std::min<int64_t>(8, c - cb);
    auto each_pixel = [&](const auto& requant) {
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
        store8(out + x * c + cb, requant(acc, 0), valid);
      }
    };
    if (x86::FusedRequant8::usable(d.requant, cb))
      each_pixel(x86::FusedRequant8(d.requant, cb));
    else
      each_pixel(x86::Requant8(d.requant, cb, false));
  }
}

}  // namespace octet::conv
