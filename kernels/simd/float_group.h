#pragma once

// Group<V, N>: N independent SIMD registers of V (xsimd::batch<float, A>, its uint32 bits or its masks)
// that behave as one wider batch: every operation applies to each register in turn, and every primitive of
// float_primitives.h has an overload for it. A function written once on T (kernels/reference/float_math.h,
// float_elementwise_ops.h) then runs on N batches at once with each step issued N times in a row.
//
// Why: a transcendental (exp, sigmoid, tanh, erf) is one chain of 20-30 dependent operations per batch.
// Called a batch at a time, the CPU's scheduler fills with the waiting operations of one chain before it
// reaches the next batch's, and the loop runs at the chain's latency, not at the FMA units' throughput
// (measured on Zen 5: a chain of 20 dependent FMAs per batch took as long as two such chains interleaved).
// Issued as a group, N chains advance side by side.
//
// Lanes do not interact, so each lane gets the bits it gets in a single batch or in the scalar reference.
// The only group-wide decisions are float_math.h's `simd::any` shortcuts, which by their contract choose
// between paths that give the same bits.

#include <xsimd/xsimd.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernels/simd/float_primitives.h"

namespace octet::simd {

template <class V, int N>
struct Group {
  static_assert(N >= 1);
  static constexpr std::size_t size = V::size * N;
  using value_type = typename V::value_type;
  V v[N];

  Group() = default;
  // A scalar in every lane, as V(x) is.
  template <class S>
  requires std::is_arithmetic_v<S>
  explicit Group(S x) : Group(Indices{}, [x](int) { return V(static_cast<value_type>(x)); }) {}
  // v[i] = make(i) for each register. Every per-register loop of this file is a pack expansion rather than
  // a for loop: the compiler then keeps each register in a register, where it left a loop over an array of
  // them in memory (g++ 12 -O2).
  template <class Make>
  requires std::is_invocable_r_v<V, Make, int> Group(std::in_place_t, Make&& make) : Group(Indices{}, make) {}

  static Group load_aligned(const value_type* p) {
    return Group(std::in_place, [p](int i) { return V::load_aligned(p + i * V::size); });
  }
  static Group load_unaligned(const value_type* p) {
    return Group(std::in_place, [p](int i) { return V::load_unaligned(p + i * V::size); });
  }
  void store_aligned(value_type* p) const {
    [&]<int... I>(std::integer_sequence<int, I...>) {
      (v[I].store_aligned(p + I * V::size), ...);
    }
    (Indices{});
  }
  void store_unaligned(value_type* p) const {
    [&]<int... I>(std::integer_sequence<int, I...>) {
      (v[I].store_unaligned(p + I * V::size), ...);
    }
    (Indices{});
  }

