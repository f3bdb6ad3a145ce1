#pragma once

// The fixed-point requantization of 16 int32 accumulators in AVX-512 registers, shared by the AVX-512
// kernels. Include only from files compiled with AVX-512 flags.

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/quantization/channel_requant.h"

namespace octet::x86 {

// Which output channel each of the 16 lanes of an accumulator holds: channels [n, n + 16) of one pixel, or
// channels [n, n + 8) of two pixels side by side (lanes 0-7 the first pixel, 8-15 the second: the
// 8-channel tail blocks of x86/gemm_avx512vnni.cpp, which would waste half of a 16-channel block), or
// channel n in every lane (16 pixels of one channel: x86/gemm_few_channels_avx512vnni.cpp).
enum class ChannelLanes { sixteen, eight_twice, one };

// The 16 lanes' values of a per-channel int32 array from channel n on.
[[gnu::always_inline]] inline __m512i load_channels(const int32_t* values, int64_t n, ChannelLanes lanes) {
  if (lanes == ChannelLanes::one) return _mm512_set1_epi32(values[n]);
  return lanes == ChannelLanes::sixteen
             ? _mm512_loadu_si512(values + n)
             : _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + n)));
}

// Lanes 0-7 `first`, lanes 8-15 `second`: the row sums of a pixel pair.
[[gnu::always_inline]] inline __m512i pair_of(int32_t first, int32_t second) {
  return _mm512_mask_blend_epi32(__mmask16(0xFF00), _mm512_set1_epi32(first), _mm512_set1_epi32(second));
}

// What is added to the accumulators of channels [n, n + 16) before requantization: the folded bias, and
// with row sums (asymmetric weights) -z_w * row_sum.
struct ChannelBias16 {
  __m512i bias, zw;
  bool has_zw;
  bool adds_bias = true;  // false: the kernel started its accumulators from `bias` (bias_as_start)

  [[gnu::always_inline]] ChannelBias16(const ChannelRequant& w, int64_t n, bool with_row_sums,
                                       ChannelLanes lanes = ChannelLanes::sixteen)
      : bias(load_channels(w.bias.data(), n, lanes)),
        zw(with_row_sums ? load_channels(w.weight_zero_point.data(), n, lanes) : _mm512_setzero_si512()),
        has_zw(with_row_sums) {}

  [[gnu::always_inline]] __m512i operator()(__m512i acc, int32_t row_sum) const {
    if (adds_bias) acc = _mm512_add_epi32(acc, bias);
    if (has_zw) acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(zw, _mm512_set1_epi32(row_sum)));
    return acc;
  }
  // The bias, to start the accumulators from (an addition fewer per vector), and stop adding it.
  [[gnu::always_inline]] __m512i bias_as_start() {
    adds_bias = false;
    return bias;
  }
  // Row sums per lane (a pixel pair's: pair_of).
  [[gnu::always_inline]] __m512i operator()(__m512i acc, __m512i row_sums) const {
    if (adds_bias) acc = _mm512_add_epi32(acc, bias);
    if (has_zw) acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(zw, row_sums));
    return acc;
  }
};

// The high-half form of ChannelRequant::fused_* (see there) on the 16 lanes of x: the even lanes' M0 and
// rounding constant in the low dwords / qwords of m0_even and round_even, the odd lanes' in m0_odd and
// round_odd. One 64-bit multiply and add per lane, the high halves of both parities gathered by one
// merge-masked shuffle, one 32-bit shift; the tie correction (a compare, a test and a masked subtract) only
// when `corrects`.
[[gnu::always_inline]] inline __m512i fused_high_half(__m512i x, __m512i m0_even, __m512i m0_odd,
                                                      __m512i round_even, __m512i round_odd, __m512i shift,
                                                      bool corrects, __m512i threshold) {
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, m0_even), round_even);
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), m0_odd), round_odd);
  // Lane j's high half: dword 2i+1 of `even` for j = 2i, of `odd` for j = 2i + 1, gathered by merge-masked
  // in-lane shuffles rather than two-source permutes (vpermt2d competes with vpdpbusd for its pipes on
  // Zen 5, vpshufd does not).
  __m512i high = _mm512_mask_shuffle_epi32(odd, __mmask16(0x5555), even, _MM_PERM_DDBB);
  if (corrects) {
    const __m512i low = _mm512_mask_shuffle_epi32(even, __mmask16(0xAAAA), odd, _MM_PERM_CCAA);
    const __mmask16 below = _mm512_cmplt_epi32_mask(x, threshold);
    const __mmask16 borrow = _mm512_mask_testn_epi32_mask(below, low, _mm512_set1_epi32(INT32_MIN));
    high = _mm512_mask_sub_epi32(high, borrow, high, _mm512_set1_epi32(1));
  }
  return _mm512_srav_epi32(high, shift);
}

