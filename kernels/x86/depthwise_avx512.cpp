// Depthwise convolution, 16 channels per zmm: each 32-bit lane holds two taps' activations as int16, and
// vpdpwssd multiplies them with two taps' weights and accumulates, per channel; 3x3, 5x5 and 7x7 layers take
// a column kernel instead, whose byte form (weights that fit int8) holds up to four taps per lane for
// vpdpbusd. Compiled with AVX-512 and VNNI flags; only called after the CPU check.

#include <immintrin.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/conv/depthwise_column_blocks.h"
#include "kernels/conv/depthwise_conv2d.h"
#include "kernels/x86/accumulate_avx512.h"
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
        acc[i] = x86::dpwssd(acc[i], pair_of(t + i * tap_count, p), wp);
    }
    for (int i = 0; i < kPixels; ++i)
      store(out + (x + i) * c + cb, acc[i]);
  }
  for (; x < width; ++x) {
    const uint8_t* const* t = taps + x * tap_count;
    __m512i acc = _mm512_setzero_si512();
    for (int64_t p = 0; p < pairs; ++p)
      acc = x86::dpwssd(acc, pair_of(t, p), weight(p));
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

// KxK kernels (K = 3, 5 or 7), horizontal stride 1 or 2 (dilation: ColumnRow's phases): the output pixels of
// a block share input columns (all of them at stride 1), so each column is loaded once per block, not once
// per pixel and tap, and its K rows are combined into a form that does not depend on the pixel. Two forms:
// - ByteColumns<K> (every w - z_w fits int8: symmetric int8 weights): the column's rows as the bytes of
//   each lane, four rows a quad (rows 0-2 and a zero for 3x3; rows 0-3, then row 4 and zeros for 5x5;
//   rows 0-3, then rows 4-6 and a zero for 7x7), one vpdpbusd per quad, column and pixel: 3 per pixel
//   for 3x3, 10 for 5x5, 14 for 7x7.
// - WordColumns (3x3, any weights): rows 0 and 1 as an int16 pair per lane, row 2 paired with 0, two
//   vpdpwssd per column and pixel: 6 per pixel.
// Against K * K loads and ceil(K * K / 2) vpdpwssd per pixel in block_row above.

template <int K>
struct ByteColumns {
  static constexpr int kRows = K;
  static constexpr int kQuads = (K + 3) / 4;
  struct Column {
    __m512i quads[kQuads];
  };
  __m512i weights[K][kQuads];

  ByteColumns(const DepthwiseConv2d& d, int64_t cb) {
    for (int kx = 0; kx < K; ++kx)
      for (int q = 0; q < kQuads; ++q)
        weights[kx][q] =
            _mm512_loadu_si512(d.column_bytes.data() + ((kx * kQuads + q) * d.channels_padded + cb) * 4);
  }
  // Quad q, lane c: bytes (r[4q][c], r[4q + 1][c], r[4q + 2][c], r[4q + 3][c]), zeros past row K - 1.
  template <bool kFull>
  [[gnu::always_inline]] Column column(const uint8_t* const (&r)[K], __mmask16 keep) const {
    Column quads;
    for (int q = 0; q < kQuads; ++q) {
      const int rows = std::min(4, K - 4 * q);
      __m512i v = load16<kFull>(r[4 * q], keep);
      if (rows >= 3)
        v = _mm512_ternarylogic_epi32(v, _mm512_slli_epi32(load16<kFull>(r[4 * q + 1], keep), 8),
                                      _mm512_slli_epi32(load16<kFull>(r[4 * q + 2], keep), 16),
                                      0xFE);  // a | b | c
      if (rows == 4) v = _mm512_or_si512(v, _mm512_slli_epi32(load16<kFull>(r[4 * q + 3], keep), 24));
      quads.quads[q] = v;
    }
    return quads;
  }
  [[gnu::always_inline]] __m512i accumulate(__m512i acc, const Column& column, int kx) const {
    for (int q = 0; q < kQuads; ++q)
      acc = x86::dpbusd(acc, column.quads[q], weights[kx][q]);
    return acc;
  }
};

struct WordColumns {
  static constexpr int kRows = 3;
  __m512i pair_weights[3], single_weights[3];
  struct Column {
    __m512i pair01, single2;
  };

  WordColumns(const DepthwiseConv2d& d, int64_t cb) {
    for (int kx = 0; kx < 3; ++kx) {
      pair_weights[kx] = _mm512_loadu_si512(d.column_weights.data() + (kx * d.channels_padded + cb) * 2);
      single_weights[kx] =
          _mm512_loadu_si512(d.column_weights.data() + ((3 + kx) * d.channels_padded + cb) * 2);
    }
  }
  template <bool kFull>
  [[gnu::always_inline]] Column column(const uint8_t* const (&r)[3], __mmask16 keep) const {
    return {_mm512_or_si512(load16<kFull>(r[0], keep), _mm512_slli_epi32(load16<kFull>(r[1], keep), 16)),
            load16<kFull>(r[2], keep)};
  }
  [[gnu::always_inline]] __m512i accumulate(__m512i acc, const Column& column, int kx) const {
    return x86::dpwssd(x86::dpwssd(acc, column.pair01, pair_weights[kx]), column.single2, single_weights[kx]);
  }
};

// A row's blocks (depthwise_column_blocks.h). Blocks that touch padding read their columns through the
// block's pointers; interior ones compute their addresses. Zero-filling the pointers of every block of
// every row (784 bytes for 7x7) cost 4% of a 7x7 layer's time: they are left unset where not read.
template <int kPixels, int kStride, int K>
using Block = ColumnBlock<kPixels, kStride, K>;

template <int kPixels, int kStride, bool kFull, class Columns, class Requant>
void channel_block_columns(const DepthwiseConv2d& d, const Block<kPixels, kStride, Columns::kRows>* blocks,
                           size_t block_count, const ColumnRow& row, int64_t cb, __mmask16 keep) {
  constexpr int K = Columns::kRows;
  constexpr int kColumns = kColumnsOf<kPixels, kStride, K>;
  const int64_t column_pitch = row.column_pitch, pixel_pitch = row.pixel_pitch;
  uint8_t* const out = row.out;
  const Columns columns(d, cb);
  Requant requant(d.requant, cb, false);
  // The accumulators start from the bias: one addition fewer per vector in the epilogue.
  const __m512i start = requant.add_bias.bias_as_start();
  const x86::PackRows pack(d.requant.clamp);
  auto store = [&](uint8_t* dst, __m512i acc) {
    if constexpr (kFull)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), requant(acc, 0));
    else
      _mm_mask_storeu_epi8(dst, keep, requant(acc, 0));
  };
  auto block = [&](int64_t x, auto column_at) {
    __m512i acc[kPixels];
    for (auto& a : acc)
      a = start;
      // Fully unrolled, so that every acc[i] lives in a register (GCC leaves this loop rolled otherwise
      // and keeps the accumulators on the stack).
#pragma GCC unroll 32
    for (int j = 0; j < kColumns; ++j) {
      const uint8_t* r[K];
#pragma GCC unroll 8
      for (int ky = 0; ky < K; ++ky)
        r[ky] = column_at(ky, j);
      const auto column = columns.template column<kFull>(r, keep);
#pragma GCC unroll 16
      for (int i = 0; i < kPixels; ++i) {
        const int kx = j - i * kStride;
        if (kx < 0 || kx >= K) continue;
        acc[i] = columns.accumulate(acc[i], column, kx);
      }
    }
    if constexpr (kFull && kPixels % 4 == 0) {
      // Four pixels' results through two saturating packs and one permute (PackRows) instead of a clamp
      // and a two-uop vpmovdb each; the 64 bytes hold one pixel per 128-bit lane.
      for (int i = 0; i < kPixels; i += 4) {
        const __m512i bytes =
            pack(requant.value_to_pack(acc[i], 0), requant.value_to_pack(acc[i + 1], 0),
                 requant.value_to_pack(acc[i + 2], 0), requant.value_to_pack(acc[i + 3], 0));
        uint8_t* dst = out + (x + i) * pixel_pitch + cb;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm512_castsi512_si128(bytes));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + pixel_pitch), _mm512_extracti32x4_epi32(bytes, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * pixel_pitch),
                         _mm512_extracti32x4_epi32(bytes, 2));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 3 * pixel_pitch),
                         _mm512_extracti32x4_epi32(bytes, 3));
      }
    } else {
      for (int i = 0; i < kPixels; ++i)
        store(out + (x + i) * pixel_pitch + cb, acc[i]);
    }
  };
  for (size_t n = 0; n < block_count; ++n) {
    const Block<kPixels, kStride, K>& b = blocks[n];
    if (b.interior) {
      // Inside the image: straight-line addresses.
      const int64_t ix0 = b.x * kStride + row.ix_origin;
      const uint8_t* base[K];
      for (int ky = 0; ky < K; ++ky)
        base[ky] = row.rows[ky] + ix0 * column_pitch + cb;
      block(b.x, [&](int ky, int j) { return base[ky] + j * column_pitch; });
    } else {
      block(b.x, [&](int ky, int j) { return b.columns[ky][j] + cb; });
    }
  }
}

