// Post-training quantization math (kernels/quantization/calibration.h) against brute-force definitions on
// the raw values: the streaming histograms against binning every value afresh, each calibration method
// against its own criterion evaluated directly, the quantization parameters against float64 arithmetic.

#include "kernels/quantization/calibration.h"

#include <gtest/gtest.h>

#include <optional>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/error.h"

namespace octet::calibration {
namespace {

using Histogram = TensorStatistics::Histogram;
constexpr int kBins = TensorStatistics::kBins;
constexpr double kInf = std::numeric_limits<double>::infinity();
const Method kAllMethods[] = {Method::minmax, Method::percentile, Method::entropy, Method::mse};

// ---- Data ---------------------------------------------------------------------------------------------

std::vector<float> gaussian(size_t n, double sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, static_cast<float>(sigma));
  std::vector<float> values(n);
  for (float& v : values)
    v = normal(rng);
  return values;
}

std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> distribution(lo, hi);
  std::vector<float> values(n);
  for (float& v : values)
    v = distribution(rng);
  return values;
}

// N(0, 1) with `per_side` large outliers (30 to 60) on each side, placed at random positions.
std::vector<float> gaussian_with_outliers(size_t n, uint32_t seed, int per_side = 10) {
  std::vector<float> values = gaussian(n, 1.0, seed);
  std::mt19937 rng(seed + 1);
  std::uniform_real_distribution<float> magnitude(30.0f, 60.0f);
  for (int k = 0; k < per_side; ++k) {
    values[rng() % n] = magnitude(rng);
    values[rng() % n] = -magnitude(rng);
  }
  return values;
}

std::vector<float> relu(std::vector<float> values) {
  for (float& v : values)
    v = std::max(v, 0.0f);
  return values;
}

TensorStatistics statistics_of(const std::vector<float>& values) {
  TensorStatistics statistics;
  statistics.add(values, "test");
  return statistics;
}

// The magnitudes of one side as the statistics split them: >= 0 positive (zeros included), < 0 negative.
std::vector<double> side_magnitudes(const std::vector<float>& values, bool positive_side) {
  std::vector<double> magnitudes;
  for (const float v : values) {
    if (positive_side && v >= 0.0f) magnitudes.push_back(v);
    if (!positive_side && v < 0.0f) magnitudes.push_back(-static_cast<double>(v));
  }
  return magnitudes;
}

// Levels a side gets: 255 when the other side holds no non-zero value, else 128.
int levels_of(const TensorStatistics& statistics, bool positive_side) {
  const Histogram& other = positive_side ? statistics.negative() : statistics.positive();
  return other.max_magnitude > 0.0 ? 128 : 255;
}

// The histogram every value binned afresh at `bin_width`: counts[floor(m / width)].
std::vector<int64_t> direct_counts(const std::vector<double>& magnitudes, double bin_width) {
  std::vector<int64_t> counts(kBins, 0);
  for (const double m : magnitudes) {
    const auto bin = static_cast<int64_t>(m / bin_width);
    EXPECT_LT(bin, kBins) << "magnitude " << m << " outside the histogram";
    ++counts[static_cast<size_t>(std::min<int64_t>(bin, kBins - 1))];
  }
  return counts;
}

void expect_same_histogram(const Histogram& a, const Histogram& b) {
  EXPECT_EQ(a.bin_width, b.bin_width);
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.max_magnitude, b.max_magnitude);
  EXPECT_EQ(a.counts, b.counts);
}

// ---- Methods ------------------------------------------------------------------------------------------

TEST(CalibrationMethod, NamesRoundTrip) {
  for (const Method method : kAllMethods)
    EXPECT_EQ(parse_method(name_of(method)), method);
  EXPECT_STREQ(name_of(Method::minmax), "minmax");
  EXPECT_STREQ(name_of(Method::percentile), "percentile");
  EXPECT_STREQ(name_of(Method::entropy), "entropy");
  EXPECT_STREQ(name_of(Method::mse), "mse");
}

TEST(CalibrationMethod, UnknownNameListsTheAcceptedOnes) {
  for (const char* bad : {"", "MinMax", "kl", "mse "}) {
    try {
      parse_method(bad);
      FAIL() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("'" + std::string(bad) + "'"), std::string::npos) << message;
      for (const char* name : {"minmax", "percentile", "entropy", "mse"})
        EXPECT_NE(message.find(name), std::string::npos) << message;
    }
  }
}

// ---- Statistics and histograms ----------------------------------------------------------------------

TEST(TensorStatistics, EmptyIsZero) {
  TensorStatistics statistics;
  statistics.add({}, "empty");
  EXPECT_EQ(statistics.count(), 0);
  EXPECT_EQ(statistics.min(), 0.0);
  EXPECT_EQ(statistics.max(), 0.0);
  for (const Method method : kAllMethods) {
    const Range range = statistics.range(method);
    EXPECT_EQ(range.lo, 0.0) << name_of(method);
    EXPECT_EQ(range.hi, 0.0) << name_of(method);
  }
  EXPECT_EQ(statistics.positive().bin_width, 0.0);
  EXPECT_EQ(statistics.positive().total, 0);
  EXPECT_EQ(statistics.negative().total, 0);
}

TEST(TensorStatistics, CountMinMaxOverBatches) {
  TensorStatistics statistics;
  const std::vector<float> first = {3.0f, 0.5f};
  const std::vector<float> second = {7.25f, -2.0f, 0.0f};
  const std::vector<float> third = {-9.5f};
  statistics.add(first, "x");
  EXPECT_EQ(statistics.min(), 0.5);  // the first value, not 0, once there are values
  EXPECT_EQ(statistics.max(), 3.0);
  statistics.add(second, "x");
  statistics.add(third, "x");
  EXPECT_EQ(statistics.count(), 6);
  EXPECT_EQ(statistics.min(), -9.5);
  EXPECT_EQ(statistics.max(), 7.25);
  EXPECT_EQ(statistics.positive().total, 4);  // 3, 0.5, 7.25 and the zero
  EXPECT_EQ(statistics.negative().total, 2);
  EXPECT_EQ(statistics.positive().max_magnitude, 7.25);
  EXPECT_EQ(statistics.negative().max_magnitude, 9.5);
}

TEST(TensorStatistics, FirstMagnitudeFixesTheWidthInTheLastBin) {
  TensorStatistics statistics;
  const std::vector<float> values = {5.0f, -0.75f};
  statistics.add(values, "x");
  for (const Histogram* side : {&statistics.positive(), &statistics.negative()}) {
    const double m = side->max_magnitude;
    // Just above m / kBins: m sits inside the top edge.
    EXPECT_GT(side->bin_width, m / kBins);
    EXPECT_LE(side->bin_width, m / kBins * (1.0 + 1e-12));
    EXPECT_EQ(side->counts[kBins - 1], 1);
    EXPECT_EQ(side->total, 1);
  }
}

