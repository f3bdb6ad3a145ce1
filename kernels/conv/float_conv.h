#pragma once

// Float convolutions on the active ISA, prepared once per layer (weights packed), bit-exact with
// kernels/reference/float_conv2d.h on every ISA and thread count. NHWC.

#include <memory>
#include <vector>

#include "kernels/isa.h"
#include "kernels/reference/float_conv2d.h"
#include "kernels/reference/float_elementwise.h"

namespace octet::conv {

struct FloatConv2d;  // defined in float_conv.cpp
struct FloatConvTranspose2d;

// weights [C_out, KH, KW, C_in / groups], bias [C_out] or null. Each output element is the convolution's
// sum, plus with `adds_residual` the same element of run()'s `residual` (a residual connection's Add),
// clamped, then `activation` of it (a fused Sigmoid, SiLU, LeakyRelu, ...): the bits of the convolution,
// the add, the clamp and the unary operator run one after another, the steps after the sum applied to each
// block of the output while it is still in cache.
std::shared_ptr<const FloatConv2d> prepare_float_conv2d(Isa isa, const float* weights,
                                                        const Shape& weight_shape, const float* bias,
                                                        const ref::Conv2dParams& params, FloatClamp clamp,
                                                        const UnaryParams& activation = {},
                                                        bool adds_residual = false);
// input [n, h, w, C_in] -> output [n, OH, OW, C_out]; `residual` [n, OH, OW, C_out], given exactly when
// the convolution was prepared with adds_residual. It must not overlap the output.
void run(const FloatConv2d& conv, const float* input, int64_t n, int64_t h, int64_t w, float* output,
         const float* residual = nullptr);
// G when the convolution runs as a grouped convolution of G input and G output channels per group on the
// depthwise kernel without expanding its input (FloatDepthwiseRow::lane_group), else 0: for tests, which
// check that the layers it is meant for take it.
int64_t lane_group_of(const FloatConv2d& conv);

std::shared_ptr<const FloatConvTranspose2d> prepare_float_conv_transpose2d(
    Isa isa, const float* weights, const Shape& weight_shape, const float* bias,
    const ref::ConvTranspose2dParams& params, FloatClamp clamp, const UnaryParams& activation = {});
void run(const FloatConvTranspose2d& conv, const float* input, int64_t n, int64_t h, int64_t w,
         float* output);

}  // namespace octet::conv
