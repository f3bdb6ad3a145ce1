#include "kernels/elementwise/fused_multiplier.h"

#include "kernels/error.h"
#include "kernels/quantization/channel_requant.h"

namespace octet::elementwise {

bool fused_supported(FixedMultiplier m, int x_bits) {
  const int s = m.right_shift;
  if (m.multiplier < 0 || x_bits < 0 || x_bits > 31) return false;
  if (s >= 1) return s <= kMaxFusedRightShift;
  return x_bits + 1 - s <= 31;
}

FusedMultiplier fused_multiplier(FixedMultiplier m, int32_t offset, bool with_correction) {
  if (offset < 0 || offset > 255 || !fused_supported(m, 0))
    throw Error("fused_multiplier: unsupported multiplier or offset");
  const int s = m.right_shift;
  FusedMultiplier f;
  f.multiplier = m.multiplier;
  const auto z = static_cast<int64_t>(offset);
  if (s >= 1) {
    f.round = (int64_t{1} << 30) + (int64_t{1} << (30 + s)) + (z << (31 + s));
    f.threshold = fused_tie_threshold(m.multiplier);
    f.shift = s - 1;
    f.corrects = with_correction;
  } else {
    f.round = (int64_t{1} << 31) + (z << 32);
    f.threshold = INT32_MIN;
    f.pre_shift = 1 - s;
  }
  return f;
}

StepForm step_form(const FusedMultiplier& f, bool term) {
  // The pre-shift form of M0 = 2^30 without a shift: Y = (x << 1) * 2^30 + 2^31, high half x / 2 + 1/2
  // rounded down, x / 2 for even x.
  if (term && f.multiplier == int64_t{1} << 30 && f.pre_shift == 1 && f.round == int64_t{1} << 31)
    return StepForm::half;
  if (f.pre_shift != 0) return StepForm::any;
  return f.corrects ? StepForm::corrected : StepForm::uncorrected;
}

}  // namespace octet::elementwise
