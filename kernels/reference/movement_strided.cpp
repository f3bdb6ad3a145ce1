// The strided copy behind Transpose, Slice, DepthToSpace and SpaceToDepth
// (kernels/reference/movement_work.h).
//
// The dimensions are first simplified: size-1 dimensions carry no index and are dropped, and neighbours
// that the input walks as one (outer stride == inner stride * inner size) are merged, so that for example
// a transpose that keeps trailing dimensions in place becomes a copy of long contiguous blocks. Then:
//   - the last dimension is contiguous in the input: rows are memcpy'd (unit: output element);
//   - some other dimension is contiguous in the input (a true transpose): the output is copied in tiles
//     spanning that dimension and the last one, so that both the reads and the writes of a tile stay in a
//     few cache lines (unit: tile);
//   - neither (a slice with steps): rows are gathered element by element (unit: output element).

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/reference/movement_copy.h"
#include "kernels/reference/movement_work.h"

namespace octet::ref::detail {
namespace {

struct Simplified {
  std::vector<int64_t> dims, strides;
};

Simplified simplify(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides) {
  Simplified s;
  for (size_t k = 0; k < dims.size(); ++k) {
    if (dims[k] == 1) continue;
    if (!s.dims.empty() && s.strides.back() == strides[k] * dims[k]) {
      s.dims.back() *= dims[k];
      s.strides.back() = strides[k];
    } else {
      s.dims.push_back(dims[k]);
      s.strides.push_back(strides[k]);
    }
  }
  if (s.dims.empty()) {  // a single element
    s.dims = {1};
    s.strides = {1};
  }
  return s;
}

// Rows of the last dimension, in output-element units: `copy_row(dst, src, count)` moves `count` elements
// of one row starting at input element `src`.
template <class CopyRow>
MovementWork row_work(const std::byte* x, Simplified s, int64_t base, size_t element_size, std::byte* y,
                      CopyRow copy_row) {
  const int64_t length = s.dims.back();
  const int64_t stride = s.strides.back();
  s.dims.pop_back();
  s.strides.pop_back();
  int64_t rows = 1;
  for (const int64_t d : s.dims)
    rows *= d;
  MovementWork work;
  work.units = rows * length;
  work.unit_bytes = static_cast<int64_t>(element_size);
  const int64_t es = static_cast<int64_t>(element_size);
  // The input stride between consecutive rows of the innermost outer dimension.
  const int64_t row_stride = s.strides.empty() ? 0 : s.strides.back();
  work.run = [=, outer = std::move(s)](int64_t first, int64_t last) {
    Odometer<1> row(outer.dims, {outer.strides}, first / length);
    int64_t column = first % length;
    for (int64_t e = first; e < last; column = 0) {
      // Whole rows along the innermost outer dimension, a constant stride apart: without the odometer's
      // step per row, which cost more than copying a short row (attention's heads of 32 bytes).
      const int64_t whole = column == 0 ? std::min(row.innermost_left(), (last - e) / length) : 0;
      if (whole > 1) {
        const std::byte* src = x + (base + row.offset(0)) * es;
        std::byte* dst = y + e * es;
        for (int64_t r = 0; r < whole; ++r)
          copy_row(dst + r * length * es, src + r * row_stride * es, length, stride);
        e += whole * length;
        row.next(whole);
        continue;
      }
      const int64_t count = std::min(length - column, last - e);
      copy_row(y + e * es, x + (base + row.offset(0) + column * stride) * es, count, stride);
      e += count;
      row.next();
    }
  };
  return work;
}

// out[j * out_stride_j + l] = in[j + l * in_stride_l] for j in [j0, j1) and the kColumns columns l from l0
// on, a whole output row at a time: with the column count known, the compiler unrolls the row and
// interleaves the columns' reads in registers (3-channel float images: 0.092 -> 0.046 ms at 224 x 224 on
// Zen 5, uint8 0.118 -> 0.040, against a loop over a run-time count of columns).
template <int kColumns, size_t kSize>
void copy_few_columns(const std::byte* in, std::byte* out, int64_t j0, int64_t j1, int64_t l0,
                      int64_t out_stride_j, int64_t in_stride_l) {
  constexpr auto es = static_cast<int64_t>(kSize);
  const std::byte* columns[kColumns];
  for (int c = 0; c < kColumns; ++c)
    columns[c] = in + (l0 + c) * in_stride_l * es;
  for (int64_t j = j0; j < j1; ++j) {
    std::byte* row = out + (j * out_stride_j + l0) * es;
    for (int c = 0; c < kColumns; ++c)
      std::memcpy(row + c * es, columns[c] + j * es, kSize);
  }
}

// The unsigned integer of `kSize` bytes, whose vectors transpose_vectors moves.
template <size_t kSize>
using Lane = std::conditional_t<
    kSize == 1, uint8_t,
    std::conditional_t<kSize == 2, uint16_t, std::conditional_t<kSize == 4, uint32_t, uint64_t>>>;

// An N x N block of kSize-byte elements (N: a vector's lanes), out row b = in column b, rows `*_stride`
// elements apart: log2(N) rounds of interleaving row i with row i + N/2 (each round a perfect shuffle of
// the index bits, which log2(N) rounds turn into the transpose). 16 x 16 bytes in 64 zips instead of 256
// byte moves through a buffer: a uint8 [3136, 96] transpose (ConvNeXt's permutes) 0.062 -> 0.015 ms, float
// 0.115 -> 0.054 ms (Zen 5).
template <size_t kSize>
void transpose_vectors(const std::byte* in, int64_t in_stride, std::byte* out, int64_t out_stride) {
  using Batch = xsimd::batch<Lane<kSize>>;
  constexpr size_t kN = Batch::size;
  const auto* src = reinterpret_cast<const Lane<kSize>*>(in);
  auto* dst = reinterpret_cast<Lane<kSize>*>(out);
  Batch rows[kN];
  for (size_t i = 0; i < kN; ++i)
    rows[i] = Batch::load_unaligned(src + static_cast<int64_t>(i) * in_stride);
  for (size_t half = kN / 2; half > 0; half /= 2) {
    Batch next[kN];
    for (size_t i = 0; i < kN / 2; ++i) {
      next[2 * i] = xsimd::zip_lo(rows[i], rows[i + kN / 2]);
      next[2 * i + 1] = xsimd::zip_hi(rows[i], rows[i + kN / 2]);
    }
    std::copy(next, next + kN, rows);
  }
  for (size_t i = 0; i < kN; ++i)
    rows[i].store_unaligned(dst + static_cast<int64_t>(i) * out_stride);
}

// One tile of a transpose: out[j * out_stride_j + l] = in[j + l * in_stride_l] for j in [j0, j1), l in
// [l0, l1). With a constant element size the tile goes in 8 x 8 blocks through a local buffer: eight short
// contiguous reads, then eight short contiguous writes, rather than a strided access per element. A block
// also keeps few cache lines in use at once, which matters when a stride is a power of two and all the rows
// of a tile fall into one cache set (2-D 1024 x 1024 float: about 3x faster than the plain loop).
template <class Size>
void copy_tile(const std::byte* in, std::byte* out, int64_t j0, int64_t j1, int64_t l0, int64_t l1,
               int64_t out_stride_j, int64_t in_stride_l, Size size) {
  const auto es = static_cast<int64_t>(static_cast<size_t>(size));
  int64_t j = j0;
  if constexpr (!std::is_same_v<Size, size_t>) {
    constexpr int64_t kBlock = Size::value <= 2 ? 16 : 8;
    constexpr size_t kSize = Size::value;
    if (l1 - l0 < kBlock) {
      // Fewer output columns than a block (an image's 3 channels going channels-last). The blocks below
      // would leave every row to copy_strided, a call per three elements (a 320 x 320 x 3 image took
      // 0.23 ms).
      switch (l1 - l0) {
        case 2:
          return copy_few_columns<2, kSize>(in, out, j0, j1, l0, out_stride_j, in_stride_l);
        case 3:
          return copy_few_columns<3, kSize>(in, out, j0, j1, l0, out_stride_j, in_stride_l);
        case 4:
          return copy_few_columns<4, kSize>(in, out, j0, j1, l0, out_stride_j, in_stride_l);
        default:
          // A column at a time: its reads contiguous, its writes within the tile's few output lines.
          for (int64_t l = l0; l < l1; ++l) {
            const std::byte* src = in + (j0 + l * in_stride_l) * es;
            std::byte* dst = out + (j0 * out_stride_j + l) * es;
            for (int64_t i = 0; i < j1 - j0; ++i)
              std::memcpy(dst + i * out_stride_j * es, src + i * es, kSize);
          }
          return;
      }
    }
    for (; j + kBlock <= j1; j += kBlock) {
      int64_t l = l0;
      for (; l + kBlock <= l1; l += kBlock) {
        // In vectors: kBlock x kBlock as (kBlock / N)^2 blocks of a vector's N lanes (N >= 2); elements of
        // 1, 2, 4 and 8 bytes move as unsigned integers of their size, the others through the buffer.
        if constexpr (kSize == 1 || kSize == 2 || kSize == 4 || kSize == 8) {
          constexpr int64_t kN = static_cast<int64_t>(xsimd::batch<Lane<kSize>>::size);
          if constexpr (kN >= 2 && kBlock % kN == 0) {
            for (int64_t a = 0; a < kBlock; a += kN)
              for (int64_t b = 0; b < kBlock; b += kN)
                transpose_vectors<kSize>(in + (j + b + (l + a) * in_stride_l) * es, in_stride_l,
                                         out + ((j + b) * out_stride_j + l + a) * es, out_stride_j);
            continue;
          }
        }
        std::byte block[kBlock][kBlock * kSize];  // [j][l]
        for (int64_t a = 0; a < kBlock; ++a) {
          const std::byte* src = in + (j + (l + a) * in_stride_l) * es;
          for (int64_t b = 0; b < kBlock; ++b)
            std::memcpy(block[b] + a * es, src + b * es, kSize);
        }
        for (int64_t b = 0; b < kBlock; ++b)
          std::memcpy(out + ((j + b) * out_stride_j + l) * es, block[b], sizeof block[b]);
      }
      for (int64_t b = 0; b < kBlock && l < l1; ++b)
        copy_strided(out + ((j + b) * out_stride_j + l) * es, in + (j + b + l * in_stride_l) * es, l1 - l,
                     in_stride_l, size);
    }
  }
  for (; j < j1; ++j)
    copy_strided(out + (j * out_stride_j + l0) * es, in + (j + l0 * in_stride_l) * es, l1 - l0, in_stride_l,
                 size);
}

// Tiles of the dimensions `j` (contiguous in the input) and the last one (contiguous in the output).
MovementWork tiled_work(const std::byte* x, const Simplified& s, size_t j, int64_t base, size_t element_size,
                        std::byte* y) {
  const size_t rank = s.dims.size();
  std::vector<int64_t> out_strides(rank, 1);
  for (size_t k = rank - 1; k-- > 0;)
    out_strides[k] = out_strides[k + 1] * s.dims[k + 1];
  const int64_t dim_j = s.dims[j], dim_l = s.dims[rank - 1];
  const int64_t out_stride_j = out_strides[j], in_stride_l = s.strides[rank - 1];
  // About 1-4 KiB per tile; a short side leaves its length to the other so tiles stay about that size.
  const int64_t side = element_size <= 2 ? 64 : 32;
  int64_t tile_j = std::min(dim_j, side), tile_l = std::min(dim_l, side);
  if (tile_j < side) tile_l = std::min(dim_l, side * side / tile_j);
  if (tile_l < side) tile_j = std::min(dim_j, side * side / tile_l);
  const int64_t tiles_j = (dim_j + tile_j - 1) / tile_j, tiles_l = (dim_l + tile_l - 1) / tile_l;
  const int64_t tiles_per_outer = tiles_j * tiles_l;

  std::array<std::vector<int64_t>, 2> outer_strides;  // input, output
  std::vector<int64_t> outer_dims;
  int64_t outer = 1;
  for (size_t k = 0; k + 1 < rank; ++k) {
    if (k == j) continue;
    outer_dims.push_back(s.dims[k]);
    outer_strides[0].push_back(s.strides[k]);
    outer_strides[1].push_back(out_strides[k]);
    outer *= s.dims[k];
  }
  MovementWork work;
  work.units = outer * tiles_per_outer;
  work.unit_bytes = tile_j * tile_l * static_cast<int64_t>(element_size);
  work.run = [=](int64_t first, int64_t last) {
    with_element_size(element_size, [&](auto size) {
      const int64_t es = static_cast<int64_t>(static_cast<size_t>(size));
      Odometer<2> position(outer_dims, outer_strides, first / tiles_per_outer);
      int64_t tile = first % tiles_per_outer;
      for (int64_t unit = first; unit < last; position.next(), tile = 0) {
        const std::byte* in = x + (base + position.offset(0)) * es;
        std::byte* out = y + position.offset(1) * es;
        for (; tile < tiles_per_outer && unit < last; ++tile, ++unit) {
          const int64_t j0 = tile / tiles_l * tile_j, l0 = tile % tiles_l * tile_l;
          copy_tile(in, out, j0, std::min(dim_j, j0 + tile_j), l0, std::min(dim_l, l0 + tile_l), out_stride_j,
                    in_stride_l, size);
        }
      }
    });
  };
  return work;
}

}  // namespace

MovementWork strided_copy_work(const void* x, std::vector<int64_t> dims, std::vector<int64_t> strides,
                               int64_t base, size_t element_size, void* y) {
  const auto* in = static_cast<const std::byte*>(x);
  auto* out = static_cast<std::byte*>(y);
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return {};
  const Simplified s = simplify(dims, strides);
  if (s.strides.back() == 1) {
    if (s.dims.back() * static_cast<int64_t>(element_size) <= 64)
      return row_work(in, s, base, element_size, out,
                      [element_size](std::byte* dst, const std::byte* src, int64_t count, int64_t) {
                        copy_short(dst, src, static_cast<size_t>(count) * element_size);
                      });
    return row_work(in, s, base, element_size, out,
                    [element_size](std::byte* dst, const std::byte* src, int64_t count, int64_t) {
                      copy_elements(dst, src, count, element_size);
                    });
  }
  for (size_t j = 0; j + 1 < s.dims.size(); ++j)
    if (s.strides[j] == 1) return tiled_work(in, s, j, base, element_size, out);
  return with_element_size(element_size, [&](auto size) {
    return row_work(in, s, base, element_size, out,
                    [size](std::byte* dst, const std::byte* src, int64_t count, int64_t stride) {
                      copy_strided(dst, src, count, stride, size);
                    });
  });
}

}  // namespace octet::ref::detail
