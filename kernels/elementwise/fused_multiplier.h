#pragma once

// One per-tensor fixed-point step, multiply_by_fixed(x, m) + offset, in the single-rounding "high half" form
// that the x86 quantized add / mul kernels compute with x86::fused_high_half (kernels/x86/requant_*.h).
// kernels/quantization/channel_requant.h proves the form for right shifts s >= 1:
//   multiply_by_fixed(x, m) + z
//     = floor((floor(Y / 2^32) - [x < threshold and (Y mod 2^32) < 2^31]) / 2^(s-1)),
//   Y = x * M0 + 2^30 + 2^(30+s) + z * 2^(31+s),
// the bracket being the tie correction of the negative values that rounding_divide_by_pot rounds away from
// zero. A step without a right shift (s = 0, or a left shift L = -s > 0) has no rounding divide, only the
// rounding high multiply floor((x * 2^L * M0 + 2^30) / 2^31): with x first shifted left by L + 1 (exact when
// the caller's bound on |x| leaves room: no saturation, so the left shift of multiply_by_fixed is a plain
// product) the division becomes floor(Y / 2^32) with Y = (x << (L+1)) * M0 + 2^31 + z * 2^32, the high half
// itself, and no correction.

#include <cstdint>

#include "kernels/quantization/fixed_point.h"

namespace octet::elementwise {

struct FusedMultiplier {
  int64_t multiplier = 0;  // M0 (a 64-bit lane whose low dword vpmuldq multiplies)
  int64_t round = 0;       // added to the 64-bit product: rounding terms and offset * 2^(32 + shift)
  int32_t threshold = 0;   // the tie correction applies below this x
  int pre_shift = 0;       // x is shifted left by this before the multiply
  int shift = 0;           // the high half is shifted right (arithmetically) by this
  bool corrects = false;   // whether the tie correction can change a result (see fused_multiplier)
};

// Whether multiply_by_fixed(x, m) has the fused form for every |x| < 2^x_bits: a right shift in
// [1, kMaxFusedRightShift] (|x * M0| + Y's other terms stay below 2^63), or none / a left shift L with
// |x| << (L + 1) still an int32.
bool fused_supported(FixedMultiplier m, int x_bits);

// The constants of multiply_by_fixed(x, m) + offset (offset in [0, 255]) for fused_supported multipliers.
// `with_correction` false leaves the tie correction out, which callers may do only where every x it would
// change ends up clamped to the same value anyway (x * M0 < -2^30 makes the result at most `offset`, so a
// lower clamp at or above `offset` makes the correction moot).
FusedMultiplier fused_multiplier(FixedMultiplier m, int32_t offset, bool with_correction);

// How a vector add or mul row runs a fused step, known at compile time where possible: its pre-shift and
// tie correction decided per call (`any`), or no pre-shift with (`corrected`) or without (`uncorrected`)
// the correction; or, for the add's term steps only, `half`: the multiplier is exactly 1/2 (M0 = 2^30, no
// shift; the term of the input with the larger scale, whose ratio ref::add_constants makes s / (2 s)), and
// on the even term inputs (q - z) << kAddLeftShift the step is an exact halving. Each run-time choice is a
// branch in every vector's work, and a halving is one shift instead of a step (docs/kernels.md, "Residual
// add").
enum class StepForm { any, corrected, uncorrected, half };

// The form of a step with these constants; `term`: one of the add's term steps (even inputs).
StepForm step_form(const FusedMultiplier& f, bool term);

// Whether multiply_by_fixed(x, m) == x / 2 for every even x: M0 = 2^30 without a shift, the add's term of
// the input with the larger scale (StepForm::half in the fused form; NEON asks this directly).
constexpr bool halves_even_inputs(FixedMultiplier m) {
  return m.multiplier == int32_t{1} << 30 && m.right_shift == 0;
}

// Calls run.template operator()<kA, kB, kOut>() with the forms of the add's steps a, b (terms) and out:
// the usual combinations (one term or both a halving, the output step without a pre-shift) as they are,
// any other as <any, any, any>. One place decides, so that every ISA's add instantiates the same few.
template <class Run>
void with_add_step_forms(const FusedMultiplier& a, const FusedMultiplier& b, const FusedMultiplier& out,
                         Run&& run) {
  using enum StepForm;
  const StepForm fa = step_form(a, true), fb = step_form(b, true), fo = step_form(out, false);
  const auto with_out = [&]<StepForm kA, StepForm kB>() {
    if (fo == corrected) return run.template operator()<kA, kB, corrected>();
    if (fo == uncorrected) return run.template operator()<kA, kB, uncorrected>();
    run.template operator()<any, any, any>();
  };
  if (fa == half && fb == corrected) return with_out.template operator()<half, corrected>();
  if (fa == corrected && fb == half) return with_out.template operator()<corrected, half>();
  if (fa == half && fb == half) return with_out.template operator()<half, half>();
  run.template operator()<any, any, any>();
}

}  // namespace octet::elementwise