TEST(TensorStatistics, ZerosCountOnThePositiveSideBeforeAnyWidth) {
  TensorStatistics statistics;
  const std::vector<float> zeros = {0.0f, -0.0f, 0.0f};
  statistics.add(zeros, "x");
  EXPECT_EQ(statistics.positive().total, 3);
  EXPECT_EQ(statistics.positive().counts[0], 3);
  EXPECT_EQ(statistics.positive().bin_width, 0.0);
  EXPECT_EQ(statistics.negative().total, 0);
  const std::vector<float> one = {1.0f};
  statistics.add(one, "x");
  EXPECT_EQ(statistics.positive().counts[0], 3);
  EXPECT_EQ(statistics.positive().counts[kBins - 1], 1);
  EXPECT_EQ(statistics.positive().total, 4);
}

TEST(TensorStatistics, DoublingMergesNeighbouringBins) {
  TensorStatistics statistics;
  const std::vector<float> first = {1.0f, 0.25f, 0.5f, 0.75f};
  statistics.add(first, "x");
  const double width = statistics.positive().bin_width;
  const std::vector<int64_t> before = statistics.positive().counts;
  // 2.5 needs the range 2.5x wider: two doublings.
  const std::vector<float> wide = {2.5f};
  statistics.add(wide, "x");
  const Histogram& histogram = statistics.positive();
  EXPECT_EQ(histogram.bin_width, width * 4.0);
  // Bins [0, kBins / 4) hold the old ones merged four by four, 2.5 lands beyond them (near 2.5 / 4 of the
  // range), the rest are empty.
  const auto wide_bin = static_cast<int>(2.5 / histogram.bin_width);
  EXPECT_GE(wide_bin, kBins / 4);
  for (int i = 0; i < kBins; ++i) {
    const int64_t merged =
        i < kBins / 4 ? before[4 * i] + before[4 * i + 1] + before[4 * i + 2] + before[4 * i + 3] : 0;
    EXPECT_EQ(histogram.counts[i], merged + (i == wide_bin ? 1 : 0)) << "bin " << i;
  }
  EXPECT_EQ(histogram.total, 5);
}

// Streams `values` (plus values within a float ulp of the final bin edges, and zeros) in random batches and
// checks the histograms against every value binned afresh at the final width, and the counts against the
// count.
void expect_streamed_equals_direct(std::vector<float> values, uint32_t seed) {
  std::mt19937 rng(seed);
  // The edges below the largest magnitude leave the final width as it is.
  const double final_width = statistics_of(values).positive().bin_width;
  for (int i = 1; i < kBins; i += 13) {
    const auto edge = static_cast<float>(i * final_width);
    for (const float v : {std::nextafter(edge, 0.0f), edge, std::nextafter(edge, 2 * edge)})
      values.push_back(i % 2 ? v : -v);
  }
  for (int i = 0; i < 50; ++i)
    values.push_back(0.0f);

  TensorStatistics statistics;
  for (size_t at = 0; at < values.size();) {
    const size_t batch = std::min<size_t>(1 + rng() % 777, values.size() - at);
    statistics.add(std::span<const float>(values).subspan(at, batch), "x");
    at += batch;
  }
  EXPECT_EQ(statistics.positive().bin_width, final_width);
  for (const bool positive_side : {true, false}) {
    const Histogram& histogram = positive_side ? statistics.positive() : statistics.negative();
    const std::vector<double> magnitudes = side_magnitudes(values, positive_side);
    EXPECT_EQ(histogram.counts, direct_counts(magnitudes, histogram.bin_width));
    EXPECT_EQ(histogram.total, static_cast<int64_t>(magnitudes.size()));
    // The largest magnitude lies in the upper half: at least half the bins cover the observed range.
    EXPECT_GE(histogram.max_magnitude, histogram.bin_width * kBins / 2);
  }
  int64_t counted = 0;
  for (const Histogram* side : {&statistics.positive(), &statistics.negative()})
    for (const int64_t c : side->counts)
      counted += c;
  EXPECT_EQ(counted, statistics.count());
  EXPECT_EQ(statistics.count(), static_cast<int64_t>(values.size()));
}

// A few doublings: the first value's bin, at the top, must land where binning afresh puts it.
TEST(TensorStatistics, MergingIsExactOverAFewDoublings) {
  std::vector<float> values = {1.0f, -1.0f};
  const std::vector<float> rest = uniform(20000, -6.0f, 6.0f, 71);
  values.insert(values.end(), rest.begin(), rest.end());
  expect_streamed_equals_direct(values, 72);
}

// Many doublings (a first value 1e-3, later ones up to 1e3): every early bin ends in bin 0.
TEST(TensorStatistics, MergingIsExactOverManyDoublings) {
  std::mt19937 rng(73);
  std::vector<float> values = {1e-3f, -1e-3f};
  std::uniform_real_distribution<float> exponent(-3.0f, 3.0f);
  for (int i = 0; i < 20000; ++i) {
    const float magnitude = std::pow(10.0f, exponent(rng));
    values.push_back(rng() % 2 ? magnitude : -magnitude);
  }
  expect_streamed_equals_direct(values, 74);
}

// The same first value then the rest in any order and any batches: the same histograms.
TEST(TensorStatistics, BatchSplitsAndOrderGiveTheSameHistograms) {
  std::vector<float> values = gaussian_with_outliers(10000, 11);
  values.insert(values.begin(), {0.5f, -0.5f});  // both widths fixed by the first two values
  const TensorStatistics whole = statistics_of(values);

  std::mt19937 rng(12);
  std::vector<float> shuffled = values;
  std::shuffle(shuffled.begin() + 2, shuffled.end(), rng);
  TensorStatistics pieces;
  for (size_t at = 0; at < shuffled.size();) {
    const size_t batch = std::min<size_t>(1 + rng() % 300, shuffled.size() - at);
    pieces.add(std::span<const float>(shuffled).subspan(at, batch), "x");
    at += batch;
  }
  expect_same_histogram(whole.positive(), pieces.positive());
  expect_same_histogram(whole.negative(), pieces.negative());
  EXPECT_EQ(whole.count(), pieces.count());
  EXPECT_EQ(whole.min(), pieces.min());
  EXPECT_EQ(whole.max(), pieces.max());
  for (const Method method : kAllMethods) {
    EXPECT_EQ(whole.range(method).lo, pieces.range(method).lo) << name_of(method);
    EXPECT_EQ(whole.range(method).hi, pieces.range(method).hi) << name_of(method);
  }
}

