// The peak cache of `octet peak` / `octet bench --profile` (tools/peak_cache.h): where it lives, what it
// keeps, and that a damaged file costs a re-measurement, never a crash.

#include "tools/peak_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace octet::tools {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards; OCTET_CACHE_DIR points into it.
class PeakCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("octet_peak_cache_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    setenv("OCTET_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  }
  void TearDown() override {
    unsetenv("OCTET_CACHE_DIR");
    fs::remove_all(dir_);
  }
  static std::string read(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  fs::path dir_;
};

TEST_F(PeakCacheTest, FolderFollowsTheEnvironment) {
  // HOME and XDG_CACHE_HOME are the process's own: put them back for the tests that follow.
  auto saved = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const std::optional<std::string> home = saved("HOME"), xdg = saved("XDG_CACHE_HOME");
  auto restore = [](const char* name, const std::optional<std::string>& v) {
    if (v)
      setenv(name, v->c_str(), 1);
    else
      unsetenv(name);
  };
  EXPECT_EQ(peak_cache_file(), dir_ / "cache" / "peak.txt");
  unsetenv("OCTET_CACHE_DIR");
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(peak_cache_file(), fs::path("/xdg/octet/peak.txt"));
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(peak_cache_file(), fs::path("/home/someone/.cache/octet/peak.txt"));
  restore("HOME", home);
  restore("XDG_CACHE_HOME", xdg);
}

TEST_F(PeakCacheTest, CpuKeyNamesTheCpuAndItsCount) {
  const std::string key = cpu_key();
  EXPECT_FALSE(key.empty());
  EXPECT_EQ(key.find('\t'), std::string::npos);
  EXPECT_NE(key.find(" x "), std::string::npos) << key;
}

TEST_F(PeakCacheTest, MissingFileIsAnEmptyCache) {
  const PeakCache cache(peak_cache_file(), "cpu A x 2");
  EXPECT_FALSE(cache.gmacs("avx2", 1));
  EXPECT_FALSE(cache.bandwidth_gbs(1));
}

TEST_F(PeakCacheTest, RoundTripCreatesTheFolderAndKeepsEveryFigure) {
  PeakCache cache(peak_cache_file(), "cpu A x 2");
  cache.set_gmacs("avx512vnni", 1, 410.125, "2026-11-27T21:40Z");
  cache.set_gmacs("avx512vnni", 2, 801.5, "2026-11-27T21:40Z");
  cache.set_gmacs("avx2", 1, 0.1 + 0.2, "2026-11-27T21:41Z");  // not exactly representable: exact round trip
  cache.set_bandwidth_gbs(2, 31.25, "2026-11-27T21:42Z");
  ASSERT_EQ(cache.save(), "");
  ASSERT_TRUE(fs::exists(peak_cache_file()));
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "cache"), fs::directory_iterator()), 1);

  const PeakCache again(peak_cache_file(), "cpu A x 2");
  ASSERT_TRUE(again.gmacs("avx512vnni", 1));
  EXPECT_EQ(again.gmacs("avx512vnni", 1)->value, 410.125);
  EXPECT_EQ(again.gmacs("avx512vnni", 1)->date, "2026-11-27T21:40Z");
  EXPECT_EQ(again.gmacs("avx512vnni", 2)->value, 801.5);
  EXPECT_EQ(again.gmacs("avx2", 1)->value, 0.1 + 0.2);
  EXPECT_FALSE(again.gmacs("avx2", 2));
  EXPECT_FALSE(again.gmacs("scalar", 1));
  ASSERT_TRUE(again.bandwidth_gbs(2));
  EXPECT_EQ(again.bandwidth_gbs(2)->value, 31.25);
  EXPECT_FALSE(again.bandwidth_gbs(1));
}

TEST_F(PeakCacheTest, OtherCpusFiguresAreKeptButNotUsed) {
  PeakCache a(peak_cache_file(), "cpu A x 2");
  a.set_gmacs("avx2", 1, 100, "d1");
  ASSERT_EQ(a.save(), "");
  PeakCache b(peak_cache_file(), "cpu B\twith a tab x 8");  // a tab would break the format: made a space
  EXPECT_FALSE(b.gmacs("avx2", 1));
  b.set_gmacs("avx2", 1, 200, "d2");
  ASSERT_EQ(b.save(), "");
  EXPECT_EQ(PeakCache(peak_cache_file(), "cpu A x 2").gmacs("avx2", 1)->value, 100);
  EXPECT_EQ(PeakCache(peak_cache_file(), "cpu B with a tab x 8").gmacs("avx2", 1)->value, 200);
}

