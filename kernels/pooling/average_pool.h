#pragma once

// Average and global average pooling over NHWC uint8, bit-exact with ref::average_pool2d and
// ref::global_average_pool: the same int32 window sums (accumulated a pixel at a time across the channel
// vector, which the compiler vectorises, instead of the reference's channel-strided walk), the same
// pre-shift and the same per-count multipliers.

#include <cstdint>
#include <vector>

#include "kernels/elementwise/fused_multiplier.h"
#include "kernels/isa.h"
#include "kernels/quantization/clamp.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/reference/pooling.h"

namespace octet::pooling {

struct AveragePool {
  ref::Pool2dParams params;  // kernel 0 x 0: global
  int shift = 0;
  std::vector<FixedMultiplier> multipliers;  // by window count
  std::vector<float> float_scales;           // float_scale mode: by window count (global: one); else empty
  // Fixed point: the multipliers' fused form (elementwise/fused_multiplier.h), which the vector kernels
  // run; empty where one of them lacks it (then the reference's arithmetic runs).
  std::vector<elementwise::FusedMultiplier> fused;
  int32_t input_zero_point = 0, output_zero_point = 0;
  Clamp clamp;
};

// For windows of `params` (dilation 1) over inputs of `input` params; throws octet::Error as the
// reference does for unsupported windows.
AveragePool prepare_average_pool(const ref::Pool2dParams& params, const QuantParams& input,
                                 const QuantParams& output, Clamp clamp,
                                 RequantMode mode = RequantMode::fixed_point);
// Global: the window is the whole ih x iw image.
AveragePool prepare_global_average_pool(int64_t ih, int64_t iw, const QuantParams& input,
                                        const QuantParams& output, Clamp clamp,
                                        RequantMode mode = RequantMode::fixed_point);

// [n, ih, iw, c] -> [n, oh, ow, c] (global: [n, 1, 1, c]), in parallel over output rows, at the width of
// `isa`'s vectors.
void run(Isa isa, const AveragePool& pool, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
         uint8_t* output);

// The same at one ISA's width (kernels/x86/average_pool_*.cpp); only called after the CPU check.
void average_pool_avx2(const AveragePool& pool, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
                       int64_t c, uint8_t* output);
void average_pool_avx512(const AveragePool& pool, const uint8_t* input, int64_t n, int64_t ih, int64_t iw,
                         int64_t c, uint8_t* output);

}  // namespace octet::pooling
