#pragma once

// The float vector operations of the pooling / resize / reduction / normalization kernels, per xsimd
// architecture, each one lane for lane the scalar operation its reference uses:
//  - division and square root are the IEEE operations (xsimd 8.1 computes both on NEON with reciprocal
//    estimates and Newton steps, which is not the correctly rounded result; here NEON uses FDIV / FSQRT);
//  - fma rounds once, as std::fma (xsimd 8.1's fma is x * y + z for avx2 and avx512 architectures);
//  - max / min propagate NaN exactly as ref::max_propagating_nan / min_propagating_nan;
//  - partial loads and stores, so that a tail of fewer than `width` lanes runs the same vector code.
// The scalar helpers are members too: a per-ISA translation unit then never calls an inline function that
// another translation unit compiles for a different instruction set.

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace octet::fsimd {

template <class Arch>
struct FloatOps {
  using B = xsimd::batch<float, Arch>;
  using Mask = xsimd::batch_bool<float, Arch>;
  static constexpr int64_t width = static_cast<int64_t>(B::size);

  static B load(const float* p) { return B::load_unaligned(p); }
  static void store(float* p, const B& v) { v.store_unaligned(p); }
  // The first n (< width) lanes from p, the rest 0; never reads past p + n.
  static B load_partial(const float* p, int64_t n) {
    alignas(64) float buffer[B::size] = {};
    std::memcpy(buffer, p, static_cast<size_t>(n) * sizeof(float));
    return B::load_aligned(buffer);
  }
  static void store_partial(float* p, const B& v, int64_t n) {
    alignas(64) float buffer[B::size];
    v.store_aligned(buffer);
    std::memcpy(p, buffer, static_cast<size_t>(n) * sizeof(float));
  }
  // n lanes from p (n <= width).
  static B load_n(const float* p, int64_t n) { return n == width ? load(p) : load_partial(p, n); }
  static void store_n(float* p, const B& v, int64_t n) {
    if (n == width)
      store(p, v);
    else
      store_partial(p, v, n);
  }
  // Lanes [0, n) set.
  static Mask first_lanes(int64_t n) {
    alignas(64) static constexpr float kIota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static_assert(B::size <= 16);
    return B::load_aligned(kIota) < B(static_cast<float>(n));
  }
  static float lane0(const B& v) {
    alignas(64) float buffer[B::size];
    v.store_aligned(buffer);
    return buffer[0];
  }

  static B div(const B& a, const B& b) {
#if defined(__aarch64__)
    return vdivq_f32(a, b);
#else
    return a / b;
#endif
  }
  static B sqrt(const B& a) {
#if defined(__aarch64__)
    return vsqrtq_f32(a);
#else
    return xsimd::sqrt(a);
#endif
  }
  static B fma(const B& a, const B& b, const B& c) {
#if defined(__aarch64__)
    return vfmaq_f32(c, a, b);
#else
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
      return _mm512_fmadd_ps(a, b, c);
    else
      return _mm256_fmadd_ps(a, b, c);
#endif
  }
  // !(a == a) is the NaN test on every arch (xsimd's != is an ordered compare on x86: false for NaN).
  static B max_nan(const B& a, const B& b) {
    return xsimd::select((a > b) | !(a == a), a, b);
  }
  static B min_nan(const B& a, const B& b) {
    return xsimd::select((a < b) | !(a == a), a, b);
  }
  static float max_nan(float a, float b) {
    return (a > b || a != a) ? a : b;
  }
  static float min_nan(float a, float b) {
    return (a < b || a != a) ? a : b;
  }
  // FloatClamp::apply: x < lo ? lo : (x > hi ? hi : x), NaN passing through.
  static B clamp(const B& x, const B& lo, const B& hi) {
    return xsimd::select(x < lo, lo, xsimd::select(x > hi, hi, x));
  }
};

}  // namespace octet::fsimd
