// The AVX-512 VNNI GEMM for at most 8 output channels (gemm_few_channels_avx512.h): pixel lanes. The
// channel-lane tiles of gemm_avx512vnni.cpp give such a layer two pixels of 8 lanes per register, so at 2
// or 3 channels most lanes multiply padding, and every k step costs two broadcasts and a blend per pixel
// pair. Here lane p of a register is pixel p of a block of 16: the block's rows are loaded 16 (or 8) k
// steps at a time and transposed by dword, so that register j holds k step j of all 16 pixels; each
// channel's weight dword is then one broadcast operand of one vpdpbusd per k step. The epilogue runs on
// one register per channel with that channel's constants in every lane (ChannelLanes::one), and packs,
// byte shuffles and dword permutes interleave the channels into NHWC bytes. Bit-exact with the other
// kernels: the same packed weights, folded bias and requantization.
// Compiled with the AVX-512 VNNI flags; only called after the CPU check.

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "kernels/x86/gemm_few_channels_avx512.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::gemm {

namespace {

constexpr int kPixels = 16;

// Where the kernel reads A: a pointer per row and segment. Rows `stride` bytes apart get a table too
// (few_channels_avx512vnni), so that the kernel is compiled once per register count and epilogue: clang's
// ASan + UBSan build of the file took 3.7 minutes with a second row type, over 10 with every count 1..8.
// The runs of k steps and the accumulators' start are RowPieces'.
struct SegmentRows {
  const uint8_t* const* rows;
  const KSteps* steps;
  int64_t runs;
  const int32_t* initial;
  const uint8_t* row(int64_t r, int64_t s) const { return rows[r * runs + s]; }
};

inline __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
  return _mm512_dpbusd_epi32(acc, a, b);
}

inline int32_t load_u32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The first two stages of a dword transpose of N rows (N = 8 or 16), by groups of four rows:
// u[4g + k], rows 4g..4g+3: 128-bit lane L holds their column 4L + k.
template <int N>
[[gnu::always_inline]] inline void unpack_groups_of_four(const __m512i (&r)[N], __m512i (&u)[N]) {
  __m512i t[N];
  for (int i = 0; i < N; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int g = 0; g < N / 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
}

// Registers t[0..15] from rows r[0..15] (16 dwords each): t[j] lane i = r[i] lane j.
[[gnu::always_inline]] inline void transpose16(__m512i (&r)[16]) {
  __m512i u[16];
  unpack_groups_of_four(r, u);
  for (int k = 0; k < 4; ++k) {
    // Rows 0-7 and 8-15: columns k and 8 + k (v0, x0), 4 + k and 12 + k (v1, x1), by 128-bit lanes.
    const __m512i v0 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x88),
                  v1 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xDD);
    const __m512i x0 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x88),
                  x1 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xDD);
    r[k] = _mm512_shuffle_i32x4(v0, x0, 0x88);
    r[8 + k] = _mm512_shuffle_i32x4(v0, x0, 0xDD);
    r[4 + k] = _mm512_shuffle_i32x4(v1, x1, 0x88);
    r[12 + k] = _mm512_shuffle_i32x4(v1, x1, 0xDD);
  }
}

// As transpose16 for 8 columns: r[j] holds pixel j (j < 4) or j + 4 in its low half and pixel j + 4 (or
// j + 8) in its high half (see load_rows8); t[j] lane i = pixel i's column j, j < 8.
[[gnu::always_inline]] inline void transpose8(__m512i (&r)[8]) {
  // u[4g + k]: 128-bit lanes (rows 4g..4g+3 low halves: column k, column 4 + k, high halves: the same).
  __m512i u[8];
  unpack_groups_of_four(r, u);
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x88);
    r[4 + k] = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xDD);
  }
}

// Which of the block's pixels register j of transpose8 takes in its low and high halves, so that lane i
// of the result is pixel i.
constexpr int low_pixel8(int j) {
  return j < 4 ? j : j + 4;
}
constexpr int high_pixel8(int j) {
  return j < 4 ? j + 4 : j + 8;
}

