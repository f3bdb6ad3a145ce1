#include "kernels/elementwise/float_equivalent_add.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "kernels/elementwise/binary_table.h"
#include "kernels/elementwise/quantized_add.h"

namespace octet::elementwise {

namespace {

// `v` moved by `ulps` representable floats (towards +infinity when positive).
float nudged(float v, int ulps) {
  const float towards =
      ulps > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  for (int i = 0; i < std::abs(ulps); ++i)
    v = std::nextafter(v, towards);
  return v;
}

// Every byte pair, a = i / 256 and b = i % 256 for i in [0, 65536).
struct AllPairs {
  std::vector<uint8_t> a, b;
  AllPairs() : a(256 * 256), b(256 * 256) {
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<uint8_t>(i / 256);
      b[i] = static_cast<uint8_t>(i % 256);
    }
  }
  std::vector<uint8_t> through(const BinaryRows& rows) const {
    std::vector<uint8_t> out(a.size());
    rows(a.data(), b.data(), out.data(), static_cast<int64_t>(out.size()), Repeated::none);
    return out;
  }
};

// Checks candidates against the fixed-point bytes of every pair: first on the pairs that failed earlier
// candidates (most candidates fail on one of a handful of near-tie pairs, so a failing one usually costs a
// few scalar evaluations), then on all pairs through the float kernel that would run them, which is
// bit-exact with ref::float_add_value (tests/kernels/quantized_binary_test.cpp).
class Checker {
 public:
  Checker(const AllPairs& pairs, std::vector<uint8_t> exact, Clamp clamp, Isa isa)
      : pairs_(pairs), exact_(std::move(exact)), clamp_(clamp), isa_(isa) {}

  // nullopt where `isa` has no float add kernel.
  std::optional<bool> matches_every_pair(const ref::FloatAddConstants& k) {
    for (const int pair : hard_)
      if (std::clamp(ref::float_add_value(k, pair / 256, pair % 256), clamp_.min, clamp_.max) !=
          exact_[static_cast<size_t>(pair)])
        return false;
    const auto rows = make_float_add_rows(isa_, k, clamp_);
    if (!rows) return std::nullopt;
    const std::vector<uint8_t> got = pairs_.through(*rows);
    const auto [first, unused] = std::mismatch(got.begin(), got.end(), exact_.begin());
    if (first == got.end()) return true;
    if (hard_.size() < kMaxHard) hard_.push_back(static_cast<int>(first - got.begin()));
    return false;
  }

 private:
  static constexpr size_t kMaxHard = 256;

  const AllPairs& pairs_;
  const std::vector<uint8_t> exact_;
  Clamp clamp_;
  Isa isa_;
  std::vector<int> hard_;
};

}  // namespace

std::optional<ref::FloatAddConstants> float_equivalent_add(const QuantParams& a, const QuantParams& b,
                                                           const QuantParams& output, Clamp clamp, Isa isa) {
  if (isa == Isa::scalar) return std::nullopt;
  // The fixed-point bytes through the fixed-point kernel where it takes these constants (bit-exact with
  // ref::add, and about a hundred times faster than it here), else through the reference.
  static const AllPairs pairs;
  const ref::AddConstants fixed = ref::add_constants(a, b, output);
  std::vector<uint8_t> exact = add_rows_supported(isa, fixed)
                                   ? pairs.through(*make_add_rows(isa, fixed, clamp))
                                   : make_binary_table(BinaryOp::add, a, b, output, clamp).table;
  Checker checker(pairs, std::move(exact), clamp, isa);
  // The real ratios and offset of out = z_out + (x - z_a) s_a / s_out + (y - z_b) s_b / s_out.
  const double ratio_a = static_cast<double>(a.scale()) / output.scale();
  const double ratio_b = static_cast<double>(b.scale()) / output.scale();
  if (!std::isfinite(ratio_a) || !std::isfinite(ratio_b)) return std::nullopt;
  // Offsets first (the cheapest correction: the error near a tie moves with it alike for every pair), then
  // the ratios, then the other order of the two multiply-adds.
  constexpr int kRatioUlps[] = {0, -1, 1};
  constexpr int kOffsetUlps[] = {0, -1, 1, -2, 2, -3, 3};
  for (const bool a_first : {false, true})
    for (const int ulps_a : kRatioUlps)
      for (const int ulps_b : kRatioUlps)
        for (const int ulps_offset : kOffsetUlps) {
          ref::FloatAddConstants k;
          k.a_first = a_first;
          k.ratio_a = nudged(static_cast<float>(ratio_a), ulps_a);
          k.ratio_b = nudged(static_cast<float>(ratio_b), ulps_b);
          const double offset = output.zero_point() - a.zero_point() * static_cast<double>(k.ratio_a) -
                                b.zero_point() * static_cast<double>(k.ratio_b);
          k.offset = nudged(static_cast<float>(offset), ulps_offset);
          const std::optional<bool> matches = checker.matches_every_pair(k);
          if (!matches) return std::nullopt;
          if (*matches) return k;
        }
  return std::nullopt;
}

}  // namespace octet::elementwise
