#pragma once

// The float depthwise row kernel (kernels/conv/float_depthwise.h), written once and instantiated per ISA.
// Each lane is one output channel taking its taps in (ky, kx) order through fma from its bias; the
// channels past the last whole vector go as a vector that overlaps the one before (fewer channels than
// lanes: one by one through the scalar fma, the same arithmetic). Pixels whose window lies inside the
// image horizontally go four at a time, eight on AVX-512 where a row's interior holds two blocks of eight
// (each tap's weight vectors loaded once for the block, no column checks); the border pixels up to four at
// a time too, with a check per tap and pixel.
//
// Measured (AVX-512, one thread, 3x3 stride 1, 56x56x128): about 45-60 GFLOP/s, depending on whether the
// input is 64-byte aligned (unaligned vector loads split cache lines; the GEMM kernels hardly notice).

#include <utility>

#include "kernels/conv/float_depthwise.h"
#include "kernels/simd/float_lanes.h"

namespace octet::conv {

namespace detail {

// Output pixel ix0 (its window's first input column), channels [c, c + kVectors * W).
template <class Arch, int kVectors>
inline void depthwise_vectors(const FloatDepthwiseRow& d, int64_t ix0, int64_t c, float* out) {
  using L = simd::Lanes<Arch>;
  using V = typename L::V;
  constexpr int64_t W = L::width;
  const auto& p = d.params;
  const int64_t channels = d.channels;
  V acc[kVectors];
#pragma GCC unroll 4
  for (int v = 0; v < kVectors; ++v)
    acc[v] = d.bias ? L::load(d.bias + c + v * W) : L::splat(0.0f);
  const V zero = L::splat(0.0f);
  const float* w = d.weights + c;
  const int64_t inner = d.inner, pixel = inner * channels;
  for (int64_t ky = 0; ky < d.kernel_h; ++ky) {
    const int64_t iy = d.oy * p.stride_h - p.pad.top + ky * p.dilation_h;
    const bool row_inside = iy >= 0 && iy < d.ih;
    const float* line = row_inside ? d.image + (iy - d.first_row) * d.iw * pixel + c : nullptr;
    for (int64_t kx = 0; kx < d.kernel_w; ++kx) {
      const int64_t ix = ix0 + kx * p.dilation_w;
      // Padding taps still take their fma, with x = 0.0f: fma(0, w, acc) is not acc for acc = -0 or w inf.
      const bool inside = row_inside && ix >= 0 && ix < d.iw;
      for (int64_t i = 0; i < inner; ++i, w += channels) {
        if (inside) {
          const float* x = line + ix * pixel + i * channels;
#pragma GCC unroll 4
          for (int v = 0; v < kVectors; ++v)
            acc[v] = L::fma(L::load(x + v * W), L::load(w + v * W), acc[v]);
        } else {
#pragma GCC unroll 4
          for (int v = 0; v < kVectors; ++v)
            acc[v] = L::fma(zero, L::load(w + v * W), acc[v]);
        }
      }
    }
  }
  if (!L::is_identity(d.clamp)) {
    const V lo = L::splat(d.clamp.lo), hi = L::splat(d.clamp.hi);
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v)
      acc[v] = L::clamp(acc[v], lo, hi);
  }
#pragma GCC unroll 4
  for (int v = 0; v < kVectors; ++v)
    L::store(out + c + v * W, acc[v]);
}

// Channels [c, channels), one at a time. (A template, like everything in the per-ISA files, so that no
// copy compiled for one ISA stands in for another's at link time.)
template <class Arch>
void depthwise_channels(const FloatDepthwiseRow& d, int64_t ix0, int64_t c, float* out) {
  using L = simd::Lanes<Arch>;
  const auto& p = d.params;
  const int64_t channels = d.channels;
  const int64_t inner = d.inner, pixel = inner * channels;
  for (; c < channels; ++c) {
    float acc = d.bias ? d.bias[c] : 0.0f;
    const float* w = d.weights + c;
    for (int64_t ky = 0; ky < d.kernel_h; ++ky) {
      const int64_t iy = d.oy * p.stride_h - p.pad.top + ky * p.dilation_h;
      for (int64_t kx = 0; kx < d.kernel_w; ++kx) {
        const int64_t ix = ix0 + kx * p.dilation_w;
        const bool inside = iy >= 0 && iy < d.ih && ix >= 0 && ix < d.iw;
        for (int64_t i = 0; i < inner; ++i, w += channels)
          acc = L::fma(inside ? d.image[((iy - d.first_row) * d.iw + ix) * pixel + i * channels + c] : 0.0f,
                       *w, acc);
      }
    }
    out[c] = L::clamp(acc, d.clamp.lo, d.clamp.hi);
  }
}

// A block's accumulators: kPixels pixels x kVectors vectors of channels from c, each starting at its bias.
template <class Arch, int kPixels, int kVectors>
inline void start_block(const FloatDepthwiseRow& d, int64_t c,
                        typename simd::Lanes<Arch>::V (&acc)[kPixels][kVectors]) {
  using L = simd::Lanes<Arch>;
  constexpr int64_t W = L::width;
#pragma GCC unroll 4
  for (int v = 0; v < kVectors; ++v) {
    const typename L::V start = d.bias ? L::load(d.bias + c + v * W) : L::splat(0.0f);
#pragma GCC unroll 8
    for (int i = 0; i < kPixels; ++i)
      acc[i][v] = start;
  }
}

// The block's clamp, and its stores: pixel i's vectors at out + i * channels.
template <class Arch, int kPixels, int kVectors>
inline void finish_block(const FloatDepthwiseRow& d, typename simd::Lanes<Arch>::V (&acc)[kPixels][kVectors],
                         float* out) {
  using L = simd::Lanes<Arch>;
  constexpr int64_t W = L::width;
  if (!L::is_identity(d.clamp)) {
    const typename L::V lo = L::splat(d.clamp.lo), hi = L::splat(d.clamp.hi);
#pragma GCC unroll 8
    for (int i = 0; i < kPixels; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v)
        acc[i][v] = L::clamp(acc[i][v], lo, hi);
  }
#pragma GCC unroll 8
  for (int i = 0; i < kPixels; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v)
      L::store(out + i * d.channels + v * W, acc[i][v]);
}

// kPixels output pixels whose windows lie inside the image horizontally (from pixel ox, stride_w apart),
// channels [c, c + kVectors * W): each tap's weight vectors are loaded once for all the pixels. Kernel rows
// outside the image still take their fma with x = 0.0f.
// kKernelW > 0: the kernel width known at compile time (3 and 5), so the tap loop unrolls, and at stride 1
// the block's input columns are loaded once each.
// kInner: d.inner known at compile time (1: depthwise), or 0.
template <class Arch, int kPixels, int kVectors, int kKernelW = 0, int kInner = 1>
inline void depthwise_interior(const FloatDepthwiseRow& d, int64_t ox, int64_t c, float* out_row) {
  using L = simd::Lanes<Arch>;
  using V = typename L::V;
  constexpr int64_t W = L::width;
  const auto& p = d.params;
  const int64_t inner = kInner > 0 ? kInner : d.inner;
  const int64_t channels = d.channels, pixel = inner * channels, pixel_step = p.stride_w * pixel,
                tap_step = p.dilation_w * pixel;
  V acc[kPixels][kVectors];
  detail::start_block<Arch, kPixels, kVectors>(d, c, acc);
  const V zero = L::splat(0.0f);
  const float* w = d.weights + c;
  const int64_t kernel_w = kKernelW > 0 ? kKernelW : d.kernel_w;
  for (int64_t ky = 0; ky < d.kernel_h; ++ky) {
    const int64_t iy = d.oy * p.stride_h - p.pad.top + ky * p.dilation_h;
    if (iy < 0 || iy >= d.ih) {
      for (int64_t t = 0; t < kernel_w * inner; ++t, w += channels)
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) {
          const V wv = L::load(w + v * W);
#pragma GCC unroll 8
          for (int i = 0; i < kPixels; ++i)
            acc[i][v] = L::fma(zero, wv, acc[i][v]);
        }
      continue;
    }
    const float* x = d.image + ((iy - d.first_row) * d.iw + ox * p.stride_w - p.pad.left) * pixel + c;
    if constexpr (kKernelW > 0 && kInner == 1) {
      if (p.stride_w == 1 && p.dilation_w == 1) {
        // Stride 1, no dilation: pixel i's tap kx reads input column i + kx, so each of the block's
        // kPixels + KW - 1 columns is loaded once and feeds every tap that reads it. Taken in column
        // order, each pixel still gets its taps in kx order: the same fma chain, with about half the
        // loads (the kernel was bound by them: one weight and kPixels input loads per kPixels fma).
        V wv[kKernelW][kVectors];
#pragma GCC unroll 8
        for (int kx = 0; kx < kKernelW; ++kx)
#pragma GCC unroll 4
          for (int v = 0; v < kVectors; ++v)
            wv[kx][v] = L::load(w + kx * channels + v * W);
        w += kKernelW * channels;
#pragma GCC unroll 16
        for (int column = 0; column < kPixels + kKernelW - 1; ++column)
#pragma GCC unroll 4
          for (int v = 0; v < kVectors; ++v) {
            const V xv = L::load(x + column * channels + v * W);
#pragma GCC unroll 8
            for (int i = 0; i < kPixels; ++i)
              if (column - i >= 0 && column - i < kKernelW)
                acc[i][v] = L::fma(xv, wv[column - i][v], acc[i][v]);
          }
        continue;
      }
    }
#pragma GCC unroll 4
    for (int64_t kx = 0; kx < kernel_w; ++kx, x += tap_step)
#pragma GCC unroll 4
      for (int64_t e = 0; e < inner; ++e, w += channels)
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) {
          const V wv = L::load(w + v * W);
#pragma GCC unroll 8
          for (int i = 0; i < kPixels; ++i)
            acc[i][v] = L::fma(L::load(x + e * channels + i * pixel_step + v * W), wv, acc[i][v]);
        }
  }
  detail::finish_block<Arch, kPixels, kVectors>(d, acc, out_row + ox * channels + c);
}