// Pixel-major bytes of 16 pixels x 4 channels: 128-bit lane L holds pixels 4L..4L+3, 4 bytes each, from
// four channel registers (packed with the saturating packs, which order them channel-major in each lane).
[[gnu::always_inline]] inline __m512i pixel_major4(const x86::PackRows& pack, __m512i c0, __m512i c1,
                                                   __m512i c2, __m512i c3) {
  const __m512i channel_major = pack.bytes(x86::PackRows::words(c0, c1), x86::PackRows::words(c2, c3));
  const __m512i transpose =
      _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
  return _mm512_shuffle_epi8(channel_major, transpose);
}

// The register counts the kernel is compiled for (each count is a kernel per epilogue, see SegmentRows):
// 5 to 7 channels run as 8, the block's padding channels having zero weights, and store their first
// channels of the 8-channel bytes.
constexpr bool compiled_width(int n) {
  return n == 1 || n == 2 || n == 3 || n == 4 || n == 8;
}

// The NHWC bytes of 16 pixels x N channels (16 * N bytes) from N registers of 16 pixels each.
template <int N>
[[gnu::always_inline]] inline void store_pixels(const x86::PackRows& pack, const __m512i (&v)[N],
                                                uint8_t* out) {
  static_assert(compiled_width(N));
  auto at = [&](int ch) { return v[std::min(ch, N - 1)]; };  // padding channels repeat the last one
  const __m512i low = pixel_major4(pack, at(0), at(1), at(2), at(3));
  if constexpr (N == 4) {
    _mm512_storeu_si512(out, low);
  } else if constexpr (N < 4) {
    // Each lane's 4 pixels x N channels to its first 4N bytes, then the lanes' first N dwords together.
    alignas(16) static constexpr auto pick = [] {
      std::array<int8_t, 16> t{};
      for (int j = 0; j < 16; ++j)
        t[j] = static_cast<int8_t>(j < 4 * N ? (j / N) * 4 + j % N : -128);
      return t;
    }();
    alignas(64) static constexpr auto order = [] {
      std::array<int32_t, 16> t{};
      for (int i = 0; i < 4 * N; ++i)
        t[i] = (i / N) * 4 + i % N;
      return t;
    }();
    const __m512i compact = _mm512_shuffle_epi8(
        low, _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(pick.data()))));
    const __m512i packed = _mm512_permutexvar_epi32(_mm512_load_si512(order.data()), compact);
    if constexpr (N == 1) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_castsi512_si128(packed));
    } else if constexpr (N == 2) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_castsi512_si256(packed));
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_castsi512_si256(packed));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32), _mm512_extracti32x4_epi32(packed, 2));
    }
  } else {
    const __m512i high = pixel_major4(pack, at(4), at(5), at(6), at(7));
    // Lane L of lo: pixels 4L and 4L + 1, 8 bytes each; of hi: 4L + 2 and 4L + 3.
    const __m512i lo = _mm512_unpacklo_epi32(low, high), hi = _mm512_unpackhi_epi32(low, high);
    const __m512i first = _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), hi);
    const __m512i second = _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), hi);
    _mm512_storeu_si512(out, first);
    _mm512_storeu_si512(out + 64, second);
  }
}

// The first `C` of each of `count` pixels' 8 bytes in `from`, to pixels `c_stride` bytes apart.
template <int C>
void copy_channels(const uint8_t* from, int64_t count, uint8_t* out, int64_t c_stride) {
  for (int64_t p = 0; p < count; ++p)
    std::memcpy(out + p * c_stride, from + p * 8, C);
}

