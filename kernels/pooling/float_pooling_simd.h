#pragma once

// Float max / average pooling rows with xsimd, vectorised across the channels of NHWC (each lane one
// output, visiting the window in the reference's (ky, kx) order with the same operations), instantiated
// per ISA (float_pooling_kernels.h).

#include <cstdint>

#include "kernels/pooling/float_pooling_kernels.h"
#include "kernels/simd/float_lanes.h"

namespace octet::pooling {

// The n (<= width) channels at p of an image that ends at `end`: a whole vector where one fits before the
// end (the lanes past n hold the next pixel's channels, computed on and never stored), so that a channel
// count that is not a multiple of the width does not copy every tap through a buffer.
template <class L>
typename L::V load_channels(const float* p, int64_t n, const float* end) {
  return n == L::width || end - p >= L::width ? L::load(p) : L::load_partial(p, n);
}

template <class Arch>
void max_pool_row(const float* image, const FloatPoolRow& g, int64_t oy, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  const ref::Pool2dParams& p = g.p;
  const B lo(g.clamp.lo), hi(g.clamp.hi);
  const float* const end = image + g.ih * g.iw * g.c;
  for (int64_t ox = 0; ox < g.ow; ++ox)
    for (int64_t c = 0; c < g.c; c += L::width) {
      const int64_t n = L::lanes_from(c, g.c);
      B best(-INFINITY);
      for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
        const int64_t iy = oy * p.stride_h - p.pad.top + ky * p.dilation_h;
        if (iy < 0 || iy >= g.ih) continue;
        for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
          const int64_t ix = ox * p.stride_w - p.pad.left + kx * p.dilation_w;
          if (ix < 0 || ix >= g.iw) continue;
          best = L::max(best, load_channels<L>(image + (iy * g.iw + ix) * g.c + c, n, end));
        }
      }
      L::store_n(y + ox * g.c + c, L::clamp(best, lo, hi), n);
    }
}

template <class Arch>
void average_pool_row(const float* image, const FloatPoolRow& g, int64_t oy, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  const ref::Pool2dParams& p = g.p;
  const B lo(g.clamp.lo), hi(g.clamp.hi);
  const int64_t y0 = oy * p.stride_h - p.pad.top;
  const int64_t y1 = L::smaller(y0 + p.kernel_h, g.ih + p.pad.bottom);
  const int64_t vy0 = L::larger(y0, 0), vy1 = L::smaller(y1, g.ih);
  const float* const end = image + g.ih * g.iw * g.c;
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    const int64_t x0 = ox * p.stride_w - p.pad.left;
    const int64_t x1 = L::smaller(x0 + p.kernel_w, g.iw + p.pad.right);
    const int64_t vx0 = L::larger(x0, 0), vx1 = L::smaller(x1, g.iw);
    const int64_t count = p.count_include_pad ? (y1 - y0) * (x1 - x0) : (vy1 - vy0) * (vx1 - vx0);
    const B divisor(static_cast<float>(count));
    for (int64_t c = 0; c < g.c; c += L::width) {
      const int64_t n = L::lanes_from(c, g.c);
      B sum(0.0f);
      for (int64_t iy = vy0; iy < vy1; ++iy)
        for (int64_t ix = vx0; ix < vx1; ++ix)
          sum = sum + load_channels<L>(image + (iy * g.iw + ix) * g.c + c, n, end);
      L::store_n(y + ox * g.c + c, L::clamp(L::div(sum, divisor), lo, hi), n);
    }
  }
}

template <class Arch>
constexpr FloatPoolKernels make_float_pool_kernels() {
  return {&max_pool_row<Arch>, &average_pool_row<Arch>};
}

}  // namespace octet::pooling
