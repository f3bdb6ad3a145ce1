// The vector quantized add and mul rows of kernels/elementwise/quantized_{add,mul}.h, 16 lanes per zmm:
// each fixed-point step multiplies int32 x int32 -> int64 in the even and odd halves of the register
// (vpmuldq) with the rounding constant added, and the high halves come back to 32-bit lanes for the shift
// (x86::fused_high_half, constants from kernels/elementwise/fused_multiplier.h). Compiled with AVX-512
// flags; only made after the CPU check.

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/elementwise/float_equivalent_add.h"
#include "kernels/elementwise/fused_multiplier.h"
#include "kernels/elementwise/quantized_add.h"
#include "kernels/elementwise/quantized_mul.h"
#include "kernels/x86/fused_step_avx512.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::elementwise {

namespace {

// The add as two per-operand terms and their combination: term(q) = rescale((q - z) << kAddLeftShift),
// combine = requantize the sum (with the output zero point). kA, kB, kOut: the steps' forms.
template <StepForm kA, StepForm kB, StepForm kOut>
struct AddTerms {
  __m512i za, zb;
  x86::FusedStep16<kA> a;
  x86::FusedStep16<kB> b;
  x86::FusedStep16<kOut> out;

  AddTerms(const ref::AddConstants& k, const FusedMultiplier& fa, const FusedMultiplier& fb,
           const FusedMultiplier& fo)
      : za(_mm512_set1_epi32(k.za)), zb(_mm512_set1_epi32(k.zb)), a(fa), b(fb), out(fo) {}

  __m512i term_a(__m512i q) const { return term(a, _mm512_sub_epi32(q, za)); }
  __m512i term_b(__m512i q) const { return term(b, _mm512_sub_epi32(q, zb)); }
  template <StepForm kForm>
  static __m512i term(const x86::FusedStep16<kForm>& step, __m512i difference) {
    if constexpr (kForm == StepForm::half) {
      return _mm512_slli_epi32(difference, ref::kAddLeftShift - 1);
    } else {
      return step(_mm512_slli_epi32(difference, ref::kAddLeftShift));
    }
  }
  __m512i combine(__m512i x, __m512i y) const { return out(_mm512_add_epi32(x, y)); }
};

// The mul: term(q) = q - z as int16 in the low half of each 32-bit lane, high half zero (q and z are
// below 2^16, so the 16-bit subtraction borrows nothing from the high half); vpmaddwd then multiplies the
// low halves and adds 0 * 0: the exact int32 product.
struct MulTerms {
  __m512i za, zb;
  x86::FusedStep16<StepForm::any> step;

  MulTerms(const ref::MulConstants& k, const FusedMultiplier& f)
      : za(_mm512_set1_epi32(k.za)), zb(_mm512_set1_epi32(k.zb)), step(f) {}

  __m512i term_a(__m512i q) const { return _mm512_sub_epi16(q, za); }
  __m512i term_b(__m512i q) const { return _mm512_sub_epi16(q, zb); }
  __m512i combine(__m512i x, __m512i y) const { return step(_mm512_madd_epi16(x, y)); }
};

// The float requantization mode (ONNX Runtime's arithmetic, ref::float_add_value / ref::float_mul_value) in
// float lanes. The conversion to int32 rounds half to even (MXCSR's default mode), like std::nearbyint in
// the reference; mul and add stay separate instructions where the reference keeps them separate (the build
// has -ffp-contract=off), and fused where it uses std::fma.

// add: terms are the bytes themselves; v = fma(second, r2, fma(first, r1, offset)), first the operand ONNX
// Runtime folds first.
struct FloatAddTerms {
  __m512 ra, rb, offset, low, high;
  bool a_first;

  explicit FloatAddTerms(const ref::FloatAddConstants& k)
      : ra(_mm512_set1_ps(k.ratio_a)),
        rb(_mm512_set1_ps(k.ratio_b)),
        offset(_mm512_set1_ps(k.offset)),
        low(_mm512_set1_ps(0.0f)),
        high(_mm512_set1_ps(255.0f)),
        a_first(k.a_first) {}

  __m512i term_a(__m512i q) const { return q; }
  __m512i term_b(__m512i q) const { return q; }
  __m512i combine(__m512i x, __m512i y) const {
    const __m512 fa = _mm512_cvtepi32_ps(x), fb = _mm512_cvtepi32_ps(y);
    const __m512 v = a_first ? _mm512_fmadd_ps(fb, rb, _mm512_fmadd_ps(fa, ra, offset))
                             : _mm512_fmadd_ps(fa, ra, _mm512_fmadd_ps(fb, rb, offset));
    return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, low), high));
  }
};

