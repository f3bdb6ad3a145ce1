#pragma once

// Float Resize on the active ISA, bit-exact with ref::float_resize (kernels/reference/float_pooling.h) on
// every ISA and thread count, parallel over output rows (oneTBB). `Isa::scalar` runs the reference.

#include "kernels/isa.h"
#include "kernels/reference/float_pooling.h"

namespace octet::resize {

void float_resize(Isa isa, const float* x, const Shape& nhwc, const ref::FloatResizeParams& p, float* y);

}  // namespace octet::resize
