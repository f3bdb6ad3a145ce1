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

// Vectors of channels a pooling row takes side by side: each output is a chain through its window.
constexpr int kPoolChains = 4;

// The taps k < kernel of one axis whose input index start + k * step lies inside [0, size): [lo, hi).
struct TapRange {
  int64_t lo = 0, hi = 0;
};
template <class L>
TapRange taps_inside(int64_t start, int64_t step, int64_t kernel, int64_t size) {
  const int64_t lo = start >= 0 ? 0 : L::smaller(kernel, (-start + step - 1) / step);
  const int64_t hi = start >= size ? 0 : L::smaller(kernel, (size - 1 - start) / step + 1);
  return {lo, L::larger(lo, hi)};
}

// Output row oy of a max pool. Each output's max is a chain of dependent steps through its window, so
// several vectors of channels go side by side (kChains), and each step is x86's one-instruction max
// (Lanes::max_unless_nan), which equals the reference's NaN-propagating max until a NaN comes in: a sum
// of the taps beside it turns NaN then (or on inf - inf), and only those vectors are taken again the
// reference's way. (AMD Zen 5, 1 thread, GoogLeNet's 13 max pools: 1.33 -> 0.51 ms; one chain of the
// NaN-propagating max, a compare, a test and a blend per step, had waited on each step's latency.)
template <class Arch>
void max_pool_row(const float* image, const FloatPoolRow& g, int64_t oy, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  constexpr int64_t W = L::width;
  constexpr int kChains = kPoolChains;
  const ref::Pool2dParams& p = g.p;
  const B lo(g.clamp.lo), hi(g.clamp.hi);
  const float* const end = image + g.ih * g.iw * g.c;
  const int64_t y0 = oy * p.stride_h - p.pad.top;
  const TapRange rows = taps_inside<L>(y0, p.dilation_h, p.kernel_h, g.ih);
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    const int64_t x0 = ox * p.stride_w - p.pad.left;
    const TapRange cols = taps_inside<L>(x0, p.dilation_w, p.kernel_w, g.iw);
    // Tap (ky, kx)'s channels, in the reference's order; the taps outside the input are skipped, as there.
    auto tap = [&](int64_t ky, int64_t kx) {
      return image + ((y0 + ky * p.dilation_h) * g.iw + x0 + kx * p.dilation_w) * g.c;
    };
    // The vector of n channels from c on, the reference's way.
    auto exact = [&](int64_t c, int64_t n) {
      B best(-INFINITY);
      for (int64_t ky = rows.lo; ky < rows.hi; ++ky)
        for (int64_t kx = cols.lo; kx < cols.hi; ++kx)
          best = L::max(best, load_channels<L>(tap(ky, kx) + c, n, end));
      return best;
    };
    float* const out = y + ox * g.c;
    int64_t c = 0;
    for (; c + kChains * W <= g.c; c += kChains * W) {
      B best[kChains], sum[kChains];
      for (int i = 0; i < kChains; ++i)
        best[i] = B(-INFINITY), sum[i] = B(0.0f);
      for (int64_t ky = rows.lo; ky < rows.hi; ++ky)
        for (int64_t kx = cols.lo; kx < cols.hi; ++kx) {
          const float* at = tap(ky, kx) + c;
#pragma GCC unroll 4
          for (int i = 0; i < kChains; ++i) {
            const B x = L::load(at + i * W);
            best[i] = L::max_unless_nan(best[i], x);
            sum[i] = sum[i] + x;
          }
        }
#pragma GCC unroll 4
      for (int i = 0; i < kChains; ++i) {
        if (L::any_nan(sum[i])) best[i] = exact(c + i * W, W);
        L::store(out + c + i * W, L::clamp(best[i], lo, hi));
      }
    }
    for (; c < g.c; c += W) {
      const int64_t n = L::lanes_from(c, g.c);
      L::store_n(out + c, L::clamp(exact(c, n), lo, hi), n);
    }
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
    // As the max pool, vectors of channels side by side: each output's sum is a chain through the window.
    // (AMD Zen 5, 1 thread, Inception-v3's ten average pools: 0.95 -> 0.52 ms.)
    constexpr int kChains = kPoolChains;
    constexpr int64_t W = L::width;
    int64_t c = 0;
    for (; c + kChains * W <= g.c; c += kChains * W) {
      B sum[kChains];
      for (B& s : sum)
        s = B(0.0f);
      for (int64_t iy = vy0; iy < vy1; ++iy)
        for (int64_t ix = vx0; ix < vx1; ++ix) {
          const float* at = image + (iy * g.iw + ix) * g.c + c;
#pragma GCC unroll 4
          for (int i = 0; i < kChains; ++i)
            sum[i] = sum[i] + L::load(at + i * W);
        }
#pragma GCC unroll 4
      for (int i = 0; i < kChains; ++i)
        L::store(y + ox * g.c + c + i * W, L::clamp(L::div(sum[i], divisor), lo, hi));
    }
    for (; c < g.c; c += L::width) {
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