// mul: terms as in MulTerms (16-bit differences, exact int32 product by vpmaddwd);
// v = float(product) * ratio + float(z_out), limited to [-512, 512] before the conversion.
struct FloatMulTerms {
  __m512i za, zb;
  __m512 ratio, zo, low, high;

  explicit FloatMulTerms(const ref::FloatMulConstants& k)
      : za(_mm512_set1_epi32(k.za)),
        zb(_mm512_set1_epi32(k.zb)),
        ratio(_mm512_set1_ps(k.ratio)),
        zo(_mm512_set1_ps(static_cast<float>(k.zo))),
        low(_mm512_set1_ps(-512.0f)),
        high(_mm512_set1_ps(512.0f)) {}

  __m512i term_a(__m512i q) const { return _mm512_sub_epi16(q, za); }
  __m512i term_b(__m512i q) const { return _mm512_sub_epi16(q, zb); }
  __m512i combine(__m512i x, __m512i y) const {
    const __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(x, y)), ratio), zo);
    return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, low), high));
  }
};

// All 16 lanes, or the first `left` of them.
inline __mmask16 lanes(int64_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

// 16 bytes from p: all of them (a constant full mask, so the load is a plain one), or the first few.
inline __m128i load16(const uint8_t* p, __mmask16 keep) {
  return keep == 0xFFFF ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p))
                        : _mm_maskz_loadu_epi8(keep, p);
}

// out[i] = clamp(results(i, keep)[lane]) for i in [0, n): results(i, keep) gives the int32 results of
// elements [i, i + 16) (only the lanes in `keep` matter). 64 at a time through x86::PackRows (saturating
// packs and one byte clamp instead of four clamps and narrowing moves), then 16 at a time, then a masked
// tail.
template <class Results>
void store_results(Clamp clamp, uint8_t* out, int64_t n, Results&& results) {
  const x86::PackRows pack(clamp);
  const __m512i lo = _mm512_set1_epi32(clamp.min), hi = _mm512_set1_epi32(clamp.max);
  const __mmask16 all = 0xFFFF;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    _mm512_storeu_si512(
        out + i, pack(results(i, all), results(i + 16, all), results(i + 32, all), results(i + 48, all)));
  for (; i < n; i += 16) {
    const __mmask16 keep = lanes(n - i);
    _mm_mask_storeu_epi8(out + i, keep,
                         _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(results(i, keep), lo), hi)));
  }
}

// out[i] = clamp(combine(term_a(a[i]), term_b(b[i]))); a repeated operand's term is computed once.
template <Repeated R, class Terms>
void rows(const Terms& t, Clamp clamp, const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) {
  if (n <= 0) return;
  const __m512i fixed_a = R == Repeated::a ? t.term_a(_mm512_set1_epi32(a[0])) : _mm512_setzero_si512();
  const __m512i fixed_b = R == Repeated::b ? t.term_b(_mm512_set1_epi32(b[0])) : _mm512_setzero_si512();
  store_results(clamp, out, n, [&](int64_t i, __mmask16 keep) {
    const __m512i x = R == Repeated::a ? fixed_a : t.term_a(_mm512_cvtepu8_epi32(load16(a + i, keep)));
    const __m512i y = R == Repeated::b ? fixed_b : t.term_b(_mm512_cvtepu8_epi32(load16(b + i, keep)));
    return t.combine(x, y);
  });
}

// out[p * c + i] = clamp(combine(term(moving[p * c + i]), row_term[i])): the row's terms computed once,
// copied into a buffer as many times as fits, and the pixels run as long rows against it.
template <bool MovingIsA, class Terms>
void rows_against_row(const Terms& t, Clamp clamp, const uint8_t* moving, const uint8_t* row, int64_t c,
                      int64_t pixels, uint8_t* out) {
  alignas(64) std::array<int32_t, kRepeatedRowBuffer> terms;
  const int64_t copies = std::min(pixels, kRepeatedRowBuffer / c);
  for (int64_t i = 0; i < c; i += 16) {
    const __m512i q = _mm512_cvtepu8_epi32(load16(row + i, lanes(c - i)));
    _mm512_mask_storeu_epi32(terms.data() + i, lanes(c - i), MovingIsA ? t.term_b(q) : t.term_a(q));
  }
  for (int64_t k = 1; k < copies; ++k)
    std::memcpy(terms.data() + k * c, terms.data(), static_cast<size_t>(c) * sizeof(int32_t));
  for (int64_t p = 0; p < pixels; p += copies) {
    const uint8_t* m = moving + p * c;
    store_results(clamp, out + p * c, std::min(copies, pixels - p) * c, [&](int64_t i, __mmask16 keep) {
      const __m512i q = _mm512_cvtepu8_epi32(load16(m + i, keep));
      const __m512i y = keep == 0xFFFF ? _mm512_loadu_si512(terms.data() + i)
                                       : _mm512_maskz_loadu_epi32(keep, terms.data() + i);
      return MovingIsA ? t.combine(t.term_a(q), y) : t.combine(y, t.term_b(q));
    });
  }
}

