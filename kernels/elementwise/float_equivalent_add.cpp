#include "kernels/elementwise/float_equivalent_add.h"

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "kernels/elementwise/binary_table.h"
#include "kernels/elementwise/quantized_add.h"
#include "kernels/error.h"

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
// bit-exact with ref::float_add_value (tests/kernels/quantized_binary_test.cpp). Keeps the fully checked
// candidate with the fewest misses; one that misses more of the earlier misses than the best candidate so
// far, or than kMaxPairExceptions, is not checked in full. Each full check either learns a new miss or
// improves the best candidate, so there are at most kMaxHard + kMaxPairExceptions + 1 of them (about 15 us
// each), however the candidates fall.
class Checker {
 public:
  Checker(const AllPairs& pairs, std::vector<uint8_t> exact, Clamp clamp, Isa isa)
      : pairs_(pairs), exact_(std::move(exact)), clamp_(clamp), isa_(isa) {}

  // Whether k gives every pair; nullopt where `isa` has no float add kernel.
  std::optional<bool> matches_every_pair(const ref::FloatAddConstants& k) {
    // A candidate is checked in full only while it could still be the best one with few enough misses.
    const size_t allowed = std::min(best_misses_ - 1, FloatEquivalentAdd::kMaxPairExceptions);
    size_t hard_misses = 0;
    for (const int pair : hard_)
      if (std::clamp(ref::float_add_value(k, pair / 256, pair % 256), clamp_.min, clamp_.max) !=
              exact_[static_cast<size_t>(pair)] &&
          ++hard_misses > allowed)
        return false;
    const auto rows = make_float_add_rows(isa_, k, clamp_);
    if (!rows) return std::nullopt;
    const std::vector<uint8_t> got = pairs_.through(*rows);
    std::vector<PairException> misses;
    size_t miss_count = 0;
    // Counted only as far as it matters: past `allowed` misses the candidate is out. Blocks of 64 pairs that
    // all match (nearly all of them) are passed over with one memcmp each.
    constexpr size_t kBlock = 64;
    for (size_t block = 0; block < got.size() && miss_count <= allowed; block += kBlock) {
      if (std::memcmp(got.data() + block, exact_.data() + block, kBlock) == 0) continue;
      for (size_t pair = block; pair < block + kBlock && miss_count <= allowed; ++pair)
        if (got[pair] != exact_[pair]) {
          ++miss_count;
          if (hard_.size() < kMaxHard && !is_hard_[pair]) {
            is_hard_[pair] = true;
            hard_.push_back(static_cast<int>(pair));
          }
          if (misses.size() <= FloatEquivalentAdd::kMaxPairExceptions)
            misses.push_back({pairs_.a[pair], pairs_.b[pair], exact_[pair]});
        }
    }
    if (miss_count <= allowed) {
      best_misses_ = miss_count;
      best_.constants = k;
      best_.exceptions = std::move(misses);
    }
    return miss_count == 0;
  }

  // The fully checked candidate with the fewest misses, if one misses few enough.
  std::optional<FloatEquivalentAdd> best() const {
    if (best_misses_ <= FloatEquivalentAdd::kMaxPairExceptions) return best_;
    return std::nullopt;
  }

 private:
  static constexpr size_t kMaxHard = 256;

  const AllPairs& pairs_;
  const std::vector<uint8_t> exact_;
  Clamp clamp_;
  Isa isa_;
  std::vector<int> hard_;
  std::vector<bool> is_hard_ = std::vector<bool>(256 * 256);
  // best_: the fully checked candidate with the fewest misses, once one missed at most kMaxPairExceptions.
  size_t best_misses_ = std::numeric_limits<size_t>::max();
  FloatEquivalentAdd best_;
};

