#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/isa.h"
#include "octet/octet.h"

namespace octet::tools {

// Each subcommand of `octet`. They return the process exit code and throw octet::Error for bad input.
int run_demo(std::span<const std::string_view> args);
int run_info(std::span<const std::string_view> args);
int run_run(std::span<const std::string_view> args);
int run_classify(std::span<const std::string_view> args);
int run_bench(std::span<const std::string_view> args);
int run_peak(std::span<const std::string_view> args);
int run_quantize(std::span<const std::string_view> args);

// Memory read bandwidth in GB/s with `threads` threads (a 256 MiB sweep), for rooflines.
double measure_read_bandwidth(int threads);

// A ceiling for the profile: taken from the peak cache (tools/peak_cache.h), or measured now and saved
// there when the cache lacks it or `remeasure` is set.
struct Ceiling {
  double value = 0.0;
  bool cached = false;    // false: measured by this process
  std::string date;       // when it was measured
  std::string file;       // the cache file; empty when there is none
  std::string not_saved;  // measured but not saved: why
};
Ceiling peak_gmacs_ceiling(Isa isa, int threads, bool remeasure);
Ceiling read_bandwidth_ceiling(int threads, bool remeasure);
// One line saying where a ceiling came from, e.g. "cached in F on D; --remeasure-peak measures again".
std::string describe_source(const Ceiling& c);

// Draws the per-layer profile of `octet bench --plot` with gnuplot: time per layer, and a roofline
// (achieved GMAC/s against MACs per byte, under the compute and memory ceilings). Throws if gnuplot fails.
struct PlotLayer {
  std::string name;
  double ms = 0.0;
  double gmacs = 0.0;
  double macs_per_byte = 0.0;
};
void plot_profile(const std::string& png, const std::string& title, const std::vector<PlotLayer>& layers,
                  double peak_gmacs, double bandwidth_gbs);

// The value of `--requant fixed|float` (also fixed_point), naming the option on error.
Requantization parse_requantization(std::string_view option, std::string_view value);

// Parses "--threads N"-style integer option values, naming the option on error.
int64_t parse_int(std::string_view option, std::string_view value, int64_t min, int64_t max);

}  // namespace octet::tools
