// AVX-512 VNNI GEMM: vpdpbusd multiplies 4 uint8 activations by 4 int8 weights and adds the four products
// to an int32 lane, 16 lanes (output channels) per zmm register. The microkernel keeps an 8-row x
// 32-channel tile of accumulators in 16 registers; the requantization runs on the same registers.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni; only called after the CPU check.

#include <immintrin.h>

#include <algorithm>
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

// Where the microkernel reads A: row r's segment s (see PackedWeights::segments).
struct StridedRows {  // one segment per row, rows `stride` bytes apart
  const uint8_t* a;
  int64_t stride;
  const uint8_t* row(int r, int64_t) const { return a + r * stride; }
  StridedRows from(int64_t r) const { return {a + r * stride, stride}; }
};
struct SegmentRows {  // a pointer per row and segment
  const uint8_t* const* rows;
  int64_t segments;
  const uint8_t* row(int r, int64_t s) const { return rows[r * segments + s]; }
  SegmentRows from(int64_t r) const { return {rows + r * segments, segments}; }
};

// Lines of the next channel blocks' weights that a tile asks the caches for while it computes.
struct Prefetch {
  const int8_t* next = nullptr;
  int64_t lines = 0;
};

// MR rows x NB blocks of 16 channels starting at channel n.
template <int MR, int NB, class Rows>
void tile(const PackedWeights& w, Rows a, const int32_t* row_sums, int64_t n, uint8_t* c, int64_t c_stride,
          int64_t n_end, Prefetch prefetch = {}) {
  const int64_t k4 = w.k_padded / 4, segment_k4 = w.segment_padded / 4;
  const int8_t* b[NB];
  for (int j = 0; j < NB; ++j)
    b[j] = w.data.data() + (n / kChannelBlock + j) * k4 * kChannelBlock * 4;
  __m512i acc[MR][NB];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NB; ++j)
      acc[r][j] = _mm512_setzero_si512();
  for (int64_t s = 0; s < w.segments; ++s) {
    const uint8_t* ar[MR];
    for (int r = 0; r < MR; ++r)
      ar[r] = a.row(r, s);
    for (int64_t q = 0; q < segment_k4; ++q) {
      if (prefetch.lines > 0) {
        _mm_prefetch(reinterpret_cast<const char*>(prefetch.next), _MM_HINT_T1);
        prefetch.next += 64;
        --prefetch.lines;
      }
      __m512i wv[NB];
      for (int j = 0; j < NB; ++j)
        wv[j] = _mm512_loadu_si512(b[j] + q * 64);
      for (int r = 0; r < MR; ++r) {
        const __m512i av = _mm512_set1_epi32(load_u32(ar[r] + q * 4));
        for (int j = 0; j < NB; ++j)
          acc[r][j] = x86::dpbusd(acc[r][j], av, wv[j]);
      }
    }
    for (int j = 0; j < NB; ++j)
      b[j] += segment_k4 * 64;
  }
  // Two full channel blocks, fused form: pairs of rows packed together (see PackRows).
  if constexpr (NB == 2 && MR % 2 == 0) {
    if (n + 2 * kChannelBlock <= n_end && x86::FusedRequant16::usable(w.requant, n) &&
        x86::FusedRequant16::usable(w.requant, n + kChannelBlock)) {
      const bool sums = row_sums != nullptr;
      const x86::FusedRequant16 left(w.requant, n, sums), right(w.requant, n + kChannelBlock, sums);
      const x86::PackRows pack(w.requant.clamp);
      for (int r = 0; r < MR; r += 2) {
        const int32_t s0 = sums ? row_sums[r] : 0, s1 = sums ? row_sums[r + 1] : 0;
        const __m512i bytes = pack(left.value(acc[r][0], s0), right.value(acc[r][1], s0),
                                   left.value(acc[r + 1][0], s1), right.value(acc[r + 1][1], s1));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * c_stride + n), _mm512_castsi512_si256(bytes));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + (r + 1) * c_stride + n),
                            _mm512_extracti64x4_epi64(bytes, 1));
      }
      return;
    }
  }
  for (int j = 0; j < NB; ++j) {
    const int64_t ch = n + j * kChannelBlock;
    const int64_t valid = std::min<int64_t>(kChannelBlock, n_end - ch);
    if (valid <= 0) continue;
    const __mmask16 keep = valid >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1);
    // Full blocks take plain stores: a masked store is far slower on AMD cores, most of all when the
    // line is not in L1.
    auto emit = [&](const auto& requant) {
      for (int r = 0; r < MR; ++r) {
        const __m128i bytes = requant(acc[r][j], row_sums ? row_sums[r] : 0);
        if (valid == kChannelBlock)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(c + r * c_stride + ch), bytes);
        else
          _mm_mask_storeu_epi8(c + r * c_stride + ch, keep, bytes);
      }
    };
    if (x86::FusedRequant16::usable(w.requant, ch))
      emit(x86::FusedRequant16(w.requant, ch, row_sums != nullptr));
    else
      emit(x86::Requant16(w.requant, ch, row_sums != nullptr));
  }
}

