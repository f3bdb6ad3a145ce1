// A real, pretrained model from the wild: PaddleOCR's text-direction classifier (MobileNetV3-style, with
// squeeze-excitation, hard-swish spelled as Add / Clip / Mul / Div, a shape subgraph feeding its Reshape,
// stride (2, 1) depthwise convolutions), in float and in int8 QDQ as ONNX Runtime's quantizer writes it,
// with ONNX Runtime 1.30's outputs for four of its test crops (tests/models/real/make_ppocr_fixture.py).
// The float model must agree with ONNX Runtime's float run to 1e-4; the int8 model must make the same
// decisions as ONNX Runtime's int8 run on these clear cases (their margins exceed 0.5), with probabilities
// within 0.1 of it: two correct int8 executions differ by up to 0.07 here (ONNX Runtime against itself,
// fused and unfused; the fixture's README). In the float requantization mode (ONNX Runtime's arithmetic,
// docs/quantization.md 6.6) the int8 model must give ONNX Runtime's output values exactly.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "octet/octet.h"
#include "tools/npy.h"

namespace octet {
namespace {

const std::string kDir = std::string(OCTET_TEST_MODELS_DIR) + "/real/ppocr_cls/";

// The network input, each step a float32 operation as PaddleOCR computes it: (p / 255 - 0.5) / 0.5 in the
// valid columns of each crop, 0 in its right padding.
HostTensor network_input() {
  const npy::Array pixels = npy::read(kDir + "pixels_u8.npy");
  const std::vector<int64_t> widths = npy::read(kDir + "widths.npy").to_int64();
  const std::vector<uint8_t> p = pixels.to_uint8();
  const int64_t plane = pixels.shape[2] * pixels.shape[3], width = pixels.shape[3];
  std::vector<float> x(p.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const auto item = static_cast<int64_t>(i) / (3 * plane), column = static_cast<int64_t>(i) % width;
    const float v = (static_cast<float>(p[i]) / 255.0f - 0.5f) / 0.5f;
    x[i] = column < widths[static_cast<size_t>(item)] ? v : 0.0f;
  }
  return HostTensor::from_float(pixels.shape, std::move(x));
}

std::vector<float> run(const std::string& model_file, int threads,
                       Requantization requantization = Requantization::fixed_point) {
  const Model model = Model::load(kDir + model_file);
  Session session(model, {.threads = threads, .requantization = requantization});
  const auto outputs = session.run({{model.inputs().at(0).name, network_input()}});
  const auto p = outputs.at(model.outputs().at(0).name).float_data();
  return {p.begin(), p.end()};
}

TEST(RealModel, PpocrClsFloatAgreesWithOnnxRuntime) {
  const std::vector<float> expected = npy::read(kDir + "ort_fp32.npy").to_float();
  const std::vector<float> got = run("model_fp32.onnx", 1);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], expected[i], 1e-4) << "probability " << i;
  EXPECT_EQ(run("model_fp32.onnx", 2), got) << "the same bytes on 2 threads";
}

TEST(RealModel, PpocrClsInt8DecidesAsOnnxRuntime) {
  const std::vector<float> expected = npy::read(kDir + "ort_int8.npy").to_float();
  const std::vector<float> got = run("model_int8_qdq.onnx", 1);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t crop = 0; crop < got.size() / 2; ++crop) {
    const float* p = &got[2 * crop];
    const float* e = &expected[2 * crop];
    EXPECT_EQ(p[1] > p[0], e[1] > e[0]) << "crop " << crop << ": octet [" << p[0] << ", " << p[1]
                                        << "], ONNX Runtime [" << e[0] << ", " << e[1] << "]";
    EXPECT_NEAR(p[0], e[0], 0.1) << "crop " << crop;
    EXPECT_NEAR(p[1], e[1], 0.1) << "crop " << crop;
  }
  EXPECT_EQ(run("model_int8_qdq.onnx", 2), got) << "the same bytes on 2 threads";
}

TEST(RealModel, PpocrClsInt8InFloatModeGivesOnnxRuntimesBytes) {
  const std::vector<float> expected = npy::read(kDir + "ort_int8.npy").to_float();
  for (int threads : {1, 2}) {
    const std::vector<float> got = run("model_int8_qdq.onnx", threads, Requantization::float_scale);
    // The outputs are dequantized softmax bytes (scale 1/255): equal values are equal bytes.
    EXPECT_EQ(got, expected) << threads << " thread(s)";
  }
}

}  // namespace
}  // namespace octet