TEST(TensorStatistics, NanAndInfinityThrowNamingTheIndex) {
  TensorStatistics statistics;
  const std::vector<float> good = {1.0f, -2.0f};
  statistics.add(good, "conv1 output");
  const auto message_of = [&](const std::vector<float>& values) {
    try {
      statistics.add(values, "conv1 output");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> values(20, 0.5f);
  values[12] = nan;
  EXPECT_EQ(message_of(values), "conv1 output: value 12 is NaN");
  values[12] = 0.5f;
  values[3] = inf;
  EXPECT_EQ(message_of(values), "conv1 output: value 3 is +infinity");
  values[3] = 0.5f;
  values[19] = -inf;
  EXPECT_EQ(message_of(values), "conv1 output: value 19 is -infinity");
  // A rejected batch counts nothing, even the values before the bad one.
  EXPECT_EQ(statistics.count(), 2);
  EXPECT_EQ(statistics.max(), 1.0);
  EXPECT_EQ(statistics.positive().total, 1);
}

// ---- Ranges -------------------------------------------------------------------------------------------

// The data sets every range property is checked on.
std::vector<std::vector<float>> data_sets() {
  std::vector<std::vector<float>> sets;
  sets.push_back(gaussian_with_outliers(20000, 1));
  sets.push_back(uniform(20000, -1.0f, 1.0f, 2));
  sets.push_back(relu(gaussian(20000, 2.0, 3)));
  sets.push_back(uniform(5000, -3.0f, -0.5f, 4));  // all negative
  sets.push_back(uniform(5000, 2.0f, 5.0f, 5));    // all positive, away from 0
  std::vector<float> skewed = uniform(20000, 0.0f, 1.0f, 6);
  for (float& v : skewed)
    v = -std::log(v + 1e-7f) - 0.3f;  // exponential, shifted: mostly positive
  sets.push_back(skewed);
  sets.push_back({0.0f, 0.0f, -0.0f});
  sets.push_back({1.0f});
  sets.push_back({-1.0f, 1.0f});
  return sets;
}

TEST(CalibrationRange, AlwaysHoldsZeroAndStaysWithinMinMax) {
  for (const std::vector<float>& values : data_sets()) {
    const TensorStatistics statistics = statistics_of(values);
    const double lowest = std::min(statistics.min(), 0.0);
    const double highest = std::max(statistics.max(), 0.0);
    for (const Method method : kAllMethods) {
      // The percentile matters to Method::percentile only.
      const std::vector<double> percentiles = method == Method::percentile
                                                  ? std::vector<double>{99.99, 90.0, 50.0, 100.0}
                                                  : std::vector<double>{99.99};
      for (const double percentile : percentiles) {
        const Range range = statistics.range(method, percentile);
        EXPECT_LE(range.lo, 0.0) << name_of(method);
        EXPECT_GE(range.hi, 0.0) << name_of(method);
        EXPECT_GE(range.lo, lowest) << name_of(method);
        EXPECT_LE(range.hi, highest) << name_of(method);
        EXPECT_FALSE(std::signbit(range.lo) && range.lo == 0.0) << "-0 lower end, " << name_of(method);
      }
    }
  }
}

TEST(CalibrationRange, MinmaxIsExact) {
  for (const std::vector<float>& values : data_sets()) {
    const TensorStatistics statistics = statistics_of(values);
    const auto [smallest, largest] = std::minmax_element(values.begin(), values.end());
    const Range range = statistics.range(Method::minmax);
    EXPECT_EQ(range.lo, std::min(static_cast<double>(*smallest), 0.0));
    EXPECT_EQ(range.hi, std::max(static_cast<double>(*largest), 0.0));
    // Percentile 100 is minmax.
    EXPECT_EQ(statistics.range(Method::percentile, 100.0).lo, range.lo);
    EXPECT_EQ(statistics.range(Method::percentile, 100.0).hi, range.hi);
  }
}

// The smallest data value t with (values above t) <= (1 - p / 100) * n.
double sorted_percentile(std::vector<double> magnitudes, double percentile) {
  if (magnitudes.empty()) return 0.0;
  std::sort(magnitudes.begin(), magnitudes.end());
  const double allowed_above = (1.0 - percentile / 100.0) * static_cast<double>(magnitudes.size());
  for (const double t : magnitudes) {
    const auto above = magnitudes.end() - std::upper_bound(magnitudes.begin(), magnitudes.end(), t);
    if (static_cast<double>(above) <= allowed_above) return t;
  }
  return magnitudes.back();
}

TEST(CalibrationRange, PercentileMatchesSortedDataWithinABin) {
  for (const std::vector<float>& values : data_sets()) {
    const TensorStatistics statistics = statistics_of(values);
    for (const double percentile : {50.0, 90.0, 99.0, 99.9, 99.99}) {
      const Range range = statistics.range(Method::percentile, percentile);
      const double positive = sorted_percentile(side_magnitudes(values, true), percentile);
      const double negative = sorted_percentile(side_magnitudes(values, false), percentile);
      // The histogram answers with the upper edge of the bin holding the exact percentile.
      EXPECT_NEAR(range.hi, positive, statistics.positive().bin_width * (1 + 1e-9)) << percentile;
      EXPECT_GE(range.hi, positive) << percentile;
      EXPECT_NEAR(-range.lo, negative, statistics.negative().bin_width * (1 + 1e-9)) << percentile;
      EXPECT_GE(-range.lo, negative) << percentile;
    }
  }
}

TEST(CalibrationRange, PercentileOutsideItsIntervalThrows) {
  const TensorStatistics statistics = statistics_of(gaussian(100, 1.0, 8));
  for (const double bad : {0.0, -1.0, 100.5, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THROW(statistics.range(Method::percentile, bad), Error) << bad;
  // Other methods ignore the percentile.
  EXPECT_NO_THROW(statistics.range(Method::entropy, 0.0));
}

TEST(CalibrationRange, OneSidedDataKeepsZeroAsTheOtherEnd) {
  const std::vector<float> activations = relu(gaussian_with_outliers(20000, 9));  // half zeros
  const TensorStatistics positive = statistics_of(activations);
  std::vector<float> negated = activations;
  for (float& v : negated)
    v = -v;
  const TensorStatistics negative = statistics_of(negated);
  for (const Method method : kAllMethods) {
    EXPECT_EQ(positive.range(method).lo, 0.0) << name_of(method);
    EXPECT_GT(positive.range(method).hi, 1.0) << name_of(method);
    EXPECT_EQ(negative.range(method).hi, 0.0) << name_of(method);
    EXPECT_LT(negative.range(method).lo, -1.0) << name_of(method);
  }
}

TEST(CalibrationRange, OnlyZerosGiveAnEmptyRange) {
  const TensorStatistics statistics = statistics_of({0.0f, -0.0f, 0.0f, 0.0f});
  for (const Method method : kAllMethods) {
    EXPECT_EQ(statistics.range(method).lo, 0.0) << name_of(method);
    EXPECT_EQ(statistics.range(method).hi, 0.0) << name_of(method);
  }
}

// Three outliers a side among 40000 values (in a histogram whose bulk fills a tenth of the bins): the
// divergence of folding them into the last kept bin is smaller than that of coarsening the bulk to keep
// them, so the threshold lands past 3 sigma and far below them. (With tens of outliers a side, a mode of
// their own, the threshold moves out past the first of them: TensorRT's method keeps what has mass.)
TEST(CalibrationRange, EntropyClipsRareOutliersOfAGaussian) {
  for (const uint32_t seed : {1u, 2u, 3u, 4u}) {
    const TensorStatistics statistics = statistics_of(gaussian_with_outliers(40000, seed, 3));
    const Range range = statistics.range(Method::entropy);
    EXPECT_GT(range.hi, 3.0) << "seed " << seed;
    EXPECT_LT(range.hi, 10.0) << "seed " << seed;
    EXPECT_LT(range.lo, -3.0) << "seed " << seed;
    EXPECT_GT(range.lo, -10.0) << "seed " << seed;
    EXPECT_GT(statistics.max(), 30.0);
    EXPECT_LT(statistics.min(), -30.0);
  }
}

TEST(CalibrationRange, EntropyKeepsTheRangeOfAUniformDistribution) {
  for (const auto& values : {uniform(20000, -1.0f, 1.0f, 2), uniform(20000, 0.0f, 4.0f, 3)}) {
    const TensorStatistics statistics = statistics_of(values);
    const Range range = statistics.range(Method::entropy);
    EXPECT_LE(range.lo, 0.95 * statistics.min());
    EXPECT_GE(range.hi, 0.95 * statistics.max());
  }
}

// TensorRT's smoothing: every zero bin gets 1e-4, taken evenly from the non-zero ones. False when a bin
// would go negative (the candidate is refused) or nothing is non-zero.
bool smooth(std::vector<double>& distribution) {
  const auto non_zero =
      std::count_if(distribution.begin(), distribution.end(), [](double x) { return x != 0; });
  if (non_zero == 0) return false;
  const auto zeros = static_cast<double>(distribution.size() - non_zero);
  const double shift = 1e-4 * zeros / static_cast<double>(non_zero);
  for (double& x : distribution) {
    x = x == 0.0 ? 1e-4 : x - shift;
    if (x <= 0.0) return false;
  }
  return true;
}

// KL(P || Q) of candidate `bins` straight from the definition, bin by bin: P the first `bins` bins with the
// rest folded into the last, Q the first `bins` bins (without the rest) in `levels` groups, each group's
// count spread over its non-zero bins of P; both smoothed, then normalised. Infinite for a refused one.
double kl_divergence(const Histogram& histogram, int bins, int levels) {
  std::vector<double> p(histogram.counts.begin(), histogram.counts.begin() + bins);
  for (int j = bins; j < kBins; ++j)
    p[bins - 1] += static_cast<double>(histogram.counts[j]);
  std::vector<double> q(static_cast<size_t>(bins), 0.0);
  for (int group = 0; group < levels; ++group) {
    const int begin = group * bins / levels;
    const int end = (group + 1) * bins / levels;
    double count = 0.0;
    int non_zero = 0;
    for (int j = begin; j < end; ++j) {
      count += static_cast<double>(histogram.counts[j]);
      non_zero += p[j] != 0.0 ? 1 : 0;
    }
    for (int j = begin; j < end; ++j)
      if (p[j] != 0.0) q[j] = count / non_zero;
  }
  if (!smooth(p) || !smooth(q)) return kInf;
  double p_total = 0.0, q_total = 0.0;
  for (int j = 0; j < bins; ++j) {
    p_total += p[j];
    q_total += q[j];
  }
  double divergence = 0.0;
  for (int j = 0; j < bins; ++j)
    divergence += p[j] / p_total * std::log((p[j] / p_total) / (q[j] / q_total));
  return divergence;
}

// The side the entropy method fits: each bin capped at its larger neighbour (isolated spikes removed);
// nullopt when the side has fewer than 8 values a bin or the spikes held most of its values (the method
// then keeps the side's whole range).
std::optional<Histogram> continuous_part(const Histogram& histogram) {
  if (histogram.total < 8 * kBins) return std::nullopt;
  Histogram h = histogram;
  h.total = 0;
  for (int j = 0; j < kBins; ++j) {
    const int64_t left = j > 0 ? histogram.counts[static_cast<size_t>(j - 1)] : 0;
    const int64_t right = j + 1 < kBins ? histogram.counts[static_cast<size_t>(j + 1)] : 0;
    h.counts[static_cast<size_t>(j)] =
        std::min(histogram.counts[static_cast<size_t>(j)], std::max(left, right));
    h.total += h.counts[static_cast<size_t>(j)];
  }
  if (2 * h.total < histogram.total) return std::nullopt;
  return h;
}

// Against the brute force on dense histograms (tiny smoothing shifts) and on sparse ones (most bins empty,
// large shifts), on both sides.
TEST(CalibrationRange, EntropyPicksTheLeastDivergence) {
  const std::vector<float> two_sided = gaussian_with_outliers(40000, 21);
  const std::vector<float> one_sided = relu(gaussian_with_outliers(20000, 22));
  const std::vector<float> sparse = gaussian_with_outliers(300, 23, 2);
  const std::vector<float> sparse_one_sided = relu(gaussian_with_outliers(300, 24, 2));
  // A handful of non-zero bins: the smoothing takes up to 1e-4 * 2047 / 3 from each.
  const std::vector<float> few_values = {2.0f, 2.0f, 2.0f, 2.0f, 1.0f, 1.0f, 0.5f, -1.0f, -1.0f, -3.0f};
  for (const auto* values : {&two_sided, &one_sided, &sparse, &sparse_one_sided, &few_values}) {
    const TensorStatistics statistics = statistics_of(*values);
    const Range range = statistics.range(Method::entropy);
    for (const bool positive_side : {true, false}) {
      const Histogram& whole = positive_side ? statistics.positive() : statistics.negative();
      if (whole.max_magnitude == 0.0) continue;
      if (values == &two_sided && !positive_side) continue;  // time: one dense side is enough
      const std::optional<Histogram> continuous = continuous_part(whole);
      if (!continuous) {
        EXPECT_EQ(positive_side ? range.hi : -range.lo, whole.max_magnitude);
        continue;
      }
      const Histogram& histogram = *continuous;
      const int levels = levels_of(statistics, positive_side);
      double least = kInf;
      int least_bins = 0;
      for (int bins = levels; bins <= kBins; ++bins) {
        const double divergence = kl_divergence(histogram, bins, levels);
        if (divergence < least) {
          least = divergence;
          least_bins = bins;
        }
      }
      ASSERT_LT(least, kInf);
      const double threshold = positive_side ? range.hi : -range.lo;
      const double width = histogram.bin_width;
      if (threshold < histogram.max_magnitude) {
        // The threshold names its candidate: the brute force's, or one whose divergence ties it but for
        // rounding.
        const auto chosen_bins = static_cast<int>(std::lround(threshold / width));
        EXPECT_NEAR(kl_divergence(histogram, chosen_bins, levels), least, 1e-9)
            << "chosen " << chosen_bins << " bins, least at " << least_bins;
      } else {
        // Capped at the largest magnitude: so is the brute force's candidate.
        EXPECT_GE(least_bins * width, histogram.max_magnitude) << "least at " << least_bins;
        EXPECT_NEAR(threshold, histogram.max_magnitude, 2 * width);
      }
    }
  }
}

// A value repeated thousands of times (a constant background through a conv) is one bin's spike: it must
// not pull the entropy threshold in; and a tensor of a few distinct values keeps its whole range.
TEST(CalibrationRange, EntropyIgnoresSpikesAndKeepsTheRangeOfDiscreteData) {
  std::vector<float> values = relu(gaussian(20000, 1.0, 31));
  const TensorStatistics smooth_only = statistics_of(values);
  values.insert(values.end(), 8000, 0.7f);
  values.insert(values.end(), 3000, 1.9f);
  const TensorStatistics with_spikes = statistics_of(values);
  const double without = smooth_only.range(Method::entropy).hi;
  const double with = with_spikes.range(Method::entropy).hi;
  EXPECT_GT(without, 2.5);
  EXPECT_NEAR(with, without, 0.1 * without);
  const TensorStatistics discrete = statistics_of({0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 3.0f, 3.0f, 7.5f, 7.5f});
  EXPECT_EQ(discrete.range(Method::entropy).hi, 7.5);
}

// A million N(0, 1) values and one outlier at 40 on each side: clipping an outlier to t costs (40 - t)^2
// once, the range it adds costs each of the half million values of its side (t / 128)^2 / 12, so the
// squared-error criterion clips it, near t = 11.3 where the two balance.
std::vector<float> many_gaussians_two_outliers() {
  std::vector<float> values = gaussian(1000000, 1.0, 63);
  values[1234] = 40.0f;
  values[567890] = -40.0f;
  return values;
}

TEST(CalibrationRange, MseClipsRareOutliers) {
  const TensorStatistics statistics = statistics_of(many_gaussians_two_outliers());
  const Range range = statistics.range(Method::mse);
  EXPECT_GT(range.hi, 8.0);
  EXPECT_LT(range.hi, 15.0);
  EXPECT_LT(range.lo, -8.0);
  EXPECT_GT(range.lo, -15.0);
}

// With only 20000 values, 20 outliers at 30-60 sigma cost more clipped than the rounding error their range
// adds to the bulk, so the squared-error criterion keeps them, unlike the entropy one.
TEST(CalibrationRange, MseKeepsFrequentOutliersAndUniformRanges) {
  const TensorStatistics outliers = statistics_of(gaussian_with_outliers(20000, 1));
  const Range kept = outliers.range(Method::mse);
  EXPECT_GE(kept.hi, 0.9 * outliers.max());
  EXPECT_LE(kept.lo, 0.9 * outliers.min());
  for (const auto& values : {uniform(20000, -1.0f, 1.0f, 2), uniform(20000, 0.0f, 4.0f, 3)}) {
    const TensorStatistics statistics = statistics_of(values);
    const Range range = statistics.range(Method::mse);
    EXPECT_LE(range.lo, 0.95 * statistics.min());
    EXPECT_GE(range.hi, 0.95 * statistics.max());
  }
}

// The expected squared error of threshold t on the raw magnitudes (not bin centres): clipping beyond t,
// step^2 / 12 below it.
double raw_expected_error(const std::vector<double>& magnitudes, double threshold, int levels) {
  const double step = threshold / levels;
  double error = 0.0;
  for (const double m : magnitudes)
    error += m > threshold ? (m - threshold) * (m - threshold) : step * step / 12;
  return error;
}

TEST(CalibrationRange, MseMinimisesTheErrorOnTheRawData) {
  const std::vector<float> two_sided = gaussian_with_outliers(4000, 31);
  const std::vector<float> one_sided = relu(gaussian_with_outliers(4000, 32));
  std::vector<float> heavy_tailed = uniform(4000, -1.0f, 1.0f, 33);
  for (float& v : heavy_tailed)
    v = v * v * v * 10.0f;  // mass near 0, a long thin tail
  for (const auto& values : {two_sided, one_sided, heavy_tailed}) {
    const TensorStatistics statistics = statistics_of(values);
    const Range range = statistics.range(Method::mse);
    for (const bool positive_side : {true, false}) {
      const Histogram& histogram = positive_side ? statistics.positive() : statistics.negative();
      if (histogram.max_magnitude == 0.0) continue;
      const std::vector<double> magnitudes = side_magnitudes(values, positive_side);
      const int levels = levels_of(statistics, positive_side);
      double least = kInf;
      int least_bins = 0;
      for (int bins = 1; bins <= kBins; ++bins) {
        const double error = raw_expected_error(magnitudes, bins * histogram.bin_width, levels);
        if (error < least) {
          least = error;
          least_bins = bins;
        }
      }
      const double threshold = positive_side ? range.hi : -range.lo;
      const double best = std::min(least_bins * histogram.bin_width, histogram.max_magnitude);
      EXPECT_NEAR(threshold, best, 2 * histogram.bin_width) << (positive_side ? "positive" : "negative");
      EXPECT_LE(raw_expected_error(magnitudes, threshold, levels), least * 1.01);
    }
  }
}

// What the ranges are for: uint8 params from the MSE range quantize the rare-outlier data above with far
// less squared error than the minmax range, whose steps are coarse for the bulk.
TEST(CalibrationRange, MseRangeQuantizesBetterThanMinmax) {
  const std::vector<float> values = many_gaussians_two_outliers();
  const TensorStatistics statistics = statistics_of(values);
  const auto quantization_error = [&](Method method) {
    const ActivationParams params = uint8_params(statistics.range(method));
    double error = 0.0;
    for (const float v : values) {
      const double q =
          std::clamp(std::nearbyint(static_cast<double>(v) / params.scale) + params.zero_point, 0.0, 255.0);
      const double back = (q - params.zero_point) * params.scale;
      error += (back - v) * (back - v);
    }
    return error;
  };
  EXPECT_LT(quantization_error(Method::mse), 0.5 * quantization_error(Method::minmax));
}

// ---- uint8 parameters ---------------------------------------------------------------------------------

TEST(Uint8Params, HandComputedValues) {
  // [-1, 3]: scale 4/255; -lo / scale = 63.75 -> 64.
  ActivationParams params = uint8_params({-1.0, 3.0});
  EXPECT_EQ(params.scale, static_cast<float>(4.0 / 255.0));
  EXPECT_EQ(params.zero_point, 64);
  // [-1, 1]: float32(2/255) is a little above 2/255, so -lo / scale = 127.4999... -> 127.
  params = uint8_params({-1.0, 1.0});
  EXPECT_EQ(params.scale, static_cast<float>(2.0 / 255.0));
  EXPECT_EQ(params.zero_point, 127);
  // Ranges widened to hold 0: all negative -> zero point 255, all positive -> 0.
  params = uint8_params({-2.0, -1.0});
  EXPECT_EQ(params.scale, static_cast<float>(2.0 / 255.0));
  EXPECT_EQ(params.zero_point, 255);
  params = uint8_params({1.0, 2.0});
  EXPECT_EQ(params.scale, static_cast<float>(2.0 / 255.0));
  EXPECT_EQ(params.zero_point, 0);
  // A range of mostly negative values: 254.915 -> 255.
  EXPECT_EQ(uint8_params({-3.0, 1e-3}).zero_point, 255);
}

TEST(Uint8Params, EmptyRangeGivesScaleOne) {
  for (const Range range : {Range{0.0, 0.0}, Range{-1e-40, 0.0}, Range{0.0, 1e-40}}) {
    const ActivationParams params = uint8_params(range);
    EXPECT_EQ(params.scale, 1.0f);
    EXPECT_EQ(params.zero_point, 0);
  }
}

TEST(Uint8Params, ZeroPointTiesRoundToEven) {
  // Scale exactly 1: -lo itself is the zero point before rounding.
  EXPECT_EQ(uint8_params({-0.5, 254.5}).zero_point, 0);
  EXPECT_EQ(uint8_params({-1.5, 253.5}).zero_point, 2);
  EXPECT_EQ(uint8_params({-2.5, 252.5}).zero_point, 2);
  EXPECT_EQ(uint8_params({-3.5, 251.5}).zero_point, 4);
  EXPECT_EQ(uint8_params({-3.5, 251.5}).scale, 1.0f);
}

TEST(Uint8Params, NonFiniteRangeThrows) {
  EXPECT_THROW(uint8_params({-kInf, 1.0}), Error);
  EXPECT_THROW(uint8_params({0.0, std::numeric_limits<double>::quiet_NaN()}), Error);
}

// ---- Weights ------------------------------------------------------------------------------------------

double round_half_even(double x) {
  const double down = std::floor(x);
  const double fraction = x - down;
  if (fraction != 0.5) return fraction < 0.5 ? down : down + 1.0;
  return std::fmod(down, 2.0) == 0.0 ? down : down + 1.0;
}

// The float64 reference: per channel max |w| / 127 (float32 of the double quotient, 1 for a zero channel),
// q = round_half_even(w / scale) with the quotient rounded to float32 first, as ONNX QuantizeLinear does.
struct WeightsReference {
  std::vector<float> scales;
  std::vector<int8_t> values;
};

WeightsReference reference_weights(const std::vector<float>& weights, const std::vector<int64_t>& shape,
                                   int axis) {
  int64_t channels = 1, inner = 1;
  if (axis >= 0) {
    channels = shape[axis];
    for (size_t d = axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
  }
  const auto channel = [&](size_t i) { return axis >= 0 ? (static_cast<int64_t>(i) / inner) % channels : 0; };
  std::vector<double> largest(channels, 0.0);
  for (size_t i = 0; i < weights.size(); ++i)
    largest[channel(i)] = std::max(largest[channel(i)], std::fabs(static_cast<double>(weights[i])));
  WeightsReference reference;
  for (const double m : largest)
    reference.scales.push_back(m > 0 ? static_cast<float>(m / 127.0) : 1.0f);
  for (size_t i = 0; i < weights.size(); ++i) {
    const double scale = reference.scales[channel(i)];
    const auto quotient = static_cast<float>(static_cast<double>(weights[i]) / scale);  // float32 division
    reference.values.push_back(static_cast<int8_t>(std::clamp(round_half_even(quotient), -127.0, 127.0)));
  }
  return reference;
}

// Every weight dequantizes within half a step of itself (float64), the largest of a channel to +-127.
void expect_faithful(const std::vector<float>& weights, const QuantizedWeights& quantized,
                     const std::vector<int64_t>& shape, int axis) {
  int64_t channels = 1, inner = 1;
  if (axis >= 0) {
    channels = shape[axis];
    for (size_t d = axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    const int64_t c = axis >= 0 ? (static_cast<int64_t>(i) / inner) % channels : 0;
    const double scale = quantized.scales[c];
    EXPECT_LE(std::fabs(quantized.values[i] * scale - weights[i]), scale / 2 * (1 + 1e-6)) << "weight " << i;
  }
}

// max |q| of each channel.
std::vector<int> largest_per_channel(const std::vector<int8_t>& values, const std::vector<int64_t>& shape,
                                     int axis) {
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  std::vector<int> largest(shape[axis], 0);
  for (size_t i = 0; i < values.size(); ++i) {
    int& m = largest[(static_cast<int64_t>(i) / inner) % shape[axis]];
    m = std::max(m, std::abs(static_cast<int>(values[i])));
  }
  return largest;
}

std::vector<float> channel_scaled_weights(const std::vector<int64_t>& shape, int axis, uint32_t seed) {
  int64_t size = 1;
  for (const int64_t d : shape)
    size *= d;
  std::vector<float> weights = gaussian(static_cast<size_t>(size), 1.0, seed);
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  // Channels of very different magnitudes, so a per-channel scale matters.
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] *= std::pow(10.0f, static_cast<float>((static_cast<int64_t>(i) / inner) % shape[axis]) - 2.0f);
  return weights;
}

TEST(QuantizeWeights, PerChannelMatchesTheReference) {
  const std::vector<std::pair<std::vector<int64_t>, int>> cases = {
      {{4, 3, 3, 3}, 0},  // convolution weights, output channels first
      {{6, 5}, 1},        // a MatMul's [K, N] weights, output channels last
      {{2, 5, 3}, 1},     // a channel axis in the middle
  };
  for (const auto& [shape, axis] : cases) {
    const std::vector<float> weights = channel_scaled_weights(shape, axis, 51);
    const QuantizedWeights quantized = quantize_weights(weights, shape, axis, {}, 0.02f);
    const WeightsReference reference = reference_weights(weights, shape, axis);
    EXPECT_EQ(quantized.scales, reference.scales);
    EXPECT_EQ(quantized.values, reference.values);
    EXPECT_EQ(quantized.scales.size(), static_cast<size_t>(shape[axis]));
    EXPECT_TRUE(quantized.bias.empty());
    EXPECT_TRUE(quantized.bias_scales.empty());
    EXPECT_TRUE(quantized.raised_channels.empty());
    expect_faithful(weights, quantized, shape, axis);
    // The largest magnitude of each channel reaches the end of the int8 range.
    EXPECT_EQ(largest_per_channel(quantized.values, shape, axis), std::vector<int>(shape[axis], 127));
  }
}

TEST(QuantizeWeights, PerTensorMatchesTheReference) {
  const std::vector<int64_t> shape = {3, 2, 2, 2};
  const std::vector<float> weights = channel_scaled_weights(shape, 0, 52);
  const QuantizedWeights quantized = quantize_weights(weights, shape, -1, {}, 0.5f);
  const WeightsReference reference = reference_weights(weights, shape, -1);
  ASSERT_EQ(quantized.scales.size(), 1u);
  EXPECT_EQ(quantized.scales, reference.scales);
  EXPECT_EQ(quantized.values, reference.values);
  expect_faithful(weights, quantized, shape, -1);
}

TEST(QuantizeWeights, ExtremesTiesAndZeroChannels) {
  // Channel 0: max 127 -> scale exactly 1, so ties fall on .5 exactly. Channel 1: all zero. Channel 2:
  // -2 is the largest magnitude -> -127; 1 -> 63.5 -> 64 (even). Channel 3: denormal-small weights.
  const std::vector<float> weights = {127.0f, -127.0f, 2.5f, 3.5f, -2.5f, 0.5f,  //
                                      0.0f,   -0.0f,   0.0f, 0.0f, 0.0f,  0.0f,  //
                                      -2.0f,  1.0f,    0.0f, 2.0f, -1.0f, 0.5f,  //
                                      1e-40f, -1e-40f, 0.0f, 0.0f, 0.0f,  0.0f};
  const std::vector<int64_t> shape = {4, 6};
  const QuantizedWeights quantized = quantize_weights(weights, shape, 0, {}, 1.0f);
  EXPECT_EQ(quantized.scales[0], 1.0f);
  EXPECT_EQ(quantized.scales[1], 1.0f);  // all zero
  EXPECT_EQ(quantized.scales[2], static_cast<float>(2.0 / 127.0));
  EXPECT_EQ(quantized.scales[3], 1.0f);                               // max / 127 below float's normal range
  const std::vector<int8_t> expected = {127,  -127, 2, 4,   -2,  0,   //
                                        0,    0,    0, 0,   0,   0,   //
                                        -127, 64,   0, 127, -64, 32,  //
                                        0,    0,    0, 0,   0,   0};
  EXPECT_EQ(quantized.values, expected);
}

TEST(QuantizeWeights, BiasAtInputTimesWeightScale) {
  const std::vector<int64_t> shape = {3, 4};
  const std::vector<float> weights = channel_scaled_weights(shape, 0, 53);
  const std::vector<float> bias = {0.3f, -1.7f, 0.0f};
  const float input_scale = 0.0137f;
  const QuantizedWeights quantized = quantize_weights(weights, shape, 0, bias, input_scale);
  EXPECT_TRUE(quantized.raised_channels.empty());
  ASSERT_EQ(quantized.bias_scales.size(), 3u);
  ASSERT_EQ(quantized.bias.size(), 3u);
  for (size_t c = 0; c < 3; ++c) {
    const float bias_scale = input_scale * quantized.scales[c];  // a float32 product
    EXPECT_EQ(quantized.bias_scales[c], bias_scale);
    EXPECT_EQ(quantized.bias[c],
              static_cast<int32_t>(round_half_even(bias[c] / static_cast<double>(bias_scale))));
  }
  EXPECT_EQ(quantized.bias[2], 0);
}

// A long reduction (a detector's 12544-input fully connected layer) leaves the bias less of int32: the
// products can reach K x 255 x 127, which octet's kernels check at load. A bias that fits int32 alone but
// not beside them raises the scale until it does; told no reduction, the same bias is left as it is.
TEST(QuantizeWeights, BiasLeavesRoomForTheProducts) {
  const int64_t k = 12544;
  const std::vector<int64_t> shape = {1, k};
  std::vector<float> weights(static_cast<size_t>(k), 0.0f);
  weights[0] = 0.01f;  // scale 0.01 / 127
  const float input_scale = 0.1f;
  const double bias_scale = static_cast<double>(input_scale * static_cast<float>(0.01 / 127.0));
  const std::vector<float> bias = {static_cast<float>(1.9e9 * bias_scale)};  // ~1.9e9 steps: fits int32
  const QuantizedWeights alone = quantize_weights(weights, shape, 0, bias, input_scale);
  EXPECT_TRUE(alone.raised_channels.empty());
  const QuantizedWeights with_room = quantize_weights(weights, shape, 0, bias, input_scale, k);
  EXPECT_EQ(with_room.raised_channels, (std::vector<int64_t>{0}));
  const double products = static_cast<double>(k) * 255.0 * 127.0;
  EXPECT_LE(std::abs(static_cast<double>(with_room.bias[0])) + products, 2147483647.0);
  EXPECT_GT(std::abs(static_cast<double>(with_room.bias[0])) + products, 2147400000.0);  // no further
}

TEST(QuantizeWeights, BiasTooLargeForInt32RaisesTheScale) {
  const std::vector<int64_t> shape = {3, 4};
  // Channel 0: weights of 1e-3 -> scale ~7.9e-6, bias scale ~7.9e-9 with input scale 1e-3, and a bias of
  // 100 would need ~1.3e10. Channel 2 likewise with a negative bias. Channel 1 has an ordinary bias.
  const std::vector<float> weights = {1e-3f,  -5e-4f, 2e-4f, 0.0f,  //
                                      0.5f,   -0.25f, 0.1f,  0.3f,  //
                                      -1e-3f, 7e-4f,  0.0f,  1e-4f};
  const std::vector<float> bias = {100.0f, 0.75f, -250.0f};
  const float input_scale = 1e-3f;
  const QuantizedWeights unraised = quantize_weights(weights, shape, 0, {}, input_scale);
  const QuantizedWeights quantized = quantize_weights(weights, shape, 0, bias, input_scale);
  EXPECT_EQ(quantized.raised_channels, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(quantized.scales[1], unraised.scales[1]);
  for (const size_t c : {size_t{0}, size_t{2}}) {
    const double magnitude = std::fabs(bias[c]);
    EXPECT_GT(quantized.scales[c], unraised.scales[c]);
    // About |b| / (input_scale * INT32_MAX), and the float below it would not do.
    const double needed = magnitude / (static_cast<double>(input_scale) * 2147483647.0);
    EXPECT_NEAR(quantized.scales[c], needed, needed * 1e-6);
    const float below = std::nextafter(quantized.scales[c], 0.0f);
    const float below_bias_scale = input_scale * below;
    EXPECT_TRUE(below < static_cast<float>(needed) ||
                round_half_even(magnitude / below_bias_scale) > 2147483647.0)
        << "channel " << c << " raised further than needed";
    // The bias fits int32 and dequantizes within half a step.
    const double bias_scale = quantized.bias_scales[c];
    EXPECT_EQ(quantized.bias_scales[c], input_scale * quantized.scales[c]);
    EXPECT_LE(std::abs(static_cast<int64_t>(quantized.bias[c])), 2147483647);
    EXPECT_LE(std::fabs(quantized.bias[c] * bias_scale - bias[c]), bias_scale / 2);
    EXPECT_GT(std::abs(static_cast<int64_t>(quantized.bias[c])), 2147480000);  // the range is used
  }
  // The weights of raised channels follow their new scale.
  const WeightsReference reference = reference_weights(weights, shape, 0);
  for (size_t i = 0; i < weights.size(); ++i) {
    const size_t c = i / 4;
    const auto expected = c == 1 ? reference.values[i]
                                 : static_cast<int8_t>(std::clamp(
                                       round_half_even(weights[i] / quantized.scales[c]), -127.0, 127.0));
    EXPECT_EQ(quantized.values[i], expected) << "weight " << i;
  }
  expect_faithful(weights, quantized, shape, 0);
}

TEST(QuantizeWeights, PerTensorBiasSharesOneScale) {
  const std::vector<int64_t> shape = {4, 2};
  const std::vector<float> weights = {0.5f, -1.0f, 0.25f, 0.0f, 0.125f, 1.0f, -0.5f, 0.75f};
  // One bias per output channel of the operator; one scale for all of them.
  const std::vector<float> bias = {0.1f, -0.2f, 0.3f, 1e7f};
  const QuantizedWeights quantized = quantize_weights(weights, shape, -1, bias, 1e-3f);
  ASSERT_EQ(quantized.scales.size(), 1u);
  ASSERT_EQ(quantized.bias_scales.size(), 1u);
  ASSERT_EQ(quantized.bias.size(), 4u);
  // 1e7 at 1e-3 * 1/127 would need ~1.3e12: the one scale is raised.
  EXPECT_EQ(quantized.raised_channels, (std::vector<int64_t>{0}));
  for (size_t i = 0; i < bias.size(); ++i) {
    EXPECT_EQ(quantized.bias[i],
              static_cast<int32_t>(round_half_even(bias[i] / static_cast<double>(quantized.bias_scales[0]))));
    EXPECT_LE(std::fabs(quantized.bias[i] * static_cast<double>(quantized.bias_scales[0]) - bias[i]),
              quantized.bias_scales[0] / 2.0);
  }
}

TEST(QuantizeWeights, RejectsBadArguments) {
  const std::vector<float> six(6, 0.5f);
  const std::vector<int64_t> shape = {2, 3};
  const std::vector<int64_t> wrong_shape = {2, 2};
  const std::vector<int64_t> negative_shape = {-2, -3};
  const std::vector<int64_t> overflowing_shape = {int64_t{1} << 40, int64_t{1} << 40};
  const std::vector<float> three_biases(3, 0.0f);
  const std::vector<float> two_biases(2, 0.0f);
  EXPECT_THROW(quantize_weights(six, wrong_shape, 0, {}, 1.0f), Error);
  EXPECT_THROW(quantize_weights(six, negative_shape, 0, {}, 1.0f), Error);
  EXPECT_THROW(quantize_weights(six, overflowing_shape, 0, {}, 1.0f), Error);
  EXPECT_THROW(quantize_weights(six, shape, 2, {}, 1.0f), Error);
  EXPECT_THROW(quantize_weights(six, shape, -2, {}, 1.0f), Error);
  EXPECT_THROW(quantize_weights(six, shape, 0, three_biases, 1.0f), Error);  // axis 0 has 2 channels
  EXPECT_NO_THROW(quantize_weights(six, shape, 0, two_biases, 1.0f));
  EXPECT_NO_THROW(quantize_weights(six, shape, 1, three_biases, 1.0f));
  for (const float bad :
       {0.0f, -1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()})
    EXPECT_THROW(quantize_weights(six, shape, 0, {}, bad), Error) << bad;
  std::vector<float> nan_weight = six;
  nan_weight[4] = std::numeric_limits<float>::quiet_NaN();
  try {
    quantize_weights(nan_weight, shape, 0, {}, 1.0f);
    FAIL() << "accepted a NaN weight";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("weight 4"), std::string::npos) << e.what();
  }
  std::vector<float> infinite_bias = two_biases;
  infinite_bias[1] = -std::numeric_limits<float>::infinity();
  EXPECT_THROW(quantize_weights(six, shape, 0, infinite_bias, 1.0f), Error);
  // An empty tensor is a valid (if useless) one.
  const std::vector<int64_t> empty_shape = {0, 3};
  EXPECT_TRUE(quantize_weights({}, empty_shape, 0, {}, 1.0f).values.empty());
}

// ---- SQNR ---------------------------------------------------------------------------------------------

TEST(Sqnr, NoNoiseIsInfinite) {
  Sqnr sqnr;
  const std::vector<float> values = {1.0f, -2.0f, 3.5f};
  sqnr.add(values, values);
  EXPECT_EQ(sqnr.decibels(), kInf);
  EXPECT_EQ(sqnr.signal(), 1.0 + 4.0 + 12.25);
  EXPECT_EQ(sqnr.noise(), 0.0);
  // Nothing at all: no noise either.
  EXPECT_EQ(Sqnr().decibels(), kInf);
}

TEST(Sqnr, KnownNoiseGivesKnownDecibels) {
  Sqnr sqnr;
  const std::vector<float> reference = {3.0f, 4.0f};
  const std::vector<float> approximation = {3.0f, 4.5f};
  sqnr.add(reference, approximation);
  EXPECT_DOUBLE_EQ(sqnr.decibels(), 20.0);  // 25 / 0.25 = 100
  // Four values of 1 off by 0.5 each: 4 / 1 -> 10 log10(4).
  Sqnr quarter;
  const std::vector<float> ones(4, 1.0f), offset(4, 1.5f);
  quarter.add(ones, offset);
  EXPECT_DOUBLE_EQ(quarter.decibels(), 10.0 * std::log10(4.0));
}

TEST(Sqnr, AccumulatesOverRunsInDouble) {
  // 1e4 with an error of 2^-10 a value: the sums (multiples of 1e8 and of 2^-20) are exact in double, where
  // float32 sums of 1e8 would already round.
  const std::vector<float> reference(1000, 1e4f);
  const std::vector<float> approximation(1000, 1e4f + 1.0f / 1024.0f);
  Sqnr once, twice;
  once.add(reference, approximation);
  twice.add(std::span<const float>(reference).first(400), std::span<const float>(approximation).first(400));
  twice.add(std::span<const float>(reference).subspan(400),
            std::span<const float>(approximation).subspan(400));
  const double error = static_cast<double>(1e4f + 1.0f / 1024.0f) - 1e4;
  EXPECT_DOUBLE_EQ(once.signal(), 1000 * 1e8);
  EXPECT_DOUBLE_EQ(once.noise(), 1000 * error * error);
  EXPECT_DOUBLE_EQ(twice.signal(), once.signal());
  EXPECT_DOUBLE_EQ(twice.noise(), once.noise());
  EXPECT_NEAR(once.decibels(), 10.0 * std::log10(1e8 / (error * error)), 1e-9);
}

TEST(Sqnr, NoiseOnSilenceIsMinusInfinity) {
  Sqnr sqnr;
  const std::vector<float> silence(3, 0.0f), noise = {0.0f, 0.1f, 0.0f};
  sqnr.add(silence, noise);
  EXPECT_EQ(sqnr.decibels(), -kInf);
}

TEST(Sqnr, SizeMismatchThrows) {
  Sqnr sqnr;
  const std::vector<float> three(3, 1.0f), two(2, 1.0f);
  EXPECT_THROW(sqnr.add(three, two), Error);
}

}  // namespace
}  // namespace octet::calibration
