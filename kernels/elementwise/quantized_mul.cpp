#include "kernels/elementwise/quantized_mul.h"

#include <cmath>
#include <string>

#include "kernels/elementwise/fused_multiplier.h"
#include "kernels/error.h"

namespace octet::elementwise {

namespace {

// |(a - z_a) * (b - z_b)| <= 255 * 255 < 2^16.
constexpr int kProductBits = 16;

}  // namespace

bool mul_rows_supported(Isa isa, const ref::MulConstants& k) {
  isa = vector_isa(isa);  // avx512amx: the avx512vnni kernels
#if defined(__x86_64__)
  if (isa == Isa::avx512vnni || isa == Isa::avx2) return fused_supported(k.m, kProductBits);
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon || isa == Isa::neon_dotprod || isa == Isa::neon_i8mm) return true;
#endif
  (void)k;
  return false;
}

std::unique_ptr<const BinaryRows> make_mul_rows(Isa isa, const ref::MulConstants& k, Clamp clamp) {
  isa = vector_isa(isa);  // avx512amx: the avx512vnni kernels
  if (mul_rows_supported(isa, k)) {
#if defined(__x86_64__)
    if (isa == Isa::avx512vnni) return make_mul_rows_avx512(k, clamp);
    if (isa == Isa::avx2) return make_mul_rows_avx2(k, clamp);
#endif
#if defined(__aarch64__)
    return make_mul_rows_neon(k, clamp);
#endif
  }
  throw Error("mul: no vector kernel for " + std::string(name_of(isa)) + " with these scales");
}

std::unique_ptr<const BinaryRows> make_float_mul_rows(Isa isa, const ref::FloatMulConstants& k, Clamp clamp) {
  isa = vector_isa(isa);                        // avx512amx: the avx512vnni kernels
  if (!std::isfinite(k.ratio)) return nullptr;  // the table, which the reference fills
#if defined(__x86_64__)
  if (isa == Isa::avx512vnni) return make_float_mul_rows_avx512(k, clamp);
  if (isa == Isa::avx2) return make_float_mul_rows_avx2(k, clamp);
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon || isa == Isa::neon_dotprod || isa == Isa::neon_i8mm)
    return make_float_mul_rows_neon(k, clamp);
#endif
  (void)isa, (void)clamp;
  return nullptr;
}

}  // namespace octet::elementwise
