#pragma once

// Float convolutions on the active ISA, prepared once per layer (weights packed), bit-exact with
// kernels/reference/float_conv2d.h on every ISA and thread count. NHWC.

#include <memory>
#include <vector>

#include "kernels/isa.h"
#include "kernels/reference/float_conv2d.h"

namespace octet::conv {

struct FloatConv2d;  // defined in float_conv.cpp
struct FloatConvTranspose2d;

// weights [C_out, KH, KW, C_in / groups], bias [C_out] or null.
std::shared_ptr<const FloatConv2d> prepare_float_conv2d(Isa isa, const float* weights, const Shape& weight_shape,
                                                        const float* bias, const ref::Conv2dParams& params,
                                                        FloatClamp clamp);
// input [n, h, w, C_in] -> output [n, OH, OW, C_out].
void run(const FloatConv2d& conv, const float* input, int64_t n, int64_t h, int64_t w, float* output);

std::shared_ptr<const FloatConvTranspose2d> prepare_float_conv_transpose2d(Isa isa, const float* weights,
                                                                          const Shape& weight_shape,
                                                                          const float* bias,
                                                                          const ref::ConvTranspose2dParams& params,
                                                                          FloatClamp clamp);
void run(const FloatConvTranspose2d& conv, const float* input, int64_t n, int64_t h, int64_t w, float* output);

}  // namespace octet::conv