// kPixels consecutive output pixels from ox, any position (d.inner == 1), channels [c, c + kVectors * W):
// the pixels next to the borders, whose windows reach the padding. A tap outside the image reads zeros and
// still takes its fma, as in depthwise_vectors; each tap's weight vectors are loaded once for all the
// pixels (instead of one pixel at a time, where every fma needed two loads).
template <class Arch, int kPixels, int kVectors>
inline void depthwise_checked(const FloatDepthwiseRow& d, int64_t ox, int64_t c) {
  using L = simd::Lanes<Arch>;
  using V = typename L::V;
  constexpr int64_t W = L::width;
  alignas(64) static constexpr float kZeros[kVectors * W] = {};
  const auto& p = d.params;
  const int64_t channels = d.channels;
  V acc[kPixels][kVectors];
  detail::start_block<Arch, kPixels, kVectors>(d, c, acc);
  const float* w = d.weights + c;
  for (int64_t ky = 0; ky < d.kernel_h; ++ky) {
    const int64_t iy = d.oy * p.stride_h - p.pad.top + ky * p.dilation_h;
    const bool row_inside = iy >= 0 && iy < d.ih;
    const float* line = row_inside ? d.image + (iy - d.first_row) * d.iw * channels + c : nullptr;
    for (int64_t kx = 0; kx < d.kernel_w; ++kx, w += channels) {
      const float* x[kPixels];
#pragma GCC unroll 8
      for (int i = 0; i < kPixels; ++i) {
        const int64_t ix = (ox + i) * p.stride_w - p.pad.left + kx * p.dilation_w;
        x[i] = row_inside && ix >= 0 && ix < d.iw ? line + ix * channels : kZeros;
      }
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) {
        const V wv = L::load(w + v * W);
#pragma GCC unroll 8
        for (int i = 0; i < kPixels; ++i)
          acc[i][v] = L::fma(L::load(x[i] + v * W), wv, acc[i][v]);
      }
    }
  }
  detail::finish_block<Arch, kPixels, kVectors>(d, acc, d.out + ox * channels + c);
}

