// The vector quantized add and mul rows of kernels/elementwise/quantized_{add,mul}.h on AArch64 Advanced
// SIMD (baseline: every aarch64 ISA uses them). Every fixed-point step is arm::Requant4
// (kernels/arm/requant_neon.h: SQSHL, SQRDMULH and the rounding shift are exactly gemmlowp's
// multiply_by_fixed), with the same constants in all four lanes, so any multiplier works. 8 elements per
// step; a row's last partial step goes through an 8-byte buffer.

#include <arm_neon.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "kernels/arm/requant_neon.h"
#include "kernels/elementwise/fused_multiplier.h"
#include "kernels/elementwise/quantized_add.h"
#include "kernels/elementwise/quantized_mul.h"

namespace octet::elementwise {

namespace {

// multiply_by_fixed(x, m) + zero_point, clamped, as the constants of one per-tensor channel repeated over
// Requant4's four lanes (no bias, no weight zero point).
ChannelRequant per_tensor(FixedMultiplier m, int32_t zero_point, Clamp clamp) {
  ChannelRequant r;
  r.bias.assign(4, 0);
  r.multiplier.assign(4, m.multiplier);
  r.left_shift.assign(4, std::max(0, -m.right_shift));
  r.right_shift.assign(4, std::max(0, m.right_shift));
  r.weight_zero_point.assign(4, 0);
  r.output_zero_point = zero_point;
  r.clamp = clamp;
  return r;
}

// An intermediate step: no zero point, and a clamp that never binds.
ChannelRequant unclamped(FixedMultiplier m) {
  return per_tensor(m, 0, Clamp{INT_MIN, INT_MAX});
}

// A step and its output constants.
struct Step {
  arm::Requant4 requant;
  arm::RequantOutput output;

  explicit Step(const ChannelRequant& r) : requant(r, 0, false), output(r) {}
  int32x4_t operator()(int32x4_t x) const { return requant(x, 0, output); }
};

// q - z for 8 bytes, as int16.
inline int16x8_t centered(uint8x8_t q, int16x8_t z) {
  return vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(q)), z);
}

// out[i] = f(a[i], b[i]) 8 at a time, f taking and returning 8 lanes: f(uint8x8_t, uint8x8_t) -> uint8x8_t.
// A repeated operand is duplicated into all lanes once.
template <Repeated R, class Eight>
void rows(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n, Eight&& eight) {
  if (n <= 0) return;
  const uint8x8_t fixed_a = vdup_n_u8(R == Repeated::a ? a[0] : 0);
  const uint8x8_t fixed_b = vdup_n_u8(R == Repeated::b ? b[0] : 0);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    vst1_u8(out + i,
            eight(R == Repeated::a ? fixed_a : vld1_u8(a + i), R == Repeated::b ? fixed_b : vld1_u8(b + i)));
  if (i < n) {
    const auto rest = static_cast<size_t>(n - i);
    uint8_t a_tail[8] = {}, b_tail[8] = {};
    if (R != Repeated::a) std::memcpy(a_tail, a + i, rest);
    if (R != Repeated::b) std::memcpy(b_tail, b + i, rest);
    arm::store8(
        out + i,
        eight(R == Repeated::a ? fixed_a : vld1_u8(a_tail), R == Repeated::b ? fixed_b : vld1_u8(b_tail)),
        static_cast<int64_t>(rest));
  }
}

template <class Eight>
void dispatch_rows(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n, Repeated repeated,
                   const Eight& eight) {
  switch (repeated) {
    case Repeated::none:
      return rows<Repeated::none>(a, b, out, n, eight);
    case Repeated::a:
      return rows<Repeated::a>(a, b, out, n, eight);
    case Repeated::b:
      return rows<Repeated::b>(a, b, out, n, eight);
  }
}

