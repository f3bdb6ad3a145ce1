// octet::quantize (octet/quantize.h): post-training quantization of float models into QDQ models that
// octet runs, checked on the bundled Fashion-MNIST model and on the float test models (BatchNormalization,
// hard-swish, Sigmoid, Softmax, ConvTranspose, Resize, Concat, Pad, LayerNormalization, dynamic shapes),
// with the structure ONNX expects (onnx::checker), the user's options, and every bad input.

#include "octet/quantize.h"

#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <set>

#include "tools/npy.h"

namespace octet {
namespace {

const std::string kBundled = OCTET_BUNDLED_MODEL_DIR;
const std::string kModels = OCTET_TEST_MODELS_DIR;

std::vector<std::byte> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f) << path;
  const std::vector<char> chars((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  std::transform(chars.begin(), chars.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  return out;
}

// Each sample of an .npy batch as one run.
struct Samples {
  std::string input;
  std::vector<int64_t> shape;  // one sample, batch 1
  std::vector<std::vector<float>> values;

  CalibrationData data() const {
    return {values.size(), [this](size_t i) {
              std::map<std::string, HostTensor> m;
              m.emplace(input, HostTensor::from_float(shape, values.at(i)));
              return m;
            }};
  }
};

Samples samples_of(const std::string& npy_path, const std::string& input) {
  const npy::Array a = npy::read(npy_path);
  Samples s;
  s.input = input;
  s.shape = a.shape;
  s.shape[0] = 1;
  const std::vector<float> all = a.to_float();
  const size_t per = all.size() / static_cast<size_t>(a.shape[0]);
  for (int64_t n = 0; n < a.shape[0]; ++n)
    s.values.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(n * per),
                          all.begin() + static_cast<std::ptrdiff_t>((n + 1) * per));
  return s;
}

// Random samples for a test model's input, in [-2, 2], deterministic.
Samples random_samples(const std::string& input, std::vector<int64_t> shape, size_t count, uint32_t seed) {
  Samples s;
  s.input = input;
  s.shape = std::move(shape);
  int64_t n = 1;
  for (const int64_t d : s.shape)
    n *= d;
  uint32_t state = seed;
  for (size_t k = 0; k < count; ++k) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) {
      state = state * 1664525u + 1013904223u;
      x = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 4.0f - 2.0f;
    }
    s.values.push_back(std::move(v));
  }
  return s;
}

onnx::ModelProto parse(const std::vector<std::byte>& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  return m;
}

std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> c;
  for (const auto& n : m.graph().node())
    ++c[n.op_type()];
  return c;
}

std::vector<float> run_first_output(const std::vector<std::byte>& model, const Samples& s, size_t i) {
  Session session(Model::load_from_memory(model));
  std::map<std::string, HostTensor> in;
  in.emplace(s.input, HostTensor::from_float(s.shape, s.values.at(i)));
  const auto out = session.run(in);
  const auto f = out.begin()->second.float_data();
  return {f.begin(), f.end()};
}

double sqnr_db(const std::vector<float>& ref, const std::vector<float>& x) {
  double signal = 0, noise = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    signal += double{ref[i]} * ref[i], noise += (double{ref[i]} - x[i]) * (double{ref[i]} - x[i]);
  return 10.0 * std::log10(signal / std::max(noise, 1e-30));
}

