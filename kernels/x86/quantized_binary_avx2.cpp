// The vector quantized add and mul rows of kernels/elementwise/quantized_{add,mul}.h on AVX2: the same
// arithmetic as quantized_binary_avx512.cpp (x86::fused_high_half of requant_avx2.h, constants from
// kernels/elementwise/fused_multiplier.h), 8 lanes per ymm, 16 elements per step. AVX2 has no masked byte
// loads: a row's last partial step goes through a 16-byte buffer. Compiled with AVX2 flags; only made after
// the CPU check.

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/elementwise/float_equivalent_add.h"
#include "kernels/elementwise/fused_multiplier.h"
#include "kernels/elementwise/quantized_add.h"
#include "kernels/elementwise/quantized_mul.h"
#include "kernels/x86/fused_step_avx2.h"
#include "kernels/x86/requant_avx2.h"

namespace octet::elementwise {

namespace {

// term(q) = rescale((q - z) << kAddLeftShift); combine = requantize the sum (with the output zero point).
// kA, kB, kOut: the steps' forms.
template <StepForm kA, StepForm kB, StepForm kOut>
struct AddTerms {
  __m256i za, zb;
  x86::FusedStep8<kA> a;
  x86::FusedStep8<kB> b;
  x86::FusedStep8<kOut> out;

  AddTerms(const ref::AddConstants& k, const FusedMultiplier& fa, const FusedMultiplier& fb,
           const FusedMultiplier& fo)
      : za(_mm256_set1_epi32(k.za)), zb(_mm256_set1_epi32(k.zb)), a(fa), b(fb), out(fo) {}

  __m256i term_a(__m256i q) const { return term(a, _mm256_sub_epi32(q, za)); }
  __m256i term_b(__m256i q) const { return term(b, _mm256_sub_epi32(q, zb)); }
  template <StepForm kForm>
  static __m256i term(const x86::FusedStep8<kForm>& step, __m256i difference) {
    if constexpr (kForm == StepForm::half) {
      return _mm256_slli_epi32(difference, ref::kAddLeftShift - 1);
    } else {
      return step(_mm256_slli_epi32(difference, ref::kAddLeftShift));
    }
  }
  __m256i combine(__m256i x, __m256i y) const { return out(_mm256_add_epi32(x, y)); }
};

// term(q) = q - z as int16 in the low half of each 32-bit lane with a zero high half; vpmaddwd gives the
// exact int32 product (see quantized_binary_avx512.cpp).
struct MulTerms {
  __m256i za, zb;
  x86::FusedStep8<StepForm::any> step;

  MulTerms(const ref::MulConstants& k, const FusedMultiplier& f)
      : za(_mm256_set1_epi32(k.za)), zb(_mm256_set1_epi32(k.zb)), step(f) {}

  __m256i term_a(__m256i q) const { return _mm256_sub_epi16(q, za); }
  __m256i term_b(__m256i q) const { return _mm256_sub_epi16(q, zb); }
  __m256i combine(__m256i x, __m256i y) const { return step(_mm256_madd_epi16(x, y)); }
};

// The float requantization mode (ONNX Runtime's arithmetic, ref::float_add_value / ref::float_mul_value) in
// float lanes. The conversion to int32 rounds half to even (MXCSR's default mode), like std::nearbyint in
// the reference; mul and add stay separate instructions where the reference keeps them separate (the build
// has -ffp-contract=off), and fused where it uses std::fma.

// add: terms are the bytes themselves; v = fma(second, r2, fma(first, r1, offset)), first the operand ONNX
// Runtime folds first.
struct FloatAddTerms {
  __m256 ra, rb, offset, low, high;
  bool a_first;

  explicit FloatAddTerms(const ref::FloatAddConstants& k)
      : ra(_mm256_set1_ps(k.ratio_a)),
        rb(_mm256_set1_ps(k.ratio_b)),
        offset(_mm256_set1_ps(k.offset)),
        low(_mm256_set1_ps(0.0f)),
        high(_mm256_set1_ps(255.0f)),
        a_first(k.a_first) {}

  __m256i term_a(__m256i q) const { return q; }
  __m256i term_b(__m256i q) const { return q; }
  __m256i combine(__m256i x, __m256i y) const {
    const __m256 fa = _mm256_cvtepi32_ps(x), fb = _mm256_cvtepi32_ps(y);
    const __m256 v = a_first ? _mm256_fmadd_ps(fb, rb, _mm256_fmadd_ps(fa, ra, offset))
                             : _mm256_fmadd_ps(fa, ra, _mm256_fmadd_ps(fb, rb, offset));
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, low), high));
  }
};