// Rows [0, m), channels [n, n + channels) (n a multiple of 16; channels <= N, N for 1..4), in blocks of 16
// pixels.
template <int N, class Requant>
void few_channels(const PackedWeights& w, SegmentRows a, const int32_t* row_sums, int64_t m, int64_t n,
                  int64_t channels, uint8_t* c, int64_t c_stride) {
  const int64_t k4 = w.k_padded / 4;
  const int8_t* block = w.data.data() + (n / kChannelBlock) * k4 * kChannelBlock * 4;
  const bool sums = row_sums != nullptr;
  // Every lane holds the channel's constants (held in memory: the k loop needs the registers).
  std::array<Requant, N> requant = [&]<size_t... I>(std::index_sequence<I...>) {
    return std::array<Requant, N>{
        Requant(w.requant, n + static_cast<int64_t>(I), sums, x86::ChannelLanes::one)...};
  }
  (std::make_index_sequence<N>{});
  const x86::PackRows pack(w.requant.clamp);
  const bool dense = c_stride == N && channels == N;
  alignas(64) uint8_t staged[kPixels * 8];
  for (int64_t r0 = 0; r0 < m; r0 += kPixels) {
    const int64_t count = std::min<int64_t>(kPixels, m - r0);
    // Past the last row, the block repeats it (its results are not stored).
    auto row = [&](int p, int64_t s) { return a.row(r0 + std::min<int64_t>(p, count - 1), s); };
    __m512i acc[N];
#pragma GCC unroll 8
    for (int ch = 0; ch < N; ++ch)
      acc[ch] = a.initial ? _mm512_set1_epi32(a.initial[n + ch]) : _mm512_setzero_si512();
    for (int64_t s = 0; s < a.runs; ++s) {
      // The run's step q: 16 channels x 4 bytes at wk + 64 q.
      const int8_t* wk = block + a.steps[s].begin * 64;
      const int64_t run_steps = a.steps[s].count;
      for (int64_t q0 = 0; q0 < run_steps;) {
        const int64_t steps = std::min<int64_t>(run_steps - q0, 16);
        const int8_t* wq = wk + q0 * 64;
        // Loads read exactly the segment's k steps, masked where they end inside a register: nothing past
        // a row's end.
        if (steps > 8) {
          const __mmask16 mask = static_cast<__mmask16>((1u << steps) - 1);
          __m512i t[16];
          // Plain loads where the whole register is the segment's (masked loads are slower on AMD cores).
          if (steps == 16) {
#pragma GCC unroll 16
            for (int p = 0; p < 16; ++p)
              t[p] = _mm512_loadu_si512(row(p, s) + q0 * 4);
          } else {
#pragma GCC unroll 16
            for (int p = 0; p < 16; ++p)
              t[p] = _mm512_maskz_loadu_epi32(mask, row(p, s) + q0 * 4);
          }
          transpose16(t);
#pragma GCC unroll 16
          for (int j = 0; j < 16; ++j)
            if (j < steps)
#pragma GCC unroll 8
              for (int ch = 0; ch < N; ++ch)
                acc[ch] = dpbusd(acc[ch], t[j], _mm512_set1_epi32(load_u32(wq + j * 64 + ch * 4)));
        } else {
          const __mmask8 mask = static_cast<__mmask8>((1u << steps) - 1);
          __m512i t[8];
          if (steps == 8) {
#pragma GCC unroll 8
            for (int j = 0; j < 8; ++j)
              t[j] = _mm512_inserti64x4(
                  _mm512_castsi256_si512(
                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row(low_pixel8(j), s) + q0 * 4))),
                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row(high_pixel8(j), s) + q0 * 4)), 1);
          } else {
#pragma GCC unroll 8
            for (int j = 0; j < 8; ++j)
              t[j] = _mm512_inserti64x4(
                  _mm512_castsi256_si512(_mm256_maskz_loadu_epi32(mask, row(low_pixel8(j), s) + q0 * 4)),
                  _mm256_maskz_loadu_epi32(mask, row(high_pixel8(j), s) + q0 * 4), 1);
          }
          transpose8(t);
#pragma GCC unroll 8
          for (int j = 0; j < 8; ++j)
            if (j < steps)
#pragma GCC unroll 8
              for (int ch = 0; ch < N; ++ch)
                acc[ch] = dpbusd(acc[ch], t[j], _mm512_set1_epi32(load_u32(wq + j * 64 + ch * 4)));
        }
        q0 += steps;
      }
    }
    const __m512i block_sums =
        sums ? _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << count) - 1), row_sums + r0)
             : _mm512_setzero_si512();
    __m512i values[N];