size_t argmax(const std::vector<float>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

const QuantizedTensorReport* report_of(const QuantizeResult& r, const std::string& name) {
  for (const auto& t : r.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

class FashionMnist : public ::testing::TestWithParam<CalibrationMethod> {};

TEST_P(FashionMnist, QuantizesEveryNodeAndKeepsTheDecisions) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  const Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  QuantizeOptions options;
  options.method = GetParam();
  const QuantizeResult r = quantize(float_model, s.data(), options);
  EXPECT_EQ(r.quantized_nodes, 10u);
  EXPECT_TRUE(r.float_nodes.empty()) << r.float_nodes.front().name << ": " << r.float_nodes.front().reason;
  EXPECT_EQ(r.samples, 8u);
  // Every node of the int8 model runs in int8 in octet.
  for (const NodeInfo& n : Model::load_from_memory(r.model).nodes())
    EXPECT_FALSE(n.computes_in_float) << n.name << " (" << n.onnx_op << ")";
  for (size_t i = 0; i < s.values.size(); ++i) {
    const auto f = run_first_output(float_model, s, i);
    const auto q = run_first_output(r.model, s, i);
    EXPECT_EQ(argmax(f), argmax(q)) << "sample " << i;
    EXPECT_GT(sqnr_db(f, q), 15.0) << "sample " << i;
  }
  const QuantizedTensorReport* logits = report_of(r, "logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_GT(logits->sqnr_db, 15.0);
  EXPECT_LT(logits->sqnr_db, 100.0);  // it is measured, not taken from the params
  // The input in [0, 1] is calibrated to exactly that range (minmax) or inside it.
  const QuantizedTensorReport* input = report_of(r, "input");
  ASSERT_NE(input, nullptr);
  EXPECT_EQ(input->range_lo, 0.0);
  EXPECT_LE(input->range_hi, 1.0);
  EXPECT_EQ(input->zero_point, 0);
}

INSTANTIATE_TEST_SUITE_P(Methods, FashionMnist,
                         ::testing::Values(CalibrationMethod::minmax, CalibrationMethod::percentile,
                                           CalibrationMethod::entropy, CalibrationMethod::mse),
                         [](const auto& info) { return std::string(name_of(info.param)); });

TEST(Quantize, WritesStandardQdqOnnx) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  const Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  const QuantizeResult r = quantize(float_model, s.data());
  onnx::ModelProto m = parse(r.model);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  int64_t opset = 0;
  for (const auto& o : m.opset_import())
    if (o.domain().empty()) opset = o.version();
  EXPECT_GE(opset, 13);
  std::map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : m.graph().initializer())
    inits[t.name()] = &t;
  int int8_weights = 0, int32_biases = 0, uint8_activations = 0;
  for (const auto& n : m.graph().node()) {
    if (n.op_type() == "Conv" || n.op_type() == "Gemm") {
      // Weights and bias come from DequantizeLinear nodes, not float initializers.
      EXPECT_FALSE(inits.count(n.input(1))) << n.name();
      EXPECT_FALSE(inits.count(n.input(2))) << n.name();
    }
    if (n.op_type() != "DequantizeLinear" || !inits.count(n.input(0))) continue;
    const auto type = inits.at(n.input(0))->data_type();
    if (type == onnx::TensorProto::INT8) {
      ++int8_weights;
      ASSERT_EQ(n.attribute_size(), 1);
      EXPECT_EQ(n.attribute(0).name(), "axis");
      // Conv weights on axis 0, the Gemm's [10, 3136] (transB) on axis 0 too.
      EXPECT_EQ(n.attribute(0).i(), 0);
      EXPECT_EQ(inits.at(n.input(2))->data_type(), onnx::TensorProto::INT8);
    }
    if (type == onnx::TensorProto::INT32) ++int32_biases;
  }
  for (const auto& n : m.graph().node())
    if (n.op_type() == "QuantizeLinear") {
      ++uint8_activations;
      EXPECT_EQ(inits.at(n.input(2))->data_type(), onnx::TensorProto::UINT8);
    }
  EXPECT_EQ(int8_weights, 4);
  EXPECT_EQ(int32_biases, 4);
  // input, after each Relu (absorbed into its conv), after each MaxPool and the Flatten (shared), logits.
  EXPECT_EQ(uint8_activations, 8);
  EXPECT_EQ(op_counts(m).at("Relu"), 3);  // kept in the graph, between the conv and its QuantizeLinear
  // The output keeps its name and type.
  ASSERT_EQ(m.graph().output_size(), 1);
  EXPECT_EQ(m.graph().output(0).name(), "logits");
}

TEST(Quantize, IsDeterministicAndIndependentOfThreads) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  const Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  QuantizeOptions options;
  options.method = CalibrationMethod::entropy;
  const QuantizeResult a = quantize(float_model, s.data(), options);
  options.threads = 2;
  const QuantizeResult b = quantize(float_model, s.data(), options);
  EXPECT_EQ(a.model, b.model);
}

