#pragma once
// Post-training quantization math: the statistics of a float tensor seen over calibration data, the real
// range each calibration method picks from them, and the quantization parameters that follow (uint8
// activations, int8 per-channel weights, int32 biases). Pure arithmetic: knows nothing of graphs or ONNX.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace octet::calibration {

// How a tensor's range is chosen from its statistics.
//   minmax      the observed minimum and maximum;
//   percentile  per sign, the magnitude below which the given percentile of that sign's values lie;
//   entropy     per sign, the clipping magnitude whose quantized histogram is closest to the float one in
//               Kullback-Leibler divergence (the method TensorRT popularised);
//   mse         per sign, the clipping magnitude minimising the expected squared quantization error
//               (clipping error beyond it, step^2 / 12 rounding error below it).
// entropy and mse quantize a sign to 255 levels when the other sign has no non-zero value (a one-sided
// tensor, e.g. a Relu output), to 128 otherwise.
enum class Method { minmax, percentile, entropy, mse };
const char* name_of(Method method);
// Parses "minmax", "percentile", "entropy" or "mse"; throws octet::Error naming the accepted values.
Method parse_method(std::string_view name);

// A real range [lo, hi] with lo <= 0 <= hi (quantized ranges always hold zero exactly).
struct Range {
  double lo = 0.0;
  double hi = 0.0;
};

// Streaming statistics of one tensor over all its calibration values: exact min / max / count, and one
// histogram of magnitudes per sign (kBins bins from 0). A histogram starts with its bin width fitted to the
// first non-zero magnitude it sees; a later value beyond its range doubles the width, merging neighbouring
// bins, as often as needed. So memory is fixed, no second pass is needed, and at least half the bins cover
// the observed range. The result depends only on the values and their order (deterministic).
class TensorStatistics {
 public:
  static constexpr int kBins = 2048;

  // Adds values. A NaN or infinity throws octet::Error naming `what` and the index of the value.
  void add(std::span<const float> values, std::string_view what);

  int64_t count() const { return count_; }
  double min() const { return min_; }  // 0 before any value
  double max() const { return max_; }

  // The range `method` picks, widened to hold 0 and never wider than [min(), max()] (widened to 0).
  // `percentile` (e.g. 99.99) is used by Method::percentile only; it must lie in (0, 100].
  Range range(Method method, double percentile = 99.99) const;

  // One sign's histogram: counts[i] holds magnitudes in [i * bin_width, (i + 1) * bin_width).
  struct Histogram {
    double bin_width = 0.0;  // 0 until a non-zero magnitude arrives
    std::vector<int64_t> counts = std::vector<int64_t>(kBins, 0);
    int64_t total = 0;  // values of this sign, zeros included in the positive side
    double max_magnitude = 0.0;
  };
  const Histogram& positive() const { return positive_; }
  const Histogram& negative() const { return negative_; }

 private:
  int64_t count_ = 0;
  double min_ = 0.0;
  double max_ = 0.0;
  Histogram positive_;
  Histogram negative_;
};

// uint8 activation params for a real range, as ONNX Runtime's quantizer computes them: the range widened
// to hold 0, scale = (hi - lo) / 255 stored as float32 (1 when the range is empty or the scale below
// float's smallest normal), zero point = round_half_even(-lo / scale) clamped to [0, 255]. A range end
// that is not finite throws octet::Error.
struct ActivationParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};
ActivationParams uint8_params(Range range);

// int8 symmetric weights with int32 biases for one convolution / matrix product.
//   weights: the float weights, row-major with `shape`; axis: the output-channel axis of `shape` whose
//   entries get one scale each, or -1 for one scale for the whole tensor.
//   bias: one float per output channel (empty for none); input_scale: the scale of the activation the
//   weights multiply (the bias's scale is input_scale * weight_scale[c], as float32).
// Scales: max |w_c| / 127 (1 for an all-zero channel, or one so small its scale would be below float's
// smallest normal), raised for a channel whose bias would not fit in int32 at the bias scale (as quantizers
// do to protect the bias). Values round half to even into [-127, 127].
// With axis -1 the bias may have any length (the operator's output channels, which the shape alone does
// not name): all of it shares the one scale, and bias_scales has one entry. Throws octet::Error for a
// shape that does not match the weights, an axis outside [-1, rank), a bias whose length is not the axis's
// (axis >= 0), an input_scale that is not finite and positive, or a weight or bias that is not finite.
struct QuantizedWeights {
  std::vector<float> scales;             // one per channel (axis >= 0) or one
  std::vector<int8_t> values;            // same layout as the input weights
  std::vector<float> bias_scales;        // input_scale * scales[c], one per channel; empty without a bias
  std::vector<int32_t> bias;             // empty without a bias
  std::vector<int64_t> raised_channels;  // channels whose scale was raised to fit the bias
};
// `reduction`: how many products each output sums (K; 0 where unknown), so that the bias leaves the
// products room in int32.
QuantizedWeights quantize_weights(std::span<const float> weights, std::span<const int64_t> shape, int axis,
                                  std::span<const float> bias, float input_scale, int64_t reduction = 0);

// Signal-to-quantization-noise ratio in dB of a tensor against its reference, accumulated over many runs:
// 10 log10(sum x^2 / sum (x - y)^2): +infinity without noise (identical values), -infinity for noise on a
// silent reference. The spans must have equal sizes (octet::Error otherwise).
class Sqnr {
 public:
  void add(std::span<const float> reference, std::span<const float> approximation);
  double decibels() const;
  double signal() const { return signal_; }
  double noise() const { return noise_; }

 private:
  double signal_ = 0.0;
  double noise_ = 0.0;
};

}  // namespace octet::calibration
