// The pixel-lane convolution kernel (kernels/conv/conv_pixel_lanes.h): one output channel of 16 output
// pixels per register. Compiled with the AVX-512 VNNI and VBMI flags; only called after the CPU check.

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
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

// One set of constants per output channel from channel `first` on (16 equal lanes each).
template <class Requant, int... kChannels>
std::array<Requant, sizeof...(kChannels)> make_requants(const ChannelRequant& rq, int64_t first,
                                                        std::integer_sequence<int, kChannels...>) {
  return {Requant(rq, 16 * (first + kChannels), false)...};
}

// C output channels, kTiles tiles of 16 pixels per step (independent accumulators for the pipeline).
template <int C, int kTiles, class Requant>
void row_kernel(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow, uint8_t* out) {
  const std::array<Requant, C> requant =
      make_requants<Requant>(conv.requant, 0, std::make_integer_sequence<int, C>());
  const int64_t kh = conv.kernel_h, groups = conv.row_groups;
  const int64_t pixel_step = conv.params.stride_w * conv.in_channels, tile_step = kPixels * pixel_step;
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
        acc[i][oc] = _mm512_setzero_si512();
    for (int64_t ky = 0; ky < kh; ++ky) {
      const uint8_t* line = rows[ky] + x0 * pixel_step;
      __m512i lo[kTiles], hi[kTiles];
      for (int i = 0; i < kTiles; ++i) {
        lo[i] = _mm512_loadu_si512(line + i * tile_step);
        hi[i] = _mm512_loadu_si512(line + i * tile_step + 64);
      }
      const int32_t* w = conv.weights.data() + ky * groups * C;
      for (int64_t q = 0; q < groups; ++q, w += C) {
        const __m512i idx = _mm512_loadu_si512(conv.tap_index.data() + q * 64);
        __m512i a[kTiles];
        for (int i = 0; i < kTiles; ++i)
          a[i] = _mm512_permutex2var_epi8(lo[i], idx, hi[i]);
        for (int oc = 0; oc < C; ++oc)
          for (int i = 0; i < kTiles; ++i)
            acc[i][oc] = dpbusd_broadcast(acc[i][oc], a[i], w + oc);
      }
    }
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
        v[oc] = requant[oc].value_to_pack(acc[i][oc], 0);
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
// 16 wide, its weights zero past C_out) over one tile of 16 pixels, the input taps permuted once per block.
// The 16 accumulators of a block are requantized, packed to bytes in four tables as above (table h: channels
// 4h..4h+3, 128-bit lane L pixels 4L..4L+3), the tables' lanes transposed so that chunk L holds pixels
// 4L..4L+3 with all 16 channels, and one vpermb puts each pixel's 16 channels side by side. Each pixel's
// `block_channels` bytes then go to its NHWC row (C_out bytes apart).
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

template <int kBlock, class Requant>
void block_kernel(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow, int64_t c0,
                  BlockOutput output, uint8_t* stage, int64_t stage_stride, uint8_t* out) {
  static_assert(kBlock % 4 == 0 && kBlock <= 16);
  const std::array<Requant, kBlock> requant =
      make_requants<Requant>(conv.requant, c0, std::make_integer_sequence<int, kBlock>());
  const int64_t cout = conv.out_channels, block_channels = std::min<int64_t>(16, cout - c0);
  const int64_t kh = conv.kernel_h, groups = conv.row_groups, stride = conv.channel_stride;
  const int64_t pixel_step = conv.params.stride_w * conv.in_channels;
  const ChannelTable pack_table(conv.requant.clamp);
  const __m512i pixel_order = _mm512_loadu_si512(kPixelOrder.data());
  const uint64_t store_mask = (uint64_t{1} << block_channels) - 1;
  const bool whole_rows = block_channels == 16 && cout == 16;
  for (int64_t x = 0; x < ow; x += kPixels) {
    // Unrolled: GCC 12 otherwise zero-fills a dead copy of the array in memory on every step.
    __m512i acc[kBlock];
#pragma GCC unroll 16
    for (int oc = 0; oc < kBlock; ++oc)
      acc[oc] = _mm512_setzero_si512();
    for (int64_t ky = 0; ky < kh; ++ky) {
      const uint8_t* line = rows[ky] + x * pixel_step;
      const __m512i lo = _mm512_loadu_si512(line), hi = _mm512_loadu_si512(line + 64);
      const int32_t* w = conv.weights.data() + ky * groups * stride + c0;
      for (int64_t q = 0; q < groups; ++q, w += stride) {
        const __m512i a =
            _mm512_permutex2var_epi8(lo, _mm512_loadu_si512(conv.tap_index.data() + q * 64), hi);
#pragma GCC unroll 16
        for (int oc = 0; oc < kBlock; ++oc)
          acc[oc] = dpbusd_broadcast(acc[oc], a, w + oc);
      }
    }
    __m512i table[4];
#pragma GCC unroll 4
    for (int h = 0; h < 4; ++h) {
      if (4 * h >= kBlock) {
        table[h] = _mm512_setzero_si512();
        continue;
      }
      const __m512i v0 = requant[4 * h].value_to_pack(acc[4 * h], 0),
                    v1 = requant[4 * h + 1].value_to_pack(acc[4 * h + 1], 0),
                    v2 = requant[4 * h + 2].value_to_pack(acc[4 * h + 2], 0),
                    v3 = requant[4 * h + 3].value_to_pack(acc[4 * h + 3], 0);
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

template <class Requant>
void channel_blocks(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow, uint8_t* out) {
  const int64_t cout = conv.out_channels;
  const bool whole_rows = cout == 32 || cout == 64;
  const int64_t stage_stride = (ow + kPixels - 1) / kPixels * kPixels * kStageBytesPerPixel;
  struct alignas(64) CacheLine {
    uint8_t bytes[64];
  };
  thread_local std::vector<CacheLine> stage;  // aligned, as the stage's loads and stores need
  if (whole_rows) stage.resize(static_cast<size_t>((cout / 16 - 1) * stage_stride / 64));
  auto* const staged = reinterpret_cast<uint8_t*>(stage.data());
  for (int64_t c0 = 0; c0 < cout; c0 += 16) {
    const BlockOutput output = !whole_rows      ? BlockOutput::scatter
                               : c0 + 16 < cout ? BlockOutput::stage
                                                : BlockOutput::assemble;
    switch ((std::min<int64_t>(16, cout - c0) + 3) / 4) {
      case 1:
        block_kernel<4, Requant>(conv, rows, ow, c0, output, staged, stage_stride, out);
        break;
      case 2:
        block_kernel<8, Requant>(conv, rows, ow, c0, output, staged, stage_stride, out);
        break;
      case 3:
        block_kernel<12, Requant>(conv, rows, ow, c0, output, staged, stage_stride, out);
        break;
      default:
        block_kernel<16, Requant>(conv, rows, ow, c0, output, staged, stage_stride, out);
        break;
    }
  }
}

template <class Requant>
void channels(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow, uint8_t* out) {
  switch (conv.out_channels) {
    case 1:
      return row_kernel<1, 4, Requant>(conv, rows, ow, out);
    case 2:
      return row_kernel<2, 4, Requant>(conv, rows, ow, out);
    case 3:
      return row_kernel<3, 4, Requant>(conv, rows, ow, out);
    case 4:
      return row_kernel<4, 2, Requant>(conv, rows, ow, out);
    case 5:
      return row_kernel<5, 2, Requant>(conv, rows, ow, out);
    case 6:
      return row_kernel<6, 2, Requant>(conv, rows, ow, out);
    case 7:
      return row_kernel<7, 2, Requant>(conv, rows, ow, out);
    default:
      return row_kernel<8, 2, Requant>(conv, rows, ow, out);
  }
}

}  // namespace

void pixel_lanes_row_avx512vbmi(const PixelLaneConv& conv, const uint8_t* const* rows, int64_t ow,
                                uint8_t* output) {
  const bool fused = x86::FusedRequant16::usable(conv.requant, 0, 16 * conv.channel_stride);
  x86::with_requant(conv.requant, fused, [&](auto kind) {
    using Requant = typename decltype(kind)::type;
    if (conv.out_channels > 8)
      channel_blocks<Requant>(conv, rows, ow, output);
    else
      channels<Requant>(conv, rows, ow, output);
  });
}

}  // namespace octet::conv
