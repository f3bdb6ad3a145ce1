// The pixel-lane convolution kernel (kernels/conv/conv_pixel_lanes.h): one output channel of 16 output
// pixels per register. Compiled with the AVX-512 VNNI and VBMI flags; only called after the CPU check.

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/conv/conv_pixel_lanes.h"
#include "kernels/x86/accumulate_avx512.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::conv {

namespace {

constexpr int kPixels = 16;

// acc += a times the weight dword at w in every lane (vpdpbusd's embedded broadcast: no register for the
// weights), in place as x86::dpbusd.
inline __m512i dpbusd_broadcast(__m512i acc, __m512i a, const int32_t* w) {
  __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*w));
  return acc;
}

// Stores the first `count` (at most 64) bytes of v.
inline void store_bytes(uint8_t* dst, __m512i v, int64_t count) {
  if (count >= 64) {
    _mm512_storeu_si512(dst, v);
  } else if (count > 0) {
    alignas(64) uint8_t bytes[64];
    _mm512_store_si512(bytes, v);
    std::memcpy(dst, bytes, static_cast<size_t>(count));
  }
}

// Four channels' registers of 16 pixels (int32 results with the zero point added, clamped or not) packed to
// one table of bytes with saturation, which clamps to [0, 255] in the same order as the requantization's
// clamp; a narrower clamp follows on the bytes. Channel oc of pixel p lands at byte 16 * (p / 4) + 4 * oc +
// p % 4 (128-bit lane p / 4).
struct ChannelTable {
  __m512i lo, hi;
  bool clamps;

  explicit ChannelTable(const Clamp& clamp)
      : lo(_mm512_set1_epi8(static_cast<char>(clamp.min))),
        hi(_mm512_set1_epi8(static_cast<char>(clamp.max))),
        clamps(clamp.min != 0 || clamp.max != 255) {}

  __m512i operator()(__m512i c0, __m512i c1, __m512i c2, __m512i c3) const {
    const __m512i bytes = _mm512_packus_epi16(_mm512_packs_epi32(c0, c1), _mm512_packs_epi32(c2, c3));
    return clamps ? _mm512_min_epu8(_mm512_max_epu8(bytes, lo), hi) : bytes;
  }
};

// The epilogues: `start(oc)`, what channel first + oc's accumulators start from, and `(acc, oc)`, its
// requantized values with the zero point added, clamped or not (value_to_pack), for the saturating packs.
//
// Every lane of an accumulator holds the same channel, so a constant is one scalar, applied as an embedded
// broadcast: nothing per channel is held in a register or copied to the stack. The fused form of fixed
// point where its tie correction is moot (ChannelRequant::fused_skip_correction), x86::fused_high_half's
// steps with one channel's constants: floor(Y / 2^(32 + s)), Y = acc * M0 + round, the high dwords of both
// parities gathered by a merge-masked shuffle, then one 32-bit shift.
struct FusedLanes {
  static constexpr bool kScalarLanes = true;
  // From the block's first channel on. Raw pointers in this local object: the byte stores of the output
  // may alias the vectors' own data pointers, which would otherwise be reloaded after every store.
  const int32_t* bias;
  const int64_t *multiplier, *round;
  const int32_t* shift;

  FusedLanes(const PixelLaneConv& conv, int64_t first)
      : bias(conv.scalars.bias.data() + first),
        multiplier(conv.scalars.multiplier.data() + first),
        round(conv.scalars.round.data() + first),
        shift(conv.scalars.shift.data() + first) {}
  [[gnu::always_inline]] __m512i start(int oc) const { return _mm512_set1_epi32(bias[oc]); }
  [[gnu::always_inline]] __m512i operator()(__m512i acc, int oc) const {
    const __m512i m0 = _mm512_set1_epi64(multiplier[oc]), add = _mm512_set1_epi64(round[oc]);
    const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(acc, m0), add);
    const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_shuffle_epi32(acc, _MM_PERM_DDBB), m0), add);
    const __m512i high = _mm512_mask_shuffle_epi32(odd, __mmask16(0x5555), even, _MM_PERM_DDBB);
    return _mm512_srav_epi32(high, _mm512_set1_epi32(shift[oc]));
  }
};

