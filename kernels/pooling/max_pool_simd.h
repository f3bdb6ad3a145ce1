#pragma once

// The uint8 max pool of max_pool.h on xsimd batches of one architecture, instantiated per ISA
// (max_pool.cpp: the baseline's, kernels/x86/max_pool_avx2.cpp and max_pool_avx512.cpp), which
// max_pool2d picks by the channel count: the widest vector that one pixel's channels fill.

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/pooling/max_pool.h"

namespace octet::pooling {

template <class Arch>
void max_pool2d_simd(const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
                     const ref::Pool2dParams& p, uint8_t zero_point, uint8_t* output) {
  const int64_t oh = ref::pool_output_size("max_pool2d", "height", ih, p.kernel_h, p.stride_h, p.dilation_h,
                                           p.pad.top, p.pad.bottom, p.ceil_mode);
  const int64_t ow = ref::pool_output_size("max_pool2d", "width", iw, p.kernel_w, p.stride_w, p.dilation_w,
                                           p.pad.left, p.pad.right, p.ceil_mode);
  using Batch = xsimd::batch<uint8_t, Arch>;
  constexpr int64_t kWidth = static_cast<int64_t>(Batch::size);
  // The maximum over a window is the maximum over its columns of the maximum down each column, so each
  // output row first takes the maximum of its window's input rows (one pass over contiguous bytes), then
  // the maximum across each window's columns of that row: kernel_h + kernel_w vector operations per
  // output vector instead of kernel_h * kernel_w, and no per-pixel tap lists.
  //
  // A run of bytes that is not a whole number of vectors ends with a vector that overlaps the one before
  // it rather than a byte loop: max is idempotent, so the bytes computed twice get the same value twice.
  // Each vector of a maximum over several rows (or columns) stays in a register until it is stored once.
  // (ShuffleNet's pool, 56 x 56 x 24 out of 112 x 112: 0.064 ms on Zen 5 with a byte loop per column and
  // the window's rows folded into the row buffer one at a time; 0.025 ms so.)
  //
  // out = the maximum of `count` (>= 1) rows of `bytes` bytes.
  auto max_of = [](uint8_t* out, const uint8_t* const* rows, int64_t count, int64_t bytes) {
    if (bytes < kWidth) {
      for (int64_t i = 0; i < bytes; ++i) {
        uint8_t m = rows[0][i];
        for (int64_t k = 1; k < count; ++k)
          m = std::max(m, rows[k][i]);
        out[i] = m;
      }
      return;
    }
    for (int64_t i = 0; i < bytes; i += kWidth) {
      const int64_t at = std::min(i, bytes - kWidth);
      Batch m = Batch::load_unaligned(rows[0] + at);
      for (int64_t k = 1; k < count; ++k)
        m = xsimd::max(m, Batch::load_unaligned(rows[k] + at));
      m.store_unaligned(out + at);
    }
  };
  const int64_t row_bytes = iw * c;
  // The pixels whose window lies inside the row, [x_begin, x_end), the same in every row: their columns
  // at fixed distances, for kernel widths 2 and 3 (nearly every max pool) a fixed count of them.
  const int64_t reach = (p.kernel_w - 1) * p.dilation_w;
  // ceil(pad.left / stride_w), without the overflow of pad.left + stride_w - 1 for a huge stride.
  const int64_t x_begin = std::min(ow, p.pad.left / p.stride_w + (p.pad.left % p.stride_w != 0 ? 1 : 0));
  const int64_t last_start = iw - 1 - reach + p.pad.left;  // x * stride_w at most this; may be < 0
  const int64_t x_end =
      last_start < 0 ? x_begin : std::max(x_begin, std::min(ow, last_start / p.stride_w + 1));
  const int64_t step = p.dilation_w * c;
  // Output rows per task: about kTaskBytes of input rows read for them.
  const int64_t rows_per_task = grain(std::min(p.kernel_h, ih) * row_bytes, kTaskBytes);
  parallel_ranges(n * oh, rows_per_task, [&](int64_t first_row, int64_t last_row) {
    std::vector<uint8_t> columns(static_cast<size_t>(row_bytes));
    std::vector<const uint8_t*> window(static_cast<size_t>(std::max(p.kernel_h, p.kernel_w)));
    for (int64_t row = first_row; row < last_row; ++row) {
      const int64_t b = row / oh, y = row % oh;
      uint8_t* out_row = output + row * ow * c;
      int64_t lines = 0;
      for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
        const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
        if (iy >= 0 && iy < ih) window[static_cast<size_t>(lines++)] = input + (b * ih + iy) * row_bytes;
      }
      // A window that misses the input entirely (only through dilation) is real 0.0, like padding.
      if (lines == 0) {
        std::memset(out_row, zero_point, static_cast<size_t>(ow * c));
        continue;
      }
      max_of(columns.data(), window.data(), lines, row_bytes);
      auto inside = [&]<int kTaps>(std::integral_constant<int, kTaps>) {
        for (int64_t x = x_begin; x < x_end; ++x) {
          const uint8_t* first = columns.data() + (x * p.stride_w - p.pad.left) * c;
          uint8_t* out = out_row + x * c;
          if (c < kWidth) {  // byte by byte, as at the borders
            for (int64_t k = 0; k < p.kernel_w; ++k)
              window[static_cast<size_t>(k)] = first + k * step;
            max_of(out, window.data(), p.kernel_w, c);
            continue;
          }
          for (int64_t ch = 0; ch < c; ch += kWidth) {
            const int64_t at = std::min(ch, c - kWidth);
            Batch m = Batch::load_unaligned(first + at);
            for (int64_t k = 1; k < (kTaps > 0 ? kTaps : p.kernel_w); ++k)
              m = xsimd::max(m, Batch::load_unaligned(first + k * step + at));
            m.store_unaligned(out + at);
          }
        }
      };
      if (p.kernel_w == 3)
        inside(std::integral_constant<int, 3>{});
      else if (p.kernel_w == 2)
        inside(std::integral_constant<int, 2>{});
      else
        inside(std::integral_constant<int, 0>{});
      for (int64_t x = 0; x < ow; ++x) {
        if (x == x_begin) x = x_end;
        if (x >= ow) break;
        uint8_t* out = out_row + x * c;
        int64_t count = 0;
        for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
          const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
          if (ix >= 0 && ix < iw) window[static_cast<size_t>(count++)] = columns.data() + ix * c;
        }
        if (count == 0)
          std::memset(out, zero_point, static_cast<size_t>(c));
        else
          max_of(out, window.data(), count, c);
      }
    }
  });
}

}  // namespace octet::pooling