// Every channel of one output pixel, any position. Channels beyond the last whole vector go as one more
// vector ending at the last channel: it recomputes a few channels the one before it did, with the same
// arithmetic in the same order, so it stores the same values again (each lane is a channel of its own).
template <class Arch>
inline void depthwise_pixel(const FloatDepthwiseRow& d, int64_t ox) {
  constexpr int64_t W = simd::Lanes<Arch>::width;
  const int64_t channels = d.channels, ix0 = ox * d.params.stride_w - d.params.pad.left;
  float* out = d.out + ox * channels;
  int64_t c = 0;
  for (; c + 4 * W <= channels; c += 4 * W)
    depthwise_vectors<Arch, 4>(d, ix0, c, out);
  for (; c + W <= channels; c += W)
    depthwise_vectors<Arch, 1>(d, ix0, c, out);
  if (c < channels && channels >= W)
    depthwise_vectors<Arch, 1>(d, ix0, channels - W, out);
  else
    depthwise_channels<Arch>(d, ix0, c, out);
}

// kPixels interior pixels from ox, channels [c, c + kVectors * W), on the variant compiled for the layer's
// kernel width where there is one (3x3 and 5x5 depthwise). (Variants for 3x3 with 4 and 8 inputs per
// output channel served ResNeXt's and RegNet's groups on an expanded input; those groups run on the GEMM
// or on their own input now (grouped_block), and the layers left on an expanded input are rare.)
template <class Arch, int kPixels, int kVectors>
inline void interior_chunk(const FloatDepthwiseRow& d, int64_t ox, int64_t c) {
  if (d.inner != 1)
    depthwise_interior<Arch, kPixels, kVectors, 0, 0>(d, ox, c, d.out);
  else if (d.kernel_w == 3)
    depthwise_interior<Arch, kPixels, kVectors, 3>(d, ox, c, d.out);
  else if (d.kernel_w == 5)
    depthwise_interior<Arch, kPixels, kVectors, 5>(d, ox, c, d.out);
  else
    depthwise_interior<Arch, kPixels, kVectors>(d, ox, c, d.out);
}