// Float mode (x86::FloatRequantLanes' steps) with the scale as a broadcast; the clamp in float where
// ChannelRequant::float_fits_int32 does not let the packs clamp the integers (kClamps).
template <bool kClamps>
struct FloatLanes {
  static constexpr bool kScalarLanes = true;
  const int32_t* bias;  // from the block's first channel on, as in FusedLanes
  const float* scale;
  __m512 lo, hi;
  __m512i zp;

  FloatLanes(const PixelLaneConv& conv, int64_t first)
      : bias(conv.scalars.bias.data() + first),
        scale(conv.scalars.scale.data() + first),
        lo(_mm512_set1_ps(static_cast<float>(conv.requant.clamp.min - conv.requant.output_zero_point))),
        hi(_mm512_set1_ps(static_cast<float>(conv.requant.clamp.max - conv.requant.output_zero_point))),
        zp(_mm512_set1_epi32(conv.requant.output_zero_point)) {}
  [[gnu::always_inline]] __m512i start(int oc) const { return _mm512_set1_epi32(bias[oc]); }
  [[gnu::always_inline]] __m512i operator()(__m512i acc, int oc) const {
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(scale[oc]));
    if constexpr (kClamps) v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    return _mm512_add_epi32(_mm512_cvtps_epi32(v), zp);
  }
};

// The other cases (fixed point with the tie correction, or channels without the fused form): a Requant16 or
// FusedRequant16 per channel, its 16 lanes equal.
template <class Requant, int kChannels>
struct VectorLanes {
  std::array<Requant, kChannels> requant;

  VectorLanes(const PixelLaneConv& conv, int64_t first)
      : requant(make(conv.requant, first, std::make_integer_sequence<int, kChannels>())) {}
  [[gnu::always_inline]] __m512i start(int) const { return _mm512_setzero_si512(); }
  [[gnu::always_inline]] __m512i operator()(__m512i acc, int oc) const {
    return requant[static_cast<size_t>(oc)].value_to_pack(acc, 0);
  }

 private:
  template <int... kIndex>
  static std::array<Requant, kChannels> make(const ChannelRequant& rq, int64_t first,
                                             std::integer_sequence<int, kIndex...>) {
    return {Requant(rq, 16 * (first + kIndex), false)...};
  }
};

// The epilogue of `Kind` (one of the above, or a Requant16 / FusedRequant16) for kChannels channels.
template <class Kind>
concept ScalarLanes = Kind::kScalarLanes;
template <class Kind, int kChannels>
using Epilogue = std::conditional_t<ScalarLanes<Kind>, Kind, VectorLanes<Kind, kChannels>>;

// The tap groups of the 16 pixels whose windows start at byte `offset` of the padded rows, in order: for
// each kernel row, its 128-byte window loaded once, one permute per group that begins in it, and for a
// group that ends in the next row a second permute of that row's window, blended in. Calls
// `multiply(g, taps)` for each group g.
template <class Multiply>
[[gnu::always_inline]] inline void for_each_tap_group(const PixelLaneConv& conv, const uint8_t* const* rows,
                                                      int64_t offset, Multiply&& multiply) {
  const int64_t* first = conv.row_first_group.data();
  for (int64_t ky = 0; ky < conv.kernel_h; ++ky) {
    if (first[ky] == first[ky + 1]) continue;
    const uint8_t* line = rows[ky] + offset;
    const __m512i lo = _mm512_loadu_si512(line), hi = _mm512_loadu_si512(line + 64);
    for (int64_t g = first[ky]; g < first[ky + 1]; ++g) {
      __m512i taps = _mm512_permutex2var_epi8(lo, _mm512_loadu_si512(conv.tap_index.data() + g * 64), hi);
      if (const uint64_t next_bytes = conv.next_row_bytes[static_cast<size_t>(g)]) {
        const uint8_t* next = rows[ky + 1] + offset;
        const __m512i next_taps = _mm512_permutex2var_epi8(
            _mm512_loadu_si512(next), _mm512_loadu_si512(conv.next_tap_index.data() + g * 64),
            _mm512_loadu_si512(next + 64));
        taps = _mm512_mask_blend_epi8(static_cast<__mmask64>(next_bytes), taps, next_taps);
      }
      multiply(g, taps);
    }
  }
}