TEST(Quantize, MovingOperatorsShareTheirInputsParams) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  const Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  const QuantizeResult r = quantize(float_model, s.data());
  int shared = 0;
  for (const auto& t : r.tensors) {
    if (t.params_from.rfind("shared with", 0) != 0) continue;
    ++shared;
    const std::string source = t.params_from.substr(13, t.params_from.size() - 14);
    const QuantizedTensorReport* from = report_of(r, source);
    ASSERT_NE(from, nullptr) << t.params_from;
    EXPECT_EQ(from->scale, t.scale);
    EXPECT_EQ(from->zero_point, t.zero_point);
  }
  EXPECT_EQ(shared, 3);  // two MaxPools and the Flatten
}

TEST(Quantize, ExcludedNodesStayFloat) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  const Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  QuantizeOptions options;
  options.exclude = {"/conv2/Conv"};
  const QuantizeResult r = quantize(float_model, s.data(), options);
  ASSERT_EQ(r.float_nodes.size(), 1u);
  EXPECT_EQ(r.float_nodes[0].name, "/conv2/Conv");
  EXPECT_NE(r.float_nodes[0].reason.find("excluded"), std::string::npos);
  const onnx::ModelProto m = parse(r.model);
  std::set<std::string> inits;
  for (const auto& t : m.graph().initializer())
    inits.insert(t.name());
  for (const auto& n : m.graph().node())
    if (n.name() == "/conv2/Conv") {
      EXPECT_TRUE(inits.count(n.input(1))) << "float weights expected";
    }
  bool found = false;
  for (const NodeInfo& n : Model::load_from_memory(r.model).nodes())
    if (n.name == "/conv2/Conv") {
      found = true;
      EXPECT_TRUE(n.computes_in_float);
    }
  EXPECT_TRUE(found);
  for (size_t i = 0; i < s.values.size(); ++i)
    EXPECT_EQ(argmax(run_first_output(float_model, s, i)), argmax(run_first_output(r.model, s, i)));

  options.exclude = {"no_such_node"};
  try {
    quantize(float_model, s.data(), options);
    FAIL() << "an unknown node was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_node"), std::string::npos) << e.what();
  }
}

TEST(Quantize, PerTensorWeightsHaveOneScale) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  const Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  QuantizeOptions options;
  options.per_channel_weights = false;
  const QuantizeResult r = quantize(float_model, s.data(), options);
  const onnx::ModelProto m = parse(r.model);
  for (const auto& n : m.graph().node())
    if (n.op_type() == "DequantizeLinear") {
      EXPECT_EQ(n.attribute_size(), 0) << n.name();
    }
  for (size_t i = 0; i < s.values.size(); ++i)
    EXPECT_EQ(argmax(run_first_output(float_model, s, i)), argmax(run_first_output(r.model, s, i)));
}

TEST(Quantize, FoldsBatchNormAndRunsHardSwishSigmoidSoftmaxInInt8) {
  const auto float_model = read_bytes(kModels + "/float_cnn.onnx");
  const Samples s = random_samples("input", {1, 3, 12, 12}, 16, 7);
  const QuantizeResult r = quantize(float_model, s.data());
  EXPECT_EQ(r.folded_batch_norms.size(), 1u);
  EXPECT_TRUE(r.float_nodes.empty()) << r.float_nodes.front().name << ": " << r.float_nodes.front().reason;
  const onnx::ModelProto m = parse(r.model);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  EXPECT_FALSE(op_counts(m).count("BatchNormalization"));
  for (const NodeInfo& n : Model::load_from_memory(r.model).nodes())
    EXPECT_FALSE(n.computes_in_float) << n.name << " (" << n.onnx_op << ")";
  // Softmax's output is quantized to [0, 1] whatever the calibration saw.
  bool softmax = false;
  for (const auto& t : r.tensors)
    if (t.params_from == "fixed [0, 1]") {
      softmax = true;
      EXPECT_EQ(t.zero_point, 0);
    }
  EXPECT_TRUE(softmax);
  for (size_t i = 0; i < 4; ++i) {
    const auto f = run_first_output(float_model, s, i);
    const auto q = run_first_output(r.model, s, i);
    EXPECT_GT(sqnr_db(f, q), 12.0) << "sample " << i;
  }
}

