#include "kernels/pooling/average_pool.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/pooling/average_pool_rows.h"

namespace octet::pooling {

namespace {

// The fused form of every multiplier, for the pre-shifted sums of windows of up to max_count elements:
// |sum(a - z)| <= 255 * max_count, shifted left by `shift` (below 2^30 unless the window is so large that
// the shift is 0); none if one lacks it.
std::vector<elementwise::FusedMultiplier> fused_forms(const std::vector<FixedMultiplier>& multipliers,
                                                      int64_t max_count, int shift, int32_t output_zero_point,
                                                      Clamp clamp) {
  const auto bound = static_cast<uint64_t>(255 * std::max<int64_t>(max_count, 1)) << shift;
  const int x_bits = static_cast<int>(std::bit_width(bound));
  std::vector<elementwise::FusedMultiplier> fused;
  for (const FixedMultiplier& m : multipliers) {
    if (!elementwise::fused_supported(m, x_bits)) return {};
    fused.push_back(elementwise::fused_multiplier(m, output_zero_point, clamp.min < output_zero_point));
  }
  return fused;
}

}  // namespace

AveragePool prepare_average_pool(const ref::Pool2dParams& params, const QuantParams& input,
                                 const QuantParams& output, Clamp clamp, RequantMode mode) {
  if (params.dilation_h != 1 || params.dilation_w != 1)
    throw Error("average_pool2d: dilation is not supported");
  const int64_t max_count = params.kernel_h * params.kernel_w;
  if (params.kernel_h < 1 || params.kernel_w < 1 || max_count > std::numeric_limits<int32_t>::max() / 255)
    throw Error("average_pool2d: kernel " + std::to_string(params.kernel_h) + "x" +
                std::to_string(params.kernel_w) + " is empty or too large for an int32 sum");
  AveragePool a;
  a.params = params;
  a.shift = ref::average_pool_sum_shift(max_count);
  a.multipliers = ref::average_pool_multipliers(input.scale(), output.scale(), max_count, a.shift);
  if (mode == RequantMode::float_scale)
    for (int64_t count = 0; count <= max_count; ++count)  // index 0 unused, as for the multipliers
      a.float_scales.push_back(
          ref::average_pool_float_scale(input.scale(), output.scale(), std::max<int64_t>(count, 1)));
  a.input_zero_point = input.zero_point();
  a.output_zero_point = output.zero_point();
  a.clamp = clamp;
  if (mode == RequantMode::fixed_point)
    a.fused = fused_forms(a.multipliers, max_count, a.shift, a.output_zero_point, clamp);
  return a;
}

AveragePool prepare_global_average_pool(int64_t ih, int64_t iw, const QuantParams& input,
                                        const QuantParams& output, Clamp clamp, RequantMode mode) {
  const int64_t hw = ih * iw;
  if (hw < 1 || hw > std::numeric_limits<int32_t>::max() / 255)
    throw Error("global_average_pool: " + std::to_string(hw) + " pixels overflow an int32 sum");
  AveragePool a;
  a.params.kernel_h = a.params.kernel_w = 0;
  a.shift = ref::average_pool_sum_shift(hw);
  // The reference's one multiplier, s_in / (s_out * hw * 2^shift), is entry hw of this table; only that
  // entry is kept.
  a.multipliers.assign(
      1, quantize_multiplier(input.scale() / (static_cast<double>(output.scale()) * static_cast<double>(hw) *
                                              std::ldexp(1.0, a.shift))));
  if (mode == RequantMode::float_scale)
    a.float_scales.assign(1, ref::average_pool_float_scale(input.scale(), output.scale(), hw));
  a.input_zero_point = input.zero_point();
  a.output_zero_point = output.zero_point();
  a.clamp = clamp;
  if (mode == RequantMode::fixed_point)
    a.fused = fused_forms(a.multipliers, hw, a.shift, a.output_zero_point, clamp);
  return a;
}

void run(Isa isa, const AveragePool& a, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, int64_t c,
         uint8_t* output) {
#if defined(__x86_64__)
  switch (vector_isa(isa)) {
    case Isa::avx512vnni:
      return average_pool_avx512(a, input, n, ih, iw, c, output);
    case Isa::avx2:
      return average_pool_avx2(a, input, n, ih, iw, c, output);
    default:
      break;
  }
#else
  (void)isa;
#endif
  average_pool_rows(a, input, n, ih, iw, c, output,
                    [&a](size_t entry, const int32_t* sums, int32_t offset, int64_t channels, uint8_t* out) {
                      requantize_sums(a, entry, sums, offset, channels, out);
                    });
}

}  // namespace octet::pooling