// C output channels, kTiles tiles of 16 pixels per step (independent accumulators for the pipeline).
template <int C, int kTiles, class Kind>
void row_kernel(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow, uint8_t* out) {
  const Epilogue<Kind, C> epilogue(conv, 0);
  const int64_t pixel_step = conv.params.stride_w * conv.in_channels;
  const __m512i interleave_lo = _mm512_loadu_si512(conv.interleave.data()),
                interleave_hi = _mm512_loadu_si512(conv.interleave.data() + 64);
  const ChannelTable pack_table(conv.requant.clamp);
  for (int64_t x0 = 0; x0 < ow; x0 += kTiles * kPixels) {
    // Unrolled: GCC 12 otherwise zero-fills a dead copy of the array in memory on every step.
    __m512i acc[kTiles][C];
#pragma GCC unroll 4
    for (int i = 0; i < kTiles; ++i)
#pragma GCC unroll 8
      for (int oc = 0; oc < C; ++oc)
        acc[i][oc] = epilogue.start(oc);
#pragma GCC unroll 4
    for (int i = 0; i < kTiles; ++i)
      for_each_tap_group(conv, rows, (x0 + i * kPixels) * pixel_step, [&](int64_t g, __m512i a) {
        const int32_t* w = conv.weights.data() + g * C;
#pragma GCC unroll 8
        for (int oc = 0; oc < C; ++oc)
          acc[i][oc] = dpbusd_broadcast(acc[i][oc], a, w + oc);
      });
      // Unrolled (no accumulator indexed at run time), so that the accumulators stay in registers.
#pragma GCC unroll 4
    for (int i = 0; i < kTiles; ++i) {
      const int64_t x = x0 + i * kPixels, pixels = std::min<int64_t>(kPixels, ow - x);
      if (pixels <= 0) continue;
      // The results of channels 0-3 and 4-7 as two tables (ChannelTable): channel oc of pixel p at byte
      // 16 * (p / 4) + 4 * (oc % 4) + p % 4 of table oc / 4. Then NHWC order.
      __m512i v[8], table[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 8
      for (int oc = 0; oc < 8; ++oc)
        v[oc] = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int oc = 0; oc < C; ++oc)
        v[oc] = epilogue(acc[i][oc], oc);
      for (int h = 0; h < (C + 3) / 4; ++h) {
        table[h] = pack_table(v[4 * h], v[4 * h + 1], v[4 * h + 2], v[4 * h + 3]);
      }
      uint8_t* dst = out + x * C;
      const int64_t bytes = pixels * C;
      store_bytes(dst, _mm512_permutex2var_epi8(table[0], interleave_lo, table[1]), bytes);
      if (bytes > 64)
        store_bytes(dst + 64, _mm512_permutex2var_epi8(table[0], interleave_hi, table[1]), bytes - 64);
    }
  }
}

// Convolutions with more than 8 output channels: blocks of 16 channels (the last one kBlock = 4, 8, 12 or
// 16 wide, its weights zero past C_out) over one tile of 16 pixels at a time, reading the taps that
// channel_blocks gathered for the row. The 16 accumulators of a block are requantized, packed to bytes in
// four tables as above (table h: channels 4h..4h+3, 128-bit lane L pixels 4L..4L+3), the tables' lanes
// transposed so that chunk L holds pixels 4L..4L+3 with all 16 channels, and one vpermb puts each pixel's 16
// channels side by side. Each pixel's `block_channels` bytes then go to its NHWC row (C_out bytes apart).
// Chunk byte 16 p + oc (pixel p of the chunk, channel oc) comes from lane oc / 4 of the transposed tables,
// byte 4 (oc % 4) + p.
constexpr std::array<uint8_t, 64> kPixelOrder = [] {
  std::array<uint8_t, 64> order{};
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<uint8_t>(16 * (i % 16 / 4) + 4 * (i % 4) + i / 16);
  return order;
}();