class AddRowsNeon final : public BinaryRows {
 public:
  AddRowsNeon(const ref::AddConstants& k, Clamp clamp)
      : za_(vdupq_n_s16(static_cast<int16_t>(k.za))),
        zb_(vdupq_n_s16(static_cast<int16_t>(k.zb))),
        a_(unclamped(k.a)),
        b_(unclamped(k.b)),
        out_(per_tensor(k.out, k.zo, clamp)),
        half_a_(halves_even_inputs(k.a)),
        half_b_(halves_even_inputs(k.b)) {}

  // The term of the input with the larger scale (of both, where the scales are equal) has the multiplier
  // 1/2 exactly, and on its even input (q - z) << kAddLeftShift it is the halving (q - z) << (kAddLeftShift
  // - 1): one shift instead of a step of about ten instructions per four lanes.
  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    if (half_a_ && half_b_) return add_rows<true, true>(a, b, out, n, repeated);
    if (half_a_) return add_rows<true, false>(a, b, out, n, repeated);
    if (half_b_) return add_rows<false, true>(a, b, out, n, repeated);
    add_rows<false, false>(a, b, out, n, repeated);
  }

 private:
  template <bool kHalfA, bool kHalfB>
  void add_rows(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n, Repeated repeated) const {
    dispatch_rows(a, b, out, n, repeated, [this](uint8x8_t qa, uint8x8_t qb) {
      // (q - z) << kAddLeftShift, rescaled; the sum requantized.
      const int16x8_t x = centered(qa, za_), y = centered(qb, zb_);
      auto sum = [&](int16x4_t xh, int16x4_t yh) {
        return out_(vaddq_s32(term<kHalfA>(a_, xh), term<kHalfB>(b_, yh)));
      };
      return arm::narrow8(sum(vget_low_s16(x), vget_low_s16(y)), sum(vget_high_s16(x), vget_high_s16(y)));
    });
  }
  template <bool kHalf>
  static int32x4_t term(const Step& step, int16x4_t difference) {
    if constexpr (kHalf) {
      return vshlq_n_s32(vmovl_s16(difference), ref::kAddLeftShift - 1);
    } else {
      return step(vshlq_n_s32(vmovl_s16(difference), ref::kAddLeftShift));
    }
  }

  int16x8_t za_, zb_;
  Step a_, b_, out_;
  bool half_a_, half_b_;
};

class MulRowsNeon final : public BinaryRows {
 public:
  MulRowsNeon(const ref::MulConstants& k, Clamp clamp)
      : za_(vdupq_n_s16(static_cast<int16_t>(k.za))),
        zb_(vdupq_n_s16(static_cast<int16_t>(k.zb))),
        step_(per_tensor(k.m, k.zo, clamp)) {}

  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    dispatch_rows(a, b, out, n, repeated, [this](uint8x8_t qa, uint8x8_t qb) {
      // |(a - za) * (b - zb)| < 2^16: the widening multiply is exact.
      const int16x8_t x = centered(qa, za_), y = centered(qb, zb_);
      return arm::narrow8(step_(vmull_s16(vget_low_s16(x), vget_low_s16(y))), step_(vmull_high_s16(x, y)));
    });
  }

 private:
  int16x8_t za_, zb_;
  Step step_;
};

// The float requantization mode (ONNX Runtime's arithmetic, ref::float_add_value / ref::float_mul_value) in
// float lanes: FMLA is the fused multiply-add of the reference's std::fma, FCVTNS rounds half to even like
// std::nearbyint, and the mul's product and zero-point addition stay two instructions (the build has
// -ffp-contract=off).

// The node's clamp on 8 bytes that the saturating narrowing already put in [0, 255].
struct ByteClamp {
  uint8x8_t lo, hi;
  explicit ByteClamp(Clamp c)
      : lo(vdup_n_u8(static_cast<uint8_t>(c.min))), hi(vdup_n_u8(static_cast<uint8_t>(c.max))) {}
  uint8x8_t operator()(uint8x8_t v) const { return vmin_u8(vmax_u8(v, lo), hi); }
};

