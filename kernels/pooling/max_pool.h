#pragma once

#include <cstdint>

#include "kernels/isa.h"
#include "kernels/reference/pooling.h"

namespace octet::pooling {

// Max pooling on NHWC uint8, vectorised across channels (each output pixel is the elementwise maximum of
// its window's channel rows) at the width of `isa`'s vectors; the same bytes as ref::max_pool2d, in
// parallel over output rows.
void max_pool2d(Isa isa, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
                const ref::Pool2dParams& p, uint8_t zero_point, uint8_t* output);

// The same at one ISA's width (kernels/x86/max_pool_*.cpp); only called after the CPU check.
void max_pool2d_avx2(const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
                     const ref::Pool2dParams& p, uint8_t zero_point, uint8_t* output);
void max_pool2d_avx512(const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
                       const ref::Pool2dParams& p, uint8_t zero_point, uint8_t* output);

}  // namespace octet::pooling
