// GEMMs with at most 8 output channels (on AVX-512 VNNI the pixel-lane kernel of
// x86/gemm_few_channels_avx512vnni.cpp) against the scalar GEMM, bit for bit, on every ISA and in both
// requantization modes: every channel count 1..8, at channel 0 and at 16 (a later channel block), pixel
// counts around the 16-pixel block, k around the 8- and 16-step loads, asymmetric weights (row sums),
// strided output rows whose other bytes must stay untouched, extreme values, and the segmented entry
// point with k split in kernel-row segments (there also 20 and 40 channels: compute() must honour the
// segments on the wide kernels too). A and the segment rows are exact-size buffers, so that a read past a
// row shows under AddressSanitizer.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/gemm/packed_gemm.h"
#include "kernels/isa.h"
#include "test_util.h"

namespace octet {
namespace {

class FewChannelsGemm : public ::testing::TestWithParam<test::IsaMode> {
 protected:
  Isa isa() const { return std::get<0>(GetParam()); }
  RequantMode mode() const { return std::get<1>(GetParam()); }
};

struct Case {
  int64_t channels, first, m, k, segments;
  bool asymmetric, extreme;
};

template <class W>
void check(Isa isa, RequantMode mode, const Case& c, uint64_t seed) {
  SCOPED_TRACE("channels " + std::to_string(c.channels) + " from " + std::to_string(c.first) + " m " +
               std::to_string(c.m) + " k " + std::to_string(c.k) + " segments " + std::to_string(c.segments) +
               (c.asymmetric ? " asymmetric" : "") + (c.extreme ? " extreme" : ""));
  test::Random rng(seed);
  const int64_t n = c.first + c.channels, k = c.k, m = c.m;
  auto w = test::random_weights<W>(rng, {n, k}, rng.coin(), c.asymmetric);
  const IntRange wr = range_of(element_type_of<W>());
  if (c.extreme)
    for (auto& x : w.data)
      x = static_cast<W>(rng.coin() ? wr.max : wr.min);
  const QuantParams in =
      c.extreme ? QuantParams::per_tensor(0.02f, rng.coin() ? 0 : 255) : rng.activation_params();
  const double spread = 74.0 * 74.0 * std::sqrt(static_cast<double>(k)) * rng.real(1.0, 8.0) / 40.0;
  const QuantParams out = QuantParams::per_tensor(static_cast<float>(in.scale() * w.quant.scale(0) * spread),
                                                  static_cast<int32_t>(rng.integer(0, 255)));
  const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 100)), 200};
  const TensorS32 bias = test::random_bias(rng, n, in, w, c.extreme ? 1000000 : 2000);
  const gemm::PackedWeights fast =
      gemm::pack(isa, w.data.data(), n, k, w.quant, bias.data.data(), in, out, clamp, "t", c.segments, mode);
  const gemm::PackedWeights scalar = gemm::pack(Isa::scalar, w.data.data(), n, k, w.quant, bias.data.data(),
                                                in, out, clamp, "t", c.segments, mode);
  // Rows of k_padded elements (segments each padded on their own), zeros in the padding.
  const int64_t segment_k = k / c.segments, elem = fast.a_element_size();
  std::vector<uint8_t> rows(static_cast<size_t>(m * k));
  for (auto& x : rows)
    x = static_cast<uint8_t>(c.extreme ? (rng.coin() ? 255 : 0) : rng.integer(0, 255));
  auto padded_rows = [&](const gemm::PackedWeights& p) {
    std::vector<uint8_t> a(static_cast<size_t>(m * p.k_padded * p.a_element_size()), 0);
    for (int64_t r = 0; r < m; ++r)
      for (int64_t s = 0; s < c.segments; ++s)
        for (int64_t j = 0; j < segment_k; ++j) {
          const uint8_t v = rows[static_cast<size_t>(r * k + s * segment_k + j)];
          const int64_t at = (r * p.k_padded + s * p.segment_padded + j) * p.a_element_size();
          if (p.a_element_size() == 1)
            a[static_cast<size_t>(at)] = v;
          else
            reinterpret_cast<int16_t*>(a.data() + at)[0] = v;
        }
    return a;
  };
  std::vector<int32_t> sums(static_cast<size_t>(m), 0);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < k; ++j)
      sums[static_cast<size_t>(r)] += rows[static_cast<size_t>(r * k + j)];
  const std::vector<uint8_t> a_scalar = padded_rows(scalar), a_fast = padded_rows(fast);
  const int64_t c_stride = n + rng.integer(0, 3);
  std::vector<uint8_t> want(static_cast<size_t>(m * c_stride), 0xcd), got = want;
  gemm::compute_scalar(scalar, a_scalar.data(), scalar.k_padded, sums.data(), m, c.first, n, want.data(),
                       c_stride);
  gemm::compute(fast, a_fast.data(), fast.k_padded * elem, sums.data(), m, c.first, n, got.data(), c_stride);
  ASSERT_EQ(got, want);

  if (!gemm::has_segmented_kernel(isa) || fast.needs_row_sums) return;
  // Each row's segments in buffers of their own, in reverse order of rows, exactly segment_padded long.
  std::vector<std::vector<uint8_t>> segment_rows;
  std::vector<const uint8_t*> table(static_cast<size_t>(m * c.segments));
  for (int64_t r = m - 1; r >= 0; --r)
    for (int64_t s = 0; s < c.segments; ++s) {
      const auto begin = a_fast.begin() + r * fast.k_padded + s * fast.segment_padded;
      segment_rows.emplace_back(begin, begin + fast.segment_padded);
    }
  for (int64_t r = 0; r < m; ++r)
    for (int64_t s = 0; s < c.segments; ++s)
      table[static_cast<size_t>(r * c.segments + s)] =
          segment_rows[static_cast<size_t>((m - 1 - r) * c.segments + s)].data();
  std::vector<uint8_t> segmented(static_cast<size_t>(m * c_stride), 0xcd);
  gemm::compute_segmented(fast, table.data(), m, c.first, n, segmented.data(), c_stride);
  ASSERT_EQ(segmented, want) << "segmented";
}

TEST_P(FewChannelsGemm, MatchesTheScalarGemm) {
  uint64_t seed = 0;
  for (int64_t channels = 1; channels <= 8; ++channels)
    for (int64_t first : {0, 16})
      for (int64_t m : {1, 15, 16, 17, 40})
        for (int64_t k : {1, 3, 4, 5, 31, 32, 33, 63, 64, 65, 100, 257}) {
          const bool asymmetric = ++seed % 3 == 0;
          const Case c{channels, first, m, k, 1, asymmetric, false};
          if (asymmetric)
            check<uint8_t>(isa(), mode(), c, seed);
          else
            check<int8_t>(isa(), mode(), c, seed);
        }
}

TEST_P(FewChannelsGemm, SegmentsAndExtremes) {
  uint64_t seed = 1000;
  for (int64_t channels : {1, 2, 3, 4, 5, 8, 20, 40})
    for (int64_t segments : {1, 2, 3})
      for (int64_t segment_k : {3, 24, 40, 64, 96})
        for (bool extreme : {false, true}) {
          const Case c{channels, 0, 37, segments * segment_k, segments, false, extreme};
          check<int8_t>(isa(), mode(), c, ++seed);
        }
}

INSTANTIATE_TEST_SUITE_P(Isas, FewChannelsGemm, test::isas_and_modes(supported_isas()), test::isa_mode_name);

}  // namespace
}  // namespace octet