// The float requantization of 16 lanes (kernels/quantization/float_requant.h, ONNX Runtime's steps):
// convert, multiply by the channel's float32 scale, clamp, round half to even (the default MXCSR mode),
// add the zero point.
struct FloatRequantLanes {
  __m512 scale, lo, hi;
  __m512i zp;

  [[gnu::always_inline]] FloatRequantLanes(const ChannelRequant& w, int64_t n, ChannelLanes lanes)
      : scale(w.float_mode() ? _mm512_castsi512_ps(
                                   load_channels(reinterpret_cast<const int32_t*>(w.scale.data()), n, lanes))
                             : _mm512_setzero_ps()),
        lo(_mm512_set1_ps(static_cast<float>(w.clamp.min - w.output_zero_point))),
        hi(_mm512_set1_ps(static_cast<float>(w.clamp.max - w.output_zero_point))),
        zp(_mm512_set1_epi32(w.output_zero_point)) {}

  [[gnu::always_inline]] __m512i operator()(__m512i acc) const {
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    return _mm512_add_epi32(_mm512_cvtps_epi32(v), zp);
  }

  // Without the clamp, for ChannelRequant::float_fits_int32 (the caller clamps the integers).
  [[gnu::always_inline]] __m512i unclamped(__m512i acc) const {
    return _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale)), zp);
  }
};

// The requantization of 16 output channels [n, n + 16), bit-exact with requantize():
//   clamp(z + rdbpot(srdhm(sat_shl(acc, left), M0), right)),
// or in float mode (ChannelRequant::float_mode) with requantize_float().
// Per-channel constants are loaded once per tile and reused for every row.
struct Requant16 {
  ChannelBias16 add_bias;
  __m512i m0, m0_odd, m0_lo, m0_hi, left_lo, left_hi, right, mask, half, lo_clamp, hi_clamp, zp;
  bool shifts_left;
  bool float_mode, float_unclamped;
  FloatRequantLanes float_lanes;

