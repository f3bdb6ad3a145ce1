#pragma once

// simd::Lanes<Arch>: the vector of floats the float kernels are written over once, as templates, and
// instantiated per ISA (kernels/x86/*_avx2.cpp, *_avx512.cpp, kernels/arm/*_neon.cpp) and for the
// portable path (ScalarArch: one float per lane). The arithmetic is the primitives' (float_primitives.h),
// lane for lane what the references compute; around it, loads and stores of fewer than `width` floats, so
// that a tail runs the same vector code.
//
// Besides templates on batches, a per-ISA kernel calls only members of Lanes<Arch>, its few scalar steps
// and its index arithmetic included: they are that arch's own functions, so no inline function compiled
// with one ISA's flags can stand in for another translation unit's copy at link time (std::min<long> or
// FloatClamp::is_identity() could).

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/reference/float_elementwise.h"
#include "kernels/simd/float_primitives.h"

namespace octet::simd {

// The portable path's "architecture": one float per lane.
struct ScalarArch {};

template <class Arch>
struct Lanes {
  using V = xsimd::batch<float, Arch>;
  using Mask = xsimd::batch_bool<float, Arch>;
  static constexpr int64_t width = static_cast<int64_t>(V::size);

  static V load(const float* p) { return V::load_unaligned(p); }
  static void store(float* p, const V& v) { v.store_unaligned(p); }
  static V splat(float x) { return V(x); }
  // The first n (< width) floats from p, the other lanes 0; never reads past p + n. AVX-512's masked loads
  // (whose masked-off lanes never fault), a copy through a buffer elsewhere: rows of a few vectors
  // (attention's 49-wide softmax rows) have a tail in every pass, where a memcpy call cost more than the
  // vector work. (Not AVX2's vmaskmovps: AMD leaves faults on its masked-off elements to the implementation.)
  static V load_partial(const float* p, int64_t n) {
#if defined(__x86_64__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
      return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
#endif
    alignas(64) float buffer[V::size] = {};
    std::memcpy(buffer, p, static_cast<size_t>(n) * sizeof(float));
    return V::load_aligned(buffer);
  }
  // Stores the first n (< width) lanes.
  static void store_partial(float* p, const V& v, int64_t n) {
#if defined(__x86_64__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
      return _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
#endif
    alignas(64) float buffer[V::size];
    v.store_aligned(buffer);
    std::memcpy(p, buffer, static_cast<size_t>(n) * sizeof(float));
  }
  // n <= width floats.
  static V load_n(const float* p, int64_t n) {
    return n == width ? load(p) : load_partial(p, n);
  }
  static void store_n(float* p, const V& v, int64_t n) {
    if (n == width)
      store(p, v);
    else
      store_partial(p, v, n);
  }
  // Lanes [0, n) set.
  static Mask first_lanes(int64_t n) {
    alignas(64) static constexpr float kIota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static_assert(V::size <= 16);
    return V::load_aligned(kIota) < V(static_cast<float>(n));
  }
  // p[offset[i]] in lane i (width offsets). The gather instructions on x86: xsimd 8.1's own gather takes
  // its element-by-element fallback for these archs.
  static V gather(const float* p, const int32_t* offset) {
#if defined(__x86_64__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
      return _mm512_i32gather_ps(_mm512_loadu_si512(offset), p, sizeof(float));
    else if constexpr (std::is_base_of_v<xsimd::avx2, Arch>)
      return _mm256_i32gather_ps(p, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offset)),
                                 sizeof(float));
#endif
    alignas(64) float buffer[V::size];
    for (size_t i = 0; i < V::size; ++i)
      buffer[i] = p[offset[i]];
    return V::load_aligned(buffer);
  }
  // Lane l of the result: x's lane l / G * G + E, each run of G lanes filled with its E-th (G divides the
  // width). One permute (vpermilps, vpermps, tbl): a grouped convolution's in-register expansion
  // (float_depthwise_simd.h).
  template <int G, int E>
  static V group_lane(const V& x) {
    static_assert(G >= 1 && E >= 0 && E < G && width % G == 0);
#if defined(__x86_64__)
    // Runs of at most 4 lie inside each 128-bit lane: an in-lane shuffle with an immediate (vpermilps).
    if constexpr (G <= 4 && width >= 8) {
      constexpr int kImm = [] {
        int imm = 0;
        for (int j = 0; j < 4; ++j)
          imm |= (j / G * G + E) << (2 * j);
        return imm;
      }();
      if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
        return _mm512_permute_ps(x, kImm);
      else
        return _mm256_permute_ps(x, kImm);
    }
#endif
    return xsimd::swizzle(x, xsimd::make_batch_constant<xsimd::batch<uint32_t, Arch>, GroupLane<G, E>>());
  }
  static float lane0(const V& v) {
    alignas(64) float buffer[V::size];
    v.store_aligned(buffer);
    return buffer[0];
  }
  // A pairwise tree inside one vector, lane 0's result: for h = width / 2 down to 1, lane j combined with
  // lane j + h, combine(lane j, lane j + h): the pairs and operand order of a scalar tree over the lanes
  // stored in order (the reductions' partials, float_reduce_order.h), in log2(width) vector steps.
  template <class Combine>
  static float tree(V x, const Combine& combine) {
    if constexpr (width >= 16) x = combine(x, down<8>(x));
    if constexpr (width >= 8) x = combine(x, down<4>(x));
    if constexpr (width >= 4) x = combine(x, down<2>(x));
    if constexpr (width >= 2) x = combine(x, down<1>(x));
    return lane0(x);
  }

  static V fma(const V& a, const V& b, const V& c) {
    return simd::fma(a, b, c);
  }
  static V div(const V& a, const V& b) {
    return simd::div(a, b);
  }
  static V sqrt(const V& a) {
    return simd::sqrt(a);
  }
  static V abs(const V& a) {
    return simd::abs(a);
  }
  static V max(const V& a, const V& b) {
    return simd::max_propagating_nan(a, b);
  }
  // a > b ? a : b: max() wherever a is not NaN (and b's NaN where b is), in one instruction on x86 (whose
  // max returns its second operand on ties and NaNs); a compare and a select elsewhere (NEON's fmax would
  // give +0 for either order of -0 and +0).
  static V max_unless_nan(const V& a, const V& b) {
#if defined(__x86_64__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
      return _mm512_max_ps(a, b);
    else if constexpr (std::is_base_of_v<xsimd::avx, Arch>)
      return _mm256_max_ps(a, b);
#endif
    return xsimd::select(a > b, a, b);
  }
  // Whether any lane is NaN.
  static bool any_nan(const V& v) {
    return simd::any(simd::is_nan(v));
  }
  static V min(const V& a, const V& b) {
    return simd::min_propagating_nan(a, b);
  }
  static V clamp(const V& x, const V& lo, const V& hi) {
    return simd::clamp(x, lo, hi);
  }

  // Scalar steps: the builtin fma (std::fma's own), and the batch operations above on lane 0, which are
  // the same operations by construction.
  static float fma(float a, float b, float c) {
    return __builtin_fmaf(a, b, c);
  }
  static float max(float a, float b) {
    return lane0(max(V(a), V(b)));
  }
  static float min(float a, float b) {
    return lane0(min(V(a), V(b)));
  }
  static float clamp(float x, float lo, float hi) {
    return lane0(clamp(V(x), V(lo), V(hi)));
  }
  static bool is_identity(const FloatClamp& c) {
    return c.lo == -INFINITY && c.hi == INFINITY;
  }

  // Index arithmetic.
  static int64_t smaller(int64_t a, int64_t b) {
    return a < b ? a : b;
  }
  static int64_t larger(int64_t a, int64_t b) {
    return a < b ? b : a;
  }
  static int64_t clamp_index(int64_t x, int64_t lo, int64_t hi) {
    return x < lo ? lo : (hi < x ? hi : x);
  }
  // Lanes left from i in a row of n: min(width, n - i).
  static int64_t lanes_from(int64_t i, int64_t n) {
    return smaller(width, n - i);
  }

 private:
  template <int G, int E>
  struct GroupLane {
    static constexpr uint32_t get(size_t i, size_t) { return static_cast<uint32_t>(i / G * G + E); }
  };
  // Lane j + H (mod width) in lane j.
  template <int64_t H>
  struct DownBy {
    static constexpr uint32_t get(size_t i, size_t n) { return static_cast<uint32_t>((i + H) % n); }
  };
  template <int64_t H>
  static V down(const V& x) {
    return xsimd::swizzle(x, xsimd::make_batch_constant<xsimd::batch<uint32_t, Arch>, DownBy<H>>());
  }
};