template <class Terms>
void dispatch_against_row(const Terms& t, Clamp clamp, const uint8_t* moving, const uint8_t* row,
                          bool moving_is_a, int64_t c, int64_t pixels, uint8_t* out) {
  if (moving_is_a)
    rows_against_row<true>(t, clamp, moving, row, c, pixels, out);
  else
    rows_against_row<false>(t, clamp, moving, row, c, pixels, out);
}

template <class Terms>
void dispatch_rows(const Terms& t, Clamp clamp, const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                   Repeated repeated) {
  switch (repeated) {
    case Repeated::none:
      return rows<Repeated::none>(t, clamp, a, b, out, n);
    case Repeated::a:
      return rows<Repeated::a>(t, clamp, a, b, out, n);
    case Repeated::b:
      return rows<Repeated::b>(t, clamp, a, b, out, n);
  }
}

class AddRowsAvx512 final : public BinaryRows {
 public:
  AddRowsAvx512(const ref::AddConstants& k, Clamp clamp)
      : k_(k),
        clamp_(clamp),
        // The input steps see negative values; the output step's correction only matters below the clamp.
        a_(fused_multiplier(k.a, 0, true)),
        b_(fused_multiplier(k.b, 0, true)),
        out_(fused_multiplier(k.out, k.zo, clamp.min < k.zo)) {}

  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    with_terms([&](const auto& terms) { dispatch_rows(terms, clamp_, a, b, out, n, repeated); });
  }

  void against_row(const uint8_t* moving, const uint8_t* row, bool moving_is_a, int64_t c, int64_t pixels,
                   uint8_t* out) const override {
    if (c < 1 || c > kMaxRepeatedRow)
      return BinaryRows::against_row(moving, row, moving_is_a, c, pixels, out);
    if (pixels > 0)
      with_terms([&](const auto& terms) {
        dispatch_against_row(terms, clamp_, moving, row, moving_is_a, c, pixels, out);
      });
  }

 private:
  template <class Run>
  void with_terms(Run&& run) const {
    with_add_step_forms(a_, b_, out_, [&]<StepForm kA, StepForm kB, StepForm kOut>() {
      run(AddTerms<kA, kB, kOut>(k_, a_, b_, out_));
    });
  }

  ref::AddConstants k_;
  Clamp clamp_;
  FusedMultiplier a_, b_, out_;
};

class MulRowsAvx512 final : public BinaryRows {
 public:
  MulRowsAvx512(const ref::MulConstants& k, Clamp clamp)
      : k_(k), clamp_(clamp), step_(fused_multiplier(k.m, k.zo, clamp.min < k.zo)) {}

  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    dispatch_rows(MulTerms(k_, step_), clamp_, a, b, out, n, repeated);
  }

  void against_row(const uint8_t* moving, const uint8_t* row, bool moving_is_a, int64_t c, int64_t pixels,
                   uint8_t* out) const override {
    if (c < 1 || c > kMaxRepeatedRow)
      return BinaryRows::against_row(moving, row, moving_is_a, c, pixels, out);
    if (pixels > 0)
      dispatch_against_row(MulTerms(k_, step_), clamp_, moving, row, moving_is_a, c, pixels, out);
  }

 private:
  ref::MulConstants k_;
  Clamp clamp_;
  FusedMultiplier step_;
};

// A row kernel whose Terms are made, per call, from constants of type Constants (the float modes).
template <class Terms, class Constants>
class TermRows final : public BinaryRows {
 public:
  TermRows(const Constants& k, Clamp clamp) : k_(k), clamp_(clamp) {}

  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    dispatch_rows(Terms(k_), clamp_, a, b, out, n, repeated);
  }

  void against_row(const uint8_t* moving, const uint8_t* row, bool moving_is_a, int64_t c, int64_t pixels,
                   uint8_t* out) const override {
    if (c < 1 || c > kMaxRepeatedRow)
      return BinaryRows::against_row(moving, row, moving_is_a, c, pixels, out);
    if (pixels > 0) dispatch_against_row(Terms(k_), clamp_, moving, row, moving_is_a, c, pixels, out);
  }

 private:
  Constants k_;
  Clamp clamp_;
};

}  // namespace

