#pragma once

// The packed GEMM's epilogue for one value: channel n's output byte for its full accumulator (folded bias
// and zero-point terms included, summed modulo 2^32), in the requantization mode of `rq`. The scalar
// kernel (gemm_scalar.cpp) and the AMX walk (amx_gemm.h) end with it; the SIMD epilogues compute the same.

#include <cstddef>
#include <cstdint>

#include "kernels/quantization/channel_requant.h"
#include "kernels/quantization/fixed_point.h"
#include "kernels/quantization/float_requant.h"

namespace octet::gemm {

inline uint8_t requantize_accumulator(const ChannelRequant& rq, int64_t n, uint32_t acc) {
  const auto i = static_cast<size_t>(n);
  const int32_t value =
      rq.float_mode() ? requantize_float(static_cast<int32_t>(acc), rq.scale[i], rq.output_zero_point,
                                         rq.clamp.min, rq.clamp.max)
                      : requantize(static_cast<int32_t>(acc),
                                   FixedMultiplier{rq.multiplier[i], rq.right_shift[i] - rq.left_shift[i]},
                                   rq.output_zero_point, rq.clamp.min, rq.clamp.max);
  return static_cast<uint8_t>(value);
}

}  // namespace octet::gemm
