#pragma once

// One per-tensor fixed-point step (kernels/elementwise/fused_multiplier.h) on the 16 lanes of a register:
// multiply_by_fixed(x, m) + offset through x86::fused_high_half, shared by the quantized add and mul rows
// and the average pool. Include only from files compiled with AVX-512 flags.

#include <immintrin.h>

#include "kernels/elementwise/fused_multiplier.h"
#include "kernels/x86/requant_avx512.h"

// Named for its lane count, like Requant16 / Requant8: the AVX2 and AVX-512 steps are different types,
// and a class of the same name in both headers would have its members' out-of-line copies (made where they
// are not inlined, as in the sanitizer builds) merged by the linker into one ISA's.
namespace octet::x86 {

using elementwise::FusedMultiplier;
using elementwise::StepForm;

// One fused step on 16 lanes, the same constants in every lane.
template <StepForm kForm>
struct FusedStep16 {
  __m512i m0, round, threshold, shift;
  __m128i pre_shift;
  bool shifts_first, corrects;

  explicit FusedStep16(const FusedMultiplier& f)
      : m0(_mm512_set1_epi64(f.multiplier)),
        round(_mm512_set1_epi64(f.round)),
        threshold(_mm512_set1_epi32(f.threshold)),
        shift(_mm512_set1_epi32(f.shift)),
        pre_shift(_mm_cvtsi32_si128(f.pre_shift)),
        shifts_first(f.pre_shift != 0),
        corrects(f.corrects) {}

  __m512i operator()(__m512i x) const {
    // A halving is exact only on even inputs: AddTerms::term shifts the term's input once instead.
    static_assert(kForm != StepForm::half, "a halving step runs through AddTerms::term");
    if constexpr (kForm == StepForm::any) {
      if (shifts_first) x = _mm512_sll_epi32(x, pre_shift);
      return fused_high_half(x, m0, m0, round, round, shift, corrects, threshold);
    } else {
      return fused_high_half(x, m0, m0, round, round, shift, kForm == StepForm::corrected, threshold);
    }
  }
};

}  // namespace octet::x86