// Where a block's results go. scatter: each pixel's bytes straight to its NHWC row (masked stores, any
// C_out). With C_out = 32 or 64 (two or four whole blocks) each pixel's row is written whole instead: the
// blocks before the last `stage` their four registers per tile (pixels 4l..4l+3, 16 channels each) in a
// buffer, and the last one `assemble`s them with its own into whole rows by 128-bit lane shuffles, so
// that a tile goes out in full 64-byte stores instead of two masked byte stores per pixel at 32 channels
// (L5, 3 -> 32 at 256x256: 0.451 -> 0.434 ms in fixed point, 0.365 -> 0.339 in float, one Zen 5 core).
enum class BlockOutput { scatter, stage, assemble };

// The stage of block b: four registers per 16 pixels, tile t's at 256 t.
constexpr int64_t kStageBytesPerPixel = 16;

// Stores the first `count` bytes of v (all 64 when count >= 64).
inline void store_prefix(uint8_t* dst, __m512i v, int64_t count) {
  if (count >= 64)
    _mm512_storeu_si512(dst, v);
  else if (count > 0)
    _mm512_mask_storeu_epi8(dst, static_cast<__mmask64>((uint64_t{1} << count) - 1), v);
}

// The last block's registers (pixels 4l..4l+3 of the tile, channels c0..c0+15) with the staged ones of the
// blocks before it, as whole NHWC rows of `pixels` pixels (at most 4) from dst on.
inline void assemble_rows(int64_t blocks, const uint8_t* staged, int64_t stage_stride, __m512i last,
                          int64_t pixels, uint8_t* dst) {
  if (blocks == 2) {
    // Rows of 32 bytes: lanes (A0, B0, A1, B1) and (A2, B2, A3, B3), A the staged block, B the last.
    const __m512i a = _mm512_load_si512(staged);
    const __m512i rows01 = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), last);
    const __m512i rows23 = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), last);
    store_prefix(dst, rows01, pixels * 32);
    store_prefix(dst + 64, rows23, pixels * 32 - 64);
    return;
  }
  // Rows of 64 bytes: a transpose of the 4 x 4 lanes of the four blocks' registers.
  const __m512i a = _mm512_load_si512(staged), b = _mm512_load_si512(staged + stage_stride),
                c = _mm512_load_si512(staged + 2 * stage_stride);
  const __m512i ab_lo = _mm512_shuffle_i64x2(a, b, 0x44), ab_hi = _mm512_shuffle_i64x2(a, b, 0xEE),
                cd_lo = _mm512_shuffle_i64x2(c, last, 0x44), cd_hi = _mm512_shuffle_i64x2(c, last, 0xEE);
  const __m512i rows[4] = {_mm512_shuffle_i64x2(ab_lo, cd_lo, 0x88), _mm512_shuffle_i64x2(ab_lo, cd_lo, 0xDD),
                           _mm512_shuffle_i64x2(ab_hi, cd_hi, 0x88),
                           _mm512_shuffle_i64x2(ab_hi, cd_hi, 0xDD)};
  for (int64_t p = 0; p < pixels; ++p)
    _mm512_storeu_si512(dst + 64 * p, rows[p]);
}

// A row's tap groups gathered once for all its channel blocks: tile t's group g at byte 64 (t * groups + g).
struct alignas(64) CacheLine {
  uint8_t bytes[64];
};