TEST(Quantize, TransposedConvResizeConcatSlicePad) {
  const auto float_model = read_bytes(kModels + "/float_fpn_head.onnx");
  const Samples s = random_samples("input", {1, 4, 8, 8}, 8, 11);
  const QuantizeResult r = quantize(float_model, s.data());
  const onnx::ModelProto m = parse(r.model);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  // The ConvTranspose weights [C_in, C_out, kh, kw] get one scale per output channel: axis 1.
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : m.graph().node())
    for (const auto& o : n.output())
      producer[o] = &n;
  bool transposed = false;
  for (const auto& n : m.graph().node())
    if (n.op_type() == "ConvTranspose") {
      transposed = true;
      const onnx::NodeProto* dq = producer.at(n.input(1));
      ASSERT_EQ(dq->op_type(), "DequantizeLinear");
      ASSERT_EQ(dq->attribute_size(), 1);
      EXPECT_EQ(dq->attribute(0).i(), 1);
    }
  EXPECT_TRUE(transposed);
  for (const auto& f : r.float_nodes)
    ADD_FAILURE() << f.name << " (" << f.op << ") left in float: " << f.reason;
  for (size_t i = 0; i < 4; ++i)
    EXPECT_GT(sqnr_db(run_first_output(float_model, s, i), run_first_output(r.model, s, i)), 12.0);
}

// GatherElements / GatherND move the bytes of a quantized tensor: the quantized model keeps them int8.
TEST(Quantize, IndexOperatorsStayInt8) {
  const auto float_model = read_bytes(kModels + "/float_gather_head.onnx");
  const Samples s = random_samples("input", {1, 4, 6, 6}, 8, 5);
  const QuantizeResult r = quantize(float_model, s.data());
  for (const auto& f : r.float_nodes)
    ADD_FAILURE() << f.name << " (" << f.op << ") left in float: " << f.reason;
  const onnx::ModelProto m = parse(r.model);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  for (size_t i = 0; i < 2; ++i)
    EXPECT_GT(sqnr_db(run_first_output(float_model, s, i), run_first_output(r.model, s, i)), 15.0)
        << "sample " << i;
}

TEST(Quantize, LeavesWhatHasNoInt8KernelInFloatAndSaysWhy) {
  const auto float_model = read_bytes(kModels + "/float_norm_and_math.onnx");
  const Samples s = random_samples("input", {2, 5, 8}, 8, 3);
  const QuantizeResult r = quantize(float_model, s.data());
  std::map<std::string, std::string> reasons;
  for (const auto& f : r.float_nodes)
    reasons[f.op] = f.reason;
  ASSERT_TRUE(reasons.count("LayerNormalization"));
  EXPECT_NE(reasons["LayerNormalization"].find("no int8 kernel"), std::string::npos);
  EXPECT_GT(r.quantized_nodes, 0u);
  const auto f = run_first_output(float_model, s, 0);
  const auto q = run_first_output(r.model, s, 0);
  ASSERT_EQ(f.size(), q.size());
  EXPECT_GT(sqnr_db(f, q), 10.0);
}

// A Loop body reads the enclosing graph's tensors by name: an initializer nothing else reads, an Identity of
// an initializer, a convolution's output before its BatchNormalization. Preparing the model (dropping unused
// initializers, bypassing Identities, folding the BatchNormalization) keeps all three, so the float model
// still calibrates and the int8 one runs (Keypoint R-CNN's RPN loop failed to calibrate so).
TEST(Quantize, KeepsTheTensorsASubgraphReads) {
  const auto float_model = read_bytes(kModels + "/float_loop_reads_outer_constants.onnx");
  const Samples s = random_samples("input", {1, 3, 6, 6}, 4, 11);
  const QuantizeResult r = quantize(float_model, s.data());
  const onnx::ModelProto m = parse(r.model);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  for (size_t i = 0; i < 2; ++i)
    EXPECT_GT(sqnr_db(run_first_output(float_model, s, i), run_first_output(r.model, s, i)), 15.0)
        << "sample " << i;
}

