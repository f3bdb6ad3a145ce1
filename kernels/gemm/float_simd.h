#pragma once

// One interface over the float vector lanes of each ISA, for the float convolution / GEMM kernels written
// once as templates: xsimd batches for the vector ISAs and plain floats (ScalarArch) for the portable path.
//
// The fused multiply-add is the point of this header. xsimd 8.1's xsimd::fma is a real FMA only for the
// fma3<...> and NEON architectures; for avx512f / avx512bw and for plain avx2 it falls back to x * y + z,
// two roundings (and -ffp-contract=off keeps it that way), which is not std::fma and breaks bit-exactness
// with the references. So fma() here calls the FMA instruction through the register type, and an
// architecture without an overload below does not compile instead of silently rounding twice.

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstdint>

#include "kernels/reference/float_elementwise.h"

#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace octet::simd {

// The portable path's "architecture": one float per lane.
struct ScalarArch {};

namespace detail {

// An architecture without a real FMA below lands here and does not compile.
template <class Register>
Register fused_multiply_add(Register, Register, Register) {
  static_assert(sizeof(Register) == 0,
                "no fused multiply-add for this architecture in this translation unit");
}

// static: each ISA's file keeps its own copy (compiled with its own flags).
#if defined(__AVX512F__)
static inline __m512 fused_multiply_add(__m512 a, __m512 b, __m512 c) {
  return _mm512_fmadd_ps(a, b, c);
}
#endif
#if defined(__FMA__)
static inline __m256 fused_multiply_add(__m256 a, __m256 b, __m256 c) {
  return _mm256_fmadd_ps(a, b, c);
}
#endif
#if defined(__aarch64__)
static inline float32x4_t fused_multiply_add(float32x4_t a, float32x4_t b, float32x4_t c) {
  return vfmaq_f32(c, a, b);
}
#endif

}  // namespace detail

template <class Arch>
struct FloatLanes {
  using V = xsimd::batch<float, Arch>;
  using Register = typename V::register_type;
  static constexpr int64_t width = static_cast<int64_t>(V::size);

  static V load(const float* p) { return V::load_unaligned(p); }
  static void store(float* p, const V& v) { v.store_unaligned(p); }
  static V splat(float x) { return V(x); }
  // a * b + c rounded once, as std::fma.
  static V fma(const V& a, const V& b, const V& c) {
    return V(detail::fused_multiply_add(static_cast<Register>(a), static_cast<Register>(b),
                                        static_cast<Register>(c)));
  }
  // FloatClamp::apply lane by lane: x < lo ? lo : (x > hi ? hi : x), NaN passing through.
  static V clamp(const V& x, const V& lo, const V& hi) {
    return xsimd::select(x < lo, lo, xsimd::select(x > hi, hi, x));
  }
};

template <>
struct FloatLanes<ScalarArch> {
  using V = float;
  static constexpr int64_t width = 1;

  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V splat(float x) { return x; }
  static V fma(V a, V b, V c) { return std::fma(a, b, c); }
  static V clamp(V x, V lo, V hi) { return x < lo ? lo : (x > hi ? hi : x); }
};

}  // namespace octet::simd
