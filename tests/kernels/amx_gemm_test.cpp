// The AMX GEMM without AMX hardware (kernels/gemm/amx_*.h): the B-tile packing, the scalar model of the tile
// instructions against plain loops, and the tile walk on that model against the scalar GEMM and the
// reference fully connected operator, bit for bit, on every tail and at the extremes. Plus the AMX
// detection, which must explain itself where AMX is not usable.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "kernels/gemm/amx_gemm.h"
#include "kernels/gemm/amx_pack.h"
#include "kernels/gemm/amx_tile_model.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/isa.h"
#include "kernels/peak.h"
#include "kernels/reference/fully_connected.h"
#include "kernels/x86/amx_support.h"
#include "test_util.h"

namespace octet {
namespace {

using gemm::AmxPackedWeights;
using gemm::amx::TileConfig;
using gemm::amx::TileModel;

// ---------------------------------------------------------------------------------------------------------
// Packing

template <class W>
void check_pack_round_trip(uint64_t seed, int64_t n, int64_t k, bool asymmetric, int64_t segments = 1) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " n " + std::to_string(n) + " k " + std::to_string(k) +
               " segments " + std::to_string(segments));
  test::Random rng(seed);
  const auto w = test::random_weights<W>(rng, {n, k}, rng.coin(), asymmetric);
  const QuantParams in = rng.activation_params(), out = QuantParams::per_tensor(rng.scale(0.05, 1.0), 128);
  std::vector<int32_t> bias = rng.values<int32_t>(n, -5000, 5000);
  const int32_t* b = rng.coin() ? bias.data() : nullptr;
  for (RequantMode mode : test::kRequantModes) {
    const AmxPackedWeights p =
        gemm::amx_pack(w.data.data(), n, k, w.quant, b, in, out, Clamp{}, "t", mode, segments);
    EXPECT_EQ(p.n, n);
    EXPECT_EQ(p.k, k);
    EXPECT_EQ(p.segments, segments);
    EXPECT_EQ(p.segment_padded % gemm::kAmxKStep, 0);
    EXPECT_TRUE(p.segment_padded >= k / segments && p.segment_padded < k / segments + gemm::kAmxKStep);
    EXPECT_EQ(p.k_padded, segments * p.segment_padded);
    EXPECT_EQ(p.n_padded % gemm::kChannelBlock, 0);
    EXPECT_EQ(p.data.size(), static_cast<size_t>(p.n_padded * p.k_padded));
    // uint8 weights are stored minus 128, as gemm::pack stores them.
    constexpr int shift = std::is_same_v<W, uint8_t> ? 128 : 0;
    std::vector<int8_t> expected(w.data.size());
    for (size_t i = 0; i < expected.size(); ++i)
      expected[i] = static_cast<int8_t>(static_cast<int>(w.data[i]) - shift);
    EXPECT_EQ(gemm::amx_unpack(p), expected);
    EXPECT_TRUE(gemm::amx_padding_is_zero(p));
    // The constants are the scalar packing's: same folded bias, multipliers, zero points.
    const gemm::PackedWeights s =
        gemm::pack(Isa::scalar, w.data.data(), n, k, w.quant, b, in, out, Clamp{}, "t", 1, mode);
    EXPECT_EQ(p.requant.bias, s.requant.bias);
    EXPECT_EQ(p.requant.multiplier, s.requant.multiplier);
    EXPECT_EQ(p.requant.right_shift, s.requant.right_shift);
    EXPECT_EQ(p.requant.left_shift, s.requant.left_shift);
    EXPECT_EQ(p.requant.scale, s.requant.scale);
    EXPECT_EQ(p.requant.weight_zero_point, s.requant.weight_zero_point);
    EXPECT_EQ(p.needs_row_sums, s.needs_row_sums);
    EXPECT_EQ(p.input_zero_point, s.input_zero_point);
  }
}

TEST(AmxPack, RoundTripsEveryShape) {
  uint64_t seed = 0;
  for (int64_t n : {1, 2, 15, 16, 17, 31, 32, 33, 70})
    for (int64_t k : {1, 2, 3, 4, 5, 63, 64, 65, 127, 128, 129, 300}) {
      check_pack_round_trip<int8_t>(++seed, n, k, false);
      check_pack_round_trip<int8_t>(++seed, n, k, true);
      check_pack_round_trip<uint8_t>(++seed, n, k, true);
    }
}

// Kernel-row segments (a convolution's KH rows of KW * C_in bytes), each padded to 64 on its own.
TEST(AmxPack, RoundTripsSegments) {
  uint64_t seed = 5000;
  for (int64_t n : {1, 17, 33})
    for (int64_t segments : {2, 3, 7})
      for (int64_t segment_k : {1, 3, 27, 63, 64, 65, 192}) {
        check_pack_round_trip<int8_t>(++seed, n, segments * segment_k, false, segments);
        check_pack_round_trip<uint8_t>(++seed, n, segments * segment_k, true, segments);
      }
  const std::vector<int8_t> w(10, 1);
  const QuantParams q = QuantParams::per_tensor(0.01f, 0);
  EXPECT_THROW(gemm::amx_pack(w.data(), 2, 5, q, nullptr, q, q, Clamp{}, "t", RequantMode::fixed_point, 2),
               Error);  // 5 does not split into 2 segments
}

