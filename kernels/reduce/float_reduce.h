#pragma once

// Float reductions, softmax and normalizations on the active ISA (xsimd), bit-exact with their references
// (kernels/reference/float_reduce.h, float_normalization.h) on every ISA and thread count, parallel over
// independent outputs (oneTBB). `Isa::scalar` runs the references.

#include <span>

#include "kernels/isa.h"
#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/float_normalization.h"
#include "kernels/reference/float_reduce.h"

namespace octet::reduce {

void float_reduce(Isa isa, ReduceOp op, const float* x, const Shape& s, const std::vector<int64_t>& axes,
                  float* y);
void float_softmax(Isa isa, const float* x, const Shape& s, int64_t axis, bool log, float* y);
void float_arg_reduce(Isa isa, const float* x, const Shape& s, int64_t axis, bool max, bool select_last_index,
                      int64_t* y);
// y = fma(x, scale[c], shift[c]), then clamped (FloatClamp::apply) and activated (`activation`, identity:
// none) block by block while each is in cache: BatchNormalization with its Relu / Clip and activation fused.
void float_channel_affine(Isa isa, const float* x, int64_t outer, int64_t channels, int64_t inner,
                          const float* scale, const float* shift, float* y, FloatClamp clamp = {},
                          const UnaryParams& activation = {});
// The same with channels last (inner 1) over the pieces of a concatenation along the channels, read where
// they are: piece p gives `channels` consecutive channels of each of the `outer` rows of y, after those of
// the pieces before it (a BatchNormalization reading a Concat: DenseNet). The same bytes as concatenating
// first.
struct ChannelPiece {
  const float* x = nullptr;  // [outer, channels]
  int64_t channels = 0;
};
void float_channel_affine_pieces(Isa isa, std::span<const ChannelPiece> pieces, int64_t outer,
                                 const float* scale, const float* shift, float* y, FloatClamp clamp = {},
                                 const UnaryParams& activation = {});
void float_instance_norm(Isa isa, const float* x, int64_t n, int64_t channels, int64_t spatial,
                         bool channels_last, const float* scale, const float* bias, float epsilon, float* y);
void float_layer_norm(Isa isa, const float* x, int64_t outer, int64_t inner, const float* scale,
                      const float* bias, float epsilon, float* y);
// The references on every ISA (the same code, so the same bytes): GroupNormalization parallel over
// (image, group), LRN over rows of `outer`.
void float_group_norm(const float* x, int64_t n, int64_t channels, int64_t spatial, bool channels_last,
                      int64_t groups, const float* scale, const float* bias, float epsilon, float* y);
void float_lrn(const float* x, int64_t outer, int64_t channels, int64_t inner, const ref::LrnParams& p,
               float* y);

}  // namespace octet::reduce
