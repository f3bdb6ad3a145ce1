#pragma once

// The fixed-point quantized add (ref::add) through the float mode's arithmetic, where that gives the same
// bytes. The fixed-point add runs three multiply steps per element, each a 64-bit product on x86 (half the
// lanes of a vector); the float mode's is two fused multiply-adds on full-width float lanes, about three
// times faster (docs/kernels.md, "The fixed-point add on the float kernel"). Both are functions of the two
// input bytes only, so whether ref::float_add_value with some constants gives ref::add's fixed-point result
// can be checked on all 65536 byte pairs: where it does, the float kernel computes the fixed-point add
// exactly, on every ISA alike.
//
// Why it usually does: the fixed-point add carries 20 extra fractional bits through its terms, so it is
// within a tiny fraction of an output step of the correctly rounded real sum, as the float formula is; they
// part only where the real sum lies within about 2^-16 of a rounding tie. The search tries the float
// constants nearest to the real ratios and offset and a few ulps around them (the formula's errors move
// with them), in both of the formula's orders, checking the pairs that have failed a candidate first. It
// finds constants for about 95% of random scale sets (6 of mobilenetv2_like's 10 residual adds: the others
// have a pair or two whose real sum is within about 1e-9 of a tie, where the fixed-point multipliers' last
// bits decide), and none where exact ties fall on both sides of the zero point, which the two round
// differently; the fixed-point kernels run those.

#include <optional>

#include "kernels/isa.h"
#include "kernels/quantization/clamp.h"
#include "kernels/reference/elementwise.h"
#include "kernels/tensor.h"

namespace octet::elementwise {

// Float-mode constants under which clamp(ref::float_add_value(k, x, y)) equals ref::add's fixed-point result
// (with the same clamp) for every pair of bytes x, y; std::nullopt where the search finds none or `isa` has
// no float add kernel (make_float_add_rows; the checks run on it: about 1 us per candidate that fails early,
// 30 us per full check). Per-tensor uint8 params.
std::optional<ref::FloatAddConstants> float_equivalent_add(const QuantParams& a, const QuantParams& b,
                                                           const QuantParams& output, Clamp clamp, Isa isa);

}  // namespace octet::elementwise