// The B tile of block b, step s, row g, channel c, byte j is weight (16b + c, 64s + 4g + j): the VNNI form.
TEST(AmxPack, TilesHoldFourConsecutiveWeightsPerChannelPerRow) {
  const int64_t n = 20, k = 70;
  std::vector<int8_t> w(static_cast<size_t>(n * k));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < k; ++j)
      w[static_cast<size_t>(r * k + j)] = static_cast<int8_t>((r * 7 + j * 3) % 251 - 125);
  const QuantParams q = QuantParams::per_tensor(0.01f, 0);
  const AmxPackedWeights p = gemm::amx_pack(w.data(), n, k, q, nullptr, QuantParams::per_tensor(0.02f, 5),
                                            QuantParams::per_tensor(0.5f, 7), Clamp{}, "t");
  ASSERT_EQ(p.k_padded, 128);
  ASSERT_EQ(p.n_padded, 32);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t s = 0; s < 2; ++s) {
      const int8_t* tile = p.b_tile(b, s);
      for (int64_t g = 0; g < 16; ++g)
        for (int64_t c = 0; c < 16; ++c)
          for (int64_t j = 0; j < 4; ++j) {
            const int64_t r = 16 * b + c, kk = 64 * s + 4 * g + j;
            const int8_t want = r < n && kk < k ? w[static_cast<size_t>(r * k + kk)] : 0;
            ASSERT_EQ(tile[g * 64 + c * 4 + j], want) << b << " " << s << " " << g << " " << c << " " << j;
          }
    }
}

TEST(AmxPack, RefusesWhatGemmPackRefuses) {
  const std::vector<int8_t> w(8, 1);
  const QuantParams q = QuantParams::per_tensor(0.01f, 0);
  EXPECT_THROW(gemm::amx_pack(w.data(), 0, 8, q, nullptr, q, q, Clamp{}, "t"), Error);
  EXPECT_THROW(gemm::amx_pack(w.data(), 2, 0, q, nullptr, q, q, Clamp{}, "t"), Error);
}

// ---------------------------------------------------------------------------------------------------------
// The tile model

TileConfig random_config(test::Random& rng, int& rows_m, int& groups_k, int& groups_n) {
  rows_m = static_cast<int>(rng.integer(1, 16));
  groups_k = static_cast<int>(rng.integer(1, 16));
  groups_n = static_cast<int>(rng.integer(1, 16));
  TileConfig c;
  c.tile(0, rows_m, 4 * groups_n);    // C: M x N dwords
  c.tile(1, rows_m, 4 * groups_k);    // A: M x K groups of 4 bytes
  c.tile(2, groups_k, 4 * groups_n);  // B: K rows x N groups of 4 bytes
  return c;
}

TEST(AmxTileModel, DpbusdIsThePlainLoopModulo2To32) {
  test::Random rng(7);
  for (int trial = 0; trial < test::random_trials(300); ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    int m = 0, kg = 0, ng = 0;
    TileModel t;
    t.configure(random_config(rng, m, kg, ng));
    const int64_t a_stride = 4 * kg + rng.integer(0, 9), b_stride = 4 * ng + rng.integer(0, 5);
    // Extremes often: 0 / 255 activations, -128 / 127 weights, accumulators near the int32 ends.
    const bool extreme = trial % 3 == 0;
    std::vector<uint8_t> a(static_cast<size_t>(m * a_stride));
    std::vector<int8_t> b(static_cast<size_t>(kg * b_stride));
    for (auto& x : a)
      x = static_cast<uint8_t>(extreme ? (rng.coin() ? 255 : 0) : rng.integer(0, 255));
    for (auto& x : b)
      x = static_cast<int8_t>(extreme ? (rng.coin() ? 127 : -128) : rng.integer(-128, 127));
    std::vector<int32_t> c(static_cast<size_t>(m * ng));
    for (auto& x : c)
      x = extreme ? (rng.coin() ? INT32_MAX - static_cast<int32_t>(rng.integer(0, 1000))
                                : INT32_MIN + static_cast<int32_t>(rng.integer(0, 1000)))
                  : static_cast<int32_t>(rng.integer(-100000, 100000));
    t.load(0, c.data(), 4 * ng);
    t.load(1, a.data(), a_stride);
    t.load(2, b.data(), b_stride);
    t.dpbusd(0, 1, 2);
    std::vector<int32_t> got(static_cast<size_t>(m * ng), 0x5a5a5a5a);
    t.store(0, got.data(), 4 * ng);
    for (int r = 0; r < m; ++r)
      for (int n = 0; n < ng; ++n) {
        int64_t sum = c[static_cast<size_t>(r * ng + n)];
        for (int kk = 0; kk < 4 * kg; ++kk)
          sum += int64_t{a[static_cast<size_t>(r * a_stride + kk)]} *
                 b[static_cast<size_t>(kk / 4 * b_stride + n * 4 + kk % 4)];
        const auto wrapped = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(sum)));
        ASSERT_EQ(got[static_cast<size_t>(r * ng + n)], wrapped) << r << " " << n;
      }
    // Nothing of the register outside the configured shape is nonzero after the multiply.
    const TileModel::Tile& tile = t.tile(0);
    for (int r = 0; r < gemm::amx::kMaxRows; ++r)
      for (int i = 0; i < gemm::amx::kMaxRowBytes; ++i)
        if (r >= m || i >= 4 * ng) {
          ASSERT_EQ(tile[static_cast<size_t>(r * 64 + i)], 0) << r << " " << i;
        }
  }
}

