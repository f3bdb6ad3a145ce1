#pragma once

// Float pooling on the active ISA (xsimd), bit-exact with kernels/reference/float_pooling.h on every ISA and
// thread count, parallel over independent output ranges (oneTBB). `Isa::scalar` runs the references.

#include "kernels/isa.h"
#include "kernels/reference/float_pooling.h"

namespace octet::pooling {

void float_max_pool2d(Isa isa, const float* x, const Shape& nhwc, const ref::Pool2dParams& p,
                      FloatClamp clamp, float* y);
void float_average_pool2d(Isa isa, const float* x, const Shape& nhwc, const ref::Pool2dParams& p,
                          FloatClamp clamp, float* y);
void float_global_average_pool(Isa isa, const float* x, const Shape& nhwc, float* y);

}  // namespace octet::pooling
