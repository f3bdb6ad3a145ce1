// AVX-512 VNNI GEMM: vpdpbusd multiplies 4 uint8 activations by 4 int8 weights and adds the four products
// to an int32 lane, 16 lanes (output channels) per zmm register. The microkernel keeps an 8-row x
// 32-channel tile of accumulators in 16 registers; the requantization runs on the same registers. A last
// block of at most 8 channels (24 = 16 + 8, or C_out <= 8) puts two rows in each register instead.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni; only called after the CPU check.

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/gemm/packed_gemm.h"
#include "kernels/x86/accumulate_avx512.h"
#include "kernels/x86/gemm_few_channels_avx512.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::gemm {

namespace {

inline int32_t load_u32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Where the microkernel reads A: row r's bytes for run s of k steps, the run's first step and length, and
// the accumulators' start per channel (null: zero).
struct StridedRows {  // one run of every k step, rows `stride` bytes apart
  const uint8_t* a;
  int64_t stride;
  const uint8_t* row(int r, int64_t) const { return a + r * stride; }
  StridedRows from(int64_t r) const { return {a + r * stride, stride}; }
  static int64_t runs() { return 1; }
  static int64_t run_begin(int64_t) { return 0; }
  static int64_t run_steps(const PackedWeights& w, int64_t) { return w.k_padded / 4; }
  static const int32_t* initial() { return nullptr; }
};
struct SegmentRows {  // a pointer per row and run (RowPieces)
  const uint8_t* const* rows;
  const KSteps* steps;
  int64_t count;
  const int32_t* start;
  // > 0: the runs are the packing's segments, each this many steps: read without the run table (which
  // cost L1, every run a whole kernel row, 3-4%).
  int64_t segment_steps;
  SegmentRows(const PackedWeights& w, const RowPieces& g)
      : rows(g.rows),
        steps(g.runs.data()),
        count(static_cast<int64_t>(g.runs.size())),
        start(g.initial),
        segment_steps(are_whole_segments(w, g.runs) ? w.segment_padded / 4 : 0) {}
  const uint8_t* row(int r, int64_t s) const { return rows[r * count + s]; }
  SegmentRows from(int64_t r) const {
    SegmentRows a = *this;
    a.rows += r * count;
    return a;
  }
  int64_t runs() const { return count; }
  int64_t run_begin(int64_t s) const { return segment_steps > 0 ? s * segment_steps : steps[s].begin; }
  int64_t run_steps(const PackedWeights&, int64_t s) const {
    return segment_steps > 0 ? segment_steps : steps[s].count;
  }
  const int32_t* initial() const { return start; }

 private:
  static bool are_whole_segments(const PackedWeights& w, std::span<const KSteps> runs) {
    if (static_cast<int64_t>(runs.size()) != w.segments) return false;
    const auto k = static_cast<int32_t>(w.segment_padded / 4);
    for (size_t s = 0; s < runs.size(); ++s)
      if (runs[s].begin != static_cast<int32_t>(s) * k || runs[s].count != k) return false;
    return true;
  }
};

// Lines of the next channel blocks' weights that a tile asks the caches for while it computes.
struct Prefetch {
  const int8_t* next = nullptr;
  int64_t lines = 0;
};

// Stores the first `count` (at most 8) bytes of `bytes` at dst without a masked store (slow on AMD cores).
inline void store_head(uint8_t* dst, __m128i bytes, int64_t count) {
  if (count == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), bytes);
    return;
  }
  alignas(16) uint8_t tmp[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
  std::memcpy(dst, tmp, static_cast<size_t>(count));
}

// The requantized bytes of MR rows x 32 channels (acc[r][0]: channels 0-15, acc[r][1]: 16-31) to c (the
// first channel of row 0), pairs of rows packed together (see PackRows, which clamps).
template <int MR, class Requant>
[[gnu::always_inline]] inline void store_pair_rows(const Requant& left, const Requant& right,
                                                   const x86::PackRows& pack, const __m512i (&acc)[MR][2],
                                                   const int32_t* row_sums, uint8_t* c, int64_t c_stride) {
  static_assert(MR % 2 == 0);
  for (int r = 0; r < MR; r += 2) {
    const int32_t s0 = row_sums ? row_sums[r] : 0, s1 = row_sums ? row_sums[r + 1] : 0;
    const __m512i bytes = pack(left.value_to_pack(acc[r][0], s0), right.value_to_pack(acc[r][1], s0),
                               left.value_to_pack(acc[r + 1][0], s1), right.value_to_pack(acc[r + 1][1], s1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * c_stride), _mm512_castsi512_si256(bytes));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + (r + 1) * c_stride),
                        _mm512_extracti64x4_epi64(bytes, 1));
  }
}

