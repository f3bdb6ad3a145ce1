#pragma once

// The float GEMM microkernel, written once and instantiated per ISA (kernels/x86/float_conv_*.cpp,
// kernels/arm/float_conv_neon.cpp, and kernels/gemm/float_gemm.cpp for the scalar path): a register tile of
// kRows x kVectors vectors. Per k it loads the B row's vectors once, broadcasts each row's A element and
// fuses it into that row's accumulators, so each accumulator is one output taking its k terms in order
// through fma: the same arithmetic as the reference whatever the tile, the vector width or the split.

#include <array>
#include <cstring>
#include <utility>

#include "kernels/gemm/float_gemm_kernel.h"
#include "kernels/simd/float_lanes.h"

namespace octet::gemm {

// Cache lines to bring into L2 while a tile multiplies: one per k step, from `at` on.
struct PrefetchLines {
  const float* at = nullptr;
  int64_t lines = 0;
};
constexpr int64_t kFloatsPerLine = 16;

template <class Arch, int kRows, int kVectors>
void float_gemm_tile(const FloatGemmBlock& g, const float* a, const float* b, const float* bias,
                     const float* addend, const float* residual, int64_t cols, float* out,
                     PrefetchLines prefetch) {
  using L = simd::Lanes<Arch>;
  using V = typename L::V;
  constexpr int64_t W = L::width;
  constexpr int64_t kCols = kVectors * W;
  V acc[kRows][kVectors];
  // Per-column values (bias, addend) as whole vectors: the tile's columns in place, or for a partial last
  // vector from a zero-padded copy (the arrays end at cols); zeros for none. Then f(v, values of vector v).
  auto for_column_vectors = [&](const float* values, auto&& f) {
    alignas(64) float padded[kCols] = {};
    const float* from = values;
    if (values == nullptr || cols < kCols) {
      if (values != nullptr) std::memcpy(padded, values, static_cast<size_t>(cols) * sizeof(float));
      from = padded;
    }
#pragma GCC unroll 16
    for (int v = 0; v < kVectors; ++v)
      f(v, L::load(from + v * W));
  };
  const int64_t full = cols / W, rest = cols % W;
  // Row r's vector v of a [rows, cols] block (rows `ld` apart), the lanes past cols 0.0f.
  auto load_tile = [&](const float* m, int64_t ld, int r, int v) {
    return v < full ? L::load(m + r * ld + v * W) : L::load_partial(m + r * ld + v * W, rest);
  };
  if (g.resumes) {
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 16
      for (int v = 0; v < kVectors; ++v)
        acc[r][v] = load_tile(out, g.ldo, r, v);
  } else {
    for_column_vectors(bias, [&](int v, const V& s) {
#pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r)
        acc[r][v] = s;
    });
  }
  const int64_t lda = g.lda, ldb = g.ldb;
  for (const KRun* run = g.runs; run != g.runs + g.run_count; ++run) {
    const float* bk = b + run->b_row * ldb;
    const float* const a_end = a + run->a_column + run->length;
    for (const float* a_k = a + run->a_column; a_k != a_end; ++a_k, bk += ldb) {
      if (prefetch.lines > 0) {
        __builtin_prefetch(prefetch.at, 0, 2);  // for reading, into L2
        prefetch.at += kFloatsPerLine;
        --prefetch.lines;
      }
      V bv[kVectors];
#pragma GCC unroll 16
      for (int v = 0; v < kVectors; ++v)
        bv[v] = L::load(bk + v * W);
#pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r) {
        const V av = L::splat(a_k[r * lda]);
#pragma GCC unroll 16
        for (int v = 0; v < kVectors; ++v)
          acc[r][v] = L::fma(av, bv[v], acc[r][v]);
      }
    }
  }
  if (g.finishes && addend != nullptr)
    for_column_vectors(addend, [&](int v, const V& s) {
#pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r)
        acc[r][v] = acc[r][v] + s;
    });
  if (g.finishes && residual != nullptr) {
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 16
      for (int v = 0; v < kVectors; ++v)
        acc[r][v] = acc[r][v] + load_tile(residual, g.ldr, r, v);
  }
  if (g.finishes && !L::is_identity(g.clamp)) {
    const V lo = L::splat(g.clamp.lo), hi = L::splat(g.clamp.hi);
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 16
      for (int v = 0; v < kVectors; ++v)
        acc[r][v] = L::clamp(acc[r][v], lo, hi);
  }
  // Every index into acc is a constant after unrolling, so the tile lives in registers.
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    float* o = out + r * g.ldo;
#pragma GCC unroll 16
    for (int v = 0; v < kVectors; ++v) {
      if (v < full) {
        L::store(o + v * W, acc[r][v]);
      } else if (v == full && rest != 0) {
        L::store_partial(o + v * W, acc[r][v], rest);
      }
    }
  }
}

