#include "kernels/peak.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "kernels/error.h"

namespace octet {

namespace {

double peak_loop_scalar(long iterations) {
  // Eight independent chains, so the measurement is the multiply throughput, not its latency.
  volatile int32_t seed = 3;
  // Unsigned: the sums wrap over a long run, which signed integers may not.
  uint32_t acc[8] = {};
  const int32_t a = seed, b = seed + 1;
  for (long i = 0; i < iterations; ++i)
    for (uint32_t& v : acc)
      v += static_cast<uint32_t>(a * b + i);
  uint32_t sum = 0;
  for (uint32_t v : acc)
    sum += v;
  seed = static_cast<int32_t>(sum);
  return static_cast<double>(iterations) * 8;
}

double loop(Isa isa, long iterations) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::avx512vnni:
      return peak_loop_avx512vnni(iterations);
    case Isa::avx512amx:
      return peak_loop_amx(iterations);  // throws where AMX is not usable
    case Isa::avx2:
      return peak_loop_avx2(iterations);
#endif
#if defined(__aarch64__)
    case Isa::neon:
      return peak_loop_neon(iterations);
    case Isa::neon_dotprod:
      return peak_loop_neon_dotprod(iterations);
    case Isa::neon_i8mm:
      return peak_loop_neon_i8mm(iterations);
#endif
    default:
      return peak_loop_scalar(iterations);
  }
}

// Calibrates one thread's iteration count of `run` to `seconds`, then runs `threads` threads together.
template <class Loop>
double measure(Loop&& run, int threads, double seconds) {
  long iterations = 1 << 16;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    run(iterations);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s > seconds / 4 || iterations > (1L << 40)) {
      iterations = static_cast<long>(static_cast<double>(iterations) * seconds / std::max(s, 1e-9));
      break;
    }
    iterations *= 4;
  }
  std::vector<std::thread> pool;
  std::atomic<double> macs{0.0};
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      const double m = run(iterations);
      double seen = macs.load();
      while (!macs.compare_exchange_weak(seen, seen + m)) {
      }
    });
  for (auto& th : pool)
    th.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return macs.load() / s * 1e-9;
}

}  // namespace

double measure_peak_gmacs(Isa isa, int threads, double seconds) {
  return measure([isa](long iterations) { return loop(isa, iterations); }, threads, seconds);
}

double measure_amx_peak_gmacs(int threads, double seconds) {
#if defined(__x86_64__)
  return measure_peak_gmacs(Isa::avx512amx, threads, seconds);  // the calibration throws first without AMX
#else
  (void)threads, (void)seconds;
  throw Error("AMX peak: not an x86 CPU");
#endif
}

}  // namespace octet