// MR rows x NB blocks of 16 channels starting at channel n, and with kPairTail a tail of at most 8 channels
// from n + NB * 16 on (the start of a packed block, whose first 8 channels' weights it reads). A tail that
// narrow would waste half of a 16-lane block or more, so its accumulators hold two rows each: lanes 0-7
// row r's channels, lanes 8-15 row r + 1's (x86::ChannelLanes::eight_twice), which halves its multiplies.
template <int MR, int NB, bool kPairTail, class Rows>
void tile(const PackedWeights& w, const Rows& a, const int32_t* row_sums, int64_t n, uint8_t* c,
          int64_t c_stride, int64_t n_end, Prefetch prefetch = {}) {
  constexpr int kPairs = kPairTail ? (MR + 1) / 2 : 0, kBlocks = NB + (kPairTail ? 1 : 0);
  const int64_t k4 = w.k_padded / 4;
  const int8_t* block[kBlocks];
  for (int j = 0; j < kBlocks; ++j)
    block[j] = w.data.data() + (n / kChannelBlock + j) * k4 * kChannelBlock * 4;
  // Unrolled: GCC 12 otherwise zero-fills a dead copy of the arrays in memory on every call.
  __m512i acc[MR][NB > 0 ? NB : 1];
  __m512i tail[kPairs > 0 ? kPairs : 1];
  const int32_t* initial = a.initial();
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) {
    const __m512i start =
        initial ? _mm512_loadu_si512(initial + n + j * kChannelBlock) : _mm512_setzero_si512();
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
      acc[r][j] = start;
  }
  if constexpr (kPairs > 0) {
    // The tail block's first 8 channels, in both halves (two rows per register).
    const __m512i start = initial ? _mm512_broadcast_i64x4(_mm256_loadu_si256(
                                        reinterpret_cast<const __m256i*>(initial + n + NB * kChannelBlock)))
                                  : _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int i = 0; i < kPairs; ++i)
      tail[i] = start;
  }
  for (int64_t s = 0; s < a.runs(); ++s) {
    const uint8_t* ar[MR];
    for (int r = 0; r < MR; ++r)
      ar[r] = a.row(r, s);
    const int8_t* b[kBlocks];
    for (int j = 0; j < kBlocks; ++j)
      b[j] = block[j] + a.run_begin(s) * 64;
    const int64_t steps = a.run_steps(w, s);
    for (int64_t q = 0; q < steps; ++q) {
      if (prefetch.lines > 0) {
        _mm_prefetch(reinterpret_cast<const char*>(prefetch.next), _MM_HINT_T1);
        prefetch.next += 64;
        --prefetch.lines;
      }
      __m512i wv[NB > 0 ? NB : 1];
      for (int j = 0; j < NB; ++j)
        wv[j] = _mm512_loadu_si512(b[j] + q * 64);
      if constexpr (kPairTail) {
        // The tail block's first 8 channels (32 bytes of each 64-byte k group), in both halves.
        const __m512i wt =
            _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[NB] + q * 64)));
        for (int r = 0; r < MR; r += 2) {
          // An odd last row pairs with itself; only its first half is stored.
          const int r1 = r + 1 < MR ? r + 1 : r;
          const __m512i av0 = _mm512_set1_epi32(load_u32(ar[r] + q * 4));
          const __m512i av1 = _mm512_set1_epi32(load_u32(ar[r1] + q * 4));
          for (int j = 0; j < NB; ++j) {
            acc[r][j] = x86::dpbusd(acc[r][j], av0, wv[j]);
            if (r + 1 < MR) acc[r + 1][j] = x86::dpbusd(acc[r + 1][j], av1, wv[j]);
          }
          tail[r / 2] = x86::dpbusd(tail[r / 2], _mm512_mask_blend_epi32(__mmask16(0xFF00), av0, av1), wt);
        }
      } else {
        for (int r = 0; r < MR; ++r) {
          const __m512i av = _mm512_set1_epi32(load_u32(ar[r] + q * 4));
          for (int j = 0; j < NB; ++j)
            acc[r][j] = x86::dpbusd(acc[r][j], av, wv[j]);
        }
      }
    }
  }
  if constexpr (kPairTail) {
    const int64_t ch = n + NB * kChannelBlock;
    const int64_t valid = std::min<int64_t>(kChannelBlock / 2, n_end - ch);
    auto emit = [&](const auto& requant) {
      for (int r = 0; r < MR; r += 2) {
        const bool second = r + 1 < MR;
        const int32_t s0 = row_sums ? row_sums[r] : 0, s1 = row_sums && second ? row_sums[r + 1] : s0;
        const __m128i bytes = requant(tail[r / 2], x86::pair_of(s0, s1));
        store_head(c + r * c_stride + ch, bytes, valid);
        if (second) store_head(c + (r + 1) * c_stride + ch, _mm_unpackhi_epi64(bytes, bytes), valid);
      }
    };
    const bool sums = row_sums != nullptr;
    x86::with_requant(w.requant, x86::FusedRequant16::usable(w.requant, ch), [&](auto kind) {
      emit(typename decltype(kind)::type(w.requant, ch, sums, x86::ChannelLanes::eight_twice));
    });
    if constexpr (NB == 0) return;
  }
  // Two full channel blocks: pairs of rows packed together (store_pair_rows), with the epilogue
  // x86::with_requant picks for both.
  if constexpr (NB == 2 && MR % 2 == 0) {
    if (n + 2 * kChannelBlock <= n_end) {
      const bool sums = row_sums != nullptr;
      const x86::PackRows pack(w.requant.clamp);
      const bool fused = x86::FusedRequant16::usable(w.requant, n, 2 * kChannelBlock);
      x86::with_requant(w.requant, fused, [&](auto kind) {
        using Requant = typename decltype(kind)::type;
        store_pair_rows<MR>(Requant(w.requant, n, sums), Requant(w.requant, n + kChannelBlock, sums), pack,
                            acc, row_sums, c + n, c_stride);
      });
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
    x86::with_requant(w.requant, x86::FusedRequant16::usable(w.requant, ch), [&](auto kind) {
      emit(typename decltype(kind)::type(w.requant, ch, row_sums != nullptr));
    });
  }
}