// The float kernel, then the exceptions' bytes put back over what it wrote.
class PatchedRows final : public BinaryRows {
 public:
  PatchedRows(std::unique_ptr<const BinaryRows> rows, std::vector<PairException> exceptions, PatchPairs patch)
      : rows_(std::move(rows)), exceptions_(std::move(exceptions)), patch_(patch) {}

  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    if (n <= 0) return;
    // A repeated operand leaves only the exceptions of its byte (usually none: no pass at all). On the stack:
    // rows against a repeated scalar come a pixel at a time.
    std::array<PairException, FloatEquivalentAdd::kMaxPairExceptions> matching;
    size_t matches = 0;
    for (const PairException& e : exceptions_)
      if ((repeated != Repeated::a || e.a == a[0]) && (repeated != Repeated::b || e.b == b[0]) &&
          matches < matching.size())
        matching[matches++] = e;
    if (matches == 0) return (*rows_)(a, b, out, n, repeated);
    // The repeated byte read once: `out` may be that operand (in place), and the first chunk overwrites it.
    const uint8_t repeated_a = repeated == Repeated::a ? a[0] : 0;
    const uint8_t repeated_b = repeated == Repeated::b ? b[0] : 0;
    // In place (out == a or b) the kernel overwrites that operand: each chunk's copy is kept for the patch.
    for (int64_t i = 0; i < n; i += kChunk) {
      const int64_t count = std::min(kChunk, n - i);
      const uint8_t* ai = repeated == Repeated::a ? &repeated_a : a + i;
      const uint8_t* bi = repeated == Repeated::b ? &repeated_b : b + i;
      uint8_t* oi = out + i;
      std::array<uint8_t, kChunk> operand;
      const bool a_in_place = repeated != Repeated::a && oi == ai;
      const bool b_in_place = repeated != Repeated::b && oi == bi;
      if (a_in_place || b_in_place) std::copy_n(oi, count, operand.data());
      (*rows_)(ai, bi, oi, count, repeated);
      patch_(matching.data(), matches, a_in_place ? operand.data() : ai, b_in_place ? operand.data() : bi, oi,
             count, repeated);
    }
  }

  // The kernel's own against_row, then the few places patched: an exception can only hit where the row
  // holds its byte, so those positions are found once and the moving operand read there alone (before the
  // kernel runs, which may write over it in place).
  void against_row(const uint8_t* moving, const uint8_t* row, bool moving_is_a, int64_t c, int64_t pixels,
                   uint8_t* out) const override {
    struct Spot {
      int64_t position;
      uint8_t moving, value;
    };
    std::vector<Spot> spots;
    for (int64_t i = 0; i < c; ++i)
      for (const PairException& e : exceptions_)
        if ((moving_is_a ? e.b : e.a) == row[i]) spots.push_back({i, moving_is_a ? e.a : e.b, e.value});
    std::vector<std::pair<int64_t, uint8_t>> hits;  // (offset into out, byte)
    for (int64_t p = 0; p < pixels; ++p)
      for (const Spot& s : spots)
        if (moving[p * c + s.position] == s.moving) hits.emplace_back(p * c + s.position, s.value);
    rows_->against_row(moving, row, moving_is_a, c, pixels, out);
    for (const auto& [offset, value] : hits)
      out[offset] = value;
  }

 private:
  static constexpr int64_t kChunk = 4096;

  std::unique_ptr<const BinaryRows> rows_;
  std::vector<PairException> exceptions_;
  PatchPairs patch_;
};

PatchPairs patch_for(Isa isa) {
  isa = vector_isa(isa);  // avx512amx: the avx512vnni kernels
#if defined(__x86_64__)
  if (isa == Isa::avx512vnni) return patch_pairs_avx512;
  if (isa == Isa::avx2) return patch_pairs_avx2;
#endif
  (void)isa;
  return patch_pairs_portable;
}

// Every byte pair, shared by the searches.
const AllPairs& all_pairs() {
  static const AllPairs pairs;
  return pairs;
}

}  // namespace

std::optional<FloatEquivalentAdd> float_equivalent_add(const QuantParams& a, const QuantParams& b,
                                                       const QuantParams& output, Clamp clamp, Isa isa) {
  if (isa == Isa::scalar) return std::nullopt;
  // The fixed-point bytes through the fixed-point kernel where it takes these constants (bit-exact with
  // ref::add, and about a hundred times faster than it here), else through the reference.
  const ref::AddConstants fixed = ref::add_constants(a, b, output);
  std::vector<uint8_t> exact = add_rows_supported(isa, fixed)
                                   ? all_pairs().through(*make_add_rows(isa, fixed, clamp))
                                   : make_binary_table(BinaryOp::add, a, b, output, clamp).table;
  return float_equivalent_add(a, b, output, clamp, isa, std::move(exact));
}

std::optional<FloatEquivalentAdd> float_equivalent_add(const QuantParams& a, const QuantParams& b,
                                                       const QuantParams& output, Clamp clamp, Isa isa,
                                                       std::vector<uint8_t> exact) {
  if (isa == Isa::scalar) return std::nullopt;
  if (exact.size() != 256 * 256) throw Error("float_equivalent_add: the fixed-point bytes of 65536 pairs");
  Checker checker(all_pairs(), std::move(exact), clamp, isa);
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
          if (*matches) return checker.best();
        }
  return checker.best();
}

std::unique_ptr<const BinaryRows> make_float_equivalent_add_rows(Isa isa, const FloatEquivalentAdd& f,
                                                                 Clamp clamp) {
  auto rows = make_float_add_rows(isa, f.constants, clamp);
  if (!rows || f.exceptions.empty()) return rows;
  return std::make_unique<const PatchedRows>(std::move(rows), f.exceptions, patch_for(isa));
}

void patch_pairs_portable(const PairException* exceptions, size_t count, const uint8_t* a, const uint8_t* b,
                          uint8_t* out, int64_t n, Repeated repeated) {
  if (n <= 0 || count == 0) return;
  const std::span<const PairException> listed(exceptions, count);
  using Batch = xsimd::batch<uint8_t>;
  constexpr int64_t kWidth = static_cast<int64_t>(Batch::size);
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    const Batch va = repeated == Repeated::a ? Batch(a[0]) : Batch::load_unaligned(a + i);
    const Batch vb = repeated == Repeated::b ? Batch(b[0]) : Batch::load_unaligned(b + i);
    Batch vo = Batch::load_unaligned(out + i);
    for (const PairException& e : listed)
      vo = xsimd::select(va == Batch(e.a) && vb == Batch(e.b), Batch(e.value), vo);
    vo.store_unaligned(out + i);
  }
  for (; i < n; ++i) {
    const uint8_t x = repeated == Repeated::a ? a[0] : a[i], y = repeated == Repeated::b ? b[0] : b[i];
    for (const PairException& e : listed)
      if (x == e.a && y == e.b) out[i] = e.value;
  }
}

}  // namespace octet::elementwise