// Calibration observes the tensors something reads: a Dropout's mask output that nothing reads (torch
// declares one in torchvision's Swin attention) is not exposed, as octet does not compute it.
TEST(Quantize, LeavesUnreadOutputsUnobserved) {
  const auto float_model = read_bytes(kModels + "/float_dropout_unread_mask.onnx");
  const Samples s = random_samples("input", {1, 3, 4, 5}, 4, 12);
  const QuantizeResult r = quantize(float_model, s.data());
  EXPECT_NO_THROW(onnx::checker::check_model(parse(r.model)));
  EXPECT_GT(sqnr_db(run_first_output(float_model, s, 0), run_first_output(r.model, s, 0)), 25.0);
}

TEST(Quantize, DynamicShapesCalibrateWithSamplesOfDifferentSizes) {
  const auto float_model = read_bytes(kModels + "/float_dynamic_image.onnx");
  Samples small = random_samples("input", {1, 3, 8, 8}, 2, 5);
  Samples large = random_samples("input", {2, 3, 16, 12}, 2, 6);
  CalibrationData data{4, [&](size_t i) {
                         const Samples& s = i < 2 ? small : large;
                         std::map<std::string, HostTensor> m;
                         m.emplace("input", HostTensor::from_float(s.shape, s.values.at(i % 2)));
                         return m;
                       }};
  const QuantizeResult r = quantize(float_model, data);
  EXPECT_TRUE(r.float_nodes.empty());
  EXPECT_GT(sqnr_db(run_first_output(float_model, large, 1), run_first_output(r.model, large, 1)), 15.0);
}

// A float model: x [1, 2, 4, 4] -> (Relu ->) a 1x1 Conv to 2 channels with weights `w` (and bias `b` where
// given) -> y. `edit` changes the ModelProto before it is serialized.
std::vector<std::byte> small_conv_model(const std::vector<float>& w, const std::vector<float>& b, bool relu,
                                        const std::function<void(onnx::ModelProto&)>& edit = {}) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("small_conv");
  auto* in = g->add_input();
  in->set_name("x");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  for (const int64_t d : {1, 2, 4, 4})
    in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
  auto* out = g->add_output();
  out->set_name("y");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  auto* weights = g->add_initializer();
  weights->set_name("w");
  weights->set_data_type(onnx::TensorProto::FLOAT);
  for (const int64_t d : {2, 2, 1, 1})
    weights->add_dims(d);
  for (const float v : w)
    weights->add_float_data(v);
  if (!b.empty()) {
    auto* bias = g->add_initializer();
    bias->set_name("b");
    bias->set_data_type(onnx::TensorProto::FLOAT);
    bias->add_dims(static_cast<int64_t>(b.size()));
    for (const float v : b)
      bias->add_float_data(v);
  }
  if (relu) {
    auto* r = g->add_node();
    r->set_op_type("Relu");
    r->set_name("relu");
    r->add_input("x");
    r->add_output("r");
  }
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input(relu ? "r" : "x");
  conv->add_input("w");
  if (!b.empty()) conv->add_input("b");
  conv->add_output("y");
  if (edit) edit(m);
  std::string bytes_text;
  m.SerializeToString(&bytes_text);
  std::vector<std::byte> bytes(bytes_text.size());
  std::transform(bytes_text.begin(), bytes_text.end(), bytes.begin(), [](char c) { return std::byte(c); });
  return bytes;
}

