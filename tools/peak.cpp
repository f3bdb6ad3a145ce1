// `octet peak`: this machine's int8 multiply-accumulate peak per ISA and thread count, and its memory read
// bandwidth: the ceilings that `octet bench --profile` compares layers against.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <thread>
#include <vector>

#include "kernels/error.h"
#include "kernels/isa.h"
#include "kernels/peak.h"
#include "tools/commands.h"

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

int run_peak(std::span<const std::string_view> args) {
  int max_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--threads" || i + 1 >= args.size())
      throw Error("peak: unknown or incomplete option '" + std::string(args[i]) + "'");
    const std::string_view value = args[i + 1];
    max_threads = static_cast<int>(parse_int("--threads", value, 1, 1024));
    ++i;
  }
  std::printf("int8 multiply-accumulate peak (register-only loops; GMAC/s):\n%-12s", "ISA");
  for (int t = 1; t <= max_threads; ++t)
    std::printf(" %10d thr", t);
  std::printf("\n");
  for (Isa isa : supported_isas()) {
    std::printf("%-12s", std::string(name_of(isa)).c_str());
    for (int t = 1; t <= max_threads; ++t)
      std::printf(" %14.1f", measure_peak_gmacs(isa, t, 0.3));
    std::printf("\n");
  }
  std::vector<uint64_t> buffer(size_t{1} << 25, 1);  // 256 MiB: far beyond any cache
  std::printf("\nmemory read bandwidth (GB/s):");
  for (int t = 1; t <= max_threads; ++t)
    std::printf("  %d thread%s: %.1f", t, t == 1 ? "" : "s", read_bandwidth(buffer, t));
  std::printf("\nactive ISA for kernels: %s (OCTET_ISA overrides)\n",
              std::string(name_of(active_isa())).c_str());
  return 0;
}

}  // namespace octet::tools
