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
  tbb::parallel_for(int64_t{0}, n * oh, [&](int64_t row) {
    const int64_t b = row / oh, y = row % oh;
    std::vector<const uint8_t*> taps;
    taps.reserve(static_cast<size_t>(p.kernel_h * p.kernel_w));
    for (int64_t x = 0; x < ow; ++x) {
      uint8_t* out = output + (row * ow + x) * c;
      taps.clear();
      for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
        const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
        if (iy < 0 || iy >= ih) continue;
        for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
          const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
          if (ix >= 0 && ix < iw) taps.push_back(input + ((b * ih + iy) * iw + ix) * c);
        }
      }
      // A window that misses the input entirely (only through dilation) is real 0.0, like padding.
      if (taps.empty()) {
        std::memset(out, zero_point, static_cast<size_t>(c));
        continue;
      }
      // One vector of channels at a time, its maximum kept in a register across the window's taps.
      int64_t ch = 0;
      for (; ch + kWidth <= c; ch += kWidth) {
        Batch m = Batch::load_unaligned(taps[0] + ch);
        for (size_t t = 1; t < taps.size(); ++t)
          m = xsimd::max(m, Batch::load_unaligned(taps[t] + ch));
        m.store_unaligned(out + ch);
      }
      for (; ch < c; ++ch) {
        uint8_t m = taps[0][ch];
        for (size_t t = 1; t < taps.size(); ++t)
          m = std::max(m, taps[t][ch]);
        out[ch] = m;
      }
    }
  });
}

}  // namespace octet::pooling
