#include "kernels/quantization/channel_requant.h"

#include <algorithm>

namespace octet {

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
  if (padded % ChannelRequant::kFusedBlock == 0) {
    // RoundingDivideByPOT(s) of SaturatingRoundingDoublingHighMul(x, M0) with s >= 1 is
    //   floor((floor((P + 2^30) / 2^31) + 2^(s-1) - [P + 2^30 < 0]) / 2^s),  P = x * M0,
    // and nested floors of integers collapse: floor((P + 2^30 + 2^(30+s) - [P < -2^30] * 2^31) / 2^(31+s)).
    // With s = 0 it is floor((P + 2^30) / 2^31). Adding z * 2^(31+s) adds the zero point z.
    c.fused_round.assign(n, 0);
    c.fused_correction.assign(n, 0);
    c.fused_shift.assign(n, 31);
    c.fused_ok.assign(n / ChannelRequant::kFusedBlock, 1);
    for (size_t i = 0; i < n; ++i) {
      const int64_t block = static_cast<int64_t>(i) / ChannelRequant::kFusedBlock;
      const int64_t lane = static_cast<int64_t>(i) % ChannelRequant::kFusedBlock;
      const auto slot = static_cast<size_t>(block * ChannelRequant::kFusedBlock + lane / 2 + (lane % 2) * 8);
      const int32_t s = c.right_shift[i];
      if (c.left_shift[i] != 0 || s > kMaxFusedRightShift) {
        c.fused_ok[static_cast<size_t>(block)] = 0;
        continue;
      }
      c.fused_round[slot] = (int64_t{1} << 30) + (s >= 1 ? int64_t{1} << (30 + s) : 0) +
                            (static_cast<int64_t>(c.output_zero_point) << (31 + s));
      c.fused_correction[slot] = s >= 1 ? int64_t{1} << 31 : 0;
      c.fused_shift[slot] = 31 + s;
    }
  }
  return c;
}

}  // namespace octet
