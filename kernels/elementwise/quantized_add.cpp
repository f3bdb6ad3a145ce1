#include "kernels/elementwise/quantized_add.h"

#include <string>

#include "kernels/error.h"

namespace octet::elementwise {

bool add_rows_supported(Isa isa, const ref::AddConstants& k) {
  auto fits = [](FixedMultiplier m) { return m.right_shift >= 0 && m.right_shift <= kMaxAddShift; };
  return isa == Isa::avx512vnni && fits(k.a) && fits(k.b) && fits(k.out);
}

void add_rows(Isa isa, const ref::AddConstants& k, Clamp clamp, const uint8_t* a, const uint8_t* b,
              uint8_t* out, int64_t n) {
#if defined(__x86_64__)
  if (isa == Isa::avx512vnni) return add_rows_avx512(k, clamp, a, b, out, n);
#else
  (void)k, (void)clamp, (void)a, (void)b, (void)out, (void)n;
#endif
  throw Error("add: no vector kernel for " + std::string(name_of(isa)));
}

}  // namespace octet::elementwise