#pragma GCC unroll 8
    for (int ch = 0; ch < N; ++ch)
      values[ch] = requant[ch].value_to_pack(acc[ch], block_sums);
    uint8_t* out = c + r0 * c_stride + n;
    if (dense && count == kPixels) {
      store_pixels<N>(pack, values, out);
      continue;
    }
    store_pixels<N>(pack, values, staged);
    if constexpr (N < 8) {
      for (int64_t p = 0; p < count; ++p)
        std::memcpy(out + p * c_stride, staged + p * N, N);
    } else {
      constexpr std::array copies{&copy_channels<5>, &copy_channels<6>, &copy_channels<7>, &copy_channels<8>};
      copies[static_cast<size_t>(channels - 5)](staged, count, out, c_stride);
    }
  }
}

void dispatch(const PackedWeights& w, SegmentRows a, const int32_t* row_sums, int64_t m, int64_t n_begin,
              int64_t n_end, uint8_t* c, int64_t c_stride) {
  const bool fused = x86::FusedRequant16::usable(w.requant, n_begin);
  x86::with_requant(w.requant, fused, [&](auto kind) {
    using Requant = typename decltype(kind)::type;
    using Kernel = void (*)(const PackedWeights&, SegmentRows, const int32_t*, int64_t, int64_t, int64_t,
                            uint8_t*, int64_t);
    static constexpr std::array<Kernel, 5> kernels{&few_channels<1, Requant>, &few_channels<2, Requant>,
                                                   &few_channels<3, Requant>, &few_channels<4, Requant>,
                                                   &few_channels<8, Requant>};
    const int64_t channels = n_end - n_begin;
    kernels[static_cast<size_t>(std::min<int64_t>(channels, 5) - 1)](w, a, row_sums, m, n_begin, channels, c,
                                                                     c_stride);
  });
}

}  // namespace

void few_channels_avx512vnni(const PackedWeights& w, const uint8_t* a, int64_t a_stride,
                             const int32_t* row_sums, int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c,
                             int64_t c_stride) {
  // Rows `a_stride` bytes apart (one segment: compute_avx512vnni sends segmented weights through a table
  // of its own), as a pointer table a chunk of rows at a time.
  constexpr int64_t kChunk = 16 * kPixels;
  const uint8_t* table[kChunk];
  const int32_t* sums = w.needs_row_sums ? row_sums : nullptr;
  const KSteps whole{0, static_cast<int32_t>(w.k_padded / 4)};
  for (int64_t r0 = 0; r0 < m; r0 += kChunk) {
    const int64_t rows = std::min(kChunk, m - r0);
    for (int64_t r = 0; r < rows; ++r)
      table[r] = a + (r0 + r) * a_stride;
    dispatch(w, SegmentRows{table, &whole, 1, nullptr}, sums ? sums + r0 : nullptr, rows, n_begin, n_end,
             c + r0 * c_stride, c_stride);
  }
}

void few_channels_segmented_avx512vnni(const PackedWeights& w, const RowPieces& rows, const int32_t* row_sums,
                                       int64_t n_begin, int64_t n_end) {
  if (rows.m == 0) return;
  const SegmentRows a{rows.rows, rows.runs.data(), static_cast<int64_t>(rows.runs.size()), rows.initial};
  dispatch(w, a, w.needs_row_sums ? row_sums : nullptr, rows.m, n_begin, n_end, rows.c, rows.c_stride);
}

}  // namespace octet::gemm
