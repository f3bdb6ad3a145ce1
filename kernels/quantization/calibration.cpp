#include "kernels/quantization/calibration.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>

#include "kernels/error.h"

namespace octet::calibration {

namespace {

constexpr int kBins = TensorStatistics::kBins;
constexpr double kInt32Max = 2147483647.0;

// Numbers in messages: enough digits to tell neighbouring float32 values apart.
std::string format_number(double value) {
  std::ostringstream out;
  out.precision(9);
  out << value;
  return out.str();
}

// x rounded to the nearest integer, ties to the even one, without depending on the floating-point
// environment's rounding mode. x - floor(x) is exact in double, so the tie test is exact.
double round_half_even(double x) {
  const double down = std::floor(x);
  const double fraction = x - down;
  if (fraction < 0.5) return down;
  if (fraction > 0.5) return down + 1.0;
  return std::fmod(down, 2.0) == 0.0 ? down : down + 1.0;
}

// ---- Histograms -------------------------------------------------------------------------------------

// The bin of magnitude m: floor(m / width) as computed in double. Widths only ever double, and
// fl(m / 2w) == fl(m / w) / 2 exactly, so floor(bin(m, w) / 2^k) == bin(m, w * 2^k): merging bins gives the
// very histogram that binning every value afresh at the final width would.
double bin_position(double magnitude, double bin_width) {
  return magnitude / bin_width;
}

// Doubles the bin width (merging bins 2i and 2i+1 into i) as often as needed for `magnitude` to fall inside
// the histogram, in one pass over the bins.
void widen_to_hold(TensorStatistics::Histogram& histogram, double magnitude) {
  int doublings = 0;
  double width = histogram.bin_width;
  while (bin_position(magnitude, width) >= kBins) {
    width *= 2.0;
    ++doublings;
  }
  if (doublings == 0) return;
  // Past log2(kBins) doublings every old bin lands in bin 0; capping the shift keeps it defined.
  const int shift = std::min(doublings, 31);
  std::vector<int64_t> merged(kBins, 0);
  for (int i = 0; i < kBins; ++i)
    merged[static_cast<size_t>(i >> shift)] += histogram.counts[static_cast<size_t>(i)];
  histogram.counts = std::move(merged);
  histogram.bin_width = width;
}

void insert(TensorStatistics::Histogram& histogram, double magnitude) {
  ++histogram.total;
  if (magnitude == 0.0) {
    ++histogram.counts[0];  // bin 0 whatever the width, so zeros need no width yet
    return;
  }
  if (histogram.bin_width == 0.0) {
    // The first non-zero magnitude fits the width: one ulp above magnitude / kBins (an exact division,
    // kBins being a power of two), so the magnitude lies just inside the top edge, in the last bin, and the
    // bins stay half-open [i w, (i + 1) w) with no value on the excluded top edge.
    histogram.bin_width = std::nextafter(magnitude / kBins, std::numeric_limits<double>::infinity());
  }
  widen_to_hold(histogram, magnitude);
  histogram.max_magnitude = std::max(histogram.max_magnitude, magnitude);
  const auto bin = static_cast<size_t>(bin_position(magnitude, histogram.bin_width));
  ++histogram.counts[bin];
}

// counts[0..i) summed for every i in [0, kBins].
std::vector<int64_t> prefix_counts(const TensorStatistics::Histogram& histogram) {
  std::vector<int64_t> prefix(kBins + 1, 0);
  for (int i = 0; i < kBins; ++i)
    prefix[static_cast<size_t>(i) + 1] =
        prefix[static_cast<size_t>(i)] + histogram.counts[static_cast<size_t>(i)];
  return prefix;
}

// A side whose only values are zeros (or that has none) has no width and needs no range.
bool has_magnitude(const TensorStatistics::Histogram& histogram) {
  return histogram.max_magnitude > 0.0;
}

// The threshold of candidate `bins` (the first `bins` bins kept), never past the largest magnitude seen.
double threshold_of(const TensorStatistics::Histogram& histogram, int64_t bins) {
  return std::min(static_cast<double>(bins) * histogram.bin_width, histogram.max_magnitude);
}

// ---- Per-side thresholds ----------------------------------------------------------------------------

// The smallest bin upper edge t with (values above t) <= (1 - percentile / 100) * total.
double percentile_threshold(const TensorStatistics::Histogram& histogram, double percentile) {
  if (!has_magnitude(histogram)) return 0.0;
  if (percentile >= 100.0) return histogram.max_magnitude;
  const double allowed_above = (1.0 - percentile / 100.0) * static_cast<double>(histogram.total);
  int64_t above = 0;  // values in the bins after `bin`
  int bin = kBins - 1;
  // Walk down while dropping bin `bin` too (taking the edge below it) would still leave few enough above.
  while (bin > 0 &&
         static_cast<double>(above + histogram.counts[static_cast<size_t>(bin)]) <= allowed_above) {
    above += histogram.counts[static_cast<size_t>(bin)];
    --bin;
  }
  return threshold_of(histogram, bin + 1);
}

// TensorRT's smoothing: each zero bin of P and of Q gets this much mass (in counts), taken evenly from the
// non-zero bins, so that KL(P || Q) stays finite where Q vanishes and P does not.
constexpr double kSmoothing = 1e-4;

// sum over the non-zero counts c of bins [0, end) of (c - e) log(c - e), for any end and any shift
// 0 <= e <= kMaxShift, in O(terms) instead of a pass over the bins. With u = e / c <= kMaxShift (counts are
// at least 1), (1 - u) log(1 - u) = -u + sum_{k >= 2} u^k / (k (k - 1)), so
//   (c - e) log(c - e) = (c - e) log c + c (1 - u) log(1 - u)
//                      = c log c - e log c - e + sum_{k >= 2} e^k c^(1 - k) / (k (k - 1)),
// and the sum over bins needs prefix sums of c log c, log c, 1 and c^-m (m = 1 .. kTerms - 1).
class ShiftedEntropySums {
 public:
  // The smoothing's largest shift: kSmoothing * (zeros / non-zeros) <= kSmoothing * (kBins - 1).
  static constexpr double kMaxShift = kSmoothing * (kBins - 1);
  static_assert(kMaxShift < 1.0, "the series converges only for shifts below the smallest count, 1");
  // The series' term k is below kMaxShift^k / (k (k - 1)) times the bins: under 1e-19 of it by k = 24.
  static constexpr int kTerms = 24;

