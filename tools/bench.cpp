// `octet bench`: load time, first-inference latency and steady-state latency distribution of a model,
// optionally a per-layer profile, a Chrome trace and a JSON record. Timings on shared machines are noisy:
// the report gives medians and percentiles, never a single run.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/error.h"
#include "kernels/isa.h"
#include "kernels/tensor.h"
#include "octet/octet.h"
#include "tools/commands.h"
#include "tools/model_inputs.h"
#include "tools/npy.h"
#include "tools/trace.h"

namespace octet::tools {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank)), hi = static_cast<size_t>(std::ceil(rank));
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

struct Options {
  std::string model;
  int threads = 1;
  int64_t iterations = 0;
  double min_time = 2.0;
  int64_t warmup = 5;
  int64_t batch = 1;
  int64_t streams = 1;
  bool profile = false;
  bool remeasure_peak = false;
  Requantization requantization = Requantization::fixed_point;
  std::string isa;  // "" : the default
  std::string json, trace, save_inputs, plot;
  ModelInputs inputs;
};

Options parse(std::span<const std::string_view> args) {
  if (args.empty()) throw Error("usage: octet bench MODEL [options] (see octet help)");
  Options o;
  o.model = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--profile") {
      o.profile = true;
      continue;
    }
    if (flag == "--remeasure-peak") {
      o.remeasure_peak = true;
      continue;
    }
    if (i + 1 >= args.size()) throw Error("bench: option '" + std::string(flag) + "' needs a value");
    const std::string value(args[++i]);
    if (flag == "--threads")
      o.threads = static_cast<int>(parse_int(flag, value, 0, 1024));
    else if (flag == "--iterations")
      o.iterations = parse_int(flag, value, 1, int64_t{1} << 40);
    else if (flag == "--warmup")
      o.warmup = parse_int(flag, value, 0, 1 << 20);
    else if (flag == "--batch")
      o.batch = parse_int(flag, value, 1, 1 << 20);
    else if (flag == "--requant")
      o.requantization = parse_requantization(flag, value);
    else if (flag == "--isa")
      o.isa = value;
    else if (flag == "--streams")
      o.streams = parse_int(flag, value, 1, 256);
    else if (flag == "--json")
      o.json = value;
    else if (flag == "--trace")
      o.trace = value;
    else if (flag == "--save-inputs")
      o.save_inputs = value;
    else if (flag == "--plot")
      o.plot = value;
    else if (flag == "--min-time") {
      try {
        o.min_time = std::stod(value);
      } catch (const std::exception&) {
        o.min_time = -1;
      }
      if (!(o.min_time > 0 && o.min_time < 1e6))
        throw Error("--min-time expects seconds > 0, got '" + value + "'");
    } else if (!take_input_flag("bench", flag, value, o.inputs)) {
      throw Error("bench: unknown option '" + std::string(flag) + "'");
    }
  }
  if (!o.plot.empty()) o.profile = true;  // the plot draws the profile
  return o;
}

// Random data of `info`'s type, `n` elements of `shape`, drawn so that it spans the input's quantization
// range, as feed[info.name].
void add_random_input(std::map<std::string, HostTensor>& feed, const TensorInfo& info,
                      const std::vector<int64_t>& shape, size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  switch (info.dtype) {
    case DataType::uint8: {
      std::vector<uint8_t> v(n);
      for (auto& x : v)
        x = static_cast<uint8_t>(byte(rng));
      feed.emplace(info.name, HostTensor::from_uint8(shape, std::move(v)));
      break;
    }
    case DataType::float32: {
      const float scale = info.scale > 0 ? info.scale : 1.0f / 64;
      std::vector<float> v(n);
      for (auto& x : v)
        x = scale * static_cast<float>(byte(rng) - info.zero_point);
      feed.emplace(info.name, HostTensor::from_float(shape, std::move(v)));
      break;
    }
    case DataType::int64:
      feed.emplace(info.name, HostTensor::from_int64(shape, std::vector<int64_t>(n, 0)));
      break;
    case DataType::int32:
      feed.emplace(info.name, HostTensor::from_int32(shape, std::vector<int32_t>(n, 0)));
      break;
    case DataType::boolean: {
      std::vector<uint8_t> v(n);
      for (auto& x : v)
        x = static_cast<uint8_t>(byte(rng) & 1);
      feed.emplace(info.name, HostTensor::from_bool(shape, std::move(v)));
      break;
    }
  }
}