TEST(AmxTileModel, LoadsAndStoresOnlyTheConfiguredShape) {
  TileModel t;
  TileConfig c;
  c.tile(3, 5, 12);
  t.configure(c);
  std::vector<uint8_t> src(200);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<uint8_t>(i + 1);
  t.load(3, src.data(), 30);
  for (int r = 0; r < 16; ++r)
    for (int i = 0; i < 64; ++i)
      EXPECT_EQ(t.tile(3)[static_cast<size_t>(r * 64 + i)],
                r < 5 && i < 12 ? src[static_cast<size_t>(r * 30 + i)] : 0);
  std::vector<uint8_t> dst(200, 0xee);
  t.store(3, dst.data(), 20);
  for (size_t i = 0; i < dst.size(); ++i) {
    const bool inside = i < 100 && i % 20 < 12;
    EXPECT_EQ(dst[i], inside ? src[i / 20 * 30 + i % 20] : 0xee) << i;
  }
  t.zero(3);
  for (uint8_t x : t.tile(3))
    EXPECT_EQ(x, 0);
}

TEST(AmxTileModel, RefusesWhatTheHardwareRefuses) {
  TileModel t;
  uint8_t buf[1024] = {};
  EXPECT_THROW(t.zero(0), Error);  // no configuration
  TileConfig bad;
  bad.palette = 0;
  EXPECT_THROW(t.configure(bad), Error);
  EXPECT_THROW(t.configure(TileConfig{}.tile(0, 17, 64)), Error);
  EXPECT_THROW(t.configure(TileConfig{}.tile(0, 16, 65)), Error);
  EXPECT_THROW(t.configure(TileConfig{}.tile(0, 16, 0)), Error);
  EXPECT_THROW(t.configure(TileConfig{}.tile(8, 16, 64)), Error);
  TileConfig reserved;
  reserved.reserved[3] = 1;
  EXPECT_THROW(t.configure(reserved), Error);

  t.configure(TileConfig{}.tile(0, 4, 16).tile(1, 4, 32).tile(2, 8, 16).tile(3, 7, 16).tile(4, 4, 16));
  EXPECT_THROW(t.load(5, buf, 64), Error);  // unconfigured tile
  EXPECT_NO_THROW(t.dpbusd(0, 1, 2));
  EXPECT_THROW(t.dpbusd(0, 0, 2), Error);  // the same tile twice
  EXPECT_THROW(t.dpbusd(0, 1, 3), Error);  // A has 8 dword columns, B 7 rows
  EXPECT_THROW(t.dpbusd(0, 4, 2), Error);  // A has 4 dword columns, B 8 rows
  EXPECT_THROW(t.dpbusd(2, 1, 0), Error);  // C has 8 rows, A 4
  t.release();
  EXPECT_FALSE(t.configured());
  EXPECT_THROW(t.dpbusd(0, 1, 2), Error);
}

// ---------------------------------------------------------------------------------------------------------
// The walk

// The tile model, refusing any tile row that reads the memory around A (A plus guard zones on both sides,
// one allocation) outside a row's k real bytes: the walk must never read before A, past its end, or in the
// gaps between strided rows. Its copies and the packed B are other allocations.
class CheckedTiles : public TileModel {
 public:
  CheckedTiles(std::span<const uint8_t> zone, const uint8_t* a, int64_t a_stride, int64_t m, int64_t k)
      : zone_(zone), a_(a), a_stride_(a_stride), m_(m), k_(k) {}

  template <int T>
  void load(const void* p, int64_t stride) {
    for (int r = 0; r < rows(T); ++r) {
      const auto* row = static_cast<const uint8_t*>(p) + r * stride;
      if (row + colsb(T) <= zone_.data() || row >= zone_.data() + zone_.size()) continue;
      const int64_t offset = row - a_;
      if (offset < 0 || offset / a_stride_ >= m_ || offset % a_stride_ + colsb(T) > k_)
        throw Error("tile " + std::to_string(T) + " row " + std::to_string(r) + " reads outside A's rows");
    }
    ++loads;
    TileModel::load(T, p, stride);
  }