std::unique_ptr<const BinaryRows> make_add_rows_avx512(const ref::AddConstants& k, Clamp clamp) {
  return std::make_unique<const AddRowsAvx512>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_mul_rows_avx512(const ref::MulConstants& k, Clamp clamp) {
  return std::make_unique<const MulRowsAvx512>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_float_add_rows_avx512(const ref::FloatAddConstants& k, Clamp clamp) {
  return std::make_unique<const TermRows<FloatAddTerms, ref::FloatAddConstants>>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_float_mul_rows_avx512(const ref::FloatMulConstants& k, Clamp clamp) {
  return std::make_unique<const TermRows<FloatMulTerms, ref::FloatMulConstants>>(k, clamp);
}

namespace {

// patch_pairs_avx512 for kCount exceptions (their pairs and values broadcast into ea, eb, ev) and a
// repeated operand R known at compile time: the few compares per 64 bytes unrolled.
template <size_t kCount, Repeated R>
void patch_pairs_of(const __m512i* ea, const __m512i* eb, const __m512i* ev, const uint8_t* a,
                    const uint8_t* b, uint8_t* out, int64_t n) {
  // The repeated operand's byte (the other's first byte is not read: it may be past a 0-element row).
  const __m512i fixed_a = R == Repeated::a ? _mm512_set1_epi8(static_cast<char>(a[0])) : __m512i{};
  const __m512i fixed_b = R == Repeated::b ? _mm512_set1_epi8(static_cast<char>(b[0])) : __m512i{};
  const auto patch = [&](int64_t i, __mmask64 keep) {
    const __m512i va = R == Repeated::a ? fixed_a : _mm512_maskz_loadu_epi8(keep, a + i);
    const __m512i vb = R == Repeated::b ? fixed_b : _mm512_maskz_loadu_epi8(keep, b + i);
    __m512i values = _mm512_setzero_si512();
    __mmask64 hit = 0;
    for (size_t e = 0; e < kCount; ++e) {
      const __mmask64 m = _mm512_mask_cmpeq_epi8_mask(_mm512_cmpeq_epi8_mask(va, ea[e]) & keep, vb, eb[e]);
      values = _mm512_mask_mov_epi8(values, m, ev[e]);
      hit |= m;
    }
    // Only the bytes of a hit are written: most blocks have none.
    if (hit != 0) _mm512_mask_storeu_epi8(out + i, hit, values);
  };
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    patch(i, ~__mmask64{0});
  if (i < n) patch(i, (__mmask64{1} << (n - i)) - 1);
}

template <size_t kCount>
void patch_pairs_repeating(const __m512i* ea, const __m512i* eb, const __m512i* ev, const uint8_t* a,
                           const uint8_t* b, uint8_t* out, int64_t n, Repeated repeated) {
  switch (repeated) {
    case Repeated::none:
      return patch_pairs_of<kCount, Repeated::none>(ea, eb, ev, a, b, out, n);
    case Repeated::a:
      return patch_pairs_of<kCount, Repeated::a>(ea, eb, ev, a, b, out, n);
    case Repeated::b:
      return patch_pairs_of<kCount, Repeated::b>(ea, eb, ev, a, b, out, n);
  }
}

}  // namespace

void patch_pairs_avx512(const PairException* exceptions, size_t count, const uint8_t* a, const uint8_t* b,
                        uint8_t* out, int64_t n, Repeated repeated) {
  static_assert(FloatEquivalentAdd::kMaxPairExceptions == 4);
  if (n <= 0) return;
  __m512i ea[4], eb[4], ev[4];
  if (count > 4) count = 4;
  for (size_t e = 0; e < count; ++e) {
    ea[e] = _mm512_set1_epi8(static_cast<char>(exceptions[e].a));
    eb[e] = _mm512_set1_epi8(static_cast<char>(exceptions[e].b));
    ev[e] = _mm512_set1_epi8(static_cast<char>(exceptions[e].value));
  }
  switch (count) {
    case 1:
      return patch_pairs_repeating<1>(ea, eb, ev, a, b, out, n, repeated);
    case 2:
      return patch_pairs_repeating<2>(ea, eb, ev, a, b, out, n, repeated);
    case 3:
      return patch_pairs_repeating<3>(ea, eb, ev, a, b, out, n, repeated);
    case 4:
      return patch_pairs_repeating<4>(ea, eb, ev, a, b, out, n, repeated);
    default:
      return;
  }
}

}  // namespace octet::elementwise
