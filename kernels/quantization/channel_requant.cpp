#include "kernels/quantization/channel_requant.h"

#include <algorithm>

namespace octet {

int32_t fused_tie_threshold(int32_t multiplier) {
  // acc * M0 < -2^30 exactly when acc <= floor((-2^30 - 1) / M0), i.e. acc < that + 1.
  if (multiplier <= 0) return INT32_MIN;
  const int64_t numerator = -(int64_t{1} << 30) - 1;
  const int64_t floor_div = numerator / multiplier - (numerator % multiplier != 0 ? 1 : 0);
  return static_cast<int32_t>(floor_div + 1);
}

ChannelRequant make_channel_requant(const ConvRequant& rq, int64_t padded, int32_t weight_offset) {
  ChannelRequant c;
  const auto n = static_cast<size_t>(padded);
  c.bias.assign(n, 0);
  c.multiplier.assign(n, 0);
  c.left_shift.assign(n, 0);
  c.right_shift.assign(n, 0);
  c.weight_zero_point.assign(n, 0);
  for (size_t i = 0; i < rq.multipliers.size(); ++i) {
    c.multiplier[i] = rq.multipliers[i].multiplier;
    c.left_shift[i] = std::max(0, -rq.multipliers[i].right_shift);
    c.right_shift[i] = std::max(0, rq.multipliers[i].right_shift);
    c.weight_zero_point[i] = rq.weight_zero_points[i] - weight_offset;
  }
  c.output_zero_point = rq.output_zero_point;
  c.clamp = rq.clamp;
  if (rq.mode == RequantMode::float_scale) {
    c.scale.assign(n, 0.0f);  // padding channels: scale 0, computed, never stored
    std::copy(rq.scales.begin(), rq.scales.end(), c.scale.begin());
    c.float_fits_int32 = rq.max_float_magnitude < 0x1p30;
    return c;
  }
  if (padded % ChannelRequant::kFusedBlock == 0) {
    // RoundingDivideByPOT(s) of SaturatingRoundingDoublingHighMul(x, M0) with s >= 1 is
    //   floor((floor((P + 2^30) / 2^31) + 2^(s-1) - [P + 2^30 < 0]) / 2^s),  P = x * M0,
    // and nested floors of integers collapse: floor((P + 2^30 + 2^(30+s) - [P < -2^30] * 2^31) / 2^(31+s)).
    // Adding z * 2^(31+s) adds the zero point z. Split at 2^32 (floor(Y / 2^(31+s)) =
    // floor(floor(Y / 2^32) / 2^(s-1))), the 2^31 correction borrows one from the high half exactly when
    // the low half is below 2^31, so the kernels keep only the high halves: 32-bit lanes after one
    // 64-bit multiply and add.
    c.fused_round.assign(n, 0);
    c.fused_threshold.assign(n, INT32_MIN);
    c.fused_shift.assign(n, 0);
    c.fused_ok.assign(n / ChannelRequant::kFusedBlock, 1);
    c.fused_skip_correction = c.clamp.min >= c.output_zero_point;
    for (size_t i = 0; i < n; ++i) {
      const int64_t block = static_cast<int64_t>(i) / ChannelRequant::kFusedBlock;
      const int64_t lane = static_cast<int64_t>(i) % ChannelRequant::kFusedBlock;
      const auto slot = static_cast<size_t>(block * ChannelRequant::kFusedBlock + lane / 2 + (lane % 2) * 8);
      if (i >= rq.multipliers.size()) continue;  // padding channels: computed, never stored
      const int32_t s = c.right_shift[i];
      if (c.left_shift[i] != 0 || s < 1 || s > kMaxFusedRightShift) {
        c.fused_ok[static_cast<size_t>(block)] = 0;
        continue;
      }
      c.fused_round[slot] = (int64_t{1} << 30) + (int64_t{1} << (30 + s)) +
                            (static_cast<int64_t>(c.output_zero_point) << (31 + s));
      c.fused_shift[i] = s - 1;
      c.fused_threshold[i] = fused_tie_threshold(c.multiplier[i]);
    }
  }
  return c;
}

}  // namespace octet