// Channels [cb, cb + 64) of a row's blocks from DepthwiseConv2d::lanes64 (cb a multiple of 64 below
// lanes64.channels). A column's three rows are loaded as 64 bytes each and interleaved by two rounds of
// unpacks into four vectors of (r0, r1, r2, 0) quads: 8 shuffles for four vectors where ByteColumns
// spends 12 zero-extensions, 8 shifts and 4 ORs. The unpacks leave channel 16L + 4v + i in vector v
// (lanes64_channel), the order lanes64's weights and constants are stored in, and the saturating packs of
// a pixel's four vectors undo it: 64 bytes in channel order, one store.
// A block is computed in two halves, vectors 0-1 (the low byte unpacks) and then 2-3 (the high ones), so
// that a half's six weight vectors stay in registers beside its 2 x kPixels accumulators: with all four
// vectors at once, the weights did not fit and every vpdpbusd loaded one (a quarter slower). The first
// half's results wait as int16 words for the second's. Not inlined into channel_blocks: there GCC 12
// spilled accumulators of this loop (L4 3-6% slower, perf annotate).
template <int kPixels, int kStride, class Requant>
[[gnu::noinline]] void lanes64_block3x3(const DepthwiseConv2d& d, const Block<kPixels, kStride, 3>* blocks,
                                        size_t block_count, const ColumnRow& row, int64_t cb) {
  constexpr int kColumns = kColumnsOf<kPixels, kStride, 3>;
  const DepthwiseConv2d::Lanes64& lanes = d.lanes64;
  const int64_t column_pitch = row.column_pitch, pixel_pitch = row.pixel_pitch;
  const x86::PackRows pack(d.requant.clamp);
  // One half of every block: vectors 2 * kHalf and 2 * kHalf + 1.
  auto half = [&]<int kHalf>(std::integral_constant<int, kHalf>, int16_t* words) {
    __m512i weights[3][2];
    for (int kx = 0; kx < 3; ++kx)
      for (int v = 0; v < 2; ++v)
        weights[kx][v] =
            _mm512_loadu_si512(lanes.weights.data() + (kx * lanes.channels + cb + 16 * (2 * kHalf + v)) * 4);
    Requant requant[2] = {Requant(lanes.requant, cb + 32 * kHalf, false),
                          Requant(lanes.requant, cb + 32 * kHalf + 16, false)};
    const __m512i start[2] = {requant[0].add_bias.bias_as_start(), requant[1].add_bias.bias_as_start()};
    auto unpack8 = [](__m512i a, __m512i b) {
      return kHalf == 0 ? _mm512_unpacklo_epi8(a, b) : _mm512_unpackhi_epi8(a, b);
    };
    auto block = [&](int64_t x, int16_t* block_words, auto column_at) {
      __m512i acc[kPixels][2];
      for (auto& pixel : acc)
        pixel[0] = start[0], pixel[1] = start[1];
#pragma GCC unroll 32
      for (int j = 0; j < kColumns; ++j) {
        const __m512i rows01 =
            unpack8(_mm512_loadu_si512(column_at(0, j)), _mm512_loadu_si512(column_at(1, j)));
        const __m512i row2 = unpack8(_mm512_loadu_si512(column_at(2, j)), _mm512_setzero_si512());
        const __m512i column[2] = {_mm512_unpacklo_epi16(rows01, row2), _mm512_unpackhi_epi16(rows01, row2)};
#pragma GCC unroll 16
        for (int i = 0; i < kPixels; ++i) {
          const int kx = j - i * kStride;
          if (kx < 0 || kx > 2) continue;
          acc[i][0] = x86::dpbusd(acc[i][0], column[0], weights[kx][0]);
          acc[i][1] = x86::dpbusd(acc[i][1], column[1], weights[kx][1]);
        }
      }
#pragma GCC unroll 16
      for (int i = 0; i < kPixels; ++i) {
        const __m512i w = x86::PackRows::words(requant[0].value_to_pack(acc[i][0], 0),
                                               requant[1].value_to_pack(acc[i][1], 0));
        if constexpr (kHalf == 0)
          _mm512_storeu_si512(block_words + 32 * i, w);
        else
          _mm512_storeu_si512(row.out + (x + i) * pixel_pitch + cb,
                              pack.bytes(_mm512_loadu_si512(block_words + 32 * i), w));
      }
    };
    for (size_t n = 0; n < block_count; ++n) {
      const Block<kPixels, kStride, 3>& b = blocks[n];
      int16_t* block_words = words + n * kPixels * 32;
      if (b.interior) {
        const uint8_t* base[3];
        for (int ky = 0; ky < 3; ++ky)
          base[ky] = row.rows[ky] + (b.x * kStride + row.ix_origin) * column_pitch + cb;
        block(b.x, block_words, [&](int ky, int j) { return base[ky] + j * column_pitch; });
      } else {
        block(b.x, block_words, [&](int ky, int j) { return b.columns[ky][j] + cb; });
      }
    }
  };
  // The first half's words of every block of the row, 64 bytes per pixel.
  thread_local std::vector<int16_t> words;
  words.resize(block_count * kPixels * 32);
  half(std::integral_constant<int, 0>{}, words.data());
  half(std::integral_constant<int, 1>{}, words.data());
}