  [[gnu::always_inline]] Requant16(const ChannelRequant& w, int64_t n, bool with_row_sums,
                                   ChannelLanes lanes = ChannelLanes::sixteen)
      : add_bias(w, n, with_row_sums, lanes),
        float_mode(w.float_mode()),
        float_unclamped(w.float_mode() && w.float_fits_int32),
        float_lanes(w, n, lanes) {
    m0 = load_channels(w.multiplier.data(), n, lanes);
    m0_odd = _mm512_srli_epi64(m0, 32);
    m0_lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(m0));
    m0_hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(m0, 1));
    const __m512i left = load_channels(w.left_shift.data(), n, lanes);
    shifts_left = _mm512_test_epi32_mask(left, left) != 0;
    left_lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(left));
    left_hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(left, 1));
    right = load_channels(w.right_shift.data(), n, lanes);
    const __m512i one = _mm512_set1_epi32(1);
    mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
    half = _mm512_srli_epi32(mask, 1);
    lo_clamp = _mm512_set1_epi32(w.clamp.min - w.output_zero_point);
    hi_clamp = _mm512_set1_epi32(w.clamp.max - w.output_zero_point);
    zp = _mm512_set1_epi32(w.output_zero_point);
  }

  // 8 lanes in 64 bits: saturating left shift, then the rounding doubling high multiply.
  [[gnu::always_inline]] __m256i high_mul(__m256i a, __m512i m, __m512i left) const {
    __m512i x = _mm512_cvtepi32_epi64(a);
    if (shifts_left) {
      x = _mm512_sllv_epi64(x, left);
      x = _mm512_min_epi64(_mm512_max_epi64(x, _mm512_set1_epi64(INT32_MIN)), _mm512_set1_epi64(INT32_MAX));
    }
    const __m512i product = _mm512_mul_epi32(x, m);  // signed low 32 bits x M0
    return _mm512_cvtepi64_epi32(
        _mm512_srai_epi64(_mm512_add_epi64(product, _mm512_set1_epi64(int64_t{1} << 30)), 31));
  }

  // SRDHM without a left shift, on even and odd lanes in place: vpmuldq multiplies the (signed) low
  // dwords of each qword, so the odd lanes are shifted down first; bits 31..62 of product + 2^30 are the
  // answer (it fits int32 because 0 < M0 < 2^31), taken into the low dword of the even qwords and the
  // high dword of the odd ones. No cross-lane conversion, about half the work of high_mul.
  [[gnu::always_inline]] __m512i high_mul_in_place(__m512i acc) const {
    const __m512i round = _mm512_set1_epi64(int64_t{1} << 30);
    const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(acc, m0), round);
    const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), m0_odd), round);
    return _mm512_mask_blend_epi32(__mmask16(0xAAAA), _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
  }

  // `row_sum`: one int32 (a pixel's) or a vector of them (a pixel pair's).
  template <class RowSum>
  [[gnu::always_inline]] __m128i operator()(__m512i acc, RowSum row_sum) const {
    return _mm512_cvtepi32_epi8(value(acc, row_sum));
  }

  // The clamped result with the zero point added, as int32 lanes (FusedRequant16::value's counterpart).
  template <class RowSum>
  [[gnu::always_inline]] __m512i value(__m512i acc, RowSum row_sum) const {
    acc = add_bias(acc, row_sum);
    if (float_mode) return float_lanes(acc);
    __m512i x;
    if (!shifts_left) {
      x = high_mul_in_place(acc);
    } else {
      const __m256i lo = high_mul(_mm512_castsi512_si256(acc), m0_lo, left_lo);
      const __m256i hi = high_mul(_mm512_extracti64x4_epi64(acc, 1), m0_hi, left_hi);
      x = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    // Rounding divide by 2^right, ties away from zero.
    const __m512i remainder = _mm512_and_si512(x, mask);
    const __m512i threshold = _mm512_add_epi32(half, _mm512_srli_epi32(x, 31));
    __m512i q = _mm512_srav_epi32(x, right);
    q = _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(remainder, threshold), q, _mm512_set1_epi32(1));
    // Clamp before adding the zero point so that the addition cannot overflow.
    q = _mm512_min_epi32(_mm512_max_epi32(q, lo_clamp), hi_clamp);
    return _mm512_add_epi32(q, zp);
  }

  // For PackRows, which clamps: value(), or the float value without its clamp where that is exact
  // (ChannelRequant::float_fits_int32).
  template <class RowSum>
  [[gnu::always_inline]] __m512i value_to_pack(__m512i acc, RowSum row_sum) const {
    if (float_unclamped) return float_lanes.unclamped(add_bias(acc, row_sum));
    return value(acc, row_sum);
  }
};

// Requant16 in float mode alone (ChannelRequant::float_mode), without its run-time choice between the
// modes in every call: the same bytes, fewer branches in the epilogue of each vector.
struct FloatRequant16 {
  ChannelBias16 add_bias;
  FloatRequantLanes lanes;
  bool unclamped;

  [[gnu::always_inline]] FloatRequant16(const ChannelRequant& w, int64_t n, bool with_row_sums,
                                        ChannelLanes channel_lanes = ChannelLanes::sixteen)
      : add_bias(w, n, with_row_sums, channel_lanes),
        lanes(w, n, channel_lanes),
        unclamped(w.float_fits_int32) {}

