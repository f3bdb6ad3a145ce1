// `octet peak`: this machine's int8 multiply-accumulate peak per ISA and thread count, and its memory read
// bandwidth: the ceilings that `octet bench --profile` compares layers against.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kernels/error.h"
#include "kernels/isa.h"
#include "kernels/peak.h"
#include "kernels/x86/amx_support.h"
#include "tools/commands.h"
#include "tools/peak_cache.h"

namespace octet::tools {

namespace {

// GB/s reading `buffer` with `threads` threads (each sums its own part), best of three.
double read_bandwidth(const std::vector<uint64_t>& buffer, int threads) {
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  const size_t part = buffer.size() / static_cast<size_t>(threads);
  double best = 0.0;
  for (int round = 0; round < 3; ++round) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const uint64_t* p = buffer.data() + static_cast<size_t>(t) * part;
        sums[static_cast<size_t>(t)] = std::accumulate(p, p + part, uint64_t{0});
      });
    for (auto& th : pool)
      th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best,
                    static_cast<double>(part * static_cast<size_t>(threads) * sizeof(uint64_t)) / s * 1e-9);
  }
  volatile uint64_t sink = std::accumulate(sums.begin(), sums.end(), uint64_t{0});
  (void)sink;
  return best;
}

}  // namespace

double measure_read_bandwidth(int threads) {
  const std::vector<uint64_t> buffer(size_t{1} << 25, 1);  // 256 MiB: far beyond any cache
  return read_bandwidth(buffer, threads);
}

namespace {

// The cached figure (`get`), unless it is missing or `remeasure`: then `measure` it and save it.
template <typename Get, typename Set, typename Measure>
Ceiling ceiling(bool remeasure, Get get, Set set, Measure measure) {
  PeakCache cache(peak_cache_file(), cpu_key());
  Ceiling c;
  c.file = cache.file().string();
  if (!remeasure)
    if (const std::optional<CachedFigure> figure = get(cache)) {
      c.value = figure->value;
      c.cached = true;
      c.date = figure->date;
      return c;
    }
  c.value = measure();
  c.date = cache_timestamp();
  set(cache, c.value, c.date);
  c.not_saved = cache.save();
  return c;
}

}  // namespace

Ceiling peak_gmacs_ceiling(Isa isa, int threads, bool remeasure) {
  return ceiling(
      remeasure, [&](const PeakCache& cache) { return cache.gmacs(name_of(isa), threads); },
      [&](PeakCache& cache, double v, const std::string& date) {
        cache.set_gmacs(name_of(isa), threads, v, date);
      },
      [&] { return measure_peak_gmacs(isa, threads); });
}

Ceiling read_bandwidth_ceiling(int threads, bool remeasure) {
  return ceiling(
      remeasure, [&](const PeakCache& cache) { return cache.bandwidth_gbs(threads); },
      [&](PeakCache& cache, double v, const std::string& date) { cache.set_bandwidth_gbs(threads, v, date); },
      [&] { return measure_read_bandwidth(threads); });
}

std::string describe_source(const Ceiling& c) {
  if (c.cached) return "cached in " + c.file + " on " + c.date + "; --remeasure-peak measures again";
  if (c.not_saved.empty()) return "measured now, saved in " + c.file;
  return "measured now, not cached (" + c.not_saved + ")";
}

int run_peak(std::span<const std::string_view> args) {
  int max_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (size_t i = 0; i < args.size(); i += 2) {  // --threads N
    if (args[i] != "--threads" || i + 1 >= args.size())
      throw Error("peak: unknown or incomplete option '" + std::string(args[i]) + "'");
    const std::string_view value = args[i + 1];
    max_threads = static_cast<int>(parse_int("--threads", value, 1, 1024));
  }
  std::printf("int8 multiply-accumulate peak (register-only loops; GMAC/s):\n%-12s", "ISA");
  for (int t = 1; t <= max_threads; ++t)
    std::printf(" %10d thr", t);
  std::printf("\n");
  // Always measured; what `octet bench --profile` will use from now on (until the next `octet peak`).
  PeakCache cache(peak_cache_file(), cpu_key());
  const std::string date = cache_timestamp();
  for (Isa isa : supported_isas()) {
    std::printf("%-12s", std::string(name_of(isa)).c_str());
    for (int t = 1; t <= max_threads; ++t) {
      const double gmacs = measure_peak_gmacs(isa, t, 0.3);
      cache.set_gmacs(name_of(isa), t, gmacs, date);
      std::printf(" %14.1f", gmacs);
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  std::vector<uint64_t> buffer(size_t{1} << 25, 1);  // 256 MiB: far beyond any cache
  std::printf("\nmemory read bandwidth (GB/s):");
  for (int t = 1; t <= max_threads; ++t) {
    const double gbs = read_bandwidth(buffer, t);
    cache.set_bandwidth_gbs(t, gbs, date);
    std::printf("  %d thread%s: %.1f", t, t == 1 ? "" : "s", gbs);
  }
  std::printf("\nactive ISA for kernels: %s (OCTET_ISA overrides)\n",
              std::string(name_of(active_isa())).c_str());
  std::printf("AMX: %s\n", describe_amx_support().c_str());
  if (const std::string error = cache.save(); error.empty())
    std::printf("saved for octet bench --profile in %s (CPU: %s)\n", cache.file().string().c_str(),
                cpu_key().c_str());
  else
    std::printf("not cached: %s\n", error.c_str());
  return 0;
}

}  // namespace octet::tools
