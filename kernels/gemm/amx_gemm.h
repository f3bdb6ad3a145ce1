#pragma once

// The int8 GEMM of packed_gemm.h on AMX tiles (docs/kernels.md, "AMX"):
//
//   C[m][n] = requantize(bias'[n] + sum_k A[m][k] * W[n][k] - z_w[n] * sum_k A[m][k])
//
// for uint8 A (m rows of k bytes, a_stride bytes apart: NHWC pixels as they lie; or, for a convolution,
// each row given as kernel-row segments, walk_segmented) and weights packed by amx_pack. One walk, written
// against a "tile backend" with the instructions as members (configure, release, zero<T>, load<T>,
// store<T>, dpbusd<C, A, B>; tile numbers are template arguments because the intrinsics take them as
// immediates), runs on the scalar model of amx_tile_model.h (compute_amx_model, compute_amx_segmented_model:
// what the tests check against the scalar GEMM) and on the hardware (compute_amx, compute_amx_segmented,
// x86/amx_gemm_intrinsics.cpp), so the code that runs on AMX is the code that was tested.
//
// The walk: every tile is 16 rows x 64 bytes (one configuration). Blocks of 32 rows x 32 channels keep
// 4 int32 accumulator tiles (tiles 0-3: C[i][j], rows 16i.., channel block j), and per 64-byte k step load
// 2 A tiles (4, 5: 16 rows x 64 k each) and 2 B tiles (6, 7: 16 k groups x 16 channels x 4) and issue 4
// TDPBUSD. Row blocks are the outer loop, so a row block's A (its copies included) serves every channel
// pair. Each A tile knows, per k step, where its 16 rows are (ATileSource):
//   - in place, rows a_stride apart, where all 16 rows are there and the step is 64 real bytes of each; for
//     segments, where the 16 rows' pointers are also evenly spaced (a run of output pixels along one image
//     row, stride_w * C_in apart: a KxK kernel row is a strided tile);
//   - else from a 16 x 64 copy with zeros past a row's real bytes (a last partial step of k or of a
//     segment, whose B rows are zero) and past the valid rows (a last tile of fewer than 16 rows; the
//     configuration stays 16 rows), so nothing past a row's real bytes is ever read.
// A last row block of 16 rows or fewer uses only the top tiles (a 1 x 2 or 1 x 1 block); a last channel
// block alone uses one B tile (2 x 1 or 1 x 1); channels past n_end in a block are padding (zero weights and
// constants), computed and never stored.
// The accumulators are stored to a 32 x 32 int32 buffer, which an epilogue turns into bytes while it is in
// L1: the folded bias, the asymmetric-weight term and the requantization (both modes). Two epilogues give the
// same bytes: the scalar one (scalar_epilogue.h) and the AVX-512 one (x86/amx_epilogue_avx512.cpp, the
// GEMM's vector requantization and packs), which AMX machines all have.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/error.h"
#include "kernels/gemm/amx_pack.h"
#include "kernels/gemm/amx_tile_config.h"
#include "kernels/gemm/scalar_epilogue.h"

namespace octet::gemm {

namespace amx {

// The walk's tile numbers.
constexpr int acc_tile(int i, int j) {
  return i * 2 + j;
}
constexpr int a_tile(int i) {
  return 4 + i;
}
constexpr int b_tile(int j) {
  return 6 + j;
}

// Every tile 16 rows x 64 bytes.
constexpr TileConfig walk_config() {
  TileConfig c;
  for (int t = 0; t < kTiles; ++t)
    c.tile(t, kMaxRows, kMaxRowBytes);
  return c;
}

constexpr int64_t kBlockRows = 2 * kAmxTileRows;       // 32 rows of A per block
constexpr int64_t kBlockChannels = 2 * kChannelBlock;  // 32 output channels per block

// Where one A tile (16 rows of a row block) reads each k step s: at[s], its rows stride[s] bytes apart. In
// place where the tile's 16 rows lie evenly spaced and the step is a whole 64 bytes of each; else a 16 x 64
// copy in `copies` (at step s * 1024) with zeros past a row's real bytes and past the valid rows.
struct ATileSource {
  std::vector<const uint8_t*> at;
  std::vector<int64_t> stride;
  std::vector<uint8_t> copies;