TEST_F(PeakCacheTest, MalformedLinesAreIgnoredAndDropped) {
  fs::create_directories(dir_ / "cache");
  {
    std::ofstream f(peak_cache_file());
    f << "# a comment\n"
         "\n"
         "gmacs\tcpu A x 2\tavx2\t1\t123.5\t2026-01-01T00:00Z\n"  // the one good line
         "gmacs\tcpu A x 2\tavx2\t2\tnot-a-number\td\n"
         "gmacs\tcpu A x 2\tavx2\t3\t-5\td\n"
         "gmacs\tcpu A x 2\tavx2\t4\tnan\td\n"
         "gmacs\tcpu A x 2\tavx2\t5\tinf\td\n"
         "gmacs\tcpu A x 2\tavx2\t6\t12abc\td\n"
         "gmacs\tcpu A x 2\tavx2\t0\t10\td\n"
         "gmacs\tcpu A x 2\tavx2\t99999999999999999999\t10\td\n"
         "gmacs\tcpu A x 2\tavx512vnni\t1\t10\n"        // too few fields
         "gmacs\tcpu A x 2\tscalar\t1\t10\td\textra\n"  // too many
         "gmacs\tcpu A x 2\t\t1\t10\td\n"               // empty ISA
         "gbs\tcpu A x 2\t1\t\td\n"                     // empty value
         "gbs\tcpu A x 2\tx\t5\td\n"
         "gmacs cpu A x 2 avx2 1 10 d\n"  // spaces, not tabs
         "bogus\tline\n"
         "\t\t\t\t\t\n"
         "gbs\tcpu A x 2\t2\t20.5\t2026-01-02T00:00Z\n"  // good
         "gbs\tcpu A x 2\t3\t7";                         // truncated (no date, no newline)
    f.write("\0\xff\x01garbage\n", 11);
  }
  PeakCache cache(peak_cache_file(), "cpu A x 2");
  ASSERT_TRUE(cache.gmacs("avx2", 1));
  EXPECT_EQ(cache.gmacs("avx2", 1)->value, 123.5);
  for (int t : {2, 3, 4, 5, 6, 0})
    EXPECT_FALSE(cache.gmacs("avx2", t)) << t;
  EXPECT_FALSE(cache.gmacs("avx512vnni", 1));
  EXPECT_FALSE(cache.gmacs("scalar", 1));
  EXPECT_FALSE(cache.bandwidth_gbs(1));
  EXPECT_EQ(cache.bandwidth_gbs(2)->value, 20.5);
  EXPECT_FALSE(cache.bandwidth_gbs(3));

  // Saving keeps the good lines and drops the rest.
  ASSERT_EQ(cache.save(), "");
  const std::string text = read(peak_cache_file());
  EXPECT_EQ(text.find("not-a-number"), std::string::npos);
  EXPECT_EQ(text.find("bogus"), std::string::npos);
  EXPECT_NE(text.find("gmacs\tcpu A x 2\tavx2\t1\t123.5\t2026-01-01T00:00Z\n"), std::string::npos);
  EXPECT_NE(text.find("gbs\tcpu A x 2\t2\t20.5\t2026-01-02T00:00Z\n"), std::string::npos);
}

TEST_F(PeakCacheTest, UnwritableFolderIsReportedNotThrown) {
  // A regular file where the folder should be: fails even for root, unlike permission bits.
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  setenv("OCTET_CACHE_DIR", (dir_ / "file" / "octet").c_str(), 1);
  PeakCache cache(peak_cache_file(), "cpu A x 2");
  EXPECT_FALSE(cache.gmacs("avx2", 1));
  cache.set_gmacs("avx2", 1, 10, "d");
  EXPECT_NE(cache.save(), "");
  PeakCache nowhere({}, "cpu A x 2");
  EXPECT_NE(nowhere.save(), "");
}

TEST_F(PeakCacheTest, TimestampIsIsoUtcToTheMinute) {
  const std::string t = cache_timestamp();
  ASSERT_EQ(t.size(), 17u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace octet::tools
