#pragma once

// The blocks of one output row that the depthwise column kernels (kernels/x86/depthwise_avx512.cpp,
// depthwise_avx2.cpp) compute: kPixels output pixels each, every kPixels pixels, the last one overlapping
// its neighbour where the width is not a multiple (those pixels are computed twice, to the same bytes), so
// that no pixel needs a slower path. Made once per row for every channel block. ISA-neutral, and included
// only by per-ISA files: hence the unnamed namespace. With external linkage, each file's out-of-line copy
// (compiled with its own -m flags: the AVX-512 one with mask registers) would be one weak symbol, and the
// linker would keep one copy for both, so the AVX2 kernel could run AVX-512 code
// (scripts/check-isa-symbols.py).

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/conv/depthwise_conv2d.h"

namespace octet::conv {
namespace {

// The input columns a block of kPixels output pixels reads at horizontal stride kStride.
template <int kPixels, int kStride, int K>
constexpr int kColumnsOf = (kPixels - 1) * kStride + K;

// A block from output pixel x: `interior` where every column of every kernel row is inside the image, and
// columns[ky][j] the input column j of kernel row ky (channel 0; the zero row for padding), set where the
// block is not interior or the caller asks for every block's table.
template <int kPixels, int kStride, int K>
struct ColumnBlock {
  ColumnBlock() {}  // user-provided, so that emplace_back() does not zero-fill `columns` (784 bytes at 7x7)
  int64_t x = 0;
  bool interior = false;
  const uint8_t* columns[K][kColumnsOf<kPixels, kStride, K>];
};

// The blocks of `row` (row.width >= kPixels), whose output pixel x reads the columns x * kStride +
// row.ix_origin + j. `every_table`: fill `columns` for interior blocks too. The vector is the calling
// thread's, reused.
template <int kPixels, int kStride, int K>
const std::vector<ColumnBlock<kPixels, kStride, K>>& row_blocks(const DepthwiseConv2d& d,
                                                                const ColumnRow& row, bool every_table) {
  constexpr int kColumns = kColumnsOf<kPixels, kStride, K>;
  const uint8_t* const* rows = row.rows;
  const int64_t iw = row.iw;
  thread_local std::vector<ColumnBlock<kPixels, kStride, K>> blocks;
  blocks.clear();
  const bool all_rows = std::all_of(rows, rows + K, [](const uint8_t* r) { return r != nullptr; });
  auto add = [&](int64_t x) {
    ColumnBlock<kPixels, kStride, K>& b = blocks.emplace_back();
    b.x = x;
    const int64_t ix0 = x * kStride + row.ix_origin;
    b.interior = all_rows && ix0 >= 0 && ix0 + kColumns <= iw;
    if (b.interior && !every_table) return;
    for (int ky = 0; ky < K; ++ky)
      for (int j = 0; j < kColumns; ++j) {
        const int64_t ix = ix0 + j;
        b.columns[ky][j] =
            rows[ky] != nullptr && ix >= 0 && ix < iw ? rows[ky] + ix * row.column_pitch : d.zero_row.data();
      }
  };
  int64_t x = 0;
  for (; x + kPixels <= row.width; x += kPixels)
    add(x);
  if (x < row.width) add(row.width - kPixels);
  return blocks;
}

}  // namespace
}  // namespace octet::conv