  template <class RowSum>
  [[gnu::always_inline]] __m512i value(__m512i acc, RowSum row_sum) const {
    return lanes(add_bias(acc, row_sum));
  }
  template <class RowSum>
  [[gnu::always_inline]] __m128i operator()(__m512i acc, RowSum row_sum) const {
    return _mm512_cvtepi32_epi8(value(acc, row_sum));
  }
  template <class RowSum>
  [[gnu::always_inline]] __m512i value_to_pack(__m512i acc, RowSum row_sum) const {
    return unclamped ? lanes.unclamped(add_bias(acc, row_sum)) : value(acc, row_sum);
  }
};

// The same results as Requant16 through fused_high_half, for blocks with fused_ok; the tie correction
// only where the clamp does not make it moot. Fewer instructions than Requant16: the epilogue is most of
// the work of small-K convolutions and depthwise layers. kMayCorrect false (FusedRequant16Uncorrected)
// leaves the correction out at compile time, for ChannelRequant::fused_skip_correction only: without the
// branch on `corrects` in every vector's epilogue a 3x3 depthwise layer runs about 8% faster.
template <bool kMayCorrect>
struct FusedRequantOf16 {
  ChannelBias16 add_bias;
  __m512i m0, m0_odd, round_even, round_odd, shift, threshold, lo, hi;
  bool corrects;

  // With eight_twice lanes the even lanes hold channels n, n+2, n+4, n+6 twice and the odd lanes n+1, ...,
  // n+7: the first four of each parity's entries in the block's fused_round, twice.
  [[gnu::always_inline]] FusedRequantOf16(const ChannelRequant& w, int64_t n, bool with_row_sums,
                                          ChannelLanes lanes = ChannelLanes::sixteen)
      : add_bias(w, n, with_row_sums, lanes),
        m0(load_channels(w.multiplier.data(), n, lanes)),
        m0_odd(_mm512_srli_epi64(m0, 32)),
        round_even(load_rounds(w, n, false, lanes)),
        round_odd(load_rounds(w, n, true, lanes)),
        shift(load_channels(w.fused_shift.data(), n, lanes)),
        threshold(load_channels(w.fused_threshold.data(), n, lanes)),
        lo(_mm512_set1_epi32(w.clamp.min)),
        hi(_mm512_set1_epi32(w.clamp.max)),
        corrects(kMayCorrect && !w.fused_skip_correction) {}

  // The even (`odd` false) or odd lanes' rounding constants; with ChannelLanes::one channel n's, found in
  // its block's even-odd order.
  [[gnu::always_inline]] static __m512i load_rounds(const ChannelRequant& w, int64_t n, bool odd,
                                                    ChannelLanes lanes) {
    if (lanes == ChannelLanes::one) {
      const int64_t i = n % ChannelRequant::kFusedBlock;
      return _mm512_set1_epi64(w.fused_round[static_cast<size_t>(n - i + (i % 2) * 8 + i / 2)]);
    }
    const int64_t* rounds = w.fused_round.data() + n + (odd ? 8 : 0);
    return lanes == ChannelLanes::sixteen
               ? _mm512_loadu_si512(rounds)
               : _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rounds)));
  }

  [[gnu::always_inline]] static bool usable(const ChannelRequant& w, int64_t n) {
    return !w.fused_ok.empty() && n % ChannelRequant::kFusedBlock == 0 &&
           w.fused_ok[static_cast<size_t>(n / ChannelRequant::kFusedBlock)] != 0;
  }
  // usable() for every 16-channel block of channels [n, n + channels).
  [[gnu::always_inline]] static bool usable(const ChannelRequant& w, int64_t n, int64_t channels) {
    for (int64_t b = n; b < n + channels; b += ChannelRequant::kFusedBlock)
      if (!usable(w, b)) return false;
    return true;
  }

  // The result with the zero point added, before the clamp. `row_sum` as for Requant16.
  template <class RowSum>
  [[gnu::always_inline]] __m512i value(__m512i acc, RowSum row_sum) const {
    return fused_high_half(add_bias(acc, row_sum), m0, m0_odd, round_even, round_odd, shift,
                           kMayCorrect && corrects, threshold);
  }

  template <class RowSum>
  [[gnu::always_inline]] __m128i operator()(__m512i acc, RowSum row_sum) const {
    return _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(value(acc, row_sum), lo), hi));
  }

  // For PackRows (Requant16::value_to_pack's counterpart): value() is unclamped already.
  template <class RowSum>
  [[gnu::always_inline]] __m512i value_to_pack(__m512i acc, RowSum row_sum) const {
    return value(acc, row_sum);
  }
};