// kPixels consecutive output pixels from ox, one vector of channels from c, of a grouped convolution with
// kGroup input and output channels per group on its input itself (d.lane_group): c is a multiple of kGroup,
// so the vector of input channels from c holds the groups of its output channels, and output channel c + l
// takes its group's input channel i from lane l / kGroup * kGroup + i, which Lanes::group_lane moves into
// lane l: the expanded input's value (run_depthwise) without building rows kGroup times the input's size.
// Each tap's kGroup weight vectors are loaded once for the pixels; a tap outside the image reads zeros and
// still takes its fma, in (ky, kx, i) order from the bias, as the reference. One permute per fma bounds it
// (AMD Zen 5: about 40 GMAC/s for groups of 4, 28-44 for groups of 8). Sharing each input column's
// permutes between the taps that read it, as depthwise_interior shares its loads, was slower: 26 GMAC/s
// for groups of 8.
template <class Arch, int kPixels, int kGroup>
inline void grouped_block(const FloatDepthwiseRow& d, int64_t ox, int64_t c) {
  using L = simd::Lanes<Arch>;
  using V = typename L::V;
  constexpr int64_t W = L::width;
  static_assert(kGroup < W && W % kGroup == 0);
  alignas(64) static constexpr float kZeros[W] = {};
  const auto& p = d.params;
  const int64_t channels = d.channels;
  V acc[kPixels][1];
  detail::start_block<Arch, kPixels, 1>(d, c, acc);
  const float* w = d.weights + c;
  for (int64_t ky = 0; ky < d.kernel_h; ++ky) {
    const int64_t iy = d.oy * p.stride_h - p.pad.top + ky * p.dilation_h;
    const bool row_inside = iy >= 0 && iy < d.ih;
    const float* line = row_inside ? d.image + (iy - d.first_row) * d.iw * channels + c : nullptr;
    for (int64_t kx = 0; kx < d.kernel_w; ++kx, w += kGroup * channels) {
      V wv[kGroup];
#pragma GCC unroll 16
      for (int e = 0; e < kGroup; ++e)
        wv[e] = L::load(w + e * channels);
#pragma GCC unroll 8
      for (int i = 0; i < kPixels; ++i) {
        const int64_t ix = (ox + i) * p.stride_w - p.pad.left + kx * p.dilation_w;
        const V xv = L::load(row_inside && ix >= 0 && ix < d.iw ? line + ix * channels : kZeros);
        // The fold runs E = 0, 1, ... in order: the taps' (ky, kx, i) order.
        [&]<int... E>(std::integer_sequence<int, E...>) {
          ((acc[i][0] = L::fma(L::template group_lane<kGroup, E>(xv), wv[E], acc[i][0])), ...);
        }
        (std::make_integer_sequence<int, kGroup>());
      }
    }
  }
  detail::finish_block<Arch, kPixels, 1>(d, acc, d.out + ox * channels + c);
}

