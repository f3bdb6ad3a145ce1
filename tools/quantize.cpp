// `octet quantize`: post-training quantization of a float ONNX model from the command line.

#include "octet/quantize.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kernels/error.h"
#include "runtime/file_bytes.h"
#include "tools/calibration_files.h"
#include "tools/commands.h"
#include "tools/trace.h"

namespace octet::tools {

namespace {

constexpr const char* kUsage =
    "usage: octet quantize FLOAT.onnx -o INT8.onnx --calibration [NAME=]PATH ... [--method "
    "minmax|percentile|entropy|mse]\n"
    "       [--percentile 99.99] [--per-tensor-weights] [--exclude NODE,...] [--input NAME] [--threads N]\n"
    "       [--report R.json]";

runtime::ByteBuffer read_file(const std::string& path) {
  std::optional<runtime::ByteBuffer> bytes = runtime::read_file_bytes(path);
  if (!bytes) throw Error("cannot open or read '" + path + "'");
  return std::move(*bytes);
}

// Writes next to the destination and renames: a failure never leaves a half-written model behind.
void write_atomically(const std::string& path, std::span<const std::byte> bytes) {
  const std::string temporary = path + ".partial-" + std::to_string(getpid());
  {
    std::ofstream f(temporary, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("cannot write '" + temporary + "'");
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::filesystem::remove(temporary);
      throw Error("cannot write '" + path + "' (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary);
    throw Error("cannot write '" + path + "': " + ec.message());
  }
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = std::min(s.find(',', start), s.size());
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string db_text(double db) {
  if (std::isnan(db)) return "n/a";
  if (std::isinf(db)) return db > 0 ? "exact" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", db);
  return buf;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

void write_report(const std::string& path, const std::string& model, const std::string& output,
                  const QuantizeOptions& options, const QuantizeResult& r) {
  std::ostringstream f;
  f << "{\n  \"schema\": \"octet-quantize-1\",\n  \"model\": \"" << json_escape(model)
    << "\",\n  \"output\": \"" << json_escape(output) << "\",\n  \"method\": \"" << name_of(options.method)
    << "\",\n  \"percentile\": " << json_number(options.percentile)
    << ",\n  \"per_channel_weights\": " << (options.per_channel_weights ? "true" : "false")
    << ",\n  \"samples\": " << r.samples << ",\n  \"quantized_nodes\": " << r.quantized_nodes
    << ",\n  \"calibration_seconds\": " << json_number(r.calibration_seconds)
    << ",\n  \"evaluation_seconds\": " << json_number(r.evaluation_seconds)
    << ",\n  \"folded_batch_norms\": " << r.folded_batch_norms.size() << ",\n  \"tensors\": [";
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    const QuantizedTensorReport& t = r.tensors[i];
    f << (i ? ",\n" : "\n") << "    {\"name\": \"" << json_escape(t.name)
      << "\", \"observed_min\": " << json_number(t.observed_min)
      << ", \"observed_max\": " << json_number(t.observed_max) << ", \"range\": [" << json_number(t.range_lo)
      << ", " << json_number(t.range_hi) << "], \"scale\": " << json_number(t.scale)
      << ", \"zero_point\": " << t.zero_point << ", \"params\": \"" << json_escape(t.params_from)
      << "\", \"sqnr_db\": " << json_number(t.sqnr_db) << "}";
  }
  f << "\n  ],\n  \"float_nodes\": [";
  for (size_t i = 0; i < r.float_nodes.size(); ++i) {
    const FloatNodeReport& n = r.float_nodes[i];
    f << (i ? ",\n" : "\n") << "    {\"name\": \"" << json_escape(n.name) << "\", \"op\": \""
      << json_escape(n.op) << "\", \"reason\": \"" << json_escape(n.reason) << "\"}";
  }
  f << "\n  ],\n  \"raised_weight_scales\": {";
  bool first = true;
  for (const auto& [node, channels] : r.raised_weight_scales) {
    f << (first ? "" : ", ") << "\"" << json_escape(node) << "\": " << channels.size();
    first = false;
  }
  f << "}\n}\n";
  const std::string text = f.str();
  write_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

void print_summary(const QuantizeResult& r) {
  std::printf("quantized %zu nodes; %zu tensors with uint8 params; %zu BatchNormalization folded\n",
              r.quantized_nodes, r.tensors.size(), r.folded_batch_norms.size());
  if (r.original_opset < 13)
    std::printf("opset %lld converted to 13\n", static_cast<long long>(r.original_opset));
  for (const auto& [node, channels] : r.raised_weight_scales)
    std::printf("node '%s': %zu channels' weight scales raised so that their bias fits int32\n", node.c_str(),
                channels.size());
  if (!r.float_nodes.empty()) {
    std::printf("left in float (%zu):\n", r.float_nodes.size());
    for (const FloatNodeReport& n : r.float_nodes)
      std::printf("  %-32s %-18s %s\n", n.name.c_str(), n.op.c_str(), n.reason.c_str());
  }
  // The tensors that lose the most, and the last ones (the model's outputs are among them).
  std::vector<size_t> order(r.tensors.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double x = std::isnan(r.tensors[a].sqnr_db) ? INFINITY : r.tensors[a].sqnr_db;
    const double y = std::isnan(r.tensors[b].sqnr_db) ? INFINITY : r.tensors[b].sqnr_db;
    return x < y;
  });
  const size_t shown = std::min<size_t>(order.size(), 10);
  std::printf(
      "\nSQNR of the int8 model's tensors against float over the calibration data (lowest %zu; all in "
      "--report):\n",
      shown);
  std::printf("  %-40s %12s %12s %11s %4s %8s\n", "tensor", "range lo", "range hi", "scale", "zp", "SQNR dB");
  for (size_t k = 0; k < shown; ++k) {
    const QuantizedTensorReport& t = r.tensors[order[k]];
    std::printf("  %-40s %12.5g %12.5g %11.5g %4d %8s\n", t.name.c_str(), t.range_lo, t.range_hi,
                static_cast<double>(t.scale), t.zero_point, db_text(t.sqnr_db).c_str());
  }
  std::printf("calibration %.2f s, evaluation %.2f s (%zu run%s of the model each)\n", r.calibration_seconds,
              r.evaluation_seconds, r.samples, r.samples == 1 ? "" : "s");
}

std::string quoted_names(const std::vector<TensorInfo>& inputs) {
  std::string names;
  for (const TensorInfo& in : inputs)
    names += (names.empty() ? "'" : ", '") + in.name + "'";
  return names;
}

// The samples of every input: `--calibration PATH` feeds the only input (or --input NAME's), and
// `--calibration NAME=PATH`, once per input, feeds several; run i takes sample i of each.
CalibrationData calibration_data(const std::vector<TensorInfo>& inputs,
                                 const std::vector<std::string>& values, const std::string& input_name) {
  const auto input_named = [&](const std::string& name) -> const TensorInfo* {
    for (const TensorInfo& in : inputs)
      if (in.name == name) return &in;
    return nullptr;
  };
  std::map<std::string, std::string> paths;  // input -> its samples
  std::vector<std::string> unnamed;
  for (const std::string& v : values) {
    const size_t eq = v.find('=');
    if (eq != std::string::npos && input_named(v.substr(0, eq))) {
      if (!paths.emplace(v.substr(0, eq), v.substr(eq + 1)).second)
        throw Error("--calibration: input '" + v.substr(0, eq) + "' is given twice");
    } else {
      unnamed.push_back(v);
    }
  }
  if (!unnamed.empty()) {
    if (unnamed.size() > 1 || !paths.empty())
      throw Error("--calibration: '" + unnamed.back() + "' names no input of the model; with several " +
                  "--calibration options, write each as NAME=PATH (inputs: " + quoted_names(inputs) + ")");
    const TensorInfo* input =
        input_name.empty() ? (inputs.size() == 1 ? &inputs[0] : nullptr) : input_named(input_name);
    if (!input)
      throw Error(input_name.empty() ? "quantize: the model has inputs " + quoted_names(inputs) +
                                           "; give each its samples with --calibration NAME=PATH"
                                     : "quantize: the model has no input '" + input_name +
                                           "' (inputs: " + quoted_names(inputs) + ")");
    paths.emplace(input->name, unnamed[0]);
  }
  for (const TensorInfo& in : inputs)
    if (!paths.count(in.name))
      throw Error("quantize: input '" + in.name + "' has no calibration data (--calibration " + in.name +
                  "=PATH)");
  // Several inputs run one sample each time, so that every input's chunk holds the same samples.
  const int64_t max_batch = inputs.size() == 1 ? 16 : 1;
  std::vector<std::pair<std::string, CalibrationData>> per_input;
  for (const TensorInfo& in : inputs)
    per_input.emplace_back(in.name, calibration_files(paths.at(in.name), in, max_batch));
  for (const auto& [name, d] : per_input)
    if (d.count != per_input.front().second.count)
      throw Error("--calibration: input '" + per_input.front().first + "' has " +
                  std::to_string(per_input.front().second.count) + " runs of samples and '" + name + "' " +
                  std::to_string(d.count) + ": give every input the same samples");
  if (per_input.size() == 1) return per_input.front().second;
  CalibrationData merged;
  merged.count = per_input.front().second.count;
  merged.load = [per_input](size_t index) {
    std::map<std::string, HostTensor> feeds;
    for (const auto& [name, d] : per_input)
      for (auto& [input, tensor] : d.load(index))
        feeds.emplace(input, std::move(tensor));
    return feeds;
  };
  return merged;
}

}  // namespace

int run_quantize(std::span<const std::string_view> args) {
  if (args.empty()) throw Error(kUsage);
  const std::string model_path(args[0]);
  std::string output, report, input_name;
  std::vector<std::string> calibrations;
  QuantizeOptions options;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--per-tensor-weights") {
      options.per_channel_weights = false;
      continue;
    }
    if (i + 1 >= args.size()) throw Error("quantize: option '" + std::string(flag) + "' needs a value");
    const std::string value(args[++i]);
    if (flag == "-o" || flag == "--output")
      output = value;
    else if (flag == "--calibration")
      calibrations.push_back(value);
    else if (flag == "--method")
      options.method = parse_calibration_method(value);
    else if (flag == "--percentile") {
      char* end = nullptr;
      options.percentile = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !(options.percentile > 0.0 && options.percentile <= 100.0))
        throw Error("--percentile expects a number in (0, 100], got '" + value + "'");
    } else if (flag == "--exclude") {
      for (auto& name : split_commas(value))
        options.exclude.push_back(std::move(name));
    } else if (flag == "--input")
      input_name = value;
    else if (flag == "--threads")
      options.threads = static_cast<int>(parse_int(flag, value, 0, 1024));
    else if (flag == "--report")
      report = value;
    else
      throw Error("quantize: unknown option '" + std::string(flag) + "'\n" + kUsage);
  }
  if (output.empty() || calibrations.empty())
    throw Error(std::string("quantize: -o and --calibration are required\n") + kUsage);

