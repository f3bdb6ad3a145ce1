#pragma once

// The cache of this machine's measured ceilings (int8 GMAC/s per ISA and thread count, read bandwidth per
// thread count): measuring them takes seconds, and `octet bench --profile` needs them on every run.
//
// A text file, one figure per line, tab-separated so that CPU model names may contain spaces:
//   gmacs <TAB> CPU <TAB> ISA <TAB> THREADS <TAB> VALUE <TAB> DATE
//   gbs   <TAB> CPU <TAB> THREADS <TAB> VALUE <TAB> DATE
// Lines of other CPUs are kept (a home directory may be shared by several machines); lines that do not
// parse are dropped, never fatal: the worst a damaged cache can do is cost a re-measurement.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace octet::tools {

// $OCTET_CACHE_DIR, else $XDG_CACHE_HOME/octet, else $HOME/.cache/octet; empty when none is set.
std::filesystem::path peak_cache_file();

// This machine as the cache knows it: the CPU model name from /proc/cpuinfo and the logical CPU count,
// e.g. "AMD EPYC 9R14 96-Core Processor x 2". A figure measured on another machine does not apply here.
std::string cpu_key();

// The current time as the cache records it (UTC, ISO 8601 to the minute).
std::string cache_timestamp();

struct CachedFigure {
  double value = 0.0;
  std::string date;
};

class PeakCache {
 public:
  // The cache in `file` for CPU `cpu`; a missing or unreadable file is an empty cache.
  PeakCache(std::filesystem::path file, std::string cpu);

  std::optional<CachedFigure> gmacs(std::string_view isa, int threads) const;
  std::optional<CachedFigure> bandwidth_gbs(int threads) const;
  void set_gmacs(std::string_view isa, int threads, double value, const std::string& date);
  void set_bandwidth_gbs(int threads, double value, const std::string& date);

  // Writes the file atomically (a temporary file in the same folder, then rename), creating the folder.
  // Returns an empty string on success, else why it could not (the caller measured anyway).
  std::string save() const;

  const std::filesystem::path& file() const { return file_; }

 private:
  // (kind, cpu, isa, threads); the bandwidth lines have an empty isa.
  using Key = std::tuple<std::string, std::string, std::string, int>;
  std::filesystem::path file_;
  std::string cpu_;
  std::map<Key, CachedFigure> figures_;
};

}  // namespace octet::tools
