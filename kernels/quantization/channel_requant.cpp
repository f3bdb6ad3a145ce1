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
  return c;
}

}  // namespace octet