template <int NB, class Rows>
void rows(const PackedWeights& w, Rows a, const int32_t* row_sums, int64_t m, int64_t n, uint8_t* c,
          int64_t c_stride, int64_t n_end) {
  constexpr int kRows = 8;
  // Layers with large weights (late 3x3 layers: 2.4 MB at 3x3x512) read them from memory, not from the
  // last-level cache, on the first tile of each channel block; the block is then reused from L2. The
  // tiles after the first ask for the next blocks' weights a slice at a time, so that their fetch
  // overlaps this block's compute instead of stalling the next block's first tile.
  const int64_t full_tiles = m / kRows;
  const int64_t block_bytes = NB * kChannelBlock * w.k_padded;
  const int64_t next_offset = (n / kChannelBlock + NB) * (block_bytes / NB);
  const int64_t weight_bytes = static_cast<int64_t>(w.data.size());
  const int64_t next_lines = n + NB * kChannelBlock < n_end && next_offset < weight_bytes
                                 ? std::min(block_bytes, weight_bytes - next_offset) / 64
                                 : 0;
  const int8_t* next = next_lines > 0 ? w.data.data() + next_offset : nullptr;
  const int64_t lines_per_tile = full_tiles > 1 ? (next_lines + full_tiles - 2) / (full_tiles - 1) : 0;
  int64_t r = 0;
  for (int64_t t = 0; r + kRows <= m; r += kRows, ++t) {
    Prefetch prefetch;
    const int64_t first_line = (t - 1) * lines_per_tile;
    if (t > 0 && first_line < next_lines)
      prefetch = {next + first_line * 64, std::min(lines_per_tile, next_lines - first_line)};
    tile<kRows, NB>(w, a.from(r), row_sums ? row_sums + r : nullptr, n, c + r * c_stride, c_stride, n_end,
                    prefetch);
  }
  const Rows ar = a.from(r);
  const int32_t* sr = row_sums ? row_sums + r : nullptr;
  uint8_t* cr = c + r * c_stride;
  switch (m - r) {
    case 7:
      return tile<7, NB>(w, ar, sr, n, cr, c_stride, n_end);
    case 6:
      return tile<6, NB>(w, ar, sr, n, cr, c_stride, n_end);
    case 5:
      return tile<5, NB>(w, ar, sr, n, cr, c_stride, n_end);
    case 4:
      return tile<4, NB>(w, ar, sr, n, cr, c_stride, n_end);
    case 3:
      return tile<3, NB>(w, ar, sr, n, cr, c_stride, n_end);
    case 2:
      return tile<2, NB>(w, ar, sr, n, cr, c_stride, n_end);
    case 1:
      return tile<1, NB>(w, ar, sr, n, cr, c_stride, n_end);
    default:
      return;
  }
}

template <class Rows>
void all_channels(const PackedWeights& w, Rows a, const int32_t* row_sums, int64_t m, int64_t n_begin,
                  int64_t n_end, uint8_t* c, int64_t c_stride) {
  int64_t n = n_begin;
  for (; n + 2 * kChannelBlock <= n_end || (n + kChannelBlock < n_end); n += 2 * kChannelBlock)
    rows<2>(w, a, row_sums, m, n, c, c_stride, n_end);
  if (n < n_end) rows<1>(w, a, row_sums, m, n, c, c_stride, n_end);
}

}  // namespace

void compute_avx512vnni(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                        int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  all_channels(w, StridedRows{static_cast<const uint8_t*>(a), a_stride},
               w.needs_row_sums ? row_sums : nullptr, m, n_begin, n_end, c, c_stride);
}

void compute_segmented_avx512vnni(const PackedWeights& w, const uint8_t* const* rows, int64_t m,
                                  int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  all_channels(w, SegmentRows{rows, w.segments}, nullptr, m, n_begin, n_end, c, c_stride);
}

}  // namespace octet::gemm