// mul: terms as in MulTerms (16-bit differences, exact int32 product by vpmaddwd);
// v = float(product) * ratio + float(z_out), limited to [-512, 512] before the conversion.
struct FloatMulTerms {
  __m256i za, zb;
  __m256 ratio, zo, low, high;

  explicit FloatMulTerms(const ref::FloatMulConstants& k)
      : za(_mm256_set1_epi32(k.za)),
        zb(_mm256_set1_epi32(k.zb)),
        ratio(_mm256_set1_ps(k.ratio)),
        zo(_mm256_set1_ps(static_cast<float>(k.zo))),
        low(_mm256_set1_ps(-512.0f)),
        high(_mm256_set1_ps(512.0f)) {}

  __m256i term_a(__m256i q) const { return _mm256_sub_epi16(q, za); }
  __m256i term_b(__m256i q) const { return _mm256_sub_epi16(q, zb); }
  __m256i combine(__m256i x, __m256i y) const {
    const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(x, y)), ratio), zo);
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, low), high));
  }
};

// Sixteen int32 results (two registers) as 16 clamped bytes. The saturating packs clamp to [0, 255] on the
// way (a narrower clamp follows on the bytes); the permute undoes the packs' in-lane interleaving.
inline __m128i pack16(__m256i first, __m256i second, __m128i lo, __m128i hi) {
  const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(first, second), 0b11011000);
  const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
  return _mm_min_epu8(_mm_max_epu8(bytes, lo), hi);
}

// out[i] = clamp(combine(term_a(a[i]), term_b(b[i]))); a repeated operand's term is computed once.
template <Repeated R, class Terms>
void rows(const Terms& t, Clamp clamp, const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) {
  if (n <= 0) return;
  const __m128i lo = _mm_set1_epi8(static_cast<char>(clamp.min)),
                hi = _mm_set1_epi8(static_cast<char>(clamp.max));
  const __m256i fixed_a = R == Repeated::a ? t.term_a(_mm256_set1_epi32(a[0])) : _mm256_setzero_si256();
  const __m256i fixed_b = R == Repeated::b ? t.term_b(_mm256_set1_epi32(b[0])) : _mm256_setzero_si256();
  auto eight = [&](__m128i va, __m128i vb) {  // from the low 8 bytes of va and vb
    const __m256i x = R == Repeated::a ? fixed_a : t.term_a(_mm256_cvtepu8_epi32(va));
    const __m256i y = R == Repeated::b ? fixed_b : t.term_b(_mm256_cvtepu8_epi32(vb));
    return t.combine(x, y);
  };
  auto sixteen = [&](__m128i va, __m128i vb) {
    return pack16(eight(va, vb), eight(_mm_srli_si128(va, 8), _mm_srli_si128(vb, 8)), lo, hi);
  };
  auto load = [](bool repeated, const uint8_t* p) {
    return repeated ? _mm_setzero_si128() : _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     sixteen(load(R == Repeated::a, a + i), load(R == Repeated::b, b + i)));
  if (i < n) {
    const auto rest = static_cast<size_t>(n - i);
    alignas(16) uint8_t a_tail[16] = {}, b_tail[16] = {}, out_tail[16];
    if (R != Repeated::a) std::memcpy(a_tail, a + i, rest);
    if (R != Repeated::b) std::memcpy(b_tail, b + i, rest);
    _mm_store_si128(reinterpret_cast<__m128i*>(out_tail),
                    sixteen(load(R == Repeated::a, a_tail), load(R == Repeated::b, b_tail)));
    std::memcpy(out + i, out_tail, rest);
  }
}