  int64_t loads = 0;

 private:
  std::span<const uint8_t> zone_;
  const uint8_t* a_;
  int64_t a_stride_, m_, k_;
};

struct GemmCase {
  int64_t m, n, k;
  enum class Values { random, extreme_high, extreme_low, extreme_mixed } values = Values::random;
};

// The walk's epilogues this CPU runs: the scalar one, and the AVX-512 one where the CPU has it.
std::vector<std::pair<const char*, gemm::amx::BlockEpilogue>> epilogues() {
  std::vector<std::pair<const char*, gemm::amx::BlockEpilogue>> out = {
      {"scalar", gemm::amx::scalar_epilogue}};
#if defined(__x86_64__)
  const std::vector<Isa> isas = supported_isas();
  if (std::find(isas.begin(), isas.end(), Isa::avx512vnni) != isas.end())
    out.emplace_back("avx512", gemm::amx::avx512_epilogue);
#endif
  return out;
}

// Output params that spread typical accumulators of k products over the byte range (some saturate, as they
// should).
QuantParams spreading_output(test::Random& rng, const QuantParams& in, const QuantParams& weights,
                             int64_t k) {
  const double spread = 74.0 * 74.0 * std::sqrt(static_cast<double>(k)) * rng.real(1.0, 8.0) / 40.0;
  return QuantParams::per_tensor(static_cast<float>(in.scale() * weights.scale(0) * spread),
                                 static_cast<int32_t>(rng.integer(0, 255)));
}

// No clamp, or a narrow one.
Clamp random_clamp(test::Random& rng) {
  return rng.coin()
             ? Clamp{}
             : Clamp{static_cast<int32_t>(rng.integer(0, 100)), static_cast<int32_t>(rng.integer(150, 255))};
}

// A channel range: everything, or from a multiple of 16 to anywhere after it.
std::pair<int64_t, int64_t> random_channel_range(test::Random& rng, int64_t n) {
  if (rng.integer(0, 3) != 0) return {0, n};
  const int64_t begin = rng.integer(0, (n - 1) / 16) * 16;
  return {begin, rng.integer(begin + 1, n)};
}

template <class W>
void check_walk(uint64_t seed, const GemmCase& g, RequantMode mode) {
  const int64_t m = g.m, n = g.n, k = g.k;
  SCOPED_TRACE("seed " + std::to_string(seed) + " m " + std::to_string(m) + " n " + std::to_string(n) +
               " k " + std::to_string(k) + " mode " + std::string(name_of(mode)));
  test::Random rng(seed);
  const bool asymmetric = rng.coin() || std::is_same_v<W, uint8_t>;
  auto w = test::random_weights<W>(rng, {n, k}, rng.coin(), asymmetric);
  const int64_t a_stride = k + (rng.coin() ? 0 : rng.integer(1, 40));
  // A: m rows of k bytes, a_stride apart, with guard zones of random bytes before and after it.
  const int64_t guard = 16 * a_stride + 64;
  std::vector<uint8_t> zone(static_cast<size_t>(2 * guard + (m - 1) * a_stride + k));
  for (auto& x : zone)
    x = static_cast<uint8_t>(rng.integer(0, 255));
  const std::span<uint8_t> a(zone.data() + guard, static_cast<size_t>((m - 1) * a_stride + k));
  using V = GemmCase::Values;
  const IntRange wr = range_of(element_type_of<W>());
  if (g.values != V::random) {
    for (auto& x : a)
      x = g.values == V::extreme_high ? 255 : g.values == V::extreme_low ? 0 : (rng.coin() ? 255 : 0);
    for (auto& x : w.data)
      x = static_cast<W>(g.values == V::extreme_high  ? wr.max
                         : g.values == V::extreme_low ? wr.min
                                                      : (rng.coin() ? wr.max : wr.min));
  }
  QuantParams in = rng.activation_params();
  if (g.values != V::random) in = QuantParams::per_tensor(in.scale(), rng.coin() ? 0 : 255);
  const QuantParams out = spreading_output(rng, in, w.quant, k);
  const Clamp clamp = random_clamp(rng);
  const TensorS32 bias = test::random_bias(rng, n, in, w, g.values == V::random ? 2000 : 1000000);
  const bool use_bias = rng.coin();
  const int32_t* b = use_bias ? bias.data.data() : nullptr;

  const AmxPackedWeights p = gemm::amx_pack(w.data.data(), n, k, w.quant, b, in, out, clamp, "t", mode);
  const gemm::PackedWeights s =
      gemm::pack(Isa::scalar, w.data.data(), n, k, w.quant, b, in, out, clamp, "t", 1, mode);
  std::vector<int32_t> sums(static_cast<size_t>(m), 0);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < k; ++j)
      sums[static_cast<size_t>(r)] += a[static_cast<size_t>(r * a_stride + j)];
  // The scalar GEMM reads rows of k_padded bytes with zeros past k.
  std::vector<uint8_t> a_padded(static_cast<size_t>(m * s.k_padded), 0);
  for (int64_t r = 0; r < m; ++r)
    std::copy_n(a.begin() + r * a_stride, k, a_padded.begin() + r * s.k_padded);

  const auto [n_begin, n_end] = random_channel_range(rng, n);
  const int64_t c_stride = n + rng.integer(0, 3);
  std::vector<uint8_t> want(static_cast<size_t>(m * c_stride), 0xcd), got = want;
  gemm::compute_scalar(s, a_padded.data(), s.k_padded, sums.data(), m, n_begin, n_end, want.data(), c_stride);
  for (const auto& [epilogue_name, epilogue] : epilogues()) {
    SCOPED_TRACE(std::string("epilogue ") + epilogue_name);
    std::fill(got.begin(), got.end(), uint8_t{0xcd});
    CheckedTiles tiles(zone, a.data(), a_stride, m, k);
    gemm::amx::walk(tiles, p, a.data(), a_stride, p.needs_row_sums ? sums.data() : nullptr, m, n_begin, n_end,
                    got.data(), c_stride, epilogue);
    EXPECT_FALSE(tiles.configured());  // the walk releases the tiles
    const int64_t steps = p.k_steps(), row_blocks = (m + 31) / 32;
    EXPECT_GE(tiles.loads, row_blocks * steps * 2);  // at least one A and one B tile per block and step
    ASSERT_EQ(got, want);  // bytes outside [n_begin, n_end) and the row gaps untouched in both
  }