  explicit ShiftedEntropySums(const std::vector<int64_t>& counts)
      : c_log_c_(kBins + 1, 0.0), log_c_(kBins + 1, 0.0), non_zero_(kBins + 1, 0.0) {
    inverse_powers_.assign(kTerms, std::vector<double>(kBins + 1, 0.0));
    for (size_t j = 0; j < static_cast<size_t>(kBins); ++j) {
      const auto c = static_cast<double>(counts[j]);
      const double log_c = c > 0.0 ? std::log(c) : 0.0;
      c_log_c_[j + 1] = c_log_c_[j] + c * log_c;
      log_c_[j + 1] = log_c_[j] + log_c;
      non_zero_[j + 1] = non_zero_[j] + (c > 0.0 ? 1.0 : 0.0);
      double inverse_power = 1.0;
      for (size_t m = 1; m < static_cast<size_t>(kTerms); ++m) {
        inverse_power = c > 0.0 ? inverse_power / c : 0.0;
        inverse_powers_[m][j + 1] = inverse_powers_[m][j] + inverse_power;
      }
    }
  }

  double operator()(size_t end, double shift) const {
    double sum = c_log_c_[end] - shift * (log_c_[end] + non_zero_[end]);
    double shift_power = shift;
    for (size_t k = 2; k <= static_cast<size_t>(kTerms); ++k) {
      shift_power *= shift;
      const double coefficient = shift_power / static_cast<double>(k * (k - 1));
      // Later terms are smaller still (each inverse-power sum is at most the non-zero count).
      if (coefficient * non_zero_[end] <= 1e-17 * std::fabs(sum)) break;
      sum += coefficient * inverse_powers_[k - 1][end];
    }
    return sum;
  }