  // Room for `steps` steps. The copy space grows (zero-filled) only past its largest size so far; each copy
  // zeroes its own 1 KiB.
  void reset(int64_t steps) {
    at.assign(static_cast<size_t>(steps), nullptr);
    stride.assign(static_cast<size_t>(steps), kAmxKStep);
    if (copies.size() < static_cast<size_t>(steps * kAmxTileBytes))
      copies.resize(static_cast<size_t>(steps * kAmxTileBytes));
  }
  // Step s from a copy of `bytes` bytes of each of the rows row(0) .. row(valid - 1).
  template <class Row>
  void copy_step(int64_t s, int64_t valid, int64_t bytes, Row&& row) {
    uint8_t* copy = copies.data() + s * kAmxTileBytes;
    std::memset(copy, 0, static_cast<size_t>(kAmxTileBytes));
    for (int64_t r = 0; r < valid; ++r)
      std::memcpy(copy + r * kAmxKStep, row(r), static_cast<size_t>(bytes));
    at[static_cast<size_t>(s)] = copy;
    stride[static_cast<size_t>(s)] = kAmxKStep;
  }
  const uint8_t* at_step(int64_t s) const { return at[static_cast<size_t>(s)]; }
  int64_t stride_at(int64_t s) const { return stride[static_cast<size_t>(s)]; }
};

// One block's accumulators to bytes: rows [0, rows) of `acc` (kBlockChannels int32 apart, channel n0 in
// column 0) for channels [n0, n1), row_sums (rows values, only when w.needs_row_sums) and c pointing at the
// block's first row.
using BlockEpilogue = void (*)(const AmxPackedWeights& w, const int32_t* acc, const int32_t* row_sums,
                               int64_t rows, int64_t n0, int64_t n1, uint8_t* c, int64_t c_stride);

inline void scalar_epilogue(const AmxPackedWeights& w, const int32_t* acc, const int32_t* row_sums,
                            int64_t rows, int64_t n0, int64_t n1, uint8_t* c, int64_t c_stride) {
  const ChannelRequant& rq = w.requant;
  for (int64_t r = 0; r < rows; ++r) {
    const uint32_t row_sum = w.needs_row_sums ? static_cast<uint32_t>(row_sums[r]) : 0;
    uint8_t* out = c + r * c_stride;
    for (int64_t n = n0; n < n1; ++n) {
      const auto i = static_cast<size_t>(n);
      // uint32: the sums wrap modulo 2^32 as the tiles' do (packed_gemm.h).
      const uint32_t value = static_cast<uint32_t>(acc[r * kBlockChannels + (n - n0)]) +
                             static_cast<uint32_t>(rq.bias[i]) -
                             static_cast<uint32_t>(rq.weight_zero_point[i]) * row_sum;
      out[n] = requantize_accumulator(rq, n, value);
    }
  }
}

struct WalkScratch {
  alignas(64) int32_t acc[kBlockRows * kBlockChannels];  // the accumulators of one block
  ATileSource sources[2];                                // the row block's two A tiles
};

// Calls f(I, J) for the accumulator tiles of a TM x TN block (std::integral_constant indices).
template <int TM, int TN, class F>
void for_each_acc(F&& f) {
  f(std::integral_constant<int, 0>{}, std::integral_constant<int, 0>{});
  if constexpr (TN == 2) f(std::integral_constant<int, 0>{}, std::integral_constant<int, 1>{});
  if constexpr (TM == 2) f(std::integral_constant<int, 1>{}, std::integral_constant<int, 0>{});
  if constexpr (TM == 2 && TN == 2) f(std::integral_constant<int, 1>{}, std::integral_constant<int, 1>{});
}

// One block: rows [r0, r0 + rows) (rows <= 16 * TM), channel blocks `block` .. block + TN - 1, storing the
// channels below n_end.
template <int TM, int TN, class Tiles>
void compute_block(Tiles& tiles, const AmxPackedWeights& w, const ATileSource* a, const int32_t* row_sums,
                   int64_t r0, int64_t rows, int64_t block, int64_t n_end, uint8_t* c, int64_t c_stride,
                   int32_t* acc, BlockEpilogue epilogue) {
  for_each_acc<TM, TN>([&](auto i, auto j) { tiles.template zero<acc_tile(i, j)>(); });
  for (int64_t s = 0; s < w.k_steps(); ++s) {
    tiles.template load<a_tile(0)>(a[0].at_step(s), a[0].stride_at(s));
    if constexpr (TM == 2) tiles.template load<a_tile(1)>(a[1].at_step(s), a[1].stride_at(s));
    tiles.template load<b_tile(0)>(w.b_tile(block, s), kAmxKStep);
    if constexpr (TN == 2) tiles.template load<b_tile(1)>(w.b_tile(block + 1, s), kAmxKStep);
    for_each_acc<TM, TN>(
        [&](auto i, auto j) { tiles.template dpbusd<acc_tile(i, j), a_tile(i), b_tile(j)>(); });
  }
  for_each_acc<TM, TN>([&](auto i, auto j) {
    tiles.template store<acc_tile(i, j)>(acc + i * kAmxTileRows * kBlockChannels + j * kChannelBlock,
                                         kBlockChannels * 4);
  });
  const int64_t n0 = block * kChannelBlock, n1 = std::min(n_end, n0 + TN * kChannelBlock);
  epilogue(w, acc, w.needs_row_sums ? row_sums + r0 : nullptr, rows, n0, n1, c + r0 * c_stride, c_stride);
}

// A tile's source for rows [first, first + valid) of a strided A (rows of w.k bytes, a_stride apart): in
// place for the k steps inside k when all 16 rows are there, else copies.
inline void a_source(const AmxPackedWeights& w, const uint8_t* a, int64_t a_stride, int64_t first,
                     int64_t valid, ATileSource& source) {
  source.reset(w.k_steps());
  const uint8_t* base = a + first * a_stride;
  for (int64_t s = 0; s < w.k_steps(); ++s) {
    const int64_t offset = s * kAmxKStep, bytes = std::min(kAmxKStep, w.k - offset);
    if (valid == kAmxTileRows && bytes == kAmxKStep) {
      source.at[static_cast<size_t>(s)] = base + offset;
      source.stride[static_cast<size_t>(s)] = a_stride;
    } else {
      source.copy_step(s, valid, bytes, [&](int64_t r) { return base + r * a_stride + offset; });
    }
  }
}

// A tile's source for rows [first, first + valid) of a segmented A (rows[r * w.segments + g]: row r's
// segment g, w.segment_k() readable bytes): segment g's whole k steps read in place where the 16 rows'
// pointers are evenly spaced (a run of output pixels along one image row: stride_w * C_in apart), the rest
// (a segment's last partial step, rows that cross an image row or meet padding copies) from copies.
inline void segment_source(const AmxPackedWeights& w, const uint8_t* const* rows, int64_t first,
                           int64_t valid, ATileSource& source) {
  source.reset(w.k_steps());
  const int64_t segment_k = w.segment_k(), segments = w.segments;
  auto row = [&](int64_t r, int64_t g) { return rows[(first + r) * segments + g]; };
  for (int64_t g = 0; g < segments; ++g) {
    // Evenly spaced (compared as addresses: the pointers may lie in different allocations).
    bool even = valid == kAmxTileRows;
    const auto base = reinterpret_cast<uintptr_t>(row(0, g));
    const uintptr_t spacing = even ? reinterpret_cast<uintptr_t>(row(1, g)) - base : 0;
    even = even && spacing > 0 && spacing < (uintptr_t{1} << 32);
    for (int64_t r = 2; even && r < kAmxTileRows; ++r)
      even = reinterpret_cast<uintptr_t>(row(r, g)) == base + static_cast<uintptr_t>(r) * spacing;
    for (int64_t t = 0; t < w.segment_steps(); ++t) {
      const int64_t s = g * w.segment_steps() + t, offset = t * kAmxKStep;
      const int64_t bytes = std::min(kAmxKStep, segment_k - offset);
      if (even && bytes == kAmxKStep) {
        source.at[static_cast<size_t>(s)] = row(0, g) + offset;
        source.stride[static_cast<size_t>(s)] = static_cast<int64_t>(spacing);
      } else {
        source.copy_step(s, valid, bytes, [&](int64_t r) { return row(r, g) + offset; });
      }
    }
  }
}

// Rows [0, m) and channels [n_begin, n_end) of C, the A tiles of each row block set up by
// prepare(source, first row, valid rows).
template <class Tiles, class Prepare>
void walk_rows(Tiles& tiles, const AmxPackedWeights& w, const int32_t* row_sums, int64_t m, int64_t n_begin,
               int64_t n_end, uint8_t* c, int64_t c_stride, BlockEpilogue epilogue, Prepare&& prepare) {
  if (n_begin % kChannelBlock != 0 || n_begin < 0 || n_end > w.n || m < 0 || (w.needs_row_sums && !row_sums))
    throw Error("amx gemm: bad channel range or missing row sums");
  if (m == 0 || n_begin >= n_end) return;
  // Per thread and kept: every task would otherwise allocate and zero its A sources' copy space (two
  // k_steps x 1 KiB: 72 KiB at 3x3 x 256 channels, a few us against a task's ~10 us of tile work).
  static thread_local WalkScratch scratch;
  const int64_t block_end = (n_end + kChannelBlock - 1) / kChannelBlock;
  tiles.configure(walk_config());
  try {
    for (int64_t r0 = 0; r0 < m; r0 += kBlockRows) {
      const int64_t rows = std::min(kBlockRows, m - r0);
      const bool two_row_tiles = rows > kAmxTileRows;
      const ATileSource* sources = scratch.sources;
      prepare(scratch.sources[0], r0, std::min(rows, kAmxTileRows));
      if (two_row_tiles) prepare(scratch.sources[1], r0 + kAmxTileRows, rows - kAmxTileRows);
      for (int64_t b = n_begin / kChannelBlock; b < block_end; b += 2) {
        const bool two_channel_tiles = b + 1 < block_end;
        int32_t* acc = scratch.acc;
        if (two_row_tiles && two_channel_tiles)
          compute_block<2, 2>(tiles, w, sources, row_sums, r0, rows, b, n_end, c, c_stride, acc, epilogue);
        else if (two_row_tiles)
          compute_block<2, 1>(tiles, w, sources, row_sums, r0, rows, b, n_end, c, c_stride, acc, epilogue);
        else if (two_channel_tiles)
          compute_block<1, 2>(tiles, w, sources, row_sums, r0, rows, b, n_end, c, c_stride, acc, epilogue);
        else
          compute_block<1, 1>(tiles, w, sources, row_sums, r0, rows, b, n_end, c, c_stride, acc, epilogue);
      }
    }
  } catch (...) {
    tiles.release();
    throw;
  }
  tiles.release();
}

// Rows [0, m) and output channels [n_begin, n_end) of C (n_begin a multiple of 16), as gemm::compute: A
// rows of w.k bytes (nothing past them is read), row_sums (m values) only when w.needs_row_sums. Weights
// packed in one segment.
template <class Tiles>
void walk(Tiles& tiles, const AmxPackedWeights& w, const uint8_t* a, int64_t a_stride,
          const int32_t* row_sums, int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride,
          BlockEpilogue epilogue = scalar_epilogue) {
  if (w.segments != 1) throw Error("amx gemm: weights packed in segments take walk_segmented");
  walk_rows(tiles, w, row_sums, m, n_begin, n_end, c, c_stride, epilogue,
            [&](ATileSource& source, int64_t first, int64_t valid) {
              a_source(w, a, a_stride, first, valid, source);
            });
}

// As walk, with A given by segments as for gemm::compute_segmented: rows[r * w.segments + g] points at
// row r's segment g, of which w.segment_k() bytes are read (nothing past them). No row sums: asymmetric
// weights take im2col rows, as for the VNNI kernel.
template <class Tiles>
void walk_segmented(Tiles& tiles, const AmxPackedWeights& w, const uint8_t* const* rows, int64_t m,
                    int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride,
                    BlockEpilogue epilogue = scalar_epilogue) {
  if (w.needs_row_sums) throw Error("amx gemm: segmented A without row sums only (symmetric weights)");
  walk_rows(tiles, w, nullptr, m, n_begin, n_end, c, c_stride, epilogue,
            [&](ATileSource& source, int64_t first, int64_t valid) {
              segment_source(w, rows, first, valid, source);
            });
}

#if defined(__x86_64__)
// The AVX-512 epilogue (x86/amx_epilogue_avx512.cpp): only on CPUs with the avx512vnni ISA.
void avx512_epilogue(const AmxPackedWeights& w, const int32_t* acc, const int32_t* row_sums, int64_t rows,
                     int64_t n0, int64_t n1, uint8_t* c, int64_t c_stride);
#endif

}  // namespace amx

// The walk on the scalar tile model (amx_gemm.cpp): runs anywhere; what the tests check, with either
// epilogue.
void compute_amx_model(const AmxPackedWeights& w, const uint8_t* a, int64_t a_stride, const int32_t* row_sums,
                       int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride,
                       amx::BlockEpilogue epilogue = amx::scalar_epilogue);

void compute_amx_segmented_model(const AmxPackedWeights& w, const uint8_t* const* rows, int64_t m,
                                 int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride,
                                 amx::BlockEpilogue epilogue = amx::scalar_epilogue);

#if defined(__x86_64__)
// The walks on AMX tiles with the AVX-512 epilogue (x86/amx_gemm_intrinsics.cpp). Throw octet::Error unless
// amx_support().usable.
// The avx512amx ISA's convolutions call them (conv/amx_conv.h). Never run on AMX hardware yet.
void compute_amx(const AmxPackedWeights& w, const uint8_t* a, int64_t a_stride, const int32_t* row_sums,
                 int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);
void compute_amx_segmented(const AmxPackedWeights& w, const uint8_t* const* rows, int64_t m, int64_t n_begin,
                           int64_t n_end, uint8_t* c, int64_t c_stride);
#endif

}  // namespace octet::gemm