inline float32x4_t as_float(uint16x4_t q) {
  return vcvtq_f32_u32(vmovl_u16(q));
}

class FloatAddRowsNeon final : public BinaryRows {
 public:
  FloatAddRowsNeon(const ref::FloatAddConstants& k, Clamp clamp)
      : ra_(vdupq_n_f32(k.ratio_a)),
        rb_(vdupq_n_f32(k.ratio_b)),
        offset_(vdupq_n_f32(k.offset)),
        low_(vdupq_n_f32(0.0f)),
        high_(vdupq_n_f32(255.0f)),
        a_first_(k.a_first),
        clamp_(clamp) {}

  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    dispatch_rows(a, b, out, n, repeated, [this](uint8x8_t qa, uint8x8_t qb) {
      const uint16x8_t wa = vmovl_u8(qa), wb = vmovl_u8(qb);
      auto four = [&](uint16x4_t xa, uint16x4_t xb) {
        const float32x4_t fa = as_float(xa), fb = as_float(xb);
        // fma(second, r2, fma(first, r1, offset)), the first the operand ONNX Runtime folds first.
        const float32x4_t v = a_first_ ? vfmaq_f32(vfmaq_f32(offset_, fa, ra_), fb, rb_)
                                       : vfmaq_f32(vfmaq_f32(offset_, fb, rb_), fa, ra_);
        return vcvtnq_s32_f32(vminq_f32(vmaxq_f32(v, low_), high_));
      };
      return clamp_(
          arm::narrow8(four(vget_low_u16(wa), vget_low_u16(wb)), four(vget_high_u16(wa), vget_high_u16(wb))));
    });
  }

 private:
  float32x4_t ra_, rb_, offset_, low_, high_;
  bool a_first_;
  ByteClamp clamp_;
};

class FloatMulRowsNeon final : public BinaryRows {
 public:
  FloatMulRowsNeon(const ref::FloatMulConstants& k, Clamp clamp)
      : za_(vdupq_n_s16(static_cast<int16_t>(k.za))),
        zb_(vdupq_n_s16(static_cast<int16_t>(k.zb))),
        ratio_(vdupq_n_f32(k.ratio)),
        zo_(vdupq_n_f32(static_cast<float>(k.zo))),
        low_(vdupq_n_f32(-512.0f)),
        high_(vdupq_n_f32(512.0f)),
        clamp_(clamp) {}

  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    dispatch_rows(a, b, out, n, repeated, [this](uint8x8_t qa, uint8x8_t qb) {
      const int16x8_t x = centered(qa, za_), y = centered(qb, zb_);
      auto four = [&](int32x4_t product) {  // exact: |product| < 2^16
        const float32x4_t v = vaddq_f32(vmulq_f32(vcvtq_f32_s32(product), ratio_), zo_);
        return vcvtnq_s32_f32(vminq_f32(vmaxq_f32(v, low_), high_));
      };
      return clamp_(
          arm::narrow8(four(vmull_s16(vget_low_s16(x), vget_low_s16(y))), four(vmull_high_s16(x, y))));
    });
  }

 private:
  int16x8_t za_, zb_;
  float32x4_t ratio_, zo_, low_, high_;
  ByteClamp clamp_;
};

}  // namespace

std::unique_ptr<const BinaryRows> make_add_rows_neon(const ref::AddConstants& k, Clamp clamp) {
  return std::make_unique<const AddRowsNeon>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_mul_rows_neon(const ref::MulConstants& k, Clamp clamp) {
  return std::make_unique<const MulRowsNeon>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_float_add_rows_neon(const ref::FloatAddConstants& k, Clamp clamp) {
  return std::make_unique<const FloatAddRowsNeon>(k, clamp);
}

std::unique_ptr<const BinaryRows> make_float_mul_rows_neon(const ref::FloatMulConstants& k, Clamp clamp) {
  return std::make_unique<const FloatMulRowsNeon>(k, clamp);
}

}  // namespace octet::elementwise