// A row of a grouped convolution on its own input (d.lane_group == kGroup): vectors of channels outside,
// blocks of up to four pixels inside; the channels past the last whole vector as a vector ending at the
// last channel, which starts at a multiple of kGroup too (channels and W are multiples of it).
template <class Arch, int kGroup>
void grouped_row(const FloatDepthwiseRow& d) {
  using L = simd::Lanes<Arch>;
  constexpr int64_t W = L::width;
  constexpr int kPixels = 4;
  const auto vector = [&](int64_t c) {
    int64_t ox = d.ox_begin;
    for (; ox + kPixels <= d.ox_end; ox += kPixels)
      grouped_block<Arch, kPixels, kGroup>(d, ox, c);
    switch (d.ox_end - ox) {
      case 3:
        return grouped_block<Arch, 3, kGroup>(d, ox, c);
      case 2:
        return grouped_block<Arch, 2, kGroup>(d, ox, c);
      case 1:
        return grouped_block<Arch, 1, kGroup>(d, ox, c);
      default:
        return;
    }
  };
  int64_t c = 0;
  for (; c + W <= d.channels; c += W)
    vector(c);
  if (c < d.channels) vector(d.channels - W);
}

// The row of a grouped convolution on its own input, on the variant for its group size (2, 4 or 8, less
// than the vector width). False for a group size this ISA has no variant for (prepare_float_conv2d does not
// choose one).
template <class Arch>
bool grouped_row_any(const FloatDepthwiseRow& d) {
  constexpr int64_t W = simd::Lanes<Arch>::width;
  const auto run = [&]<int kGroup>() {
    if constexpr (kGroup < W) {
      grouped_row<Arch, kGroup>(d);
      return true;
    }
    return false;
  };
  if (d.channels < W || d.channels % d.lane_group != 0) return false;
  switch (d.lane_group) {
    case 2:
      return run.template operator()<2>();
    case 4:
      return run.template operator()<4>();
    case 8:
      return run.template operator()<8>();
    default:
      return false;
  }
}

}  // namespace detail