// Random data of each input's type and shape (the --shape given, or the model's with a dynamic first
// dimension of --batch), drawn so that it spans the input's quantization range; or the .npy file given.
std::map<std::string, HostTensor> make_inputs(const Model& model, const Options& o) {
  std::map<std::string, HostTensor> feed;
  std::mt19937 rng(1);
  for (const TensorInfo& info : model.inputs()) {
    if (const auto it = o.inputs.data.find(info.name); it != o.inputs.data.end()) {
      feed.emplace(info.name, to_host_tensor(o.inputs.files.at(info.name), info, it->second));
      continue;
    }
    std::vector<int64_t> shape = info.shape;
    if (const auto it = o.inputs.shapes.find(info.name); it != o.inputs.shapes.end()) shape = it->second;
    if (!shape.empty() && shape[0] < 0) shape[0] = o.batch;
    const auto n = static_cast<size_t>(element_count(shape, info.name));
    try {
      add_random_input(feed, info, shape, n, rng);
    } catch (const std::bad_alloc&) {
      throw Error("bench: cannot allocate random data for input '" + info.name + "' " + to_string(shape) +
                  " (" + std::to_string(n) + " elements): give a smaller --shape, or its data with --input");
    }
  }
  return feed;
}

constexpr size_t kMaxTraceRuns = 200;  // per stream: keeps a long run's trace small enough to open

struct LayerStats {
  NodeTiming node;
  std::vector<double> seconds;
};

std::string shape_text(const std::vector<int64_t>& s) {
  return to_string(s);
}

}  // namespace

