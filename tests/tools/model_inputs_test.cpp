// The `octet` command's model inputs, end to end through the built command: a model with dynamic
// dimensions is refused without a shape (the error names the input and its dimensions), timed with
// --shape for exactly the shapes given (the MAC count is that of those shapes), and an input given twice
// is an error rather than a silent choice.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/tools/mini_json.h"

namespace octet::test {
namespace {

namespace fs = std::filesystem;

// A float conv 3 -> 4, 3x3 stride 2 pad 1, then ReLU and a global average pool; input [N, 3, H, W].
const std::string kModel = std::string(OCTET_TEST_MODELS) + "/onnx/float_dynamic_image.onnx";
const std::string kInput = std::string(OCTET_TEST_MODELS) + "/onnx/float_dynamic_image.input.npy";

class ModelInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("octet_model_inputs_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `octet ARGS`; returns its exit status and its output (stdout and stderr).
  std::pair<int, std::string> octet(const std::string& args) {
    const fs::path out = dir_ / "out.txt";
    const std::string command = "OCTET_CACHE_DIR='" + (dir_ / "cache").string() +
                                "' " OCTET_CLI_PREFIX "'" OCTET_CLI "' " + args + " > '" + out.string() +
                                "' 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream f(out);
    std::stringstream s;
    s << f.rdbuf();
    return {status, s.str()};
  }

  fs::path dir_;
};

TEST_F(ModelInputsTest, DynamicDimensionsWithoutAShapeAreAnErrorNamingTheInput) {
  for (const std::string command : {"bench", "info"}) {
    const auto [status, text] = octet(command + " '" + kModel + "'");
    EXPECT_NE(status, 0) << command << ": " << text;
    EXPECT_NE(text.find("input 'input'"), std::string::npos) << text;
    EXPECT_NE(text.find("[N, 3, H, W]"), std::string::npos) << text;
    EXPECT_NE(text.find("--shape input="), std::string::npos) << text;
  }
}

TEST_F(ModelInputsTest, ShapeTimesThoseShapesAndCountsTheirMacs) {
  const fs::path json = dir_ / "bench.json";
  const auto [status, text] =
      octet("bench '" + kModel + "' --shape input=2x3x16x20 --iterations 2 --warmup 0 --json '" +
            json.string() + "'");
  ASSERT_EQ(status, 0) << text;
  std::ifstream f(json);
  std::stringstream s;
  s << f.rdbuf();
  const Json record = JsonParser::parse(s.str());
  // Output 2 x 8 x 10 pixels x 4 channels, each 3 x 3 x 3 taps.
  EXPECT_EQ(record["macs_per_inference"].number(), 2.0 * 8 * 10 * 4 * 27);
  const auto [info_status, info] = octet("info '" + kModel + "' --shape input=2x3x16x20");
  ASSERT_EQ(info_status, 0) << info;
  EXPECT_NE(info.find("FLOAT"), std::string::npos) << "float nodes are marked:\n" << info;
}

TEST_F(ModelInputsTest, AnInputGivenTwiceIsAnError) {
  const auto [status, text] = octet("run '" + kModel + "' --input input='" + kInput + "' --input input='" +
                                    kInput + "' --output-dir '" + dir_.string() + "'");
  EXPECT_NE(status, 0) << text;
  EXPECT_NE(text.find("given twice"), std::string::npos) << text;
  const auto [bench_status, bench_text] =
      octet("bench '" + kModel + "' --input input='" + kInput + "' --shape input=1x3x8x8 --iterations 1");
  EXPECT_NE(bench_status, 0) << bench_text;
  EXPECT_NE(bench_text.find("given twice"), std::string::npos) << bench_text;
}

TEST_F(ModelInputsTest, MalformedShapeIsAnError) {
  for (const std::string shape : {"1x3x0x8", "1x3xHx8", "1x3x8x", "x"}) {
    const auto [status, text] = octet("bench '" + kModel + "' --shape input=" + shape + " --iterations 1");
    EXPECT_NE(status, 0) << shape << ": " << text;
    EXPECT_NE(text.find("--shape"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace octet::test