  const runtime::ByteBuffer bytes = read_file(model_path);
  const Model float_model = Model::load_from_memory(bytes);
  const CalibrationData data = calibration_data(float_model.inputs(), calibrations, input_name);

  const bool tty = isatty(STDERR_FILENO) != 0;
  // A bar redrawn in place on a terminal; piped, one line when each phase ends.
  options.progress = [tty](size_t done, size_t total) {
    const size_t half = total / 2;
    if (!tty && done != half && done != total) return;
    const bool calibrating = done <= half;
    const size_t step = calibrating ? done : done - half;
    const int width = 30;
    const int filled =
        static_cast<int>(static_cast<double>(step) / static_cast<double>(half ? half : 1) * width);
    std::fprintf(stderr, "%s%s [%s%s] %zu/%zu", tty ? "\r" : "", calibrating ? "calibrating" : "evaluating ",
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), '.').c_str(), step, half);
    if (done == half || done == total) std::fprintf(stderr, "\n");
  };
  const QuantizeResult result = quantize(bytes, data, options);
  write_atomically(output, result.model);
  if (!report.empty()) write_report(report, model_path, output, options, result);
  print_summary(result);
  std::printf("wrote %s (%zu bytes, method %s)\n", output.c_str(), result.model.size(),
              name_of(options.method));
  return 0;
}

}  // namespace octet::tools