template <int kBlock, class Kind>
void block_kernel(const PixelLaneConv& conv, const CacheLine* taps, int64_t ow, int64_t c0,
                  BlockOutput output, uint8_t* stage, int64_t stage_stride, uint8_t* out) {
  static_assert(kBlock % 4 == 0 && kBlock <= 16);
  const Epilogue<Kind, kBlock> epilogue(conv, c0);
  const int64_t cout = conv.out_channels, block_channels = std::min<int64_t>(16, cout - c0);
  const int64_t stride = conv.channel_stride, groups = conv.groups;
  const ChannelTable pack_table(conv.requant.clamp);
  const __m512i pixel_order = _mm512_loadu_si512(kPixelOrder.data());
  const uint64_t store_mask = (uint64_t{1} << block_channels) - 1;
  const bool whole_rows = block_channels == 16 && cout == 16;
  for (int64_t x = 0; x < ow; x += kPixels) {
    // Unrolled: GCC 12 otherwise zero-fills a dead copy of the array in memory on every step.
    __m512i acc[kBlock];
#pragma GCC unroll 16
    for (int oc = 0; oc < kBlock; ++oc)
      acc[oc] = epilogue.start(oc);
    const CacheLine* tile_taps = taps + x / kPixels * groups;
    const int32_t* w = conv.weights.data() + c0;
    for (int64_t g = 0; g < groups; ++g, w += stride) {
      const __m512i a = _mm512_load_si512(tile_taps[g].bytes);
#pragma GCC unroll 16
      for (int oc = 0; oc < kBlock; ++oc)
        acc[oc] = dpbusd_broadcast(acc[oc], a, w + oc);
    }
    __m512i table[4];
#pragma GCC unroll 4
    for (int h = 0; h < 4; ++h) {
      if (4 * h >= kBlock) {
        table[h] = _mm512_setzero_si512();
        continue;
      }
      const __m512i v0 = epilogue(acc[4 * h], 4 * h), v1 = epilogue(acc[4 * h + 1], 4 * h + 1),
                    v2 = epilogue(acc[4 * h + 2], 4 * h + 2), v3 = epilogue(acc[4 * h + 3], 4 * h + 3);
      table[h] = pack_table(v0, v1, v2, v3);
    }
    // 128-bit lanes: chunk L = lane L of tables 0, 1, 2, 3.
    const __m512i t01_lo = _mm512_shuffle_i64x2(table[0], table[1], 0x44),
                  t01_hi = _mm512_shuffle_i64x2(table[0], table[1], 0xEE),
                  t23_lo = _mm512_shuffle_i64x2(table[2], table[3], 0x44),
                  t23_hi = _mm512_shuffle_i64x2(table[2], table[3], 0xEE);
    const __m512i chunk[4] = {
        _mm512_permutexvar_epi8(pixel_order, _mm512_shuffle_i64x2(t01_lo, t23_lo, 0x88)),
        _mm512_permutexvar_epi8(pixel_order, _mm512_shuffle_i64x2(t01_lo, t23_lo, 0xDD)),
        _mm512_permutexvar_epi8(pixel_order, _mm512_shuffle_i64x2(t01_hi, t23_hi, 0x88)),
        _mm512_permutexvar_epi8(pixel_order, _mm512_shuffle_i64x2(t01_hi, t23_hi, 0xDD))};
    const int64_t pixels = std::min<int64_t>(kPixels, ow - x);
    if (output == BlockOutput::stage) {
      uint8_t* to = stage + (c0 / 16) * stage_stride + x * kStageBytesPerPixel;
      for (int l = 0; l < 4; ++l)
        _mm512_store_si512(to + 64 * l, chunk[l]);
      continue;
    }
    if (output == BlockOutput::assemble) {
      const uint8_t* staged = stage + x * kStageBytesPerPixel;
      for (int l = 0; l < 4 && 4 * l < pixels; ++l)
        assemble_rows(cout / 16, staged + 64 * l, stage_stride, chunk[l],
                      std::min<int64_t>(4, pixels - 4 * l), out + (x + 4 * l) * cout);
      continue;
    }
    uint8_t* dst = out + x * cout + c0;
    if (whole_rows && pixels == kPixels) {
      for (int l = 0; l < 4; ++l)
        _mm512_storeu_si512(dst + 64 * l, chunk[l]);
      continue;
    }
    // Pixel 4 l + j from lane j of chunk l: a masked store of the whole register whose mask keeps that
    // lane's first block_channels bytes, placed so that the lane lands on the pixel's row. (Through a
    // buffer on the stack instead, the 16-byte reloads of 64-byte stores miss store forwarding.)
    const auto row = reinterpret_cast<uintptr_t>(dst);
    for (int64_t p = 0; p < pixels; ++p) {
      const int64_t lane = p % 4;
      _mm512_mask_storeu_epi8(reinterpret_cast<void*>(row + static_cast<uintptr_t>(p * cout - 16 * lane)),
                              static_cast<__mmask64>(store_mask) << (16 * lane), chunk[p / 4]);
    }
  }
}

