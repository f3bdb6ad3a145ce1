#include "kernels/quantization/fixed_point.h"

#include <cmath>
#include <string>

#include "kernels/error.h"

namespace octet {

FixedMultiplier quantize_multiplier(double real_multiplier) {
  if (!std::isfinite(real_multiplier) || !(real_multiplier > 0.0))
    throw Error("requantization multiplier " + std::to_string(real_multiplier) +
                " is not a finite positive number (check the input, weight and output scales)");
  int exponent = 0;
  // real = q * 2^exponent with q in [0.5, 1).
  const double q = std::frexp(real_multiplier, &exponent);
  if (exponent > 31)
    throw Error("requantization multiplier " + std::to_string(real_multiplier) +
                " is too large (>= 2^31); the scales are inconsistent");
  auto q31 = static_cast<int64_t>(std::llround(q * 2147483648.0));
  if (q31 == (int64_t{1} << 31)) {  // q rounded up to 1.0
    q31 /= 2;
    ++exponent;
    if (exponent > 31)
      throw Error("requantization multiplier " + std::to_string(real_multiplier) + " is too large (>= 2^31)");
  }
  int right_shift = -exponent;
  if (right_shift > 31) {
    // Below 2^-32 the shift range of rounding_divide_by_pot is exhausted: fold the excess into the multiplier
    // (losing low bits of precision that cannot move the rounded result by more than 1).
    q31 = std::llround(std::ldexp(real_multiplier, 62));
    right_shift = 31;
  }
  return FixedMultiplier{static_cast<int32_t>(q31), right_shift};
}

}  // namespace octet