// A last tile of `count` rows, 1 <= count <= MR.
template <int MR, int NB, bool kPairTail, class Rows>
void last_tile(int64_t count, const PackedWeights& w, const Rows& a, const int32_t* row_sums, int64_t n,
               uint8_t* c, int64_t c_stride, int64_t n_end) {
  if constexpr (MR > 1)
    if (count < MR) return last_tile<MR - 1, NB, kPairTail>(count, w, a, row_sums, n, c, c_stride, n_end);
  tile<MR, NB, kPairTail>(w, a, row_sums, n, c, c_stride, n_end);
}

template <int NB, bool kPairTail, class Rows>
void rows(const PackedWeights& w, const Rows& a, const int32_t* row_sums, int64_t m, int64_t n, uint8_t* c,
          int64_t c_stride, int64_t n_end) {
  constexpr int kRows = 8;  // 16 accumulators with NB = 2 (20 with a tail), 12 with NB = 1 and a tail
  // Layers with large weights (late 3x3 layers: 2.4 MB at 3x3x512) read them from memory, not from the
  // last-level cache, on the first tile of each channel block; the block is then reused from L2. The
  // tiles after the first ask for the next blocks' weights a slice at a time, so that their fetch
  // overlaps this block's compute instead of stalling the next block's first tile.
  constexpr int kBlocks = NB + (kPairTail ? 1 : 0);
  const int64_t full_tiles = m / kRows;
  const int64_t block_bytes = kBlocks * kChannelBlock * w.k_padded;
  const int64_t next_offset = (n / kChannelBlock + kBlocks) * (block_bytes / kBlocks);
  const int64_t weight_bytes = static_cast<int64_t>(w.data.size());
  const int64_t next_lines = n + kBlocks * kChannelBlock < n_end && next_offset < weight_bytes
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
    tile<kRows, NB, kPairTail>(w, a.from(r), row_sums ? row_sums + r : nullptr, n, c + r * c_stride, c_stride,
                               n_end, prefetch);
  }
  if (r < m)
    last_tile<kRows - 1, NB, kPairTail>(m - r, w, a.from(r), row_sums ? row_sums + r : nullptr, n,
                                        c + r * c_stride, c_stride, n_end);
}