template <>
struct Lanes<ScalarArch> {
  using V = float;
  using Mask = bool;
  static constexpr int64_t width = 1;

  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V splat(float x) { return x; }
  static V load_partial(const float*, int64_t) { return 0.0f; }  // n < width: nothing
  static void store_partial(float*, V, int64_t) {}
  static V load_n(const float* p, int64_t n) { return n == 1 ? *p : 0.0f; }
  static void store_n(float* p, V v, int64_t n) {
    if (n == 1) *p = v;
  }
  static Mask first_lanes(int64_t n) { return n > 0; }
  static float lane0(V v) { return v; }
  template <class Combine>
  static float tree(V x, const Combine&) {
    return x;
  }

  static V fma(V a, V b, V c) { return simd::fma(a, b, c); }
  static V div(V a, V b) { return simd::div(a, b); }
  static V sqrt(V a) { return simd::sqrt(a); }
  static V abs(V a) { return simd::abs(a); }
  static V max(V a, V b) { return simd::max_propagating_nan(a, b); }
  static V max_unless_nan(V a, V b) { return a > b ? a : b; }
  static bool any_nan(V v) { return v != v; }
  static V min(V a, V b) { return simd::min_propagating_nan(a, b); }
  static V clamp(V x, V lo, V hi) { return simd::clamp(x, lo, hi); }
  static bool is_identity(const FloatClamp& c) { return c.is_identity(); }

  static int64_t smaller(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t larger(int64_t a, int64_t b) { return a < b ? b : a; }
  static int64_t clamp_index(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : (hi < x ? hi : x); }
  static int64_t lanes_from(int64_t i, int64_t n) { return smaller(width, n - i); }
};

}  // namespace octet::simd