template <class Kind>
void channel_blocks(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow, uint8_t* out) {
  const int64_t cout = conv.out_channels;
  const bool whole_rows = cout == 32 || cout == 64;
  const int64_t stage_stride = (ow + kPixels - 1) / kPixels * kPixels * kStageBytesPerPixel;
  thread_local std::vector<CacheLine> stage;  // aligned, as the stage's loads and stores need
  if (whole_rows) stage.resize(static_cast<size_t>((cout / 16 - 1) * stage_stride / 64));
  auto* const staged = reinterpret_cast<uint8_t*>(stage.data());
  // The taps once per row, not once per block: the permutes cost more than the multiplies they feed.
  thread_local std::vector<CacheLine> row_taps;
  const int64_t tiles = (ow + kPixels - 1) / kPixels, pixel_step = conv.params.stride_w * conv.in_channels;
  row_taps.resize(static_cast<size_t>(tiles * conv.groups));
  for (int64_t t = 0; t < tiles; ++t) {
    CacheLine* to = row_taps.data() + t * conv.groups;
    for_each_tap_group(conv, rows, t * kPixels * pixel_step,
                       [&](int64_t g, __m512i a) { _mm512_store_si512(to[g].bytes, a); });
  }
  const CacheLine* const taps = row_taps.data();
  for (int64_t c0 = 0; c0 < cout; c0 += 16) {
    const BlockOutput output = !whole_rows      ? BlockOutput::scatter
                               : c0 + 16 < cout ? BlockOutput::stage
                                                : BlockOutput::assemble;
    switch ((std::min<int64_t>(16, cout - c0) + 3) / 4) {
      case 1:
        block_kernel<4, Kind>(conv, taps, ow, c0, output, staged, stage_stride, out);
        break;
      case 2:
        block_kernel<8, Kind>(conv, taps, ow, c0, output, staged, stage_stride, out);
        break;
      case 3:
        block_kernel<12, Kind>(conv, taps, ow, c0, output, staged, stage_stride, out);
        break;
      default:
        block_kernel<16, Kind>(conv, taps, ow, c0, output, staged, stage_stride, out);
        break;
    }
  }
}

template <class Kind>
void channels(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow, uint8_t* out) {
  switch (conv.out_channels) {
    case 1:
      return row_kernel<1, 4, Kind>(conv, rows, ow, out);
    case 2:
      return row_kernel<2, 4, Kind>(conv, rows, ow, out);
    case 3:
      return row_kernel<3, 4, Kind>(conv, rows, ow, out);
    case 4:
      return row_kernel<4, 2, Kind>(conv, rows, ow, out);
    case 5:
      return row_kernel<5, 2, Kind>(conv, rows, ow, out);
    case 6:
      return row_kernel<6, 2, Kind>(conv, rows, ow, out);
    case 7:
      return row_kernel<7, 2, Kind>(conv, rows, ow, out);
    default:
      return row_kernel<8, 2, Kind>(conv, rows, ow, out);
  }
}

}  // namespace

void pixel_lanes_row_avx512vbmi(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow,
                                uint8_t* output) {
  const auto emit = [&](auto kind) {
    using Kind = typename decltype(kind)::type;
    if (conv.out_channels > 8)
      channel_blocks<Kind>(conv, rows, ow, output);
    else
      channels<Kind>(conv, rows, ow, output);
  };
  const ChannelRequant& rq = conv.requant;
  if (rq.float_mode())
    return rq.float_fits_int32 ? emit(std::type_identity<FloatLanes<false>>{})
                               : emit(std::type_identity<FloatLanes<true>>{});
  // The scalars' multipliers exist exactly where every channel has the fused form.
  if (rq.fused_skip_correction && !conv.scalars.multiplier.empty())
    return emit(std::type_identity<FusedLanes>{});
  x86::with_requant(rq, x86::FusedRequant16::usable(rq, 0, 16 * conv.channel_stride), emit);
}

}  // namespace octet::conv