TEST(Quantize, RaisesAWeightScaleSoThatAHugeBiasFitsInt32) {
  // Conv 1x1 with weights 1e-6 and bias 1e6 on an input in [0, 1]: at scale s_in * max|w| / 127 the bias
  // would need ~3e16 in int32.
  const std::vector<std::byte> bytes = small_conv_model({1e-6f, -1e-6f, 0.5f, 0.25f}, {1e6f, 0.1f}, false);
  const Samples s = random_samples("x", {1, 2, 4, 4}, 4, 9);
  const QuantizeResult r = quantize(bytes, s.data());
  ASSERT_TRUE(r.raised_weight_scales.count("conv"));
  EXPECT_EQ(r.raised_weight_scales.at("conv"), std::vector<int64_t>{0});
  const auto f = run_first_output(bytes, s, 0);
  const auto q = run_first_output(r.model, s, 0);
  for (size_t i = 0; i < 16; ++i)  // channel 0 (NCHW): the bias dominates; it must survive quantization
    EXPECT_NEAR(q[i] / f[i], 1.0, 0.01) << i;
}

// Calibration observes every tensor as an extra output; the model's value_info may declare one with a type
// octet does not compute it as (here a stale DOUBLE for the Relu's output): the observing run must not
// take that declaration, or quantizing a model that runs would fail.
TEST(Quantize, ObservedTensorsIgnoreValueInfoTypes) {
  const std::vector<std::byte> bytes =
      small_conv_model({0.5f, -0.25f, 0.125f, 1.0f}, {}, true, [](onnx::ModelProto& m) {
        auto* stale = m.mutable_graph()->add_value_info();
        stale->set_name("r");
        stale->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::DOUBLE);
      });
  const Samples s = random_samples("x", {1, 2, 4, 4}, 2, 5);
  EXPECT_NO_THROW((void)quantize(bytes, s.data()));
}

// Weights the model computes from constants (weight normalisation: w = g * v / |v|, here Mul(v, g) and a
// Transpose of a stored matrix for the Gemm) are taken as constants: the operators still quantize.
TEST(Quantize, WeightsComputedFromConstantsAreQuantized) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("computed_weights");
  const auto add_value = [](onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    for (const int64_t d : dims)
      v->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
  };
  add_value(g->add_input(), "x", {1, 2, 4, 4});
  add_value(g->add_output(), "y", {1, 3});
  const auto add_init = [&](const std::string& name, std::vector<int64_t> dims, std::vector<float> values) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (const int64_t d : dims)
      t->add_dims(d);
    for (const float v : values)
      t->add_float_data(v);
  };
  add_init("v", {4, 2, 1, 1}, {0.5f, -0.25f, 0.75f, 0.1f, -0.6f, 0.3f, 0.2f, 0.9f});
  add_init("gain", {4, 1, 1, 1}, {1.5f, 0.5f, 2.0f, 1.0f});
  add_init("fc", {4, 3}, {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f, -0.9f, 0.2f, 0.1f, 0.3f});
  const auto add_node = [&](const std::string& op, const std::string& name, std::vector<std::string> in,
                            const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : in)
      n->add_input(i);
    n->add_output(out);
    return n;
  };
  add_node("Mul", "weight_norm", {"v", "gain"}, "w");
  add_node("Conv", "conv", {"x", "w"}, "c");
  add_node("Relu", "relu", {"c"}, "r");
  add_node("GlobalAveragePool", "gap", {"r"}, "p");
  add_node("Flatten", "flatten", {"p"}, "f");
  auto* t = add_node("Transpose", "fc_t", {"fc"}, "fc_transposed");
  auto* perm = t->add_attribute();
  perm->set_name("perm");
  perm->set_type(onnx::AttributeProto::INTS);
  perm->add_ints(1);
  perm->add_ints(0);
  auto* gemm = add_node("Gemm", "gemm", {"f", "fc_transposed"}, "y");
  auto* trans_b = gemm->add_attribute();
  trans_b->set_name("transB");
  trans_b->set_type(onnx::AttributeProto::INT);
  trans_b->set_i(1);
  std::string text;
  m.SerializeToString(&text);
  std::vector<std::byte> bytes(text.size());
  std::transform(text.begin(), text.end(), bytes.begin(), [](char c) { return std::byte(c); });

  const Samples s = random_samples("x", {1, 2, 4, 4}, 8, 17);
  const QuantizeResult r = quantize(bytes, s.data());
  EXPECT_TRUE(r.float_nodes.empty()) << r.float_nodes.front().name << ": " << r.float_nodes.front().reason;
  const onnx::ModelProto q = parse(r.model);
  EXPECT_NO_THROW(onnx::checker::check_model(q));
  const auto ops = op_counts(q);
  EXPECT_FALSE(ops.count("Mul"));
  EXPECT_FALSE(ops.count("Transpose"));
  for (const NodeInfo& n : Model::load_from_memory(r.model).nodes())
    EXPECT_FALSE(n.computes_in_float) << n.name << " (" << n.onnx_op << ")";
  for (size_t i = 0; i < 4; ++i)
    EXPECT_GT(sqnr_db(run_first_output(bytes, s, i), run_first_output(r.model, s, i)), 25.0) << i;
}