using FusedRequant16 = FusedRequantOf16<true>;
using FusedRequant16Uncorrected = FusedRequantOf16<false>;

// Calls `emit` with std::type_identity of the cheapest epilogue that gives requantize()'s bytes:
// FloatRequant16 in float mode, FusedRequant16 where every channel block the caller covers has the fused
// form (`fused`: FusedRequant16::usable for each), Requant16 otherwise. One place decides, so that every
// kernel picks the same way. kSplitCorrection: FusedRequant16Uncorrected where the clamp makes the tie
// correction moot, for kernels whose epilogue is a large part of their work (one more instantiation of
// each: the depthwise kernels, the GEMM's small-K kernels). kGeneral false: the caller runs only blocks
// with the fused form in fixed point, and Requant16 is not instantiated.
template <bool kSplitCorrection = false, bool kGeneral = true, class Emit>
[[gnu::always_inline]] inline void with_requant(const ChannelRequant& w, bool fused, Emit&& emit) {
  if (w.float_mode())
    emit(std::type_identity<FloatRequant16>{});
  else if (fused && kSplitCorrection && w.fused_skip_correction)
    emit(std::type_identity<FusedRequant16Uncorrected>{});
  else if (fused || !kGeneral)
    emit(std::type_identity<FusedRequant16>{});
  else
    emit(std::type_identity<Requant16>{});
}

// Four vectors of results with the zero point added (value_to_pack: clamped or not) to 64 clamped bytes:
// two rows of 32 channels, `top` (channels n..n+15, n+16..n+31 of one row) then `bottom` (the same of the
// next row), or any four vectors of 16 bytes each (one per 128-bit lane, in argument order). The saturating
// packs clamp to [0, 255] on the way (in the same order as a clamp would) and cost one instruction per
// pair instead of a two-instruction vpmovdb per vector; their in-lane interleaving is undone by one
// dword permute. A narrower clamp runs on the bytes.
struct PackRows {
  __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  __m512i lo, hi;
  bool clamps;

  [[gnu::always_inline]] explicit PackRows(const Clamp& clamp)
      : lo(_mm512_set1_epi8(static_cast<char>(clamp.min))),
        hi(_mm512_set1_epi8(static_cast<char>(clamp.max))),
        clamps(clamp.min != 0 || clamp.max != 255) {}

  [[gnu::always_inline]] __m512i operator()(__m512i top0, __m512i top1, __m512i bottom0,
                                            __m512i bottom1) const {
    return clamp(_mm512_permutexvar_epi32(order, packed_in_lanes(top0, top1, bottom0, bottom1)));
  }

  // Without the permute, in two steps: words(a, b) and words(c, d), then bytes() of the two. 128-bit lane
  // L of the result holds dwords 4L..4L+3 of a, b, c, d in that order (the order of the depthwise
  // kernel's channel-transposed 64-channel blocks, whose lanes this puts back in place).
  [[gnu::always_inline]] static __m512i words(__m512i a, __m512i b) { return _mm512_packs_epi32(a, b); }
  [[gnu::always_inline]] __m512i bytes(__m512i words_ab, __m512i words_cd) const {
    return clamp(_mm512_packus_epi16(words_ab, words_cd));
  }

 private:
  [[gnu::always_inline]] static __m512i packed_in_lanes(__m512i a, __m512i b, __m512i c, __m512i d) {
    return _mm512_packus_epi16(words(a, b), words(c, d));
  }
  [[gnu::always_inline]] __m512i clamp(__m512i bytes) const {
    return clamps ? _mm512_min_epu8(_mm512_max_epu8(bytes, lo), hi) : bytes;
  }
};

}  // namespace octet::x86
