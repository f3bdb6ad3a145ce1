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

}  // namespace octet::ref