// Bad input: each a clear error, never a model.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& words) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    for (const auto& w : words)
      EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << "'" << w << "' not in: " << e.what();
  }
}

TEST(QuantizeErrors, NoSamples) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  expect_error([&] { quantize(float_model, {}); }, {"no calibration samples"});
}

TEST(QuantizeErrors, NaNAndInfinityInTheData) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  s.values[3][100] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { quantize(float_model, s.data()); }, {"sample 3", "input", "NaN", "element 100"});
  s.values[3][100] = std::numeric_limits<float>::infinity();
  expect_error([&] { quantize(float_model, s.data()); }, {"sample 3", "infinity"});
}

TEST(QuantizeErrors, WrongDtypeShapeOrName) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  CalibrationData bytes_data{
      1, [](size_t) {
        std::map<std::string, HostTensor> m;
        m.emplace("input", HostTensor::from_uint8({1, 1, 28, 28}, std::vector<uint8_t>(784)));
        return m;
      }};
  expect_error([&] { quantize(float_model, bytes_data); }, {"sample 0", "uint8", "float32"});
  const Samples wrong_shape = random_samples("input", {1, 1, 27, 28}, 1, 1);
  expect_error([&] { quantize(float_model, wrong_shape.data()); }, {"sample 0", "input"});
  const Samples wrong_name = random_samples("image", {1, 1, 28, 28}, 1, 1);
  expect_error([&] { quantize(float_model, wrong_name.data()); }, {"sample 0", "'input'"});
}

TEST(QuantizeErrors, AnAlreadyQuantizedOrMalformedModel) {
  const Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  expect_error([&] { quantize(read_bytes(kBundled + "/fashion_mnist_int8_qdq.onnx"), s.data()); },
               {"already quantized"});
  std::vector<std::byte> truncated = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  truncated.resize(truncated.size() / 2);
  expect_error([&] { quantize(truncated, s.data()); }, {"ONNX"});
}

// Every malformed model of the loader's tests (truncated, cyclic, overflowing shapes, bad params, ...) is
// a clear error from the quantizer too, never a crash.
TEST(QuantizeErrors, MalformedModels) {
  const Samples s = random_samples("input", {1, 3, 4, 4}, 1, 1);
  size_t models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(OCTET_MALFORMED_MODELS_DIR)) {
    if (entry.path().extension() != ".onnx") continue;
    ++models;
    try {
      quantize(read_bytes(entry.path().string()), s.data());
      ADD_FAILURE() << entry.path() << " was quantized";
    } catch (const Error& e) {
      EXPECT_GT(std::string(e.what()).size(), 10u) << entry.path();
    }
  }
  EXPECT_GT(models, 20u);
}

TEST(QuantizeErrors, BadPercentile) {
  const auto float_model = read_bytes(kBundled + "/fashion_mnist_fp32.onnx");
  const Samples s = samples_of(kBundled + "/samples/images.npy", "input");
  QuantizeOptions options;
  options.method = CalibrationMethod::percentile;
  options.percentile = 0.0;
  expect_error([&] { quantize(float_model, s.data(), options); }, {"percentile"});
  expect_error([] { parse_calibration_method("kl"); }, {"kl", "entropy"});
}

}  // namespace
}  // namespace octet
