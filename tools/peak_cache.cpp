#include "tools/peak_cache.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>
#include <vector>

namespace octet::tools {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Tabs and line breaks would break the line format; nothing else in a field needs care.
std::string field(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return out;
}

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t begin = 0;
  for (size_t tab; (tab = line.find('\t', begin)) != std::string_view::npos; begin = tab + 1)
    parts.push_back(line.substr(begin, tab - begin));
  parts.push_back(line.substr(begin));
  return parts;
}

std::optional<int> parse_threads(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 4096) return std::nullopt;
  return v;
}

std::optional<double> parse_value(std::string_view s) {
  double v = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v <= 0.0) return std::nullopt;
  return v;
}

std::string value_text(double v) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);  // shortest exact form
  return ec == std::errc() ? std::string(buffer, end) : std::string("0");
}

}  // namespace

std::filesystem::path peak_cache_file() {
  std::filesystem::path dir;
  if (const std::string d = env("OCTET_CACHE_DIR"); !d.empty())
    dir = d;
  else if (const std::string x = env("XDG_CACHE_HOME"); !x.empty())
    dir = std::filesystem::path(x) / "octet";
  else if (const std::string h = env("HOME"); !h.empty())
    dir = std::filesystem::path(h) / ".cache" / "octet";
  else
    return {};
  return dir / "peak.txt";
}

std::string cpu_key() {
  std::string model;
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; model.empty() && std::getline(f, line);) {
    // x86 says "model name"; some ARM kernels only give "Processor" or "Hardware".
    if (line.rfind("model name", 0) != 0 && line.rfind("Processor", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t begin = line.find_first_not_of(" \t", colon + 1);
    if (begin != std::string::npos) model = line.substr(begin);
  }
  if (model.empty()) model = "unknown CPU";
  return field(model) + " x " + std::to_string(std::max(1u, std::thread::hardware_concurrency()));
}

std::string cache_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%MZ", &utc);
  return buffer;
}

PeakCache::PeakCache(std::filesystem::path file, std::string cpu) : file_(std::move(file)), cpu_(field(cpu)) {
  if (file_.empty()) return;
  std::ifstream f(file_);
  for (std::string line; std::getline(f, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string_view> p = split_tabs(line);
    if (p[0] == "gmacs" && p.size() == 6 && !p[1].empty() && !p[2].empty() && !p[5].empty()) {
      const auto threads = parse_threads(p[3]);
      const auto value = parse_value(p[4]);
      if (threads && value)
        figures_[{"gmacs", std::string(p[1]), std::string(p[2]), *threads}] = {*value, std::string(p[5])};
    } else if (p[0] == "gbs" && p.size() == 5 && !p[1].empty() && !p[4].empty()) {
      const auto threads = parse_threads(p[2]);
      const auto value = parse_value(p[3]);
      if (threads && value) figures_[{"gbs", std::string(p[1]), "", *threads}] = {*value, std::string(p[4])};
    }
    // Anything else (damaged, truncated, a future format) is ignored.
  }
}

std::optional<CachedFigure> PeakCache::gmacs(std::string_view isa, int threads) const {
  const auto it = figures_.find({"gmacs", cpu_, std::string(isa), threads});
  return it == figures_.end() ? std::nullopt : std::optional(it->second);
}

std::optional<CachedFigure> PeakCache::bandwidth_gbs(int threads) const {
  const auto it = figures_.find({"gbs", cpu_, "", threads});
  return it == figures_.end() ? std::nullopt : std::optional(it->second);
}

void PeakCache::set_gmacs(std::string_view isa, int threads, double value, const std::string& date) {
  figures_[{"gmacs", cpu_, field(isa), threads}] = {value, field(date)};
}

void PeakCache::set_bandwidth_gbs(int threads, double value, const std::string& date) {
  figures_[{"gbs", cpu_, "", threads}] = {value, field(date)};
}

std::string PeakCache::save() const {
  if (file_.empty()) return "no cache folder: none of OCTET_CACHE_DIR, XDG_CACHE_HOME, HOME is set";
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  if (ec) return "cannot create '" + file_.parent_path().string() + "': " + ec.message();
  // Another octet may be reading the file: it sees the old or the new one whole, never a half-written one.
  const std::filesystem::path temp = file_.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(temp, std::ios::trunc);
    if (!f) return "cannot write '" + temp.string() + "'";
    f << "# octet peak cache: int8 GMAC/s per CPU, ISA and threads; read GB/s per CPU and threads.\n"
         "# Written by `octet peak` and `octet bench --profile`; safe to delete.\n";
    for (const auto& [key, figure] : figures_) {
      const auto& [kind, cpu, isa, threads] = key;
      f << kind << '\t' << cpu << '\t';
      if (kind == "gmacs") f << isa << '\t';
      f << threads << '\t' << value_text(figure.value) << '\t' << figure.date << '\n';
    }
    f.close();
    if (!f) {
      std::filesystem::remove(temp, ec);
      return "cannot write '" + temp.string() + "'";
    }
  }
  std::filesystem::rename(temp, file_, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return "cannot replace '" + file_.string() + "': " + ec.message();
  }
  return "";
}

}  // namespace octet::tools