 private:
  using Indices = std::make_integer_sequence<int, N>;
  template <int... I, class Make>
  Group(std::integer_sequence<int, I...>, const Make& make) : v{make(I)...} {}
};

// The group size for such chains on Arch. Measured on Zen 5 (ns per 16 lanes, one batch -> a group; the
// float unary kernels): AVX-512 in groups of 4, sigmoid 4.9 -> 3.7, silu 5.2 -> 3.9, tanh 8.8 -> 6.4,
// exp 2.6 -> 2.2, erf 8.9 -> 7.7 (log unchanged; groups of 8 spill); AVX2 in groups of 2 (16 registers),
// 10-15%. NEON stays at one: not measured (qemu only).
template <class Arch>
inline constexpr int kGroupSize = std::is_base_of_v<xsimd::avx512f, Arch> ? 4
                                  : std::is_base_of_v<xsimd::avx2, Arch>  ? 2
                                                                          : 1;

// Each register through f; the result type is what f returns for one (a comparison of floats: masks).
template <int N, class F, class... G>
inline auto each(F&& f, const G&... g) {
  using R = std::remove_cvref_t<decltype(f(g.v[0]...))>;
  return Group<R, N>(std::in_place, [&](int i) { return R(f(g.v[i]...)); });
}

#define OCTET_GROUP_BINARY(op)                                                 \
  template <class V, class W, int N>                                           \
  inline auto operator op(const Group<V, N>& a, const Group<W, N>& b) {        \
    return simd::each<N>([](const V& x, const W& y) { return x op y; }, a, b); \
  }
OCTET_GROUP_BINARY(+)
OCTET_GROUP_BINARY(-)
OCTET_GROUP_BINARY(*)
OCTET_GROUP_BINARY(/)
OCTET_GROUP_BINARY(&)
OCTET_GROUP_BINARY(|)
OCTET_GROUP_BINARY(^)
OCTET_GROUP_BINARY(&&)
OCTET_GROUP_BINARY(||)
OCTET_GROUP_BINARY(<)
OCTET_GROUP_BINARY(<=)
OCTET_GROUP_BINARY(>)
OCTET_GROUP_BINARY(>=)
OCTET_GROUP_BINARY(==)
OCTET_GROUP_BINARY(!=)
#undef OCTET_GROUP_BINARY

template <class V, int N>
inline Group<V, N> operator<<(const Group<V, N>& a, int shift) {
  return simd::each<N>([shift](const V& x) { return V(x << shift); }, a);
}
template <class V, int N>
inline Group<V, N> operator>>(const Group<V, N>& a, int shift) {
  return simd::each<N>([shift](const V& x) { return V(x >> shift); }, a);
}
template <class V, int N>
inline auto operator!(const Group<V, N>& a) {
  return simd::each<N>([](const V& x) { return !x; }, a);
}
template <class V, int N>
inline auto operator~(const Group<V, N>& a) {
  return simd::each<N>([](const V& x) { return ~x; }, a);
}

template <class A, int N>
struct LaneTypes<Group<xsimd::batch<float, A>, N>> {
  using Bits = Group<xsimd::batch<uint32_t, A>, N>;
  using Mask = Group<xsimd::batch_bool<float, A>, N>;
};

template <class A, int N>
inline constexpr bool kHasScalef<Group<xsimd::batch<float, A>, N>> = kHasScalef<xsimd::batch<float, A>>;

// The primitives, register by register.
template <class A, int N>
using FloatGroup = Group<xsimd::batch<float, A>, N>;

template <class A, int N>
inline FloatGroup<A, N> fma(const FloatGroup<A, N>& a, const FloatGroup<A, N>& b, const FloatGroup<A, N>& c) {
  return simd::each<N>([](const auto& x, const auto& y, const auto& z) { return simd::fma(x, y, z); }, a, b,
                       c);
}
template <class A, int N>
inline FloatGroup<A, N> div(const FloatGroup<A, N>& a, const FloatGroup<A, N>& b) {
  return simd::each<N>([](const auto& x, const auto& y) { return simd::div(x, y); }, a, b);
}
template <class A, int N>
inline FloatGroup<A, N> sqrt(const FloatGroup<A, N>& a) {
  return simd::each<N>([](const auto& x) { return simd::sqrt(x); }, a);
}
template <class A, int N>
inline FloatGroup<A, N> select(const Group<xsimd::batch_bool<float, A>, N>& m, const FloatGroup<A, N>& a,
                               const FloatGroup<A, N>& b) {
  return simd::each<N>([](const auto& k, const auto& x, const auto& y) { return simd::select(k, x, y); }, m,
                       a, b);
}
template <class A, int N>
inline Group<xsimd::batch<uint32_t, A>, N> bits(const FloatGroup<A, N>& a) {
  return simd::each<N>([](const auto& x) { return simd::bits(x); }, a);
}
template <class A, int N>
inline FloatGroup<A, N> from_bits(const Group<xsimd::batch<uint32_t, A>, N>& a) {
  return simd::each<N>([](const auto& x) { return simd::from_bits(x); }, a);
}
template <class A, int N>
inline bool any(const Group<xsimd::batch_bool<float, A>, N>& m) {
  return [&]<int... I>(std::integer_sequence<int, I...>) {
    return simd::any((m.v[I] || ...));
  }
  (std::make_integer_sequence<int, N>{});
}
template <class A, int N>
inline FloatGroup<A, N> at_least(const FloatGroup<A, N>& a, const FloatGroup<A, N>& lo) {
  return simd::each<N>([](const auto& x, const auto& y) { return simd::at_least(x, y); }, a, lo);
}
template <class A, int N>
requires kHasScalef<xsimd::batch<float, A>>
inline FloatGroup<A, N> scalef(const FloatGroup<A, N>& m, const FloatGroup<A, N>& y) {
  return simd::each<N>([](const auto& x, const auto& e) { return simd::scalef(x, e); }, m, y);
}
template <class A, int N>
inline FloatGroup<A, N> lookup8(const float (&table)[16], const Group<xsimd::batch<uint32_t, A>, N>& index) {
  return simd::each<N>([&table](const auto& i) { return simd::lookup8(table, i); }, index);
}

// float_primitives.h's functions written on T call the primitives by qualified name, which finds only
// what was declared before them: the group forms here, register by register.
template <class A, int N>
inline FloatGroup<A, N> neg(const FloatGroup<A, N>& a) {
  return simd::each<N>([](const auto& x) { return simd::neg(x); }, a);
}
template <class A, int N>
inline FloatGroup<A, N> abs(const FloatGroup<A, N>& a) {
  return simd::each<N>([](const auto& x) { return simd::abs(x); }, a);
}
template <class A, int N>
inline FloatGroup<A, N> copy_sign(const FloatGroup<A, N>& y, const FloatGroup<A, N>& x) {
  return simd::each<N>([](const auto& a, const auto& b) { return simd::copy_sign(a, b); }, y, x);
}
template <class A, int N>
inline FloatGroup<A, N> clamp(const FloatGroup<A, N>& x, const FloatGroup<A, N>& lo,
                              const FloatGroup<A, N>& hi) {
  return simd::each<N>([](const auto& a, const auto& l, const auto& h) { return simd::clamp(a, l, h); }, x,
                       lo, hi);
}
template <class A, int N>
inline FloatGroup<A, N> max_propagating_nan(const FloatGroup<A, N>& a, const FloatGroup<A, N>& b) {
  return simd::each<N>([](const auto& x, const auto& y) { return simd::max_propagating_nan(x, y); }, a, b);
}
template <class A, int N>
inline FloatGroup<A, N> min_propagating_nan(const FloatGroup<A, N>& a, const FloatGroup<A, N>& b) {
  return simd::each<N>([](const auto& x, const auto& y) { return simd::min_propagating_nan(x, y); }, a, b);
}

}  // namespace octet::simd