#if defined(__x86_64__)
  // The same walk on the hardware, where this machine has AMX.
  if (amx_support().usable) {
    std::vector<uint8_t> hw(static_cast<size_t>(m * c_stride), 0xcd);
    gemm::compute_amx(p, a.data(), a_stride, p.needs_row_sums ? sums.data() : nullptr, m, n_begin, n_end,
                      hw.data(), c_stride);
    ASSERT_EQ(hw, want) << "AMX hardware";
  }
#endif

  // The library's entry point on the model, and the reference operator, for the whole range.
  if (n_begin == 0 && n_end == n) {
    std::vector<uint8_t> lib(static_cast<size_t>(m * c_stride), 0xcd);
    gemm::compute_amx_model(p, a.data(), a_stride, p.needs_row_sums ? sums.data() : nullptr, m, 0, n,
                            lib.data(), c_stride);
    EXPECT_EQ(lib, want);
    TensorU8 input({m, k}, std::vector<uint8_t>(static_cast<size_t>(m * k)), in);
    for (int64_t r = 0; r < m; ++r)
      std::copy_n(a.begin() + r * a_stride, k, input.data.begin() + r * k);
    const TensorU8 ref = ref::fully_connected(input, w, use_bias ? &bias : nullptr, out, clamp, mode);
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c)
        ASSERT_EQ(got[static_cast<size_t>(r * c_stride + c)], ref.data[static_cast<size_t>(r * n + c)])
            << "row " << r << " channel " << c;
  }
}

template <class W>
void check_walk_both_modes(uint64_t seed, const GemmCase& g) {
  for (RequantMode mode : test::kRequantModes)
    check_walk<W>(seed, g, mode);
}

// Every tail: m, n, k below, at and past their tile sizes (16 rows, 16 channels, 64 k; 32 x 32 blocks),
// k < 4, n = 1, m = 1.
TEST(AmxGemm, MatchesTheScalarGemmOnEveryTail) {
  uint64_t seed = 1000;
  for (int64_t m : {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 65})
    for (int64_t n : {1, 3, 16, 17, 32, 33, 48, 50})
      for (int64_t k : {1, 3, 4, 63, 64, 65, 130}) {
        check_walk_both_modes<int8_t>(++seed, {m, n, k});
        if (seed % 4 == 0) check_walk_both_modes<uint8_t>(++seed, {m, n, k});
      }
}

TEST(AmxGemm, MatchesTheScalarGemmOnRandomShapes) {
  for (uint64_t seed = 0; seed < test::random_trials(150); ++seed) {
    test::Random rng(seed * 7919);
    const GemmCase g{rng.integer(1, 80), rng.integer(1, 70), rng.integer(1, 400)};
    if (seed % 3 == 0)
      check_walk_both_modes<uint8_t>(seed, g);
    else
      check_walk_both_modes<int8_t>(seed, g);
  }
}