// Channels [c_begin, c_end) of one output row, block by block.
template <class Columns, int kPixels, int kStride>
void channel_blocks(const DepthwiseConv2d& d, const Block<kPixels, kStride, Columns::kRows>* blocks,
                    size_t block_count, const ColumnRow& row, int64_t c_begin, int64_t c_end) {
  for (int64_t cb = c_begin; cb < c_end;) {
    // lanes64 covers whole 64-channel blocks of the 3x3 byte form (at 4 pixels or more per block).
    if constexpr (kPixels % 4 == 0 && std::is_same_v<Columns, ByteColumns<3>>) {
      if (cb % 64 == 0 && cb + 64 <= std::min(c_end, d.lanes64.channels)) {
        const ChannelRequant& rq = d.lanes64.requant;
        x86::with_requant<true>(rq, x86::FusedRequant16::usable(rq, cb, 64), [&](auto kind) {
          lanes64_block3x3<kPixels, kStride, typename decltype(kind)::type>(d, blocks, block_count, row, cb);
        });
        cb += 64;
        continue;
      }
    }
    const int64_t valid = std::min<int64_t>(kDepthwiseBlock, d.channels - cb);
    if (valid < kDepthwiseBlock)
      channel_block_columns<kPixels, kStride, false, Columns, x86::Requant16>(
          d, blocks, block_count, row, cb, static_cast<__mmask16>((1u << valid) - 1));
    else
      x86::with_requant<true>(d.requant, x86::FusedRequant16::usable(d.requant, cb), [&](auto kind) {
        channel_block_columns<kPixels, kStride, true, Columns, typename decltype(kind)::type>(
            d, blocks, block_count, row, cb, __mmask16(0xFFFF));
      });
    cb += kDepthwiseBlock;
  }
}

