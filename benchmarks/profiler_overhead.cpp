// What RunOptions::profile costs (`octet bench --profile`): one Session per model runs with the profiler
// off and on in alternation, run after run (off-on, then on-off, ...), so that both modes see the same
// machine state; on a shared machine separate processes differ by far more than the effect measured.
// Prints per model the median latency of each mode and the median of the pairwise differences, in wall
// time and in the calling thread's CPU time (at 1 thread the whole run happens on the calling thread, and
// its CPU time leaves out the time other processes took the core: far less noise on a shared machine).
//
//   build/benchmarks/profiler_overhead MODEL... [--threads N] [--pairs P]

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "octet/octet.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Random bytes of each input's shape and type (dynamic dimensions as 1), as `octet bench` makes them.
std::map<std::string, octet::HostTensor> random_inputs(const octet::Model& model) {
  std::map<std::string, octet::HostTensor> feed;
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const octet::TensorInfo& info : model.inputs()) {
    std::vector<int64_t> shape = info.shape;
    size_t n = 1;
    for (auto& d : shape)
      n *= static_cast<size_t>(d = std::max<int64_t>(d, 1));
    if (info.dtype == octet::DataType::uint8) {
      std::vector<uint8_t> v(n);
      for (auto& x : v)
        x = static_cast<uint8_t>(byte(rng));
      feed.emplace(info.name, octet::HostTensor::from_uint8(shape, std::move(v)));
    } else {
      const float scale = info.scale > 0 ? info.scale : 1.0f / 64;
      std::vector<float> v(n);
      for (auto& x : v)
        x = scale * static_cast<float>(byte(rng) - info.zero_point);
      feed.emplace(info.name, octet::HostTensor::from_float(shape, std::move(v)));
    }
  }
  return feed;
}

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

struct Sample {
  double wall_ms = 0.0, cpu_ms = 0.0;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models;
  int threads = 1, pairs = 300;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = std::stoi(argv[++i]);
    else if (a == "--pairs" && i + 1 < argc)
      pairs = std::stoi(argv[++i]);
    else
      models.push_back(a);
  }
  if (models.empty()) {
    std::fprintf(stderr, "usage: profiler_overhead MODEL... [--threads N] [--pairs P]\n");
    return 2;
  }
  std::printf("%-26s %5s | %9s %9s %8s %9s | %9s %9s %8s %9s %7s\n", "model", "nodes", "wall off", "on",
              "on/off", "pair", "cpu off", "on", "on/off", "pair", "us/node");
  for (const std::string& path : models) {
    const octet::Model model = octet::Model::load(path);
    octet::Session session(model, {.threads = threads});
    const auto feed = random_inputs(model);
    std::vector<octet::NodeTiming> profile;
    const octet::RunOptions off, on{.profile = &profile};
    auto timed = [&](const octet::RunOptions& o) {
      const double cpu = thread_cpu_ms();
      const auto start = std::chrono::steady_clock::now();
      session.run(feed, o);
      return Sample{
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(),
          thread_cpu_ms() - cpu};
    };
    for (int i = 0; i < 10; ++i)
      timed(i % 2 ? on : off);
    std::vector<double> wall_off, wall_on, wall_diff, cpu_off, cpu_on, cpu_diff;
    for (int p = 0; p < pairs; ++p) {
      Sample o, n;
      if (p % 2) {
        n = timed(on);
        o = timed(off);
      } else {
        o = timed(off);
        n = timed(on);
      }
      wall_off.push_back(o.wall_ms);
      wall_on.push_back(n.wall_ms);
      wall_diff.push_back(n.wall_ms - o.wall_ms);
      cpu_off.push_back(o.cpu_ms);
      cpu_on.push_back(n.cpu_ms);
      cpu_diff.push_back(n.cpu_ms - o.cpu_ms);
    }
    const double wo = median(wall_off), wn = median(wall_on), co = median(cpu_off), cn = median(cpu_on);
    const double cd = median(cpu_diff);
    std::printf("%-26.26s %5zu | %9.3f %9.3f %+7.2f%% %+9.4f | %9.3f %9.3f %+7.2f%% %+9.4f %+7.3f\n",
                path.substr(path.find_last_of('/') + 1).c_str(), profile.size(), wo, wn,
                100.0 * (wn - wo) / wo, median(wall_diff), co, cn, 100.0 * (cn - co) / co, cd,
                profile.empty() ? 0.0 : cd * 1e3 / static_cast<double>(profile.size()));
  }
  std::printf(
      "(%d thread(s), %d off/on pairs per model, alternating; medians, ms; us/node: the CPU pair\n"
      " difference per profiled operator)\n",
      threads, pairs);
  return 0;
}
