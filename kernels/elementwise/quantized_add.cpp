#include "kernels/elementwise/quantized_add.h"

namespace octet::elementwise {

bool add_rows_supported(const ref::AddConstants& k) {
  auto fits = [](FixedMultiplier m) { return m.right_shift >= 0 && m.right_shift <= kMaxAddShift; };
  return fits(k.a) && fits(k.b) && fits(k.out);
}

}  // namespace octet::elementwise