// 0 / 255 activations against -128 / 127 (0 / 255) weights, with input zero points 0 and 255, and long k
// up to 4096: the largest products and sums the overflow guard admits, and the folded bias wrapping.
TEST(AmxGemm, MatchesTheScalarGemmAtTheExtremes) {
  using V = GemmCase::Values;
  uint64_t seed = 50000;
  for (V v : {V::extreme_high, V::extreme_low, V::extreme_mixed})
    for (int64_t k : {1, 4, 64, 1000, 4095, 4096}) {
      check_walk_both_modes<int8_t>(++seed, {35, 33, k, v});
      check_walk_both_modes<uint8_t>(++seed, {17, 18, k, v});
    }
  check_walk_both_modes<int8_t>(++seed, {70, 40, 4096});
}

TEST(AmxGemm, RefusesABadChannelRange) {
  const std::vector<int8_t> w(40, 1);
  const QuantParams q = QuantParams::per_tensor(0.01f, 0);
  const AmxPackedWeights p = gemm::amx_pack(w.data(), 20, 2, q, nullptr, q, q, Clamp{}, "t");
  uint8_t a[4] = {}, c[40] = {};
  EXPECT_THROW(gemm::compute_amx_model(p, a, 2, nullptr, 2, 8, 20, c, 20), Error);  // not a block start
  EXPECT_THROW(gemm::compute_amx_model(p, a, 2, nullptr, 2, 0, 21, c, 20), Error);  // past n
  EXPECT_NO_THROW(gemm::compute_amx_model(p, a, 2, nullptr, 2, 16, 20, c, 20));
}

// ---------------------------------------------------------------------------------------------------------
// The segmented walk (a convolution's kernel rows read in place)

// The tile model, refusing any tile row that reads the zone (the "image" and its padding copies, one
// allocation) outside the segment_k bytes of some row's segment; counting the loads that read the zone in
// place. The walk's own copies and the packed B are other allocations.
class SegmentCheckedTiles : public TileModel {
 public:
  SegmentCheckedTiles(std::span<const uint8_t> zone, std::vector<uint8_t> readable)
      : zone_(zone), readable_(std::move(readable)) {}

  template <int T>
  void load(const void* p, int64_t stride) {
    bool in_zone = false;
    for (int r = 0; r < rows(T); ++r) {
      const auto* row = static_cast<const uint8_t*>(p) + r * stride;
      if (row + colsb(T) <= zone_.data() || row >= zone_.data() + zone_.size()) continue;
      in_zone = true;
      const int64_t offset = row - zone_.data();
      for (int64_t j = 0; j < colsb(T); ++j)
        if (offset + j < 0 || offset + j >= static_cast<int64_t>(zone_.size()) ||
            !readable_[static_cast<size_t>(offset + j)])
          throw Error("tile " + std::to_string(T) + " row " + std::to_string(r) +
                      " reads outside the segments");
    }
    in_place_loads += in_zone;
    TileModel::load(T, p, stride);
  }

  int64_t in_place_loads = 0;

 private:
  std::span<const uint8_t> zone_;
  std::vector<uint8_t> readable_;
};

struct SegmentCase {
  int64_t m, n, segments, segment_k;
  int64_t run = 0;     // output pixels per image row (0: random)
  int64_t step = 0;    // bytes between neighbouring pixels' segments (0: random, often < segment_k)
  double copied = -1;  // share of segments that point at padding copies instead (-1: random)
};

