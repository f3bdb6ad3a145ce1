#pragma once

// The loops of the uint8 average pool (average_pool.h), compiled once per ISA (average_pool.cpp for the
// baseline, kernels/x86/average_pool_avx2.cpp and average_pool_avx512.cpp) so that the window sums
// vectorise at that ISA's width, with that ISA's requantization of a pixel's channel sums:
// requant(entry, sums, offset, c, out) writes the c bytes of sums[ch] - offset requantized with entry
// `entry` of the pool's per-count constants. requantize_sums is the reference arithmetic, for the baseline
// and for the channels past the last whole vector.

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/pooling/average_pool.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/float_requant.h"

namespace octet::pooling {

// The helpers have internal linkage: each ISA's file compiles its own copy with its own flags. As shared
// inline functions, their out-of-line copies (made where they are not inlined) would be merged by the
// linker into one ISA's, which the baseline's callers could then run on a CPU without it.
namespace {

// sums[ch] - offset (sum(a - z) over the window's valid elements) requantized into out[ch], as
// ref::average_pool2d does.
inline void requantize_sums(const AveragePool& a, size_t entry, const int32_t* sums, int32_t offset,
                            int64_t c, uint8_t* out) {
  if (!a.float_scales.empty()) {
    const float scale = a.float_scales[entry];
    for (int64_t ch = 0; ch < c; ++ch)
      out[ch] = static_cast<uint8_t>(
          requantize_float(sums[ch] - offset, scale, a.output_zero_point, a.clamp.min, a.clamp.max));
    return;
  }
  const FixedMultiplier m = a.multipliers[entry];
  for (int64_t ch = 0; ch < c; ++ch)
    out[ch] = static_cast<uint8_t>(
        requantize((sums[ch] - offset) * (1 << a.shift), m, a.output_zero_point, a.clamp.min, a.clamp.max));
}

namespace detail {

// sums[i] = bytes[i], sums[i] += bytes[i], sums[i] += more[i]: functions of their own with restrict
// pointers, so that the compiler knows the int32 sums do not alias the bytes and vectorises. (With the sums
// and the bytes possible aliases, the loop over a window's pixels ran a scalar add per byte.)
inline void set_sums(int32_t* __restrict sums, const uint8_t* __restrict bytes, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    sums[i] = bytes[i];
}
inline void add_bytes(int32_t* __restrict sums, const uint8_t* __restrict bytes, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    sums[i] += bytes[i];
}
inline void add_sums(int32_t* __restrict sums, const int32_t* __restrict more, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    sums[i] += more[i];
}

}  // namespace detail

}  // namespace

// [n, ih, iw, c] -> [n, oh, ow, c] (global: [n, 1, 1, c]), in parallel over images (global) or output rows.
// Each ISA's file instantiates it with a lambda of its own, so no two ISAs share an instantiation.
template <class RequantPixel>
void average_pool_rows(const AveragePool& a, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
                       int64_t c, uint8_t* output, RequantPixel requant) {
  const auto& p = a.params;
  struct Scratch {
    std::vector<int32_t> columns, sums;
  };
  static tbb::enumerable_thread_specific<Scratch> scratch;
  if (a.params.kernel_h == 0) {  // global
    tbb::parallel_for(int64_t{0}, n, [&](int64_t b) {
      std::vector<int32_t>& sums = scratch.local().sums;
      sums.resize(static_cast<size_t>(c));
      const uint8_t* image = input + b * ih * iw * c;
      detail::set_sums(sums.data(), image, c);
      for (int64_t px = 1; px < ih * iw; ++px)
        detail::add_bytes(sums.data(), image + px * c, c);
      requant(size_t{0}, sums.data(), static_cast<int32_t>(ih * iw) * a.input_zero_point, c, output + b * c);
    });
    return;
  }
  const int64_t oh = ref::pool_output_size("average_pool2d", "height", ih, p.kernel_h, p.stride_h, 1,
                                           p.pad.top, p.pad.bottom, p.ceil_mode);
  const int64_t ow = ref::pool_output_size("average_pool2d", "width", iw, p.kernel_w, p.stride_w, 1,
                                           p.pad.left, p.pad.right, p.ceil_mode);
  // The window sum is separable: each output row first sums its window's input rows over the whole row
  // (`columns`: a pass per input row over contiguous bytes), then each pixel sums its window's columns of
  // that: kernel_h + kernel_w vector additions per output vector instead of kernel_h * kernel_w.
  tbb::parallel_for(int64_t{0}, n * oh, [&](int64_t row) {
    const int64_t b = row / oh, y = row % oh;
    Scratch& s = scratch.local();
    s.columns.resize(static_cast<size_t>(iw * c));
    s.sums.resize(static_cast<size_t>(c));
    const int64_t y0 = y * p.stride_h - p.pad.top, y1 = std::min(y0 + p.kernel_h, ih + p.pad.bottom);
    const int64_t vy0 = std::max<int64_t>(y0, 0), vy1 = std::min(y1, ih);
    const uint8_t* image = input + b * ih * iw * c;
    detail::set_sums(s.columns.data(), image + vy0 * iw * c, iw * c);
    for (int64_t iy = vy0 + 1; iy < vy1; ++iy)
      detail::add_bytes(s.columns.data(), image + iy * iw * c, iw * c);
    for (int64_t x = 0; x < ow; ++x) {
      const int64_t x0 = x * p.stride_w - p.pad.left, x1 = std::min(x0 + p.kernel_w, iw + p.pad.right);
      const int64_t vx0 = std::max<int64_t>(x0, 0), vx1 = std::min(x1, iw);
      const int64_t count = p.count_include_pad ? (y1 - y0) * (x1 - x0) : (vy1 - vy0) * (vx1 - vx0);
      int32_t* sums = s.sums.data();
      std::copy_n(s.columns.data() + vx0 * c, c, sums);
      for (int64_t ix = vx0 + 1; ix < vx1; ++ix)
        detail::add_sums(sums, s.columns.data() + ix * c, c);
      // sum(a - z) over the valid elements, as the reference adds it up (exact: no int32 overflow).
      const auto offset = static_cast<int32_t>((vy1 - vy0) * (vx1 - vx0)) * a.input_zero_point;
      requant(static_cast<size_t>(count), static_cast<const int32_t*>(sums), offset, c,
              output + (row * ow + x) * c);
    }
  });
}

}  // namespace octet::pooling