int run_bench(std::span<const std::string_view> args) {
  const Options o = parse(args);
  // The progress line only when a person watches: piped or redirected output stays exactly the report.
  const bool progress = isatty(STDOUT_FILENO) != 0;
  // Threads the session really uses (0: all cores), for the peak it is compared with.
  const int threads =
      o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Options with_data = o;
  read_input_files(with_data.inputs);
  const auto load_start = Clock::now();
  // Compiled for the shapes timed: the GMAC figures and the memory plan are those of these shapes.
  const Model model =
      load_for_inputs("bench", o.model, with_data.inputs, o.batch, {.requantization = o.requantization});
  const double load_ms = ms_since(load_start);
  const auto feed = make_inputs(model, with_data);
  // --batch B counts B inferences per run, which is only so where an input's first dimension is B: a
  // dynamic batch given B, or a fixed or --input batch of B. A batch the model or the data fixes otherwise
  // would have been reported at B times the throughput that ran.
  if (o.batch > 1 && std::none_of(feed.begin(), feed.end(), [&](const auto& input) {
        return !input.second.shape().empty() && input.second.shape()[0] == o.batch;
      })) {
    std::string shapes;
    for (const auto& [name, t] : feed)
      shapes += (shapes.empty() ? "" : ", ") + name + " " + to_string(t.shape());
    throw Error("bench: --batch " + std::to_string(o.batch) +
                " does not apply: no input has a first dimension of " + std::to_string(o.batch) + " (" +
                shapes + "); a model's fixed batch and the data given with --input keep theirs");
  }
  if (!o.save_inputs.empty()) {
    // The exact inputs of this benchmark, for running the same data through another runtime.
    npy::create_directory(o.save_inputs, "bench: --save-inputs");
    for (const auto& [name, t] : feed) {
      const std::string path = (std::filesystem::path(o.save_inputs) / (name + ".npy")).string();
      npy::write(path, to_npy(t));
    }
  }
  int64_t total_macs = 0;
  for (const NodeInfo& n : model.nodes())
    total_macs += n.macs;

  std::vector<Session> sessions;
  for (int64_t s = 0; s < o.streams; ++s)
    sessions.emplace_back(
        model, SessionOptions{.threads = o.threads, .requantization = o.requantization, .isa = o.isa});
  const auto first_start = Clock::now();
  sessions[0].run(feed);  // compiles for these shapes, grows the arena, warms caches
  const double first_ms = ms_since(first_start);
  for (int64_t i = 0; i < o.warmup; ++i)
    sessions[0].run(feed);

  // Steady state: every stream runs until the iteration count or the minimum time is reached.
  std::vector<std::vector<double>> latencies(static_cast<size_t>(o.streams));
  std::map<size_t, LayerStats> layers;
  std::vector<std::vector<TraceRun>> trace_runs(static_cast<size_t>(o.streams));
  std::atomic<int64_t> done{0};
  const auto bench_start = Clock::now();
  auto work = [&](size_t s) {
    std::vector<NodeTiming> profile;
    RunOptions run_options;
    // Stream 0 feeds the per-layer table; with --trace every stream is timed, each on its own trace row.
    const bool tabled = s == 0 && o.profile, traced = !o.trace.empty();
    if (tabled || traced) run_options.profile = &profile;
    double next_progress = 0.0;
    for (int64_t i = 0;; ++i) {
      const auto start = Clock::now();
      const double elapsed = std::chrono::duration<double>(start - bench_start).count();
      if (o.iterations > 0 ? i >= o.iterations : (elapsed >= o.min_time && i >= 3)) break;
      sessions[s].run(feed, run_options);
      latencies[s].push_back(ms_since(start));
      ++done;
      if (tabled)
        for (const NodeTiming& t : profile) {
          const auto [it, added] = layers.try_emplace(t.node);
          if (added) it->second.node = t;
          it->second.seconds.push_back(t.seconds);
        }
      if (traced && trace_runs[s].size() < kMaxTraceRuns) {
        trace_runs[s].push_back({elapsed, profile});
        // The trace is full: the remaining runs of a stream that feeds no table are timed unprofiled.
        if (trace_runs[s].size() == kMaxTraceRuns && !tabled) run_options.profile = nullptr;
      }
      // On a terminal only, and a few times a second: a slow model still shows it is alive.
      if (s == 0 && progress && elapsed >= next_progress) {
        std::printf("\r  running: %lld inferences, %.1f s", static_cast<long long>(done.load()), elapsed);
        std::fflush(stdout);
        next_progress = elapsed + 0.25;
      }
    }
  };
  std::vector<std::thread> others;
  for (size_t s = 1; s < sessions.size(); ++s)
    others.emplace_back(work, s);
  work(0);
  for (auto& t : others)
    t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - bench_start).count();
  if (progress) std::printf("\r%60s\r", ""), std::fflush(stdout);

  std::vector<double> all;
  for (const auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  const double median = percentile(all, 50);
  const double throughput = static_cast<double>(all.size()) * static_cast<double>(o.batch) / wall;
  const Isa isa = o.isa.empty() ? active_isa() : parse_isa(o.isa);  // the sessions checked the name
  std::printf("model: %s | ISA %s, %s requantization, %d thread%s per session, %lld stream%s, batch %lld\n",
              o.model.c_str(), std::string(name_of(isa)).c_str(), name_of(o.requantization), threads,
              threads == 1 ? "" : "s", static_cast<long long>(o.streams), o.streams == 1 ? "" : "s",
              static_cast<long long>(o.batch));
  std::printf("load (parse + pack): %.1f ms | first inference: %.2f ms\n", load_ms, first_ms);
  std::printf("latency over %zu runs (ms): min %.3f  median %.3f  p90 %.3f  p99 %.3f  max %.3f\n", all.size(),
              percentile(all, 0), median, percentile(all, 90), percentile(all, 99), percentile(all, 100));
  std::printf("throughput: %.1f inferences/s | %.1f GMAC/s at the median latency (%.3f GMAC per inference)\n",
              throughput, static_cast<double>(total_macs) / (median * 1e-3) * 1e-9,
              static_cast<double>(total_macs) * 1e-9);

  Ceiling peak;
  if (o.profile) {
    // After the timed runs, so that measuring the peak cannot disturb them.
    peak = peak_gmacs_ceiling(isa, threads, o.remeasure_peak);
    double total = 0.0;
    for (auto& [i, l] : layers)
      total += percentile(l.seconds, 50);
    std::printf("\npeak: %.0f GMAC/s for %s x %d thread%s, %s\n", peak.value,
                std::string(name_of(isa)).c_str(), threads, threads == 1 ? "" : "s",
                describe_source(peak).c_str());
    std::printf("per layer (median over runs; %%peak against that figure):\n");
    std::printf("%-4s %-30s %-20s %-20s %12s %10s %7s %9s %7s\n", "#", "node", "op", "output shape", "MMAC",
                "ms", "%", "GMAC/s", "%peak");
    std::map<std::string, std::pair<double, int64_t>> by_op;
    double float_ms = 0.0;
    for (auto& [i, l] : layers) {
      const double med = percentile(l.seconds, 50);
      const double gmacs = l.node.macs > 0 ? static_cast<double>(l.node.macs) / med * 1e-9 : 0.0;
      // FLOAT marks what the model computes in float (its quantizer left it out).
      const std::string op = l.node.op + (l.node.computes_in_float ? " FLOAT" : "");
      std::printf("%-4zu %-30.30s %-20.20s %-20s %12.2f %10.4f %6.1f%% %9.1f %6.1f%%\n", i,
                  l.node.name.c_str(), op.c_str(), shape_text(l.node.output_shape).c_str(),
                  static_cast<double>(l.node.macs) * 1e-6, med * 1e3, 100.0 * med / total, gmacs,
                  peak.value > 0 ? 100.0 * gmacs / peak.value : 0.0);
      by_op[op].first += med;
      by_op[op].second += l.node.macs;
      if (l.node.computes_in_float) float_ms += med;
    }
    std::printf("float operators: %.4f ms, %.1f%% of the time\n", float_ms * 1e3, 100.0 * float_ms / total);
    if (!o.plot.empty()) {
      std::vector<PlotLayer> points;
      for (auto& [i, l] : layers) {
        const double med = percentile(l.seconds, 50);
        points.push_back(
            {l.node.name, med * 1e3, l.node.macs > 0 ? static_cast<double>(l.node.macs) / med * 1e-9 : 0.0,
             l.node.bytes > 0 ? static_cast<double>(l.node.macs) / static_cast<double>(l.node.bytes) : 0.0});
      }
      const Ceiling bandwidth = read_bandwidth_ceiling(threads, o.remeasure_peak);
      std::printf("\nmemory read bandwidth: %.1f GB/s for %d thread%s, %s\n", bandwidth.value, threads,
                  threads == 1 ? "" : "s", describe_source(bandwidth).c_str());
      plot_profile(o.plot, o.model + " (" + std::string(name_of(isa)) + ")", points, peak.value,
                   bandwidth.value);
      std::printf("plot: %s\n", o.plot.c_str());
    }
    std::printf("\nper operator type:\n%-22s %10s %7s %9s\n", "op", "ms", "%", "GMAC/s");
    for (const auto& [op, v] : by_op)
      std::printf("%-22s %10.4f %6.1f%% %9.1f\n", op.c_str(), v.first * 1e3, 100.0 * v.first / total,
                  v.second > 0 ? static_cast<double>(v.second) / v.first * 1e-9 : 0.0);
  }

  if (!o.trace.empty()) {
    std::ofstream f(o.trace);
    if (!f) throw Error("cannot write '" + o.trace + "'");
    write_chrome_trace(f, trace_runs, threads);
    if (!f.flush()) throw Error("cannot write '" + o.trace + "'");
    size_t runs = 0;
    for (const auto& stream : trace_runs)
      runs += stream.size();
    std::printf("trace: %s (%zu runs, one row per stream; open in Perfetto or chrome://tracing)\n",
                o.trace.c_str(), runs);
  }

  if (!o.json.empty()) {
    std::ofstream f(o.json);
    if (!f) throw Error("cannot write '" + o.json + "'");
    f << "{\n  \"schema\": \"octet-bench-1\",\n  \"model\": \"" << json_escape(o.model)
      << "\",\n  \"isa\": \"" << name_of(isa) << "\",\n  \"requantization\": \"" << name_of(o.requantization)
      << "\",\n  \"threads\": " << threads << ",\n  \"streams\": " << o.streams
      << ",\n  \"batch\": " << o.batch << ",\n  \"load_ms\": " << load_ms
      << ",\n  \"first_inference_ms\": " << first_ms << ",\n  \"runs\": " << all.size()
      << ",\n  \"latency_ms\": {\"min\": " << percentile(all, 0) << ", \"median\": " << median
      << ", \"p90\": " << percentile(all, 90) << ", \"p99\": " << percentile(all, 99)
      << ", \"max\": " << percentile(all, 100) << "},\n  \"throughput_per_s\": " << throughput
      << ",\n  \"macs_per_inference\": " << total_macs << ",\n  \"peak_gmacs\": " << peak.value
      << ",\n  \"peak_source\": \""
      << (!o.profile    ? "none"
          : peak.cached ? "cached"
                        : "measured")
      << "\",\n  \"peak_measured_at\": \"" << json_escape(peak.date) << "\",\n  \"layers\": [";
    bool first = true;
    for (auto& [i, l] : layers) {
      f << (first ? "\n" : ",\n") << "    {\"index\": " << i << ", \"name\": \"" << json_escape(l.node.name)
        << "\", \"op\": \"" << json_escape(l.node.op) << "\", \"onnx_op\": \"" << json_escape(l.node.onnx_op)
        << "\", \"output_shape\": " << shape_text(l.node.output_shape) << ", \"macs\": " << l.node.macs
        << ", \"float\": " << (l.node.computes_in_float ? "true" : "false")
        << ", \"median_ms\": " << percentile(l.seconds, 50) * 1e3 << "}";
      first = false;
    }
    f << "\n  ]\n}\n";
  }
  return 0;
}

}  // namespace octet::tools