// A convolution's segment table: output pixel i at image row i / run, column i % run; its segment g at
// line (i / run) * line_step + g of the image, column offset (i % run) * step; some segments (the borders of
// a real convolution) point at copies elsewhere in the zone instead. Checked against the scalar GEMM on
// the im2col rows those segments make, and the reference fully connected operator.
void check_segmented_walk(uint64_t seed, const SegmentCase& sc, RequantMode mode) {
  const int64_t m = sc.m, n = sc.n, segments = sc.segments, segment_k = sc.segment_k,
                k = segments * segment_k;
  SCOPED_TRACE("seed " + std::to_string(seed) + " m " + std::to_string(m) + " n " + std::to_string(n) +
               " segments " + std::to_string(segments) + " x " + std::to_string(segment_k) + " mode " +
               std::string(name_of(mode)));
  test::Random rng(seed);
  const int64_t run = sc.run > 0 ? sc.run : rng.integer(1, 40);
  const int64_t step = sc.step > 0 ? sc.step : rng.integer(1, 2 * segment_k);
  const double copied = sc.copied >= 0 ? sc.copied : (rng.coin() ? 0.0 : rng.real(0.0, 0.3));
  const int64_t line_step = rng.integer(1, 2), line_bytes = (run - 1) * step + segment_k + rng.integer(0, 9);
  const int64_t lines = (m - 1) / run * line_step + segments;
  const int64_t guard = 64 * 16, image = lines * line_bytes, copies = m * segments * segment_k;
  std::vector<uint8_t> zone(static_cast<size_t>(guard + image + guard + copies + guard));
  for (auto& x : zone)
    x = static_cast<uint8_t>(rng.integer(0, 255));
  std::vector<uint8_t> readable(zone.size(), 0);
  std::vector<const uint8_t*> table(static_cast<size_t>(m * segments));
  int64_t next_copy = guard + image + guard;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t g = 0; g < segments; ++g) {
      int64_t offset = guard + ((i / run) * line_step + g) * line_bytes + (i % run) * step;
      if (rng.real(0.0, 1.0) < copied) {
        offset = next_copy;
        next_copy += segment_k;
      }
      table[static_cast<size_t>(i * segments + g)] = zone.data() + offset;
      std::fill_n(readable.begin() + offset, segment_k, uint8_t{1});
    }

  auto w = test::random_weights<int8_t>(rng, {n, k}, rng.coin(), false);
  const QuantParams in = rng.activation_params();
  const QuantParams out = spreading_output(rng, in, w.quant, k);
  const Clamp clamp = random_clamp(rng);
  const TensorS32 bias = test::random_bias(rng, n, in, w, 2000);
  const AmxPackedWeights p =
      gemm::amx_pack(w.data.data(), n, k, w.quant, &bias.data[0], in, out, clamp, "t", mode, segments);
  ASSERT_FALSE(p.needs_row_sums);
  const gemm::PackedWeights s =
      gemm::pack(Isa::scalar, w.data.data(), n, k, w.quant, &bias.data[0], in, out, clamp, "t", 1, mode);
  // The im2col rows the table describes, padded for the scalar GEMM.
  std::vector<uint8_t> im2col(static_cast<size_t>(m * s.k_padded), 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t g = 0; g < segments; ++g)
      std::copy_n(table[static_cast<size_t>(i * segments + g)], segment_k,
                  im2col.begin() + i * s.k_padded + g * segment_k);

  const auto [n_begin, n_end] = random_channel_range(rng, n);
  const int64_t c_stride = n + rng.integer(0, 3);
  std::vector<uint8_t> want(static_cast<size_t>(m * c_stride), 0xcd), got = want;
  gemm::compute_scalar(s, im2col.data(), s.k_padded, nullptr, m, n_begin, n_end, want.data(), c_stride);
  for (const auto& [epilogue_name, epilogue] : epilogues()) {
    SCOPED_TRACE(std::string("epilogue ") + epilogue_name);
    std::fill(got.begin(), got.end(), uint8_t{0xcd});
    SegmentCheckedTiles tiles(zone, readable);
    gemm::amx::walk_segmented(tiles, p, table.data(), m, n_begin, n_end, got.data(), c_stride, epilogue);
    EXPECT_FALSE(tiles.configured());
    ASSERT_EQ(got, want);
    // The first 16 pixels, along one image row with no copies among them, read their whole steps in place.
    if (copied == 0 && run >= 16 && m >= 16 && segment_k >= gemm::kAmxKStep) {
      EXPECT_GT(tiles.in_place_loads, 0);
    }
  }
#if defined(__x86_64__)
  if (amx_support().usable) {
    std::vector<uint8_t> hw(static_cast<size_t>(m * c_stride), 0xcd);
    gemm::compute_amx_segmented(p, table.data(), m, n_begin, n_end, hw.data(), c_stride);
    ASSERT_EQ(hw, want) << "AMX hardware";
  }
#endif
  if (n_begin == 0 && n_end == n) {
    std::vector<uint8_t> lib(static_cast<size_t>(m * c_stride), 0xcd);
    gemm::compute_amx_segmented_model(p, table.data(), m, 0, n, lib.data(), c_stride);
    EXPECT_EQ(lib, want);
    TensorU8 input({m, k}, std::vector<uint8_t>(static_cast<size_t>(m * k)), in);
    for (int64_t i = 0; i < m; ++i)
      std::copy_n(im2col.begin() + i * s.k_padded, k, input.data.begin() + i * k);
    const TensorU8 ref = ref::fully_connected(input, w, &bias, out, clamp, mode);
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c)
        ASSERT_EQ(got[static_cast<size_t>(r * c_stride + c)], ref.data[static_cast<size_t>(r * n + c)])
            << "row " << r << " channel " << c;
  }
}

// Convolution shapes: 3x3 over 64 channels (192-byte kernel rows: whole steps), 3x3 over 32 and 16 (a
// partial last step, or only one), 1x7 over 128, 5x5 over 3 (a first layer), with runs of output pixels
// longer and shorter than a tile, pixel steps below a kernel row (stride 1) and above it, and padding copies.
TEST(AmxGemm, SegmentedMatchesTheScalarGemmOnConvolutionShapes) {
  uint64_t seed = 70000;
  for (RequantMode mode : test::kRequantModes) {
    for (int64_t m : {1, 16, 17, 33, 70}) {
      check_segmented_walk(++seed, {m, 64, 3, 192, 56, 64, 0.0}, mode);   // 3x3 stride 1 over 64 channels
      check_segmented_walk(++seed, {m, 40, 3, 192, 20, 128, 0.1}, mode);  // stride 2, borders copied
      check_segmented_walk(++seed, {m, 33, 3, 96, 40, 32, 0.0}, mode);    // 3x3 over 32
      check_segmented_walk(++seed, {m, 16, 3, 48, 17, 16, 0.05}, mode);   // 3x3 over 16
      check_segmented_walk(++seed, {m, 20, 1, 896, 35, 128, 0.0}, mode);  // 1x7 over 128
      check_segmented_walk(++seed, {m, 32, 5, 15, 30, 6, 0.0}, mode);     // 5x5 stride 2 over 3
    }
  }
}