 private:
  std::vector<double> c_log_c_, log_c_, non_zero_;
  std::vector<std::vector<double>> inverse_powers_;  // [m][end]: sum of c^-m over the non-zero bins
};

// TensorRT's Kullback-Leibler calibration on one side's histogram. For each candidate i (bins kept), P is
// the first i bins with every value beyond folded into bin i - 1 (clipping saturates them there). Q is
// what `levels` levels make of the same i bins: cut into `levels` contiguous groups (group g holds bins
// [g i / levels, (g + 1) i / levels), so groups differ in size by one bin at most), each group's count
// spread evenly over the group's non-zero bins of P. As in TensorRT, Q is built from the bins before the
// outliers are folded in: built from P itself, Q would equal P at i = levels (one bin per group) and the
// smallest candidate would always win with a divergence of 0; this way the outliers' bin is where Q falls
// short of P, the more so the more is clipped. Both are smoothed (kSmoothing), then normalised; the
// candidate with the least KL(P || Q) wins, the first one on a tie.
//
// Smoothing keeps each distribution's total (T for P, Z = T - outliers for Q), so with P', Q' the smoothed
// counts KL = sum_j P'_j log(P'_j / Q'_j) / T + log(Z / T). Zero bins of P are zero in Q too and add
// eps log(eps / eps) = 0. A non-zero bin of P in group g has Q'_j = M_g / n_g - shift_Q (M_g the group's
// count, n_g its non-zero bins of P), so Q's part takes O(levels) per candidate, and P's part,
// sum P'_j log P'_j, takes ShiftedEntropySums' few terms: every candidate is tried, about 2 ms a side.
double entropy_threshold(const TensorStatistics::Histogram& histogram, int levels) {
  if (!has_magnitude(histogram)) return 0.0;
  const std::vector<int64_t> count_prefix = prefix_counts(histogram);
  std::vector<int64_t> non_zero_prefix(kBins + 1, 0);
  for (size_t j = 0; j < static_cast<size_t>(kBins); ++j)
    non_zero_prefix[j + 1] = non_zero_prefix[j] + (histogram.counts[j] != 0 ? 1 : 0);
  const auto total = static_cast<double>(count_prefix[kBins]);
  const ShiftedEntropySums shifted_entropy_sums(histogram.counts);

  double best_divergence = std::numeric_limits<double>::infinity();
  int64_t best_bins = kBins;
  for (int64_t bins = levels; bins <= kBins; ++bins) {
    const auto kept = static_cast<size_t>(bins);
    const int64_t outliers = count_prefix[kBins] - count_prefix[kept];
    const int64_t last_bin = histogram.counts[kept - 1] + outliers;  // P's bin i - 1
    const int64_t p_non_zero = non_zero_prefix[kept - 1] + (last_bin != 0 ? 1 : 0);
    const double p_shift =
        kSmoothing * static_cast<double>(bins - p_non_zero) / static_cast<double>(p_non_zero);

    // Q's non-zero bins: P's, less the outliers' bin when its group counts nothing of its own.
    const auto last_group_begin = static_cast<size_t>((levels - 1) * bins / levels);
    const bool orphan_outliers = outliers > 0 && count_prefix[kept] == count_prefix[last_group_begin];
    const int64_t q_non_zero = p_non_zero - (orphan_outliers ? 1 : 0);
    if (q_non_zero == 0) continue;  // everything clipped: Q is empty
    const double q_shift =
        kSmoothing * static_cast<double>(bins - q_non_zero) / static_cast<double>(q_non_zero);

    // sum over P's non-zero bins of P'_j log Q'_j, group by group.
    double p_log_q = 0.0;
    bool defined = true;
    for (int64_t group = 0; group < levels; ++group) {
      const auto begin = static_cast<size_t>(group * bins / levels);
      const auto end = static_cast<size_t>((group + 1) * bins / levels);
      const int64_t count = count_prefix[end] - count_prefix[begin];
      int64_t non_zero = non_zero_prefix[end] - non_zero_prefix[begin];
      int64_t mass = count;
      if (end == kept) {
        mass += outliers;
        // Bin i - 1 may be empty in the histogram but not in P, which holds the outliers there.
        if (histogram.counts[kept - 1] == 0 && last_bin != 0) ++non_zero;
      }
      if (mass == 0) continue;
      const double p_mass = static_cast<double>(mass) - static_cast<double>(non_zero) * p_shift;
      if (count == 0) {
        p_log_q += p_mass * std::log(kSmoothing);  // the orphaned outliers' bin, zero in Q
        continue;
      }
      const double q = static_cast<double>(count) / static_cast<double>(non_zero) - q_shift;
      // Only in histograms of a handful of values can the smoothing take a bin of Q below zero; TensorRT
      // refuses such a candidate, and so does this.
      if (!(q > 0.0)) {
        defined = false;
        break;
      }
      p_log_q += p_mass * std::log(q);
    }
    if (!defined) continue;

    const double last = static_cast<double>(last_bin) - p_shift;
    const double p_log_p =
        shifted_entropy_sums(kept - 1, p_shift) + (last_bin != 0 ? last * std::log(last) : 0.0);

    const auto quantized_total = static_cast<double>(count_prefix[kept]);
    const double divergence = (p_log_p - p_log_q) / total + std::log(quantized_total / total);
    if (divergence < best_divergence) {
      best_divergence = divergence;
      best_bins = bins;
    }
  }
  return threshold_of(histogram, best_bins);
}

// The clipping threshold t = i * width minimising the expected squared error of quantizing this side to
// `levels` steps of t / levels: values beyond t (bins whose centre lies past t) are clipped to t, the
// others are off by a rounding error of variance step^2 / 12. Bin centres stand for their values.
double mse_threshold(const TensorStatistics::Histogram& histogram, int levels) {
  if (!has_magnitude(histogram)) return 0.0;
  const std::vector<int64_t> count_prefix = prefix_counts(histogram);
  const double width = histogram.bin_width;
  double best_error = std::numeric_limits<double>::infinity();
  int64_t best_bins = kBins;
  for (int64_t bins = 1; bins <= kBins; ++bins) {
    const double threshold = static_cast<double>(bins) * width;
    const double step = threshold / levels;
    // Bins [0, bins) have centres below the threshold, bins [bins, kBins) beyond it.
    double error = static_cast<double>(count_prefix[static_cast<size_t>(bins)]) * step * step / 12.0;
    for (int64_t j = bins; j < kBins; ++j) {
      const int64_t c = histogram.counts[static_cast<size_t>(j)];
      if (c == 0) continue;
      const double clipped = (static_cast<double>(j) + 0.5) * width - threshold;
      error += static_cast<double>(c) * clipped * clipped;
    }
    if (error < best_error) {
      best_error = error;
      best_bins = bins;
    }
  }
  return threshold_of(histogram, best_bins);
}

// uint8 gives a side all 255 steps when the other side is absent (a one-sided tensor such as a Relu
// output: its range is [0, t] or [-t, 0]), about half of them otherwise.
// Isolated spikes: a value repeated exactly, far more often than its neighbours, fills one bin. The exact
// zeros of a Relu output are one (often most of its values); a constant region of the input (background,
// padding) gives one per channel (conv bias plus the constant's products). Any range represents such a
// value with one rounding, so a spike says nothing about where to clip; left in, the divergence counts
// spreading its mass over its group's bins as lost information and prefers the narrowest ranges.
// Measured on Fashion-MNIST (a black background): Relu outputs clipped to a quarter of their range,
// 5 dB SQNR, 80.6 % accuracy against 89.7 % in float. So for the entropy method each bin counts at most as
// much as its larger neighbour (a generalisation of the common practice of ignoring the zero bin).
TensorStatistics::Histogram without_spikes(const TensorStatistics::Histogram& histogram) {
  TensorStatistics::Histogram h = histogram;
  const std::vector<int64_t>& c = histogram.counts;
  const size_t n = c.size();
  h.total = 0;
  for (size_t j = 0; j < n; ++j) {
    const int64_t left = j > 0 ? c[j - 1] : 0;
    const int64_t right = j + 1 < n ? c[j + 1] : 0;
    h.counts[j] = std::min(c[j], std::max(left, right));
    h.total += h.counts[j];
  }
  return h;
}

// Fewer values than this on a side (8 a bin on average) make a histogram too noisy to fit: the divergence
// then mostly measures the noise, and prefers the narrowest ranges. Measured on ppocr_cls: a squeeze-and-
// excitation gate ([64, 40, 1, 1] values over the calibration set) clipped from 0.75 to 0.18.
constexpr int64_t kFewestValuesToFit = 8 * TensorStatistics::kBins;

// The entropy threshold of a side with its spikes removed. When spikes hold most of the side's values,
// the tensor takes a few distinct values (a small tensor, a near-constant one), and when the side has few
// values there is no distribution to fit either: the side keeps its whole range.
double entropy_threshold_of_continuous_part(const TensorStatistics::Histogram& histogram, int levels) {
  if (histogram.total < kFewestValuesToFit) return histogram.max_magnitude;
  const TensorStatistics::Histogram continuous = without_spikes(histogram);
  if (2 * continuous.total < histogram.total) return histogram.max_magnitude;
  return entropy_threshold(continuous, levels);
}

int levels_for(const TensorStatistics::Histogram& other_side) {
  return has_magnitude(other_side) ? 128 : 255;
}

// ---- Weights ----------------------------------------------------------------------------------------

// The bias scale: float32 product of the two float32 scales (the product of two floats is exact in double,
// so narrowing it rounds once, as a float32 multiply does).
float bias_scale_of(float input_scale, float weight_scale) {
  return static_cast<float>(static_cast<double>(input_scale) * static_cast<double>(weight_scale));
}

// Whether round_half_even(bias / bias_scale) lies in the int32 range.
bool bias_fits(double largest_bias_magnitude, float bias_scale, double limit = kInt32Max) {
  if (largest_bias_magnitude == 0.0) return true;
  if (!(bias_scale > 0.0f)) return false;
  return round_half_even(largest_bias_magnitude / static_cast<double>(bias_scale)) <= limit;
}

std::string weights_error(const std::string& message) {
  return "quantize_weights: " + message;
}

}  // namespace

// ---- Methods ----------------------------------------------------------------------------------------

const char* name_of(Method method) {
  switch (method) {
    case Method::minmax:
      return "minmax";
    case Method::percentile:
      return "percentile";
    case Method::entropy:
      return "entropy";
    case Method::mse:
      return "mse";
  }
  return "unknown";
}

Method parse_method(std::string_view name) {
  for (const Method method : {Method::minmax, Method::percentile, Method::entropy, Method::mse})
    if (name == name_of(method)) return method;
  throw Error("unknown calibration method '" + std::string(name) +
              "': expected minmax, percentile, entropy or mse");
}

// ---- TensorStatistics -------------------------------------------------------------------------------

void TensorStatistics::add(std::span<const float> values, std::string_view what) {
  // Checked before anything is counted, so a bad batch leaves the statistics as they were.
  for (size_t i = 0; i < values.size(); ++i) {
    const float value = values[i];
    if (std::isnan(value)) throw Error(std::string(what) + ": value " + std::to_string(i) + " is NaN");
    if (std::isinf(value))
      throw Error(std::string(what) + ": value " + std::to_string(i) + " is " + (value > 0 ? "+" : "-") +
                  "infinity");
  }
  for (const float value : values) {
    const auto v = static_cast<double>(value);
    if (count_ == 0) {
      min_ = v;
      max_ = v;
    } else {
      min_ = std::min(min_, v);
      max_ = std::max(max_, v);
    }
    ++count_;
    // >= 0 keeps zeros (and -0) on the positive side.
    if (v >= 0.0)
      insert(positive_, v);
    else
      insert(negative_, -v);
  }
}

Range TensorStatistics::range(Method method, double percentile) const {
  if (method == Method::percentile && !(percentile > 0.0 && percentile <= 100.0))
    throw Error("calibration percentile " + format_number(percentile) + " is outside (0, 100]");
  const double lowest = std::min(min_, 0.0);
  const double highest = std::max(max_, 0.0);
  double negative_threshold = 0.0;
  double positive_threshold = 0.0;
  switch (method) {
    case Method::minmax:
      return {lowest, highest};
    case Method::percentile:
      negative_threshold = percentile_threshold(negative_, percentile);
      positive_threshold = percentile_threshold(positive_, percentile);
      break;
    case Method::entropy:
      negative_threshold = entropy_threshold_of_continuous_part(negative_, levels_for(positive_));
      positive_threshold = entropy_threshold_of_continuous_part(positive_, levels_for(negative_));
      break;
    case Method::mse:
      negative_threshold = mse_threshold(negative_, levels_for(positive_));
      positive_threshold = mse_threshold(positive_, levels_for(negative_));
      break;
  }
  // The thresholds are capped at each side's largest magnitude already; the clamp states the contract.
  // + 0.0 turns a -0 lower end into 0.
  return {std::max(-negative_threshold, lowest) + 0.0, std::min(positive_threshold, highest)};
}

// ---- Parameters -------------------------------------------------------------------------------------

ActivationParams uint8_params(Range range) {
  if (!std::isfinite(range.lo) || !std::isfinite(range.hi))
    throw Error("uint8_params: range [" + format_number(range.lo) + ", " + format_number(range.hi) +
                "] is not finite");
  const double lo = std::min(range.lo, 0.0);
  const double hi = std::max(range.hi, 0.0);
  const auto scale = static_cast<float>((hi - lo) / 255.0);
  // A scale float32 cannot hold as a normal number would make -lo / scale meaningless; ONNX Runtime uses 1.
  if (!(scale >= FLT_MIN)) return {1.0f, 0};
  const double zero_point = round_half_even(-lo / static_cast<double>(scale));
  return {scale, static_cast<int32_t>(std::clamp(zero_point, 0.0, 255.0))};
}

QuantizedWeights quantize_weights(std::span<const float> weights, std::span<const int64_t> shape, int axis,
                                  std::span<const float> bias, float input_scale, int64_t reduction) {
  // ---- Validation.
  int64_t elements = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0)
      throw Error(weights_error("dimension " + std::to_string(d) + " of the shape is negative (" +
                                std::to_string(shape[d]) + ")"));
    if (shape[d] > 0 && elements > std::numeric_limits<int64_t>::max() / shape[d])
      throw Error(weights_error("the shape's element count overflows int64"));
    elements *= shape[d];
  }
  if (elements != static_cast<int64_t>(weights.size()))
    throw Error(weights_error("the shape holds " + std::to_string(elements) + " values but there are " +
                              std::to_string(weights.size()) + " weights"));
  if (axis < -1 || axis >= static_cast<int>(shape.size()))
    throw Error(weights_error("axis " + std::to_string(axis) + " is outside [-1, " +
                              std::to_string(shape.size()) + ") for a shape of rank " +
                              std::to_string(shape.size())));
  const bool per_channel = axis >= 0;
  const int64_t channels = per_channel ? shape[static_cast<size_t>(axis)] : 1;
  // Per tensor, the bias has one entry per output channel of the operator, which the weights' shape alone
  // does not name; all of them share the one bias scale.
  if (per_channel && !bias.empty() && static_cast<int64_t>(bias.size()) != channels)
    throw Error(weights_error("the bias has " + std::to_string(bias.size()) + " values but axis " +
                              std::to_string(axis) + " has " + std::to_string(channels) + " channels"));
  if (!std::isfinite(input_scale) || !(input_scale > 0.0f))
    throw Error(
        weights_error("input scale " + format_number(input_scale) + " is not a finite positive number"));
  for (size_t i = 0; i < weights.size(); ++i)
    if (!std::isfinite(weights[i]))
      throw Error(weights_error("weight " + std::to_string(i) + " is " + format_number(weights[i])));
  for (size_t i = 0; i < bias.size(); ++i)
    if (!std::isfinite(bias[i]))
      throw Error(weights_error("bias " + std::to_string(i) + " is " + format_number(bias[i])));

  // Weight i's channel along `axis`: (i / inner) % channels, inner = product of the dimensions after it.
  int64_t inner = 1;
  if (per_channel)
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d)
      inner *= shape[d];
  const auto channel_of = [&](size_t i) {
    return per_channel ? static_cast<size_t>((static_cast<int64_t>(i) / inner) % channels) : size_t{0};
  };

  // ---- Scales: max |w_c| / 127, divided in double and stored as float32.
  std::vector<float> largest_weight(static_cast<size_t>(channels), 0.0f);
  for (size_t i = 0; i < weights.size(); ++i) {
    float& largest = largest_weight[channel_of(i)];
    largest = std::max(largest, std::fabs(weights[i]));
  }
  QuantizedWeights result;
  result.scales.resize(static_cast<size_t>(channels));
  for (size_t c = 0; c < result.scales.size(); ++c) {
    const auto scale = static_cast<float>(static_cast<double>(largest_weight[c]) / 127.0);
    // An all-zero channel (or one so small its scale would not be a normal float) gets 1, as ONNX Runtime
    // does.
    result.scales[c] = scale >= FLT_MIN ? scale : 1.0f;
  }

  // ---- Bias guard: a scale so small that a bias overflows int32 at input_scale * scale is raised to the
  // smallest float32 scale (searched upwards from the exact quotient) at which it fits. With the reduction
  // length known, the bias must also leave room for the products (K x 255 x 127 at most), which octet's
  // kernels check against int32 at load: a large bias over a long reduction (a detector's 12544-input
  // fully connected layer) would otherwise make a model octet refuses.
  const double products = static_cast<double>(std::max<int64_t>(reduction, 0)) * 255.0 * 127.0;
  // (Past K = 66310 the products alone can overflow, which no bias scale changes: the bias alone is guarded.)
  const double limit = products < kInt32Max ? std::max(kInt32Max - products, 1.0) : kInt32Max;
  if (!bias.empty()) {
    std::vector<double> largest_bias(static_cast<size_t>(channels), 0.0);
    for (size_t i = 0; i < bias.size(); ++i) {
      double& largest = largest_bias[per_channel ? i : 0];
      largest = std::max(largest, std::fabs(static_cast<double>(bias[i])));
    }
    for (size_t c = 0; c < result.scales.size(); ++c) {
      float& scale = result.scales[c];
      if (bias_fits(largest_bias[c], bias_scale_of(input_scale, scale), limit)) continue;
      const auto needed = static_cast<float>(largest_bias[c] / (static_cast<double>(input_scale) * limit));
      scale = std::max(scale, needed);
      // float32(needed) may round down, and the bias scale is rounded again: a few ulps up settle it.
      while (std::isfinite(scale) && !bias_fits(largest_bias[c], bias_scale_of(input_scale, scale), limit))
        scale = std::nextafter(scale, std::numeric_limits<float>::infinity());
      if (!std::isfinite(scale))
        throw Error(weights_error(
            "bias magnitude " + format_number(largest_bias[c]) + " of channel " + std::to_string(c) +
            " fits int32 at no float32 weight scale with input scale " + format_number(input_scale)));
      result.raised_channels.push_back(static_cast<int64_t>(c));
    }
    result.bias_scales.resize(result.scales.size());
    for (size_t c = 0; c < result.scales.size(); ++c)
      result.bias_scales[c] = bias_scale_of(input_scale, result.scales[c]);
    result.bias.resize(bias.size());
    for (size_t i = 0; i < bias.size(); ++i) {
      const double bias_scale = result.bias_scales[per_channel ? i : 0];
      const double q = round_half_even(static_cast<double>(bias[i]) / bias_scale);
      result.bias[i] = static_cast<int32_t>(std::clamp(q, -kInt32Max, kInt32Max));  // fits by the guard
    }
  }

  // ---- Weights: the division in float32 as ONNX QuantizeLinear does, then round half to even and clamp.
  result.values.resize(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    const float scaled = weights[i] / result.scales[channel_of(i)];
    const double q = round_half_even(static_cast<double>(scaled));
    result.values[i] = static_cast<int8_t>(std::clamp(q, -127.0, 127.0));
  }
  return result;
}

// ---- Sqnr -------------------------------------------------------------------------------------------

void Sqnr::add(std::span<const float> reference, std::span<const float> approximation) {
  if (reference.size() != approximation.size())
    throw Error("Sqnr: the reference has " + std::to_string(reference.size()) +
                " values but the approximation " + std::to_string(approximation.size()));
  for (size_t i = 0; i < reference.size(); ++i) {
    const auto x = static_cast<double>(reference[i]);
    const double difference = x - static_cast<double>(approximation[i]);
    signal_ += x * x;
    noise_ += difference * difference;
  }
}

double Sqnr::decibels() const {
  if (noise_ == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal_ / noise_);  // signal 0: log10(0) = -infinity
}

}  // namespace octet::calibration
