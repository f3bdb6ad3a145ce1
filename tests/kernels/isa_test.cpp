// The instruction-set names, detection and the packing rule that depends on the ISA.

#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/error.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/isa.h"

namespace octet {
namespace {

constexpr Isa kAll[] = {Isa::scalar, Isa::avx2,         Isa::avx512vnni,
                        Isa::neon,   Isa::neon_dotprod, Isa::neon_i8mm};

TEST(Isa, NamesRoundTrip) {
  for (Isa isa : kAll)
    EXPECT_EQ(parse_isa(name_of(isa)), isa);
  EXPECT_THROW(parse_isa("sve2"), Error);
  EXPECT_THROW(parse_isa(""), Error);
}

TEST(Isa, SupportedListStartsWithScalarAndHoldsOnlyThisArchitecture) {
  const std::vector<Isa> isas = supported_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::scalar);
  for (Isa isa : isas)
    EXPECT_TRUE(cpu_supports(isa)) << name_of(isa);
  const auto has = [&](Isa isa) { return std::find(isas.begin(), isas.end(), isa) != isas.end(); };
#if defined(__aarch64__)
  EXPECT_TRUE(has(Isa::neon));  // Advanced SIMD is part of every AArch64 Linux system
  EXPECT_FALSE(has(Isa::avx2) || has(Isa::avx512vnni));
  EXPECT_TRUE(!has(Isa::neon_i8mm) || has(Isa::neon_dotprod));  // its kernel also needs dotprod
#else
  EXPECT_FALSE(has(Isa::neon) || has(Isa::neon_dotprod) || has(Isa::neon_i8mm));
#endif
  EXPECT_TRUE(cpu_supports(active_isa()));
}

// The kernels that multiply a - 128 (SDOT, SMULL) get 128 * sum_k W in their bias; the others do not.
TEST(Isa, ActivationOffsetOnlyForSignedByteMultiplies) {
  for (Isa isa : kAll)
    EXPECT_EQ(gemm::offsets_activations(isa), isa == Isa::neon || isa == Isa::neon_dotprod) << name_of(isa);
}

}  // namespace
}  // namespace octet