// Small K in one segment (1x1 convolutions over few input channels: KQ = k_padded / 4 k steps), 32
// channels from n on, rows [0, m) in tiles of 8 (m a multiple of 8). tile() spends about as much on its
// call, its constants and its accumulators' round trip through the stack as on the multiplies of so short a
// k loop; this loop keeps the requantization constants (and up to KQ = 7 the 2 x KQ weight vectors) for
// every row of the call, the k loop unrolled. 1x1 16 -> 96 at 112x112 (layers_bench): 0.147 -> 0.112 ms
// in float mode; it still gains about 10% at K = 64.
template <int KQ, class Requant>
void small_k_pairs(const PackedWeights& w, StridedRows a, const int32_t* row_sums, int64_t m, int64_t n,
                   uint8_t* c, int64_t c_stride) {
  constexpr int kRows = 8;
  const int8_t* b = w.data.data() + (n / kChannelBlock) * KQ * kChannelBlock * 4;
  // The 16 accumulators, a broadcast and the weights of KQ <= kKeptSteps steps fit the 32 registers; with
  // more steps GCC 12 kept the weights and spilled the accumulators instead (a load and a store around
  // every multiply: 1x1 64 -> 128 at 128x128 ran at a third of the peak), so those weights are read from L1
  // on every k step. The output's byte stores may alias them, which keeps the loads in the loop.
  constexpr int kKeptSteps = 7;
  constexpr bool kKeep = KQ <= kKeptSteps;
  __m512i wv[kKeep ? KQ : 1][2];
  if constexpr (kKeep)
    for (int q = 0; q < KQ; ++q)
      for (int j = 0; j < 2; ++j)
        wv[q][j] = _mm512_loadu_si512(b + (j * KQ + q) * 64);
  auto weight = [&](int q, int j) {
    if constexpr (kKeep)
      return wv[q][j];
    else
      return _mm512_loadu_si512(b + (j * KQ + q) * 64);
  };
  const bool sums = row_sums != nullptr;
  const Requant left(w.requant, n, sums), right(w.requant, n + kChannelBlock, sums);
  const x86::PackRows pack(w.requant.clamp);
  for (int64_t r0 = 0; r0 < m; r0 += kRows) {
    __m512i acc[kRows][2];
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r)
      acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    const StridedRows tile_rows = a.from(r0);
#pragma GCC unroll 16
    for (int q = 0; q < KQ; ++q) {
      const __m512i w0 = weight(q, 0), w1 = weight(q, 1);
#pragma GCC unroll 8
      for (int r = 0; r < kRows; ++r) {
        const __m512i av = _mm512_set1_epi32(load_u32(tile_rows.row(r, 0) + q * 4));
        acc[r][0] = x86::dpbusd(acc[r][0], av, w0);
        acc[r][1] = x86::dpbusd(acc[r][1], av, w1);
      }
    }
    store_pair_rows<kRows>(left, right, pack, acc, sums ? row_sums + r0 : nullptr, c + r0 * c_stride + n,
                           c_stride);
  }
}

// Calls each.template operator()<NB, kPairTail>(n) for every step of [n_begin, n_end): pairs of 16-channel
// blocks; a last block of at most 8 channels goes to the paired tail, with the blocks before it in the
// same pass over A where there are at most two.
template <class Each>
void for_channel_steps(int64_t n_begin, int64_t n_end, Each&& each) {
  constexpr int64_t kHalf = kChannelBlock / 2;
  for (int64_t n = n_begin; n < n_end; n += 2 * kChannelBlock) {
    const int64_t left = n_end - n;
    if (left <= kHalf) return each.template operator()<0, true>(n);
    if (left <= kChannelBlock) return each.template operator()<1, false>(n);
    if (left <= kChannelBlock + kHalf) return each.template operator()<1, true>(n);
    if (left > 2 * kChannelBlock && left <= 2 * kChannelBlock + kHalf)
      return each.template operator()<2, true>(n);
    each.template operator()<2, false>(n);
  }
}

template <class Rows>
void all_channels(const PackedWeights& w, Rows a, const int32_t* row_sums, int64_t m, int64_t n_begin,
                  int64_t n_end, uint8_t* c, int64_t c_stride) {
  for_channel_steps(n_begin, n_end, [&]<int NB, bool kPairTail>(int64_t n) {
    rows<NB, kPairTail>(w, a, row_sums, m, n, c, c_stride, n_end);
  });
}

// K of up to 16 k steps (1x1 layers over up to 64 input channels) takes small_k_pairs; one instantiation
// per step count and epilogue.
constexpr int kMaxSmallKq = 16;

template <class Requant, int... kSteps>
constexpr auto small_k_kernels(std::integer_sequence<int, kSteps...>) {
  return std::array{&small_k_pairs<kSteps + 1, Requant>...};
}

