#pragma once

// Float normalizations, the scalar references. Means and variances are ordered sums
// (kernels/reference/float_reduce.h) divided by the count: mean = sum(x) / R,
// var = sum((x - mean) * (x - mean)) / R, y = (x - mean) / sqrt(var + epsilon) * scale + bias.

#include <cstdint>

#include "kernels/tensor.h"

namespace octet::ref {

// BatchNormalization in inference form and any per-channel affine map: element (o, c, i) of a tensor
// viewed as [outer, channels, inner] becomes fma(x, scale[c], shift[c]). (NCHW: outer N, inner H * W;
// NHWC: outer N * H * W, inner 1.)
void float_channel_affine(const float* x, int64_t outer, int64_t channels, int64_t inner, const float* scale,
                          const float* shift, float* y);

// InstanceNormalization: statistics per (n, c) over the spatial positions. `channels_last`: x is
// [N, spatial, C] (NHWC); else [N, C, spatial].
void float_instance_norm(const float* x, int64_t n, int64_t channels, int64_t spatial, bool channels_last,
                         const float* scale, const float* bias, float epsilon, float* y);

// LayerNormalization: x viewed as [outer, inner] (inner = the product of the dimensions from `axis` on),
// statistics per row; scale and bias (bias may be null: nothing is added, not even 0) have `inner`
// elements (the caller expands any broadcast). Every normalization here computes exactly
// ((x - mean) / sqrt(var + epsilon)) * scale + bias, each step rounded (no fma), and may run in place.
void float_layer_norm(const float* x, int64_t outer, int64_t inner, const float* scale, const float* bias,
                      float epsilon, float* y);

// GroupNormalization: statistics per (n, group) over the group's channels [g C / G, (g + 1) C / G) at every
// spatial position (x as for float_instance_norm), then y = (x - mean) / sqrt(var + epsilon) * scale[c] +
// bias[c] per channel, each step rounded. The group's sum and sum of squared deviations are taken in float64
// in element order (the group is C / G x spatial elements: float32 sums of a million terms would lose
// digits). `item_begin`, `item_end`: the (n, group) items to compute, n * groups + g (all by default).
void float_group_norm(const float* x, int64_t n, int64_t channels, int64_t spatial, bool channels_last,
                      int64_t groups, const float* scale, const float* bias, float epsilon, float* y,
                      int64_t item_begin = 0, int64_t item_end = -1);

// LRN, local response normalization across channels (AlexNet, GoogLeNet): size >= 1; a window wider than
// the channels takes them all.
struct LrnParams {
  int64_t size = 1;
  float alpha = 1e-4f, beta = 0.75f, bias = 1.0f;
};

// Element (o, c, i) of x viewed as [outer, channels, inner] becomes x / d with
// d = (bias + alpha / size * S)^beta, S the sum of squares of channels [c - (size - 1) / 2, c + size / 2]
// that exist (ONNX's floor and ceil of (size - 1) / 2), added in channel order. d is exactly
// sqrt(t) * sqrt(sqrt(t)) for beta 0.75 (every LRN we have seen), sqrt(t) for 0.5, t for 1, else fmath::pow
// (octet's, so that every C library gives the same bytes).
// `o_begin`, `o_end`: the rows of `outer` to compute (all by default), so that callers may split the work.
void float_lrn(const float* x, int64_t outer, int64_t channels, int64_t inner, const LrnParams& p, float* y,
               int64_t o_begin = 0, int64_t o_end = -1);

}  // namespace octet::ref