// out[p * c + i] = clamp(combine(term(moving[p * c + i]), row_term[i])): the row's terms computed once,
// copied into a buffer as many times as fits, and the pixels run as long rows against it.
template <bool MovingIsA, class Terms>
void rows_against_row(const Terms& t, Clamp clamp, const uint8_t* moving, const uint8_t* row, int64_t c,
                      int64_t pixels, uint8_t* out) {
  alignas(32) std::array<int32_t, kRepeatedRowBuffer + 16> terms;
  const int64_t copies = std::min(pixels, kRepeatedRowBuffer / c);
  alignas(16) std::array<uint8_t, kMaxRepeatedRow + 16> padded_row{};
  std::memcpy(padded_row.data(), row, static_cast<size_t>(c));
  for (int64_t i = 0; i < c; i += 8) {
    const __m256i q =
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(padded_row.data() + i)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(terms.data() + i), MovingIsA ? t.term_b(q) : t.term_a(q));
  }
  for (int64_t k = 1; k < copies; ++k)
    std::memcpy(terms.data() + k * c, terms.data(), static_cast<size_t>(c) * sizeof(int32_t));
  // The last step of a stretch reads up to 15 terms past its end.
  std::fill_n(terms.data() + copies * c, 16, 0);
  const __m128i lo = _mm_set1_epi8(static_cast<char>(clamp.min)),
                hi = _mm_set1_epi8(static_cast<char>(clamp.max));
  auto eight = [&](__m128i vm, const int32_t* r) {  // from the low 8 bytes of vm
    const __m256i q = _mm256_cvtepu8_epi32(vm), y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r));
    return MovingIsA ? t.combine(t.term_a(q), y) : t.combine(y, t.term_b(q));
  };
  auto sixteen = [&](__m128i vm, const int32_t* r) {
    return pack16(eight(vm, r), eight(_mm_srli_si128(vm, 8), r + 8), lo, hi);
  };
  for (int64_t p = 0; p < pixels; p += copies) {
    const int64_t n = std::min(copies, pixels - p) * c;
    const uint8_t* m = moving + p * c;
    uint8_t* o = out + p * c;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i),
                       sixteen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(m + i)), terms.data() + i));
    if (i < n) {
      const auto rest = static_cast<size_t>(n - i);
      alignas(16) uint8_t m_tail[16] = {}, o_tail[16];
      std::memcpy(m_tail, m + i, rest);
      _mm_store_si128(reinterpret_cast<__m128i*>(o_tail),
                      sixteen(_mm_load_si128(reinterpret_cast<const __m128i*>(m_tail)), terms.data() + i));
      std::memcpy(o + i, o_tail, rest);
    }
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

class AddRowsAvx2 final : public BinaryRows {
 public:
  AddRowsAvx2(const ref::AddConstants& k, Clamp clamp)
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

class MulRowsAvx2 final : public BinaryRows {
 public:
  MulRowsAvx2(const ref::MulConstants& k, Clamp clamp)
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

std::unique_ptr<const BinaryRows> make_add_rows_avx2(const ref::AddConstants& k, Clamp clamp) {
  return std::make_unique<const AddRowsAvx2>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_mul_rows_avx2(const ref::MulConstants& k, Clamp clamp) {
  return std::make_unique<const MulRowsAvx2>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_float_add_rows_avx2(const ref::FloatAddConstants& k, Clamp clamp) {
  return std::make_unique<const TermRows<FloatAddTerms, ref::FloatAddConstants>>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_float_mul_rows_avx2(const ref::FloatMulConstants& k, Clamp clamp) {
  return std::make_unique<const TermRows<FloatMulTerms, ref::FloatMulConstants>>(k, clamp);
}

void patch_pairs_avx2(const PairException* exceptions, size_t count, const uint8_t* a, const uint8_t* b,
                      uint8_t* out, int64_t n, Repeated repeated) {
  if (n <= 0) return;
  constexpr size_t kMax = FloatEquivalentAdd::kMaxPairExceptions;
  if (count > kMax) count = kMax;
  __m256i ea[kMax], eb[kMax], ev[kMax];
  for (size_t e = 0; e < count; ++e) {
    ea[e] = _mm256_set1_epi8(static_cast<char>(exceptions[e].a));
    eb[e] = _mm256_set1_epi8(static_cast<char>(exceptions[e].b));
    ev[e] = _mm256_set1_epi8(static_cast<char>(exceptions[e].value));
  }
  // The repeated operand's byte (the other's first byte is not read).
  const uint8_t first_a = repeated == Repeated::a ? a[0] : 0, first_b = repeated == Repeated::b ? b[0] : 0;
  const __m256i fixed_a = _mm256_set1_epi8(static_cast<char>(first_a));
  const __m256i fixed_b = _mm256_set1_epi8(static_cast<char>(first_b));
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i va =
        repeated == Repeated::a ? fixed_a : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const __m256i vb =
        repeated == Repeated::b ? fixed_b : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    __m256i values = _mm256_setzero_si256(), hit = _mm256_setzero_si256();
    for (size_t e = 0; e < count; ++e) {
      const __m256i m = _mm256_and_si256(_mm256_cmpeq_epi8(va, ea[e]), _mm256_cmpeq_epi8(vb, eb[e]));
      values = _mm256_blendv_epi8(values, ev[e], m);
      hit = _mm256_or_si256(hit, m);
    }
    // Only blocks with a hit are rewritten: most have none.
    if (!_mm256_testz_si256(hit, hit)) {
      __m256i* p = reinterpret_cast<__m256i*>(out + i);
      _mm256_storeu_si256(p, _mm256_blendv_epi8(_mm256_loadu_si256(p), values, hit));
    }
  }
  for (; i < n; ++i) {
    const uint8_t x = repeated == Repeated::a ? first_a : a[i], y = repeated == Repeated::b ? first_b : b[i];
    for (size_t e = 0; e < count; ++e)
      if (x == exceptions[e].a && y == exceptions[e].b) out[i] = exceptions[e].value;
  }
}

}  // namespace octet::elementwise