// small_k_pairs for every whole pair of blocks of [n_begin, n_end) and the whole tiles of 8 rows, with
// KQ known at compile time; returns the channel up to which it computed every row (n_begin: nothing). In
// fixed point it stops at the first block without the fused form (rare: a multiplier above 1 or below
// 2^-22), leaving that block and all after it to the tiles, so that its epilogues are the fused ones only:
// the uncorrected one where the clamp allows (1x1 expansions with ReLU: mobilenetv2_like's 112 x 112 x 96
// layer 0.123 -> 0.107 ms, float 0.104) without a third set of 16 instantiations (Requant16's).
int64_t small_k_channels(const PackedWeights& w, StridedRows a, const int32_t* row_sums, int64_t m,
                         int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  const int64_t kq = w.k_padded / 4, whole_rows = m / 8 * 8;
  if (w.segments != 1 || kq > kMaxSmallKq || whole_rows == 0) return n_begin;
  int64_t n = n_begin;
  for (; n + 2 * kChannelBlock <= n_end; n += 2 * kChannelBlock) {
    const bool fused = x86::FusedRequant16::usable(w.requant, n, 2 * kChannelBlock);
    if (!fused && !w.requant.float_mode()) break;
    x86::with_requant<true, false>(w.requant, fused, [&](auto kind) {
      using Requant = typename decltype(kind)::type;
      static constexpr auto kernels =
          small_k_kernels<Requant>(std::make_integer_sequence<int, kMaxSmallKq>());
      kernels[static_cast<size_t>(kq - 1)](w, a, row_sums, whole_rows, n, c, c_stride);
    });
  }
  // The rows after the last whole tile, for the same channels.
  if (n > n_begin && whole_rows < m)
    all_channels(w, a.from(whole_rows), row_sums ? row_sums + whole_rows : nullptr, m - whole_rows, n_begin,
                 n, c + whole_rows * c_stride, c_stride);
  return n;
}

}  // namespace

void compute_avx512vnni(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                        int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  if (!w.needs_row_sums) row_sums = nullptr;
  if (w.segments > 1) {
    // Weights packed in segments, each row holding them side by side (segment_padded bytes each): a
    // pointer per row and segment for the segmented kernels. Convolutions give such rows to
    // compute_segmented themselves; this keeps compute() right for any packing without widening the
    // one-segment kernels' row type (a segment field in StridedRows cost L2 and L6 10-15%).
    std::vector<const uint8_t*> table(static_cast<size_t>(m * w.segments));
    for (int64_t r = 0; r < m; ++r)
      for (int64_t s = 0; s < w.segments; ++s)
        table[static_cast<size_t>(r * w.segments + s)] =
            static_cast<const uint8_t*>(a) + r * a_stride + s * w.segment_padded;
    const std::vector<KSteps> runs = whole_segments(w);  // (rare: convolutions call compute_pieces)
    const RowPieces group{table.data(), m, runs, nullptr, c, c_stride};
    if (n_end - n_begin <= kFewChannels)
      return few_channels_segmented_avx512vnni(w, group, row_sums, n_begin, n_end);
    return all_channels(w, SegmentRows(w, group), row_sums, m, n_begin, n_end, c, c_stride);
  }
  if (n_end - n_begin <= kFewChannels)
    return few_channels_avx512vnni(w, static_cast<const uint8_t*>(a), a_stride, row_sums, m, n_begin, n_end,
                                   c, c_stride);
  const StridedRows rows{static_cast<const uint8_t*>(a), a_stride};
  const int64_t done = small_k_channels(w, rows, row_sums, m, n_begin, n_end, c, c_stride);
  if (done < n_end) all_channels(w, rows, row_sums, m, done, n_end, c, c_stride);
}

void compute_pieces_avx512vnni(const PackedWeights& w, std::span<const RowPieces> groups, int64_t n_begin,
                               int64_t n_end) {
  if (n_end - n_begin <= kFewChannels) {
    for (const RowPieces& g : groups)
      few_channels_segmented_avx512vnni(w, g, nullptr, n_begin, n_end);
    return;
  }
  // Channel steps outermost: a step's weights stay in the caches while every group multiplies them.
  for_channel_steps(n_begin, n_end, [&]<int NB, bool kPairTail>(int64_t n) {
    for (const RowPieces& g : groups)
      if (g.m > 0) rows<NB, kPairTail>(w, SegmentRows(w, g), nullptr, g.m, n, g.c, g.c_stride, n_end);
  });
}

}  // namespace octet::gemm