namespace detail {

using FloatTileFn = void (*)(const FloatGemmBlock&, const float*, const float*, const float*, const float*,
                             const float*, int64_t, float*, PrefetchLines);

template <class Arch, int kRows, int... kVectors>
constexpr auto float_tile_row(std::integer_sequence<int, kVectors...>) {
  return std::array<FloatTileFn, sizeof...(kVectors)>{&float_gemm_tile<Arch, kRows, kVectors + 1>...};
}

// table[r - 1][v - 1] is the tile of r rows and v vectors.
template <class Arch, int kMaxVectors, int... kRows>
constexpr auto float_tile_table(std::integer_sequence<int, kRows...>) {
  return std::array{float_tile_row<Arch, kRows + 1>(std::make_integer_sequence<int, kMaxVectors>())...};
}

// column[r - 1] is the tile of r rows and one vector.
template <class Arch, int... kRows>
constexpr auto float_narrow_tiles(std::integer_sequence<int, kRows...>) {
  return std::array<FloatTileFn, sizeof...(kRows)>{&float_gemm_tile<Arch, kRows + 1, 1>...};
}

}  // namespace detail

// A whole block: column chunks of kTile.vectors vectors, and within each chunk the rows in tiles of at most
// kTile.rows (kTile.narrow_rows where the chunk is one vector), spread evenly (so a chunk of B is reused
// from the cache by every row tile), with narrower tiles at the right edge.
template <class Arch, FloatTile kTile>
void float_gemm_block_simd(const FloatGemmBlock& g) {
  using L = simd::Lanes<Arch>;
  constexpr int64_t W = L::width;
  static_assert(kTile.vector_width == W);
  constexpr int kMaxRows = static_cast<int>(kTile.rows), kMaxVectors = static_cast<int>(kTile.vectors);
  constexpr int kNarrowRows = static_cast<int>(kTile.narrow_rows);
  constexpr int64_t kChunk = kMaxVectors * W;
  static constexpr auto kTiles =
      detail::float_tile_table<Arch, kMaxVectors>(std::make_integer_sequence<int, kMaxRows>());
  static constexpr auto kNarrowTiles =
      detail::float_narrow_tiles<Arch>(std::make_integer_sequence<int, kNarrowRows>());
  int64_t k_steps = 0;
  for (int64_t i = 0; i < g.run_count; ++i)
    k_steps += g.runs[i].length;
  // Whole lines inside the span (its last few floats are left to the hardware), so that no pointer formed
  // here goes past its end.
  const int64_t prefetch_lines = g.prefetch == nullptr ? 0 : g.prefetch_floats / kFloatsPerLine;
  for (int64_t n0 = 0; n0 < g.cols; n0 += kChunk) {
    const int64_t cols = L::smaller(kChunk, g.cols - n0);
    const int64_t vectors = (cols + W - 1) / W;
    const float* bias = g.bias ? g.bias + n0 : nullptr;
    const float* addend = g.addend ? g.addend + n0 : nullptr;
    // The rows spread evenly over as few tiles as max_rows allows (49 rows: 6, 6, 6, 6, 5, 5, 5, 5, 5, not
    // 8 x 6 and a tile of 1 row, which reads B for a fraction of the work).
    const bool narrow = vectors == 1;
    const int64_t max_rows = narrow ? kNarrowRows : kMaxRows;
    const int64_t tiles = (g.rows + max_rows - 1) / max_rows;
    for (int64_t t = 0, r0 = 0; t < tiles; ++t) {
      const int64_t rows = g.rows / tiles + (t < g.rows % tiles ? 1 : 0);
      // The block's prefetch, spread over its first tiles a line per k step.
      const int64_t first_line = L::smaller(prefetch_lines, (n0 / kChunk * tiles + t) * k_steps);
      const PrefetchLines prefetch{g.prefetch ? g.prefetch + first_line * kFloatsPerLine : nullptr,
                                   L::smaller(prefetch_lines - first_line, k_steps)};
      const detail::FloatTileFn tile =
          narrow ? kNarrowTiles[static_cast<size_t>(rows - 1)]
                 : kTiles[static_cast<size_t>(rows - 1)][static_cast<size_t>(vectors - 1)];
      tile(g, g.a + r0 * g.lda, g.b + n0, bias, addend, g.residual ? g.residual + r0 * g.ldr + n0 : nullptr,
           cols, g.out + r0 * g.ldo + n0, prefetch);
      r0 += rows;
    }
  }
}

}  // namespace octet::gemm
