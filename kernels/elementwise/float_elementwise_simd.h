#pragma once

// The float elementwise operators with xsimd, one template instantiated per ISA (kernels/x86/*_avx2.cpp,
// *_avx512.cpp, kernels/arm/*_neon.cpp). Each element is the functor of kernels/reference/
// float_elementwise_ops.h applied to a batch instead of a float: the same operations, so the same bits as
// the reference. A tail shorter than a batch is padded into a full batch, so even it takes the batch path.
//
// Only Arch-dependent templates may be instantiated here (no inline scalar helpers, no std:: algorithm
// templates shared with other translation units): the linker keeps one copy of each inline function, and a
// copy compiled with this file's ISA flags must not end up on the portable path.

#include <xsimd/xsimd.hpp>

#include <cstdint>
#include <type_traits>

#include "kernels/elementwise/float_elementwise_kernels.h"
#include "kernels/reference/float_elementwise_ops.h"
#include "kernels/simd/float_group.h"
#include "kernels/simd/float_lanes.h"

namespace octet::elementwise::simd {

template <class Arch>
using L = octet::simd::Lanes<Arch>;

// Operators of a few operations per element (memory-bound): nothing for a group to gain, and their group
// forms are not compiled.
template <class Op>
inline constexpr bool kShortChain =
    std::is_same_v<Op, float_ops::Identity> || std::is_same_v<Op, float_ops::Relu> ||
    std::is_same_v<Op, float_ops::LeakyRelu> || std::is_same_v<Op, float_ops::Clip> ||
    std::is_same_v<Op, float_ops::HardSigmoid> || std::is_same_v<Op, float_ops::HardSwish> ||
    std::is_same_v<Op, float_ops::Neg> || std::is_same_v<Op, float_ops::Abs> ||
    std::is_same_v<Op, float_ops::Sqrt> || std::is_same_v<Op, float_ops::Reciprocal> ||
    std::is_same_v<Op, float_ops::Floor> || std::is_same_v<Op, float_ops::Ceil> ||
    std::is_same_v<Op, float_ops::Round> || std::is_same_v<Op, float_ops::Sign> ||
    std::is_same_v<Op, float_ops::Softsign> || std::is_same_v<Op, float_ops::ThresholdedRelu> ||
    std::is_same_v<Op, float_ops::Shrink> || std::is_same_v<Op, float_ops::PowSquare>;

template <class Arch, class Op>
inline constexpr bool kGrouped = (octet::simd::kGroupSize<Arch> > 1) && !kShortChain<Op>;

// The transcendentals a group of batches at a time (kernels/simd/float_group.h): the whole groups of the n
// elements, returning how many that was. [[gnu::flatten]]: the operator's whole chain inlined into the
// loop, so a group's registers stay in registers (called, a group of 4 batches goes through memory at every
// step and runs slower than one batch). Only here: flattening every operator's loop on every ISA cost
// compile time for nothing.
template <class Arch, class Op>
[[gnu::flatten]] int64_t unary_map_groups(const Op& op, const float* x, float* y, int64_t n) {
  using G = octet::simd::Group<typename L<Arch>::V, octet::simd::kGroupSize<Arch>>;
  constexpr auto kGroupWidth = static_cast<int64_t>(G::size);
  int64_t i = 0;
  for (; i + kGroupWidth <= n; i += kGroupWidth)
    op(G::load_unaligned(x + i)).store_unaligned(y + i);
  return i;
}

template <class Arch, class Op>
void unary_map(const Op& op, const float* x, float* y, int64_t n) {
  constexpr int64_t W = L<Arch>::width;
  int64_t i = 0;
  if constexpr (kGrouped<Arch, Op>) i = unary_map_groups<Arch>(op, x, y, n);
  for (; i + W <= n; i += W)
    L<Arch>::store(y + i, op(L<Arch>::load(x + i)));
  if (i < n) L<Arch>::store_partial(y + i, op(L<Arch>::load_partial(x + i, n - i)), n - i);
}

// An operand of a run: a batch from memory where it advances, its one element broadcast where it repeats.
template <class Arch, bool kAdvances>
struct Operand {
  using V = typename L<Arch>::V;
  const float* data;
  V repeated;
  explicit Operand(const float* p) : data(p), repeated(kAdvances ? 0.0f : *p) {}
  V at(int64_t i) const {
    if constexpr (kAdvances)
      return L<Arch>::load(data + i);
    else
      return repeated;
  }
  // The `rest` (< width) elements from i, zero-padded.
  V tail(int64_t i, int64_t rest) const {
    if constexpr (kAdvances)
      return L<Arch>::load_partial(data + i, rest);
    else
      return repeated;
  }
};

// out[i] = op(a_i, b_i) over n elements, float results.
template <class Arch, bool kA, bool kB, class Op>
void arithmetic_run(const Op& op, const float* a, const float* b, float* out, int64_t n) {
  constexpr int64_t W = L<Arch>::width;
  const Operand<Arch, kA> va(a);
  const Operand<Arch, kB> vb(b);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    L<Arch>::store(out + i, op(va.at(i), vb.at(i)));
  if (i < n) L<Arch>::store_partial(out + i, op(va.tail(i, n - i), vb.tail(i, n - i)), n - i);
}

// out[i] = op(a_i, b_i) ? 1 : 0 over n elements, one byte each: chunks of 0 / 1 as int32 lanes, narrowed to
// bytes by a plain loop over the chunk, which the compiler vectorises (as quantize_simd.h does).
template <class Arch, bool kA, bool kB, class Op>
void comparison_run(const Op& op, const float* a, const float* b, uint8_t* out, int64_t n) {
  using V = typename L<Arch>::V;
  constexpr int64_t W = L<Arch>::width;
  constexpr int64_t kChunk = 256;
  static_assert(kChunk % W == 0);
  const Operand<Arch, kA> va(a);
  const Operand<Arch, kB> vb(b);
  const V one(1.0f), zero(0.0f);
  alignas(64) int32_t flags[kChunk];
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t length = n - start < kChunk ? n - start : kChunk;
    int64_t j = 0;
    for (; j + W <= length; j += W)
      xsimd::to_int(octet::simd::select(op(va.at(start + j), vb.at(start + j)), one, zero))
          .store_aligned(flags + j);
    if (j < length)
      xsimd::to_int(
          octet::simd::select(op(va.tail(start + j, length - j), vb.tail(start + j, length - j)), one, zero))
          .store_aligned(flags + j);
    for (int64_t k = 0; k < length; ++k)
      out[start + k] = static_cast<uint8_t>(flags[k]);
  }
}

