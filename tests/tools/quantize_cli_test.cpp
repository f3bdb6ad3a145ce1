// `octet quantize` end to end through the built command: the bundled float model and its sample images in,
// a model that `octet run` takes and a --report that parses; calibration data from one .npy or a folder;
// and for bad input (NaN, wrong dtype or shape, an empty folder, a model octet cannot run) a clear error
// and no output file, not even a partial one.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/tools/mini_json.h"
#include "tools/npy.h"

namespace octet::test {
namespace {

namespace fs = std::filesystem;

const std::string kFloatModel = std::string(OCTET_BUNDLED_MODEL_DIR) + "/fashion_mnist_fp32.onnx";
const std::string kImages = std::string(OCTET_BUNDLED_MODEL_DIR) + "/samples/images.npy";

// 'path', for a shell command line (built by appending: g++ 12 warns falsely with -Wrestrict on
// "literal" + std::string).
std::string quote(const fs::path& path) {
  std::string quoted(1, '\'');
  quoted.append(path.string()).push_back('\'');
  return quoted;
}

class QuantizeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("octet_quantize_cli_test_" + std::to_string(getpid()) + "_" +
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

  // Runs `octet ARGS` with its output to a file; returns {exit status, output}.
  std::pair<int, std::string> octet(const std::string& args) {
    const fs::path out = dir_ / "out.txt";
    // Built by appending: g++ 12 warns falsely (-Wrestrict) on "literal" + std::string here.
    std::string command = OCTET_CLI_PREFIX "'" OCTET_CLI "' ";
    command.append(args).append(" > '").append(out.string()).append("' 2>&1");
    const int status = std::system(command.c_str());
    return {status, read(out)};
  }

  // `octet quantize` expected to fail: the message holds `words`, and neither the model nor a partial file
  // is left in the folder.
  void expect_refused(const std::string& args, const std::vector<std::string>& words) {
    std::string command = "quantize ";
    command.append(args).append(" -o ").append(quote(dir_ / "q.onnx"));
    const auto [status, text] = octet(command);
    EXPECT_NE(status, 0) << text;
    for (const auto& w : words)
      EXPECT_NE(text.find(w), std::string::npos) << "'" << w << "' not in: " << text;
    for (const auto& entry : fs::directory_iterator(dir_))
      EXPECT_EQ(
          entry.path().extension() == ".onnx" || entry.path().string().find("partial") != std::string::npos,
          false)
          << "left behind: " << entry.path();
  }

  fs::path dir_;
};

TEST_F(QuantizeCliTest, QuantizesTheBundledModelWithAReport) {
  const fs::path model = dir_ / "q.onnx";
  const fs::path report = dir_ / "r.json";
  const auto [status, text] =
      octet("quantize '" + kFloatModel + "' -o '" + model.string() + "' --calibration '" + kImages +
            "' --method mse --report '" + report.string() + "'");
  ASSERT_EQ(status, 0) << text;
  EXPECT_NE(text.find("quantized 10 nodes"), std::string::npos) << text;
  EXPECT_NE(text.find("SQNR"), std::string::npos) << text;
  EXPECT_EQ(text.find("left in float"), std::string::npos) << text;
  // Piped output: one final progress line per phase, no carriage returns.
  EXPECT_EQ(text.find('\r'), std::string::npos);
  ASSERT_TRUE(fs::exists(model));
  const Json r = JsonParser::parse(read(report));
  EXPECT_EQ(r["schema"].string(), "octet-quantize-1");
  EXPECT_EQ(r["method"].string(), "mse");
  EXPECT_EQ(r["tensors"].array().size(), 8u);
  for (const Json& t : r["tensors"].array()) {
    EXPECT_LE(t["range"].array()[0].number(), 0.0);
    EXPECT_GE(t["range"].array()[1].number(), 0.0);
    EXPECT_GT(t["scale"].number(), 0.0);
    EXPECT_TRUE(t["sqnr_db"].is_number()) << t["name"].string();
  }
  const auto [run_status, run_text] = octet("run '" + model.string() + "' --input input='" + kImages +
                                            "' --output-dir '" + dir_.string() + "'");
  ASSERT_EQ(run_status, 0) << run_text;
  const npy::Array logits = npy::read((dir_ / "logits.npy").string());
  EXPECT_EQ(logits.shape, (std::vector<int64_t>{8, 10}));
}

TEST_F(QuantizeCliTest, ReadsAFolderOfSamplesInNameOrderAndIsDeterministic) {
  const npy::Array images = npy::read(kImages);
  const std::vector<float> all = images.to_float();
  fs::create_directories(dir_ / "calib");
  // Three files: one sample without the batch dimension, a batch of 3, a batch of 4.
  const size_t per = 28 * 28;
  npy::write((dir_ / "calib" / "a.npy").string(),
             npy::from_float({1, 28, 28}, std::span(all).subspan(0, per)));
  npy::write((dir_ / "calib" / "b.npy").string(),
             npy::from_float({3, 1, 28, 28}, std::span(all).subspan(per, 3 * per)));
  npy::write((dir_ / "calib" / "c.npy").string(),
             npy::from_float({4, 1, 28, 28}, std::span(all).subspan(4 * per)));
  const auto [s1, t1] = octet("quantize '" + kFloatModel + "' -o '" + (dir_ / "q1.onnx").string() +
                              "' --calibration '" + (dir_ / "calib").string() + "' --method entropy");
  ASSERT_EQ(s1, 0) << t1;
  const auto [s2, t2] =
      octet("quantize '" + kFloatModel + "' -o '" + (dir_ / "q2.onnx").string() + "' --calibration '" +
            (dir_ / "calib").string() + "' --method entropy --threads 2");
  ASSERT_EQ(s2, 0) << t2;
  EXPECT_EQ(read(dir_ / "q1.onnx"), read(dir_ / "q2.onnx"));
  // The same samples as one batch give the same statistics, so the same model.
  const auto [s3, t3] = octet("quantize '" + kFloatModel + "' -o '" + (dir_ / "q3.onnx").string() +
                              "' --calibration '" + kImages + "' --method entropy");
  ASSERT_EQ(s3, 0) << t3;
  EXPECT_EQ(read(dir_ / "q1.onnx"), read(dir_ / "q3.onnx"));
}

TEST_F(QuantizeCliTest, RefusesBadCalibrationDataAndLeavesNoFile) {
  const npy::Array images = npy::read(kImages);
  std::vector<float> values = images.to_float();
  values[5 * 784 + 17] = NAN;
  npy::write((dir_ / "nan.npy").string(), npy::from_float(images.shape, values));
  expect_refused(quote(kFloatModel) + " --calibration " + quote(dir_ / "nan.npy"), {"NaN", "input"});

  npy::write((dir_ / "bytes.npy").string(), npy::from_uint8({2, 1, 28, 28}, std::vector<uint8_t>(2 * 784)));
  expect_refused(quote(kFloatModel) + " --calibration " + quote(dir_ / "bytes.npy"),
                 {"bytes.npy", "uint8", "float32"});

  npy::write((dir_ / "shape.npy").string(), npy::from_float({2, 1, 28, 27}, std::vector<float>(2 * 28 * 27)));
  expect_refused(quote(kFloatModel) + " --calibration " + quote(dir_ / "shape.npy"),
                 {"shape.npy", "[2, 1, 28, 27]"});

  fs::create_directories(dir_ / "empty");
  expect_refused(quote(kFloatModel) + " --calibration " + quote(dir_ / "empty"), {"no .npy files"});
  expect_refused(quote(kFloatModel) + " --calibration " + quote(dir_ / "missing"), {"does not exist"});
  expect_refused(quote(kFloatModel) + " --calibration " + quote(kImages) + " --method kl", {"kl"});
  expect_refused(quote(kFloatModel) + " --calibration " + quote(kImages) + " --exclude nope", {"nope"});
  expect_refused(quote(std::string(OCTET_BUNDLED_MODEL_DIR) + "/fashion_mnist_int8_qdq.onnx") +
                     " --calibration " + quote(kImages),
                 {"already quantized"});
  expect_refused(quote(kFloatModel), {"--calibration"});
}

// A model with two inputs takes one --calibration NAME=PATH per input; a missing or unnamed one is refused.
TEST_F(QuantizeCliTest, SeveralInputsTakeOneCalibrationEach) {
  const std::string dir = OCTET_TEST_MODELS_DIR;
  const std::string model = quote(dir + "/float_two_inputs.onnx");
  const std::string image = dir + "/float_two_inputs.input.npy";
  const std::string gain = dir + "/float_two_inputs.input1.npy";
  std::string args = "quantize " + model + " -o " + quote(dir_ / "q.onnx") + " --calibration " +
                     quote("image=" + image) + " --calibration " + quote("gain=" + gain);
  const auto [status, text] = octet(args);
  ASSERT_EQ(status, 0) << text;
  EXPECT_NE(text.find("quantized"), std::string::npos) << text;
  const auto [run_status, run_text] =
      octet("run " + quote(dir_ / "q.onnx") + " --input " + quote("image=" + image) + " --input " +
            quote("gain=" + gain) + " --output-dir " + quote(dir_));
  EXPECT_EQ(run_status, 0) << run_text;
  fs::remove(dir_ / "q.onnx");
  for (const auto& entry : fs::directory_iterator(dir_))
    if (entry.path().extension() == ".npy") fs::remove(entry.path());
  expect_refused(model + " --calibration " + quote("image=" + image), {"'gain'", "gain=PATH"});
  expect_refused(model + " --calibration " + quote(image), {"'image'", "'gain'", "NAME=PATH"});
}

}  // namespace
}  // namespace octet::test