TEST(AmxGemm, SegmentedMatchesTheScalarGemmOnRandomShapes) {
  for (uint64_t seed = 0; seed < test::random_trials(120); ++seed) {
    test::Random rng(seed * 104729 + 1);
    const SegmentCase sc{rng.integer(1, 80), rng.integer(1, 70), rng.integer(1, 7), rng.integer(1, 260)};
    check_segmented_walk(seed + 80000, sc, seed % 2 ? RequantMode::float_scale : RequantMode::fixed_point);
  }
}

TEST(AmxGemm, SegmentedRefusesRowSumsAndPlainWalkRefusesSegments) {
  const QuantParams q = QuantParams::per_tensor(0.01f, 0);
  std::vector<int8_t> w(32, 1);
  const AmxPackedWeights segmented =
      gemm::amx_pack(w.data(), 4, 8, q, nullptr, q, q, Clamp{}, "t", RequantMode::fixed_point, 2);
  uint8_t a[16] = {}, c[16] = {};
  EXPECT_THROW(gemm::compute_amx_model(segmented, a, 8, nullptr, 1, 0, 4, c, 4), Error);
  const QuantParams asymmetric = QuantParams::per_tensor(0.01f, 3);
  const AmxPackedWeights with_sums =
      gemm::amx_pack(w.data(), 4, 8, asymmetric, nullptr, q, q, Clamp{}, "t", RequantMode::fixed_point, 2);
  ASSERT_TRUE(with_sums.needs_row_sums);
  const uint8_t* rows[2] = {a, a + 4};
  EXPECT_THROW(gemm::compute_amx_segmented_model(with_sums, rows, 1, 0, 4, c, 4), Error);
  EXPECT_NO_THROW(gemm::compute_amx_segmented_model(segmented, rows, 1, 0, 4, c, 4));
}

// ---------------------------------------------------------------------------------------------------------
// Detection

TEST(AmxSupport, ExplainsItselfWhenNotUsable) {
  const AmxSupport& s = amx_support();
  EXPECT_EQ(&s, &amx_support());  // checked once
  const std::string line = describe_amx_support();
  if (s.usable) {
    EXPECT_TRUE(s.reason.empty());
    EXPECT_EQ(line.rfind("usable", 0), 0u) << line;
    return;
  }
  EXPECT_FALSE(s.reason.empty());
  EXPECT_EQ(line, "not usable: " + s.reason);
#if !defined(__x86_64__)
  EXPECT_EQ(s.reason, "not an x86 CPU");
#else
  const bool known = s.reason == "CPU has no AMX-INT8" || s.reason == "CPU has no AMX-TILE" ||
                     s.reason.rfind("OS does not enable tile state (XCR0)", 0) == 0 ||
                     s.reason.rfind("arch_prctl(ARCH_REQ_XCOMP_PERM) refused: ", 0) == 0 ||
                     s.reason.rfind("not checked on this OS", 0) == 0;
  EXPECT_TRUE(known) << s.reason;
  // The hardware walk refuses to run rather than fault.
  const std::vector<int8_t> w(16, 1);
  const QuantParams q = QuantParams::per_tensor(0.01f, 0);
  const AmxPackedWeights p = gemm::amx_pack(w.data(), 4, 4, q, nullptr, q, q, Clamp{}, "t");
  uint8_t a[4] = {}, c[4] = {};
  EXPECT_THROW(gemm::compute_amx(p, a, 4, nullptr, 1, 0, 4, c, 4), Error);
#endif
}

// `octet peak`'s AMX row: measured where AMX is usable (4 tiles of 16 x 16 x 64 MACs per iteration, at
// least the VNNI rate), refused by name elsewhere.
TEST(AmxSupport, PeakMeasuredOnlyWhereUsable) {
  if (!amx_support().usable) {
    try {
      measure_amx_peak_gmacs(1, 0.01);
      FAIL() << "measured an AMX peak without AMX";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("AMX"), std::string::npos) << e.what();
    }
    return;
  }
  EXPECT_GT(measure_amx_peak_gmacs(1, 0.05), measure_peak_gmacs(Isa::avx512vnni, 1, 0.05));
}

}  // namespace
}  // namespace octet
