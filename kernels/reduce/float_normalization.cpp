// The float normalizations of kernels/reduce/float_reduce.h: channel affine, instance, group and layer norm,
// LRN.

#include <algorithm>

#include "kernels/elementwise/float_elementwise.h"
#include "kernels/error.h"
#include "kernels/float_kernels.h"
#include "kernels/parallel.h"
#include "kernels/reduce/channel_affine_rows.h"
#include "kernels/reduce/float_reduce.h"
#include "kernels/reduce/float_reduce_kernels.h"

namespace octet::reduce {

void float_channel_affine(Isa isa, const float* x, int64_t outer, int64_t channels, int64_t inner,
                          const float* scale, const float* shift, float* y, FloatClamp clamp,
                          const UnaryParams& activation) {
  const FloatReduceKernels* k = float_kernels(isa).reduce;
  if (k == nullptr || outer < 0 || channels < 0 || inner < 0 || scale == nullptr || shift == nullptr) {
    ref::float_channel_affine(x, outer, channels, inner, scale, shift, y);
    elementwise::clamp_and_activate(isa, clamp, activation, y, outer * channels * inner);
    return;
  }
  if (inner == 1) {  // channels last: rows of channels
    parallel_ranges(outer, grain(channels), [&](int64_t r0, int64_t r1) {
      channel_affine_rows(isa, k, x + r0 * channels, r1 - r0, channels, scale, shift, clamp, activation,
                          y + r0 * channels);
    });
    return;
  }
  // The clamp in the affine's own pass; the activation over each task's block right after, from cache.
  parallel_ranges(outer * channels, grain(inner), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      k->affine_plane(x + p * inner, inner, scale[p % channels], shift[p % channels], clamp, y + p * inner);
    elementwise::clamp_and_activate(isa, {}, activation, y + p0 * inner, (p1 - p0) * inner);
  });
}

void float_channel_affine_pieces(Isa isa, std::span<const ChannelPiece> pieces, int64_t outer,
                                 const float* scale, const float* shift, float* y, FloatClamp clamp,
                                 const UnaryParams& activation) {
  int64_t channels = 0;
  for (const ChannelPiece& p : pieces) {
    if (p.channels < 0 || (outer > 0 && p.channels > 0 && p.x == nullptr))
      throw Error("float_channel_affine_pieces: a piece without data or with negative channels");
    channels += p.channels;
  }
  if (outer < 0) throw Error("float_channel_affine_pieces: negative row count");
  if (scale == nullptr || shift == nullptr)
    throw Error("float_channel_affine_pieces: scale and shift are required");
  const FloatReduceKernels* k = float_kernels(isa).reduce;
  parallel_ranges(outer, grain(channels), [&](int64_t r0, int64_t r1) {
    int64_t first = 0;  // the piece's first channel
    for (const ChannelPiece& p : pieces) {
      const float* x = p.x + r0 * p.channels;
      float* out = y + r0 * channels + first;
      if (k != nullptr) {
        k->affine_rows(x, p.channels, r1 - r0, p.channels, scale + first, shift + first, clamp, out,
                       channels);
      } else {
        for (int64_t r = 0; r < r1 - r0; ++r) {
          ref::float_channel_affine(x + r * p.channels, 1, p.channels, 1, scale + first, shift + first,
                                    out + r * channels);
          for (int64_t c = 0; c < p.channels; ++c)
            out[r * channels + c] = clamp.apply(out[r * channels + c]);
        }
      }
      first += p.channels;
    }
    elementwise::clamp_and_activate(isa, {}, activation, y + r0 * channels, (r1 - r0) * channels);
  });
}

void float_instance_norm(Isa isa, const float* x, int64_t n, int64_t channels, int64_t spatial,
                         bool channels_last, const float* scale, const float* bias, float epsilon, float* y) {
  const FloatReduceKernels* k = float_kernels(isa).reduce;
  if (k == nullptr || n < 0 || channels < 0 || spatial < 1 || scale == nullptr || bias == nullptr)
    return ref::float_instance_norm(x, n, channels, spatial, channels_last, scale, bias, epsilon, y);
  if (channels_last) {
    parallel_columns(n, channels, spatial, [&](int64_t b, int64_t c0, int64_t c1) {
      const int64_t offset = b * spatial * channels + c0;
      k->normalize_columns(x + offset, spatial, channels, c1 - c0, scale + c0, bias + c0, epsilon,
                           y + offset);
    });
    return;
  }
  // [n, channels] planes of `spatial` elements, each with its channel's scale and bias: ranges of planes
  // split at image boundaries so that a range's channels are consecutive.
  parallel_ranges(n * channels, grain(spatial), [&](int64_t p0, int64_t p1) {
    while (p0 < p1) {
      const int64_t c0 = p0 % channels, planes = std::min(p1 - p0, channels - c0);
      k->normalize_rows(x + p0 * spatial, planes, spatial, scale + c0, bias + c0, true, epsilon,
                        y + p0 * spatial);
      p0 += planes;
    }
  });
}

void float_layer_norm(Isa isa, const float* x, int64_t outer, int64_t inner, const float* scale,
                      const float* bias, float epsilon, float* y) {
  const FloatReduceKernels* k = float_kernels(isa).reduce;
  if (k == nullptr || outer < 0 || inner < 1 || scale == nullptr)
    return ref::float_layer_norm(x, outer, inner, scale, bias, epsilon, y);
  parallel_ranges(outer, grain(inner), [&](int64_t r0, int64_t r1) {
    k->normalize_rows(x + r0 * inner, r1 - r0, inner, scale, bias, false, epsilon, y + r0 * inner);
  });
}

void float_group_norm(const float* x, int64_t n, int64_t channels, int64_t spatial, bool channels_last,
                      int64_t groups, const float* scale, const float* bias, float epsilon, float* y) {
  if (n < 0 || channels < 0 || spatial < 0 || groups < 1 || channels % groups != 0)
    return ref::float_group_norm(x, n, channels, spatial, channels_last, groups, scale, bias, epsilon, y);
  parallel_ranges(n * groups, grain(2 * (channels / groups) * spatial), [&](int64_t i0, int64_t i1) {
    ref::float_group_norm(x, n, channels, spatial, channels_last, groups, scale, bias, epsilon, y, i0, i1);
  });
}

void float_lrn(const float* x, int64_t outer, int64_t channels, int64_t inner, const ref::LrnParams& p,
               float* y) {
  if (outer < 0 || channels < 0 || inner < 0) return ref::float_lrn(x, outer, channels, inner, p, y);
  parallel_ranges(outer, grain(channels * inner * std::clamp<int64_t>(p.size, 1, channels + 1)),
                  [&](int64_t o0, int64_t o1) { ref::float_lrn(x, outer, channels, inner, p, y, o0, o1); });
}

}  // namespace octet::reduce
