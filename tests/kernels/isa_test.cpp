// The instruction-set names, detection and the packing rule that depends on the ISA.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "kernels/error.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/isa.h"
#include "kernels/x86/amx_support.h"

namespace octet {
namespace {

constexpr Isa kAll[] = {Isa::scalar, Isa::avx2,         Isa::avx512vnni, Isa::avx512amx,
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
  EXPECT_FALSE(has(Isa::avx2) || has(Isa::avx512vnni) || has(Isa::avx512amx));
  EXPECT_TRUE(!has(Isa::neon_i8mm) || has(Isa::neon_dotprod));  // its kernel also needs dotprod
#else
  EXPECT_FALSE(has(Isa::neon) || has(Isa::neon_dotprod) || has(Isa::neon_i8mm));
#endif
  EXPECT_TRUE(cpu_supports(active_isa()));
  // avx512amx: AVX-512 VNNI and usable AMX tiles; never the default (untimed on AMX hardware).
  EXPECT_EQ(has(Isa::avx512amx), has(Isa::avx512vnni) && amx_support().usable);
  EXPECT_NE(auto_selected_isa(), Isa::avx512amx);
  EXPECT_EQ(auto_selected_isa(), has(Isa::avx512amx) ? isas[isas.size() - 2] : isas.back());
}

// avx512amx's vector kernels are avx512vnni's; every other ISA is its own.
TEST(Isa, VectorIsa) {
  for (Isa isa : kAll)
    EXPECT_EQ(vector_isa(isa), isa == Isa::avx512amx ? Isa::avx512vnni : isa) << name_of(isa);
  EXPECT_EQ(vbmi_usable(Isa::avx512amx), vbmi_usable(Isa::avx512vnni));
}

// The kernels that multiply a - 128 (SDOT, SMULL: neon and neon_dotprod) get 128 * sum_k W folded into
// their bias by pack(); the others get the same bias as the scalar kernel.
TEST(Isa, PackFoldsTheActivationOffsetOnlyForSignedByteMultiplies) {
  const std::vector<int8_t> w = {1, -2, 3, 4, 5, -6, 7, -128};  // 2 channels x 4
  const int32_t sums[] = {1 - 2 + 3 + 4, 5 - 6 + 7 - 128};
  const QuantParams wq = QuantParams::per_tensor(0.01f, 0), in = QuantParams::per_tensor(0.02f, 3),
                    out = QuantParams::per_tensor(0.5f, 7);
  const gemm::PackedWeights base =
      gemm::pack(Isa::scalar, w.data(), 2, 4, wq, nullptr, in, out, Clamp{}, "t");
  for (Isa isa : kAll) {
    const gemm::PackedWeights p = gemm::pack(isa, w.data(), 2, 4, wq, nullptr, in, out, Clamp{}, "t");
    EXPECT_EQ(p.isa, vector_isa(isa));  // avx512amx: the VNNI packing (its tiles take amx_pack)
    const int32_t offset = isa == Isa::neon || isa == Isa::neon_dotprod ? 128 : 0;
    for (size_t r = 0; r < 2; ++r)
      EXPECT_EQ(p.requant.bias[r] - base.requant.bias[r], offset * sums[r]) << name_of(isa) << " row " << r;
  }
}

}  // namespace
}  // namespace octet
