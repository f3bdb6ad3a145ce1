#pragma once
// Post-training quantization: a float ONNX model and sample inputs in, an int8 QDQ ONNX model out.
//
//   octet::QuantizeOptions options;
//   options.method = octet::CalibrationMethod::entropy;
//   octet::QuantizeResult r = octet::quantize(float_bytes, samples, options);
//   write r.model to a file; r.tensors says how each quantized tensor fares against float.
//
// The output is standard ONNX (opset 13): uint8 activations per tensor (asymmetric), int8 weights per
// output channel (symmetric), int32 biases, with BatchNormalization folded into the convolution before it.
// octet and ONNX Runtime both run it. docs/quantize.md describes the rules.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "octet/octet.h"

namespace octet {

enum class CalibrationMethod { minmax, percentile, entropy, mse };
const char* name_of(CalibrationMethod method);  // "minmax", "percentile", "entropy", "mse"
// Throws octet::Error for any other name.
CalibrationMethod parse_calibration_method(const std::string& name);

// The calibration samples: `count` runs of the float model, `load(i)` giving run i's inputs by name
// (float32, shaped as the model takes them; dynamic dimensions may differ between runs).
struct CalibrationData {
  size_t count = 0;
  std::function<std::map<std::string, HostTensor>(size_t index)> load;
};

struct QuantizeOptions {
  CalibrationMethod method = CalibrationMethod::minmax;
  double percentile = 99.99;         // CalibrationMethod::percentile: in (0, 100]
  bool per_channel_weights = true;   // false: one scale per weight tensor
  std::vector<std::string> exclude;  // node names kept in float
  int threads = 1;                   // of the sessions that run the float and int8 models
  // Called after each run of the float (calibration) and int8 (evaluation) models: runs done, of total.
  std::function<void(size_t done, size_t total)> progress = {};
};

// One quantized tensor: the range chosen, its params, and how far the int8 model's value of it is from the
// float model's over the calibration data (signal-to-quantization-noise ratio, dB; all errors before it
// included, so the first layer where it drops is the one that hurts).
struct QuantizedTensorReport {
  std::string name;
  double observed_min = 0.0, observed_max = 0.0;
  double range_lo = 0.0, range_hi = 0.0;
  float scale = 0.0f;
  int32_t zero_point = 0;
  std::string params_from;  // "calibrated", "shared with 'X'" (operators that move bytes), "fixed [0, 1]"
  double sqnr_db = 0.0;
};

// A node the quantized model computes in float, and why.
struct FloatNodeReport {
  std::string name;
  std::string op;
  std::string reason;
};

struct QuantizeResult {
  std::vector<std::byte> model;  // the int8 QDQ model, serialized
  std::vector<QuantizedTensorReport> tensors;
  std::vector<FloatNodeReport> float_nodes;
  std::vector<std::string> folded_batch_norms;
  std::map<std::string, std::vector<int64_t>> raised_weight_scales;  // node -> channels (bias fitting)
  int64_t original_opset = 0;
  size_t quantized_nodes = 0;
  size_t samples = 0;
  double calibration_seconds = 0.0;
  double evaluation_seconds = 0.0;
};

// Throws octet::Error naming the model, tensor or sample at fault: a model octet cannot run in float,
// samples of the wrong shape or dtype, no samples, NaN or infinity in the data.
QuantizeResult quantize(std::span<const std::byte> float_model, const CalibrationData& data,
                        const QuantizeOptions& options = {});

}  // namespace octet
