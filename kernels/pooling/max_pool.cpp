#include "kernels/pooling/max_pool.h"

#include <tbb/parallel_for.h>

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace octet::pooling {

void max_pool2d(const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
                const ref::Pool2dParams& p, uint8_t zero_point, uint8_t* output) {
  const int64_t oh = ref::pool_output_size("max_pool2d", "height", ih, p.kernel_h, p.stride_h, p.dilation_h,
                                           p.pad.top, p.pad.bottom, p.ceil_mode);
  const int64_t ow = ref::pool_output_size("max_pool2d", "width", iw, p.kernel_w, p.stride_w, p.dilation_w,
                                           p.pad.left, p.pad.right, p.ceil_mode);
  using Batch = xsimd::batch<uint8_t>;
  constexpr int64_t kWidth = static_cast<int64_t>(Batch::size);
  // The maximum over a window is the maximum over its columns of the maximum down each column, so each
  // output row first takes the maximum of its window's input rows (one pass over contiguous bytes), then
  // the maximum across each window's columns of that row: kernel_h + kernel_w vector operations per
  // output vector instead of kernel_h * kernel_w, and no per-pixel tap lists.
  auto max_into = [](uint8_t* dst, const uint8_t* src, int64_t bytes) {
    int64_t i = 0;
    for (; i + kWidth <= bytes; i += kWidth)
      xsimd::max(Batch::load_unaligned(dst + i), Batch::load_unaligned(src + i)).store_unaligned(dst + i);
    for (; i < bytes; ++i)
      dst[i] = std::max(dst[i], src[i]);
  };
  const int64_t row_bytes = iw * c;
  tbb::parallel_for(int64_t{0}, n * oh, [&](int64_t row) {
    const int64_t b = row / oh, y = row % oh;
    uint8_t* out_row = output + row * ow * c;
    thread_local std::vector<uint8_t> columns;
    columns.resize(static_cast<size_t>(row_bytes));
    bool any_row = false;
    for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
      const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
      if (iy < 0 || iy >= ih) continue;
      const uint8_t* line = input + (b * ih + iy) * row_bytes;
      if (!any_row)
        std::memcpy(columns.data(), line, static_cast<size_t>(row_bytes));
      else
        max_into(columns.data(), line, row_bytes);
      any_row = true;
    }
    // A window that misses the input entirely (only through dilation) is real 0.0, like padding.
    if (!any_row) {
      std::memset(out_row, zero_point, static_cast<size_t>(ow * c));
      return;
    }
    for (int64_t x = 0; x < ow; ++x) {
      uint8_t* out = out_row + x * c;
      const uint8_t* first = nullptr;
      bool copied = false;
      for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
        const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
        if (ix < 0 || ix >= iw) continue;
        const uint8_t* column = columns.data() + ix * c;
        if (first == nullptr) {
          first = column;
        } else if (!copied) {
          // Two columns: their maximum goes straight to the output, later ones are folded in.
          int64_t ch = 0;
          for (; ch + kWidth <= c; ch += kWidth)
            xsimd::max(Batch::load_unaligned(first + ch), Batch::load_unaligned(column + ch))
                .store_unaligned(out + ch);
          for (; ch < c; ++ch)
            out[ch] = std::max(first[ch], column[ch]);
          copied = true;
        } else {
          max_into(out, column, c);
        }
      }
      if (first == nullptr)
        std::memset(out, zero_point, static_cast<size_t>(c));
      else if (!copied)
        std::memcpy(out, first, static_cast<size_t>(c));
    }
  });
}

}  // namespace octet::pooling
