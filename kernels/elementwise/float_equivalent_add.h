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
// bits decide). Where no candidate gives every pair, the best one that misses at most a few pairs does, with
// those pairs' fixed-point bytes put back after the float kernel (a compare per missed pair and 64 bytes on
// AVX-512). Where exact ties fall on both sides of the zero point, which the two round differently, the
// misses are many and the fixed-point kernels run.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/elementwise/binary_rows.h"
#include "kernels/isa.h"
#include "kernels/quantization/clamp.h"
#include "kernels/reference/elementwise.h"
#include "kernels/tensor.h"

namespace octet::elementwise {

// A byte pair on which the float formula misses the fixed-point result, and that result.
struct PairException {
  uint8_t a = 0, b = 0, value = 0;
};

// The float constants and the pairs they miss (at most kMaxPairExceptions): the float kernel, then these
// pairs' bytes put back, gives ref::add's fixed-point bytes.
struct FloatEquivalentAdd {
  static constexpr size_t kMaxPairExceptions = 4;
  ref::FloatAddConstants constants;
  std::vector<PairException> exceptions;
};

// Float-mode constants under which clamp(ref::float_add_value(k, x, y)) equals ref::add's fixed-point result
// (with the same clamp) for every pair of bytes x, y but at most kMaxPairExceptions (listed, with their
// fixed-point bytes); std::nullopt where the search finds none or `isa` has no float add kernel
// (make_float_add_rows). The checks run on that kernel: about 1 us per candidate that fails early, 15 us
// per full check, 33-95 us per search on mobilenetv2_like's adds. Per-tensor uint8 params.
std::optional<FloatEquivalentAdd> float_equivalent_add(const QuantParams& a, const QuantParams& b,
                                                       const QuantParams& output, Clamp clamp, Isa isa);
// The same search with the fixed-point bytes given (`exact[a * 256 + b]`, clamped: ref::add's 65536-entry
// table, make_binary_table), for a caller that has built them already.
std::optional<FloatEquivalentAdd> float_equivalent_add(const QuantParams& a, const QuantParams& b,
                                                       const QuantParams& output, Clamp clamp, Isa isa,
                                                       std::vector<uint8_t> exact);

// The float add kernel of `isa` with f's constants, followed, where f has exceptions, by a pass that puts
// back their bytes; nullptr where `isa` has no float add kernel.
std::unique_ptr<const BinaryRows> make_float_equivalent_add_rows(Isa isa, const FloatEquivalentAdd& f,
                                                                 Clamp clamp);

// out[i] = e.value for the exception e whose pair is (a[i], b[i]), if any, for i in [0, n); a repeated
// operand read from a[0] / b[0] (Repeated as for BinaryRows; the other operand's first byte is not read
// then, nor anything when n is 0). Other bytes are left as they are. `count` <= kMaxPairExceptions
// exceptions with distinct pairs. (A pointer and a count, not a std::span: the per-ISA definitions are
// compiled with their own flags, and no inline library function should be shared between them.)
using PatchPairs = void (*)(const PairException* exceptions, size_t count, const uint8_t* a, const uint8_t* b,
                            uint8_t* out, int64_t n, Repeated repeated);
void patch_pairs_portable(const PairException* exceptions, size_t count, const uint8_t* a, const uint8_t* b,
                          uint8_t* out, int64_t n, Repeated repeated);
// kernels/x86/quantized_binary_avx512.cpp, quantized_binary_avx2.cpp: only called after the CPU check.
void patch_pairs_avx512(const PairException* exceptions, size_t count, const uint8_t* a, const uint8_t* b,
                        uint8_t* out, int64_t n, Repeated repeated);
void patch_pairs_avx2(const PairException* exceptions, size_t count, const uint8_t* a, const uint8_t* b,
                      uint8_t* out, int64_t n, Repeated repeated);

}  // namespace octet::elementwise
