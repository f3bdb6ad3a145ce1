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
#include <cstring>
#include <type_traits>

#include "kernels/elementwise/float_elementwise_kernels.h"
#include "kernels/reference/float_elementwise_ops.h"

namespace octet::elementwise::simd {

template <class Arch>
using Batch = xsimd::batch<float, Arch>;

template <class Arch>
inline constexpr int64_t kWidth = static_cast<int64_t>(Batch<Arch>::size);

template <class Arch, class Op>
void unary_map(const Op& op, const float* x, float* y, int64_t n) {
  using B = Batch<Arch>;
  constexpr int64_t W = kWidth<Arch>;
  int64_t i = 0;
  for (; i + W <= n; i += W)
    op(B::load_unaligned(x + i)).store_unaligned(y + i);
  if (i < n) {
    const auto rest = static_cast<size_t>(n - i);
    alignas(64) float buffer[W] = {};
    std::memcpy(buffer, x + i, rest * sizeof(float));
    op(B::load_aligned(buffer)).store_aligned(buffer);
    std::memcpy(y + i, buffer, rest * sizeof(float));
  }
}

// An operand of a run: a batch from memory where it advances, its one element broadcast where it repeats.
template <class Arch, bool kAdvances>
struct Operand {
  const float* data;
  Batch<Arch> repeated;
  explicit Operand(const float* p) : data(p), repeated(kAdvances ? 0.0f : *p) {}
  Batch<Arch> at(int64_t i) const {
    if constexpr (kAdvances)
      return Batch<Arch>::load_unaligned(data + i);
    else
      return repeated;
  }
  // The last `rest` elements from i, zero-padded to a batch.
  Batch<Arch> tail(int64_t i, size_t rest) const {
    if constexpr (kAdvances) {
      alignas(64) float buffer[kWidth<Arch>] = {};
      std::memcpy(buffer, data + i, rest * sizeof(float));
      return Batch<Arch>::load_aligned(buffer);
    } else {
      return repeated;
    }
  }
};

// out[i] = op(a_i, b_i) over n elements, float results.
template <class Arch, bool kA, bool kB, class Op>
void arithmetic_run(const Op& op, const float* a, const float* b, float* out, int64_t n) {
  constexpr int64_t W = kWidth<Arch>;
  const Operand<Arch, kA> va(a);
  const Operand<Arch, kB> vb(b);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    op(va.at(i), vb.at(i)).store_unaligned(out + i);
  if (i < n) {
    const auto rest = static_cast<size_t>(n - i);
    alignas(64) float buffer[W];
    op(va.tail(i, rest), vb.tail(i, rest)).store_aligned(buffer);
    std::memcpy(out + i, buffer, rest * sizeof(float));
  }
}

// out[i] = op(a_i, b_i) ? 1 : 0 over n elements, one byte each: chunks of 0 / 1 as int32 lanes, narrowed to
// bytes by a plain loop over the chunk, which the compiler vectorises (as quantize_simd.h does).
template <class Arch, bool kA, bool kB, class Op>
void comparison_run(const Op& op, const float* a, const float* b, uint8_t* out, int64_t n) {
  using B = Batch<Arch>;
  constexpr int64_t W = kWidth<Arch>;
  constexpr int64_t kChunk = 256;
  static_assert(kChunk % W == 0);
  const Operand<Arch, kA> va(a);
  const Operand<Arch, kB> vb(b);
  const B one(1.0f), zero(0.0f);
  alignas(64) int32_t flags[kChunk];
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t length = n - start < kChunk ? n - start : kChunk;
    int64_t j = 0;
    for (; j + W <= length; j += W)
      xsimd::to_int(fmath::detail::select(op(va.at(start + j), vb.at(start + j)), one, zero))
          .store_aligned(flags + j);
    if (j < length) {
      const auto rest = static_cast<size_t>(length - j);
      xsimd::to_int(fmath::detail::select(op(va.tail(start + j, rest), vb.tail(start + j, rest)), one, zero))
          .store_aligned(flags + j);
    }
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