// Calls run(segment, a_advances, b_advances) for each segment, the two flags as std::bool_constant so each
// of the four run kinds is its own loop.
template <class Run>
void for_segments(int64_t a_step, int64_t b_step, const BinarySegment* segments, int64_t count, Run&& run) {
  for (int64_t s = 0; s < count; ++s) {
    if (a_step != 0 && b_step != 0)
      run(segments[s], std::true_type{}, std::true_type{});
    else if (a_step != 0)
      run(segments[s], std::true_type{}, std::false_type{});
    else if (b_step != 0)
      run(segments[s], std::false_type{}, std::true_type{});
    else
      run(segments[s], std::false_type{}, std::false_type{});
  }
}

template <class Arch>
void float_unary(const UnaryParams& p, const float* x, float* y, int64_t n) {
  float_ops::with_unary_op(p, [&](const auto& op) { unary_map<Arch>(op, x, y, n); });
}

template <class Arch>
void float_binary(::octet::BinaryOp op, const float* a, int64_t a_step, const float* b, int64_t b_step,
                  void* out, const BinarySegment* segments, int64_t count) {
  switch (op) {
    case ::octet::BinaryOp::equal:
    case ::octet::BinaryOp::less:
    case ::octet::BinaryOp::less_equal:
    case ::octet::BinaryOp::greater:
    case ::octet::BinaryOp::greater_equal:
      return float_ops::with_comparison(op, [&](const auto& f) {
        for_segments(a_step, b_step, segments, count,
                     [&](const BinarySegment& g, auto a_advances, auto b_advances) {
                       comparison_run<Arch, decltype(a_advances)::value, decltype(b_advances)::value>(
                           f, a + g.a, b + g.b, static_cast<uint8_t*>(out) + g.out, g.length);
                     });
      });
    default:
      return float_ops::with_arithmetic_op(op, [&](const auto& f) {
        for_segments(a_step, b_step, segments, count,
                     [&](const BinarySegment& g, auto a_advances, auto b_advances) {
                       arithmetic_run<Arch, decltype(a_advances)::value, decltype(b_advances)::value>(
                           f, a + g.a, b + g.b, static_cast<float*>(out) + g.out, g.length);
                     });
      });
  }
}

}  // namespace octet::elementwise::simd
