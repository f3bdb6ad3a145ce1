// `octet bench` end to end, through the built command on the bundled model: the Chrome trace's JSON shape
// (issue #5 asks for a test of it), the --json record, the peak cache's use, and that piped output carries
// no progress line.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/tools/mini_json.h"

namespace octet::test {
namespace {

namespace fs = std::filesystem;

class BenchOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("octet_bench_output_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  // Runs `octet bench MODEL ARGS` with stdout and stderr to a file (so: not a terminal) and a private
  // cache folder; returns the output, failing the test on a non-zero exit.
  std::string bench(const std::string& args) {
    const fs::path out = dir_ / "out.txt";
    const std::string command = "OCTET_CACHE_DIR='" + (dir_ / "cache").string() +
                                "' " OCTET_CLI_PREFIX "'" OCTET_CLI "' bench '" + OCTET_BUNDLED_MODEL +
                                "' --warmup 1 " + args + " > '" + out.string() + "' 2>&1";
    const int status = std::system(command.c_str());
    const std::string text = read(out);
    EXPECT_EQ(status, 0) << command << "\n" << text;
    return text;
  }

  fs::path dir_;
};

// The events of each tid, slices only ("X"), in time order.
std::map<int, std::vector<const Json*>> slices_by_thread(const Json& trace) {
  std::map<int, std::vector<const Json*>> by_tid;
  for (const Json& e : trace["traceEvents"].array())
    if (e["ph"].string() == "X") by_tid[static_cast<int>(e["tid"].number())].push_back(&e);
  for (auto& [tid, events] : by_tid)
    std::stable_sort(events.begin(), events.end(),
                     [](const Json* a, const Json* b) { return (*a)["ts"].number() < (*b)["ts"].number(); });
  return by_tid;
}

void expect_chrome_trace_shape(const Json& trace) {
  ASSERT_TRUE(trace.is_object());
  ASSERT_TRUE(trace.has("traceEvents"));
  ASSERT_TRUE(trace["traceEvents"].is_array());
  ASSERT_FALSE(trace["traceEvents"].array().empty());
  EXPECT_EQ(trace["displayTimeUnit"].string(), "ms");
  for (const Json& e : trace["traceEvents"].array()) {
    ASSERT_TRUE(e.is_object());
    ASSERT_TRUE(e.has("ph") && e["ph"].is_string());
    ASSERT_TRUE(e.has("name") && e["name"].is_string());
    ASSERT_TRUE(e.has("pid") && e["pid"].is_number());
    ASSERT_TRUE(e.has("tid") && e["tid"].is_number());
    const std::string& ph = e["ph"].string();
    if (ph == "M") {  // metadata: process and thread names
      ASSERT_TRUE(e["name"].string() == "process_name" || e["name"].string() == "thread_name");
      ASSERT_TRUE(e["args"]["name"].is_string());
      continue;
    }
    ASSERT_EQ(ph, "X") << "only complete slices and metadata are written";
    EXPECT_FALSE(e["name"].string().empty());
    ASSERT_TRUE(e.has("cat") && e["cat"].is_string());
    ASSERT_TRUE(e.has("ts") && e["ts"].is_number());
    ASSERT_TRUE(e.has("dur") && e["dur"].is_number());
    EXPECT_GE(e["ts"].number(), 0.0);
    EXPECT_GE(e["dur"].number(), 0.0);
    EXPECT_GE(e["tid"].number(), 1.0);
    ASSERT_TRUE(e["args"]["onnx_op"].is_string());
    ASSERT_TRUE(e["args"]["macs"].is_number());
  }
}

// One thread runs its operators one after another: its slices must not overlap.
void expect_sequential(const std::vector<const Json*>& slices) {
  for (size_t i = 1; i < slices.size(); ++i) {
    const double previous_end = (*slices[i - 1])["ts"].number() + (*slices[i - 1])["dur"].number();
    EXPECT_GE((*slices[i])["ts"].number(), previous_end - 0.002) << "slice " << i;  // 3 decimals in us
  }
}

// The checker itself: it must refuse what a trace viewer would refuse.
TEST(MiniJson, AcceptsJsonAndRefusesTheRest) {
  const Json j = JsonParser::parse(R"({"a": [1, -2.5e3, "x\"y", true, null, {}], "b": {"c": 0}})");
  EXPECT_EQ(j["a"].array().size(), 6u);
  EXPECT_EQ(j["a"].array()[1].number(), -2500.0);
  EXPECT_EQ(j["a"].array()[2].string(), "x\"y");
  for (const char* bad :
       {"", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "[01]", "[1.]", "[.5]", "[nan]", "[inf]", "[\"a\nb\"]",
        "{\"a\":1}{}", "{\"a\":1,\"a\":2}", "[\"\\q\"]", "[1e]", "'a'"})
    EXPECT_THROW(JsonParser::parse(bad), std::runtime_error) << bad;
}