template <class Arch>
void float_depthwise_row_simd(const FloatDepthwiseRow& d) {
  using L = simd::Lanes<Arch>;
  constexpr int64_t W = L::width;
  constexpr int kPixels = 4;
  if (d.lane_group > 1) {
    if (!detail::grouped_row_any<Arch>(d)) no_grouped_row_kernel(d, W);
    return;
  }
  const auto& p = d.params;
  const int64_t channels = d.channels;
  // Interior pixels [x_lo, x_hi): every kernel column inside the image (ix0 >= 0 and
  // ix0 + (KW - 1) * dilation_w < iw), where the blocked kernel needs no column checks.
  const int64_t last_tap = (d.kernel_w - 1) * p.dilation_w;
  const int64_t x_lo = L::clamp_index((p.pad.left + p.stride_w - 1) / p.stride_w, d.ox_begin, d.ox_end);
  const int64_t room = d.iw - 1 - last_tap + p.pad.left;  // ox * stride_w <= room
  const int64_t x_hi = room < 0 ? x_lo : L::clamp_index(room / p.stride_w + 1, x_lo, d.ox_end);
  // The interior goes in blocks of kPixels (kWidePixels, below, on AVX-512 where it holds two such blocks),
  // the last one overlapping the one before it where the interior is not a multiple of the block: it
  // recomputes a few pixels with the same arithmetic, so it stores the same values again (as the channels
  // past the last whole vector do). An interior narrower than a block is left to the border pixels.
  // Blocks of eight pixels hold twice the independent fma chains of four, whose taps' chains (a chain per
  // pixel and vector, each fma waiting for the one before) left the FMA units idle (AMD Zen 5, 1 thread,
  // 64-byte-aligned rows: 3x3 on 56x56x64 29 -> 34 GMAC/s, 5x5 on 28x28x120 36 -> 44; mnasnet1_0 float's
  // depthwise layers 1.06 -> 1.01 ms). Narrower interiors (14x14 layers) would recompute too many pixels in
  // the overlapping last block: no faster there. AVX2's 16 registers do not hold the wider block (7-15%
  // slower); NEON is untimed.
  constexpr int kWidePixels = 8;
  constexpr bool kWideBlocks = W >= 16;
  const bool blocked = x_hi - x_lo >= kPixels, wide = kWideBlocks && x_hi - x_lo >= 2 * kWidePixels;
  const auto for_interior_blocks = [&]<int kBlock>(auto&& f) {
    for (int64_t ox = x_lo; ox + kBlock <= x_hi; ox += kBlock)
      f(ox);
    if ((x_hi - x_lo) % kBlock != 0) f(x_hi - kBlock);
  };
  // The border pixels: [ox_begin, x_lo) and [x_hi, ox_end), or the whole row without interior blocks, in
  // checked blocks of up to kPixels.
  const int64_t left_end = blocked ? x_lo : d.ox_end, right_begin = blocked ? x_hi : d.ox_end;
  const bool checked_blocks = d.inner == 1 && channels >= W;
  const auto for_checked_blocks = [&](auto&& f) {
    // (Lanes' own index arithmetic, not std::min or std::pair: see kernels/simd/float_lanes.h.)
    const auto blocks = [&](int64_t begin, int64_t end) {
      for (int64_t ox = begin; ox < end; ox += kPixels)
        f(ox, L::smaller(kPixels, end - ox));
    };
    blocks(d.ox_begin, left_end);
    blocks(right_begin, d.ox_end);
  };
  // Channel chunks outside, pixels inside: one chunk's window rows stay in L1 while the pixels sweep them.
  const auto chunk = [&]<int kVectors>(int64_t c) {
    if (wide) {
      if constexpr (kWideBlocks)  // (wide is false elsewhere: no blocks of eight compiled there)
        for_interior_blocks.template operator()<kWidePixels>(
            [&](int64_t ox) { detail::interior_chunk<Arch, kWidePixels, kVectors>(d, ox, c); });
    } else if (blocked) {
      for_interior_blocks.template operator()<kPixels>(
          [&](int64_t ox) { detail::interior_chunk<Arch, kPixels, kVectors>(d, ox, c); });
    }
    if (checked_blocks)
      for_checked_blocks([&](int64_t ox, int64_t pixels) {
        switch (pixels) {
          case 1:
            return detail::depthwise_checked<Arch, 1, kVectors>(d, ox, c);
          case 2:
            return detail::depthwise_checked<Arch, 2, kVectors>(d, ox, c);
          case 3:
            return detail::depthwise_checked<Arch, 3, kVectors>(d, ox, c);
          default:
            return detail::depthwise_checked<Arch, kPixels, kVectors>(d, ox, c);
        }
      });
  };
  int64_t c = 0;
  for (; c + 2 * W <= channels; c += 2 * W)
    chunk.template operator()<2>(c);
  for (; c + W <= channels; c += W)
    chunk.template operator()<1>(c);
  // The last channels: one vector ending at the last channel, overlapping the one before (as in
  // depthwise_pixel), unless there are fewer channels than lanes. (One at a time, 72- and 120-channel
  // layers, 8 channels past a whole vector, took 5-10x the time of their 64- and 128-channel neighbours.)
  if (c < channels && channels >= W) {
    chunk.template operator()<1>(channels - W);
  } else if (c < channels && blocked) {
    for (int64_t ox = x_lo; ox < x_hi; ++ox)
      detail::depthwise_channels<Arch>(d, ox * p.stride_w - p.pad.left, c, d.out + ox * channels);
  }
  if (!checked_blocks) {
    for (int64_t ox = d.ox_begin; ox < left_end; ++ox)
      detail::depthwise_pixel<Arch>(d, ox);
    for (int64_t ox = right_begin; ox < d.ox_end; ++ox)
      detail::depthwise_pixel<Arch>(d, ox);
  }
}

}  // namespace octet::conv