template <int K, int kPixels, int kStride>
void row_columns(const DepthwiseConv2d& d, const ColumnRow& row, int64_t c_begin, int64_t c_end) {
  const std::vector<Block<kPixels, kStride, K>>& blocks = row_blocks<kPixels, kStride, K>(d, row, false);
  if constexpr (K == 3) {
    if (d.column_bytes.empty())
      return channel_blocks<WordColumns>(d, blocks.data(), blocks.size(), row, c_begin, c_end);
  }
  channel_blocks<ByteColumns<K>>(d, blocks.data(), blocks.size(), row, c_begin, c_end);
}

// The widest block that fits the row (a block never reaches past the row's last pixel). A row narrower
// than 4 pixels is computed 4 pixels wide into a scratch row (the pixels past its end read padding) and
// its pixels copied out: blocks of one pixel would be a third set of instantiations (compile time) for the
// smallest layers, and the tap kernel is 1.3-1.8x slower on them.
template <int K>
void row_columns_any_width(const DepthwiseConv2d& d, const ColumnRow& row, int64_t c_begin, int64_t c_end) {
  const bool stride1 = d.params.stride_w == 1;
  if (row.width < 4) {
    thread_local std::vector<uint8_t> scratch;
    scratch.resize(static_cast<size_t>(4 * d.channels));
    ColumnRow wide = row;
    wide.width = 4;
    wide.out = scratch.data();
    wide.pixel_pitch = d.channels;
    if (stride1)
      row_columns<K, 4, 1>(d, wide, c_begin, c_end);
    else
      row_columns<K, 4, 2>(d, wide, c_begin, c_end);
    for (int64_t x = 0; x < row.width; ++x)
      std::copy_n(scratch.data() + x * d.channels + c_begin, c_end - c_begin,
                  row.out + x * row.pixel_pitch + c_begin);
    return;
  }
  if (stride1 && row.width >= 8) return row_columns<K, 8, 1>(d, row, c_begin, c_end);
  if (stride1) return row_columns<K, 4, 1>(d, row, c_begin, c_end);
  row_columns<K, 4, 2>(d, row, c_begin, c_end);
}

}  // namespace

void depthwise_row_columns_avx512(const DepthwiseConv2d& d, const ColumnRow& row, int64_t c_begin,
                                  int64_t c_end) {
  if (d.column_kernel == 5) return row_columns_any_width<5>(d, row, c_begin, c_end);
  if (d.column_kernel == 7) return row_columns_any_width<7>(d, row, c_begin, c_end);
  row_columns_any_width<3>(d, row, c_begin, c_end);
}

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
