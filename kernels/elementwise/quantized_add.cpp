#include "kernels/elementwise/quantized_add.h"

#include <cmath>
#include <string>

#include "kernels/elementwise/fused_multiplier.h"
#include "kernels/error.h"

namespace octet::elementwise {

namespace {

// Bounds on |x| at each step of an add, for fused_supported: (q - z) << kAddLeftShift < 2^28 going in, and
// the sum of two such values rescaled by multipliers of at most 1/2 below 2^29.
constexpr int kAddInputBits = 28, kAddSumBits = 29;

}  // namespace

bool add_rows_supported(Isa isa, const ref::AddConstants& k) {
  isa = vector_isa(isa);  // avx512amx: the avx512vnni kernels
#if defined(__x86_64__)
  if (isa == Isa::avx512vnni || isa == Isa::avx2)
    return fused_supported(k.a, kAddInputBits) && fused_supported(k.b, kAddInputBits) &&
           fused_supported(k.out, kAddSumBits);
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon || isa == Isa::neon_dotprod || isa == Isa::neon_i8mm) return true;
#endif
  (void)k;
  return false;
}

std::unique_ptr<const BinaryRows> make_add_rows(Isa isa, const ref::AddConstants& k, Clamp clamp) {
  isa = vector_isa(isa);  // avx512amx: the avx512vnni kernels
  if (add_rows_supported(isa, k)) {
#if defined(__x86_64__)
    if (isa == Isa::avx512vnni) return make_add_rows_avx512(k, clamp);
    if (isa == Isa::avx2) return make_add_rows_avx2(k, clamp);
#endif
#if defined(__aarch64__)
    return make_add_rows_neon(k, clamp);
#endif
  }
  throw Error("add: no vector kernel for " + std::string(name_of(isa)) + " with these scales");
}

std::unique_ptr<const BinaryRows> make_float_add_rows(Isa isa, const ref::FloatAddConstants& k, Clamp clamp) {
  isa = vector_isa(isa);  // avx512amx: the avx512vnni kernels
  // Non-finite constants (scales at the ends of float's range) stay with the table, which the reference
  // fills.
  if (!std::isfinite(k.ratio_a) || !std::isfinite(k.ratio_b) || !std::isfinite(k.offset)) return nullptr;
#if defined(__x86_64__)
  if (isa == Isa::avx512vnni) return make_float_add_rows_avx512(k, clamp);
  if (isa == Isa::avx2) return make_float_add_rows_avx2(k, clamp);
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon || isa == Isa::neon_dotprod || isa == Isa::neon_i8mm)
    return make_float_add_rows_neon(k, clamp);
#endif
  (void)isa, (void)clamp;
  return nullptr;
}

}  // namespace octet::elementwise