TEST_F(BenchOutputTest, TraceIsChromeTraceEventJsonWithASlicePerNodePerRun) {
  const std::string output = bench("--iterations 4 --profile --trace '" + (dir_ / "t.json").string() +
                                   "' --json '" + (dir_ / "r.json").string() + "'");
  const Json trace = JsonParser::parse(read(dir_ / "t.json"));
  expect_chrome_trace_shape(trace);
  const Json record = JsonParser::parse(read(dir_ / "r.json"));
  const size_t layers = record["layers"].array().size();
  ASSERT_GT(layers, 0u);
  const auto by_tid = slices_by_thread(trace);
  ASSERT_EQ(by_tid.size(), 1u);
  EXPECT_EQ(by_tid.begin()->first, 1);
  EXPECT_EQ(by_tid.begin()->second.size(), 4 * layers);
  expect_sequential(by_tid.begin()->second);
  EXPECT_NE(output.find("trace: "), std::string::npos) << output;
}

TEST_F(BenchOutputTest, TraceHasARowPerStream) {
  bench("--iterations 3 --streams 2 --profile --trace '" + (dir_ / "t.json").string() + "' --json '" +
        (dir_ / "r.json").string() + "'");
  const Json trace = JsonParser::parse(read(dir_ / "t.json"));
  expect_chrome_trace_shape(trace);
  const size_t layers = JsonParser::parse(read(dir_ / "r.json"))["layers"].array().size();
  ASSERT_GT(layers, 0u);
  const auto by_tid = slices_by_thread(trace);
  ASSERT_EQ(by_tid.size(), 2u);
  // Each stream ran 3 times: a slice per layer per run on its own row.
  EXPECT_EQ(by_tid.at(1).size(), 3 * layers);
  EXPECT_EQ(by_tid.at(2).size(), 3 * layers);
  for (const auto& [tid, slices] : by_tid)
    expect_sequential(slices);
  int thread_names = 0;
  for (const Json& e : trace["traceEvents"].array())
    thread_names += e["ph"].string() == "M" && e["name"].string() == "thread_name";
  EXPECT_EQ(thread_names, 2);
}

TEST_F(BenchOutputTest, JsonRecordsThePeakAndWhereItCameFrom) {
  const std::string json = (dir_ / "r.json").string();
  const std::string first = bench("--iterations 3 --profile --json '" + json + "'");
  Json record = JsonParser::parse(read(json));
  EXPECT_EQ(record["schema"].string(), "octet-bench-1");
  EXPECT_EQ(record["peak_source"].string(), "measured");
  const double peak = record["peak_gmacs"].number();
  EXPECT_GT(peak, 0.0);
  EXPECT_FALSE(record["peak_measured_at"].string().empty());
  EXPECT_NE(first.find("measured now, saved in"), std::string::npos) << first;
  EXPECT_TRUE(fs::exists(dir_ / "cache" / "peak.txt"));

  const std::string second = bench("--iterations 3 --profile --json '" + json + "'");
  record = JsonParser::parse(read(json));
  EXPECT_EQ(record["peak_source"].string(), "cached");
  EXPECT_EQ(record["peak_gmacs"].number(), peak);
  EXPECT_NE(second.find("cached in"), std::string::npos) << second;
  EXPECT_NE(second.find("--remeasure-peak"), std::string::npos) << second;

  bench("--iterations 3 --profile --remeasure-peak --json '" + json + "'");
  EXPECT_EQ(JsonParser::parse(read(json))["peak_source"].string(), "measured");

  bench("--iterations 3 --json '" + json + "'");
  record = JsonParser::parse(read(json));
  EXPECT_EQ(record["peak_source"].string(), "none");
  EXPECT_EQ(record["peak_gmacs"].number(), 0.0);
}

TEST_F(BenchOutputTest, PipedOutputHasNoProgressLine) {
  const std::string output = bench("--min-time 0.6");
  EXPECT_EQ(output.find('\r'), std::string::npos);
  EXPECT_EQ(output.find("running:"), std::string::npos);
  EXPECT_NE(output.find("latency over"), std::string::npos) << output;
}

}  // namespace
}  // namespace octet::test
