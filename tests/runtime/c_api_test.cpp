// The C API (octet_c.h) against the C++ API it wraps: the same bytes for the same model and inputs (every
// test model in both requantization modes with float and quantized outputs; Fashion-MNIST also on every
// instruction set), the status and message of every failure a C caller can cause, the ownership rules, and
// a model shared by sessions on two threads. The code under test is called only through the C functions
// (some from C, c_api_test_c.c); the C++ API is the reference. CI runs this suite under AddressSanitizer +
// UndefinedBehaviorSanitizer with LeakSanitizer, and under ThreadSanitizer (scripts/run-tsan.sh).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "octet/octet.h"
#include "octet/octet_c.h"
#include "tests/kernels/test_util.h"
#include "tests/runtime/c_api_test_c.h"
#include "tools/npy.h"

namespace {

namespace fs = std::filesystem;
namespace npy = octet::npy;

const fs::path kBundledDir(OCTET_BUNDLED_MODEL_DIR);
const fs::path kTestModelsDir(OCTET_TEST_MODELS_DIR);
const fs::path kMalformedDir(OCTET_MALFORMED_MODELS_DIR);
const fs::path kFashionMnist = kBundledDir / "fashion_mnist_int8_qdq.onnx";

// The test's own owners of C handles, so that a failed assertion leaks nothing (LeakSanitizer would
// report the test's leak as octet's).
struct ModelDeleter {
  void operator()(octet_model* m) const { octet_model_destroy(m); }
};
struct SessionDeleter {
  void operator()(octet_session* s) const { octet_session_destroy(s); }
};
struct TensorDeleter {
  void operator()(octet_tensor* t) const { octet_tensor_destroy(t); }
};
struct LoadOptionsDeleter {
  void operator()(octet_load_options* o) const { octet_load_options_destroy(o); }
};
struct SessionOptionsDeleter {
  void operator()(octet_session_options* o) const { octet_session_options_destroy(o); }
};
using ModelPtr = std::unique_ptr<octet_model, ModelDeleter>;
using SessionPtr = std::unique_ptr<octet_session, SessionDeleter>;
using TensorPtr = std::unique_ptr<octet_tensor, TensorDeleter>;
using LoadOptionsPtr = std::unique_ptr<octet_load_options, LoadOptionsDeleter>;
using SessionOptionsPtr = std::unique_ptr<octet_session_options, SessionOptionsDeleter>;

#define EXPECT_OCTET_OK(call) EXPECT_EQ((call), OCTET_OK) << octet_last_error()
#define ASSERT_OCTET_OK(call) ASSERT_EQ((call), OCTET_OK) << octet_last_error()

// A call's status must be `status` and the thread's message must contain `needle`.
#define EXPECT_FAILS(call, status, needle)                                                                \
  do {                                                                                                    \
    EXPECT_EQ((call), (status)) << #call;                                                                 \
    EXPECT_NE(std::string(octet_last_error()).find(needle), std::string::npos)                            \
        << #call << ": the message '" << octet_last_error() << "' does not contain '" << (needle) << "'"; \
  } while (false)

ModelPtr load(const fs::path& path, const octet_load_options* options = nullptr) {
  octet_model* model = nullptr;
  EXPECT_OCTET_OK(octet_model_load(path.string().c_str(), options, &model));
  return ModelPtr(model);
}

SessionPtr make_session(const octet_model* model, const octet_session_options* options = nullptr) {
  octet_session* session = nullptr;
  EXPECT_OCTET_OK(octet_session_create(model, options, &session));
  return SessionPtr(session);
}

SessionOptionsPtr session_options(int threads, octet_requantization mode, const std::string& isa) {
  octet_session_options* options = nullptr;
  EXPECT_OCTET_OK(octet_session_options_create(&options));
  SessionOptionsPtr owner(options);
  EXPECT_OCTET_OK(octet_session_options_set_threads(options, threads));
  EXPECT_OCTET_OK(octet_session_options_set_requantization(options, mode));
  EXPECT_OCTET_OK(octet_session_options_set_isa(options, isa.c_str()));
  return owner;
}

// A C tensor of a C++ tensor's type, shape and data.
TensorPtr to_c(const octet::HostTensor& t) {
  const std::vector<int64_t>& shape = t.shape();
  const auto count = static_cast<size_t>(t.element_count());
  octet_tensor* out = nullptr;
  octet_status status = OCTET_ERROR_INTERNAL;
  switch (t.dtype()) {
    case octet::DataType::float32:
      status = octet_tensor_create_float32(shape.data(), shape.size(), t.float_data().data(), count, &out);
      break;
    case octet::DataType::uint8:
      status = octet_tensor_create_uint8(shape.data(), shape.size(), t.uint8_data().data(), count, t.scale(),
                                         t.zero_point(), &out);
      break;
    case octet::DataType::int64:
      status = octet_tensor_create_int64(shape.data(), shape.size(), t.int64_data().data(), count, &out);
      break;
    case octet::DataType::boolean:
      status = octet_tensor_create_bool(shape.data(), shape.size(), t.bool_data().data(), count, &out);
      break;
    case octet::DataType::int32:
      status = octet_tensor_create_int32(shape.data(), shape.size(), t.int32_data().data(), count, &out);
      break;
  }
  EXPECT_OCTET_OK(status);
  return TensorPtr(out);
}

octet::HostTensor int32_tensor(const npy::Array& a) {
  const std::vector<int64_t> wide = a.to_int64();
  return octet::HostTensor::from_int32(a.shape, std::vector<int32_t>(wide.begin(), wide.end()));
}

octet_dtype c_dtype(octet::DataType dtype) {
  switch (dtype) {
    case octet::DataType::float32:
      return OCTET_FLOAT32;
    case octet::DataType::uint8:
      return OCTET_UINT8;
    case octet::DataType::int64:
      return OCTET_INT64;
    case octet::DataType::boolean:
      return OCTET_BOOL;
    case octet::DataType::int32:
      return OCTET_INT32;
  }
  return OCTET_FLOAT32;
}

// Whether a C tensor holds exactly a C++ tensor: dtype, shape, quantization parameters and every byte
// (bitwise for floats: NaN payloads and signed zeros included). Fails the test with the difference.
void expect_identical(const octet_tensor* c, const octet::HostTensor& cpp, const std::string& what) {
  ASSERT_NE(c, nullptr) << what;
  octet_dtype dtype{};
  size_t rank = 0, bytes = 0;
  const int64_t* dims = nullptr;
  const void* data = nullptr;
  int64_t count = 0;
  float scale = -1;
  int32_t zero_point = -1;
  ASSERT_OCTET_OK(octet_tensor_dtype(c, &dtype));
  ASSERT_OCTET_OK(octet_tensor_rank(c, &rank));
  ASSERT_OCTET_OK(octet_tensor_dims(c, &dims));
  ASSERT_OCTET_OK(octet_tensor_element_count(c, &count));
  ASSERT_OCTET_OK(octet_tensor_data(c, &data));
  ASSERT_OCTET_OK(octet_tensor_byte_size(c, &bytes));
  ASSERT_OCTET_OK(octet_tensor_quantization(c, &scale, &zero_point));
  EXPECT_EQ(dtype, c_dtype(cpp.dtype())) << what;
  ASSERT_EQ(rank, cpp.shape().size()) << what;
  EXPECT_TRUE(rank == 0 || std::equal(dims, dims + rank, cpp.shape().begin())) << what;
  EXPECT_EQ(count, cpp.element_count()) << what;
  EXPECT_EQ(scale, cpp.scale()) << what;
  EXPECT_EQ(zero_point, cpp.zero_point()) << what;
  ASSERT_EQ(bytes, cpp.bytes().size_bytes()) << what;
  EXPECT_TRUE(bytes == 0 || std::memcmp(data, cpp.bytes().data(), bytes) == 0)
      << what << ": the bytes differ";
}

// Runs a C session on C++ inputs; returns the outputs (owned by the session) in the model's order.
std::vector<const octet_tensor*> run_c(octet_session* session,
                                       const std::map<std::string, octet::HostTensor>& inputs,
                                       size_t output_count, uint32_t flags) {
  std::vector<TensorPtr> owners;
  std::vector<const char*> names;
  std::vector<const octet_tensor*> tensors;
  for (const auto& [name, tensor] : inputs) {
    owners.push_back(to_c(tensor));
    names.push_back(name.c_str());
    tensors.push_back(owners.back().get());
  }
  std::vector<const octet_tensor*> outputs(output_count);
  EXPECT_OCTET_OK(octet_session_run(session, names.data(), tensors.data(), tensors.size(), nullptr,
                                    output_count, flags, outputs.data()));
  return outputs;
}

octet::Requantization cpp_mode(octet_requantization mode) {
  return mode == OCTET_REQUANTIZATION_FLOAT_SCALE ? octet::Requantization::float_scale
                                                  : octet::Requantization::fixed_point;
}

// The bundled Fashion-MNIST samples, the first `batch` images, as the model's input.
std::map<std::string, octet::HostTensor> fashion_mnist_inputs(const octet::Model& model, int64_t batch) {
  const npy::Array images = npy::read((kBundledDir / "samples" / "images.npy").string());
  std::vector<float> values = images.to_float();
  values.resize(static_cast<size_t>(batch * 28 * 28));
  return {{model.inputs().at(0).name, octet::HostTensor::from_float({batch, 1, 28, 28}, std::move(values))}};
}

// Compares the C API with the C++ API on one model, in one configuration, through every output.
void expect_same_as_cpp(const fs::path& path, const std::map<std::string, octet::HostTensor>& inputs,
                        octet_requantization mode, const std::string& isa, bool quantized_outputs) {
  const std::string what = path.filename().string() +
                           (mode == OCTET_REQUANTIZATION_FLOAT_SCALE ? " float" : " fixed") +
                           (isa.empty() ? "" : " " + isa) + (quantized_outputs ? " quantized" : "");
  const octet::Model cpp_model = octet::Model::load(path.string());
  octet::Session cpp_session(cpp_model, {.threads = 1, .requantization = cpp_mode(mode), .isa = isa});
  const auto expected = cpp_session.run(inputs, {.quantized_outputs = quantized_outputs});

  const ModelPtr model = load(path);
  ASSERT_NE(model, nullptr) << what;
  const SessionOptionsPtr options = session_options(1, mode, isa);
  const SessionPtr session = make_session(model.get(), options.get());
  ASSERT_NE(session, nullptr) << what;
  size_t output_count = 0;
  ASSERT_OCTET_OK(octet_model_output_count(model.get(), &output_count));
  ASSERT_EQ(output_count, cpp_model.outputs().size());
  const auto outputs =
      run_c(session.get(), inputs, output_count, quantized_outputs ? OCTET_RUN_QUANTIZED_OUTPUTS : 0u);
  for (size_t i = 0; i < output_count; ++i) {
    const std::string& name = cpp_model.outputs()[i].name;
    expect_identical(outputs[i], expected.at(name), what + " output '" + name + "'");
  }
}

// The instruction sets to compare: the default ("") and every one this CPU runs by name.
std::vector<std::string> isas_to_compare() {
  std::vector<std::string> isas{""};
  const char* const* names = nullptr;
  size_t count = 0;
  EXPECT_OCTET_OK(octet_available_isas(&names, &count));
  isas.insert(isas.end(), names, names + count);
  return isas;
}

// ---- Library --------------------------------------------------------------------------------------------

TEST(CApi, VersionAndIsas) {
  EXPECT_STREQ(octet_version(), octet::version());
  const char* const* names = nullptr;
  size_t count = 0;
  ASSERT_OCTET_OK(octet_available_isas(&names, &count));
  const std::vector<std::string> expected = octet::available_isas();
  ASSERT_EQ(count, expected.size());
  for (size_t i = 0; i < count; ++i)
    EXPECT_EQ(names[i], expected[i]);
  EXPECT_EQ(std::string(names[0]), "scalar");  // slowest first
  const char* fallback = nullptr;
  ASSERT_OCTET_OK(octet_default_isa(&fallback));
  EXPECT_EQ(fallback, octet::default_isa());
  EXPECT_STREQ(octet_status_name(OCTET_ERROR_INVALID_INPUT), "OCTET_ERROR_INVALID_INPUT");
  EXPECT_STREQ(c_api_test_status_name(99), "unknown status");
}

// The whole path written in C (c_api_test_c.c) classifies as the C++ API does.
TEST(CApi, ClassifyFromC) {
  const octet::Model cpp_model = octet::Model::load(kFashionMnist.string());
  const auto inputs = fashion_mnist_inputs(cpp_model, 1);
  const auto outputs = octet::Session(cpp_model).run(inputs);
  const std::span<const float> scores = outputs.begin()->second.float_data();
  const auto expected = std::max_element(scores.begin(), scores.end()) - scores.begin();
  EXPECT_EQ(c_api_test_classify(kFashionMnist.string().c_str(), inputs.at("input").float_data().data()),
            expected)
      << octet_last_error();
}

// ---- The same bytes as the C++ API -----------------------------------------------------------------------

TEST(CApi, FashionMnistSameAsCpp) {
  const octet::Model cpp_model = octet::Model::load(kFashionMnist.string());
  const auto inputs = fashion_mnist_inputs(cpp_model, 8);
  for (const std::string& isa : isas_to_compare())
    for (const octet_requantization mode :
         {OCTET_REQUANTIZATION_FIXED_POINT, OCTET_REQUANTIZATION_FLOAT_SCALE})
      for (const bool quantized : {false, true})
        expect_same_as_cpp(kFashionMnist, inputs, mode, isa, quantized);
}

// Every test model with inputs: QDQ and QOperator forms, float models, uint8 and several inputs, int64 and
// bool outputs.
TEST(CApi, TestModelsSameAsCpp) {
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(kTestModelsDir)) {
    if (entry.path().extension() != ".onnx") continue;
    const std::string stem = entry.path().stem().string();
    const octet::Model cpp_model = octet::Model::load(entry.path().string());
    std::map<std::string, octet::HostTensor> inputs;
    for (size_t i = 0; i < cpp_model.inputs().size(); ++i) {
      const fs::path file = kTestModelsDir / (stem + ".input" + (i == 0 ? "" : std::to_string(i)) + ".npy");
      if (!fs::exists(file)) break;
      const npy::Array a = npy::read(file.string());
      inputs.emplace(cpp_model.inputs()[i].name,
                     a.dtype == npy::Dtype::uint8   ? octet::HostTensor::from_uint8(a.shape, a.to_uint8())
                     : a.dtype == npy::Dtype::int64 ? octet::HostTensor::from_int64(a.shape, a.to_int64())
                     : a.dtype == npy::Dtype::int32 ? int32_tensor(a)
                                                    : octet::HostTensor::from_float(a.shape, a.to_float()));
    }
    if (inputs.size() != cpp_model.inputs().size()) continue;
    // Every model in both modes, quantized outputs or not: four runs through each API. Under a sanitizer
    // (10-30 times the cost; session_isa_test and model_tests already run these models there) one of the
    // four per model, in turn, so that every model still goes through the C API and every combination
    // still meets many models.
    int combination = 0;
    for (const octet_requantization mode :
         {OCTET_REQUANTIZATION_FIXED_POINT, OCTET_REQUANTIZATION_FLOAT_SCALE})
      for (const bool quantized : {false, true})
        if (!octet::test::kSanitized || combination++ == compared % 4)
          expect_same_as_cpp(entry.path(), inputs, mode, "", quantized);
    ++compared;
  }
  EXPECT_GT(compared, 50);
}

TEST(CApi, ModelInfoSameAsCpp) {
  for (const fs::path& path : {kFashionMnist, kTestModelsDir / "qdq_conv_dynamic_batch.onnx",
                               kTestModelsDir / "qop_conv1x1_uint8_io.onnx", kTestModelsDir / "qdq_add.onnx",
                               kTestModelsDir / "qdq_float_tail.onnx"}) {
    const octet::Model cpp_model = octet::Model::load(path.string());
    const ModelPtr model = load(path);
    ASSERT_NE(model, nullptr);
    for (const bool input : {true, false}) {
      const std::vector<octet::TensorInfo>& expected = input ? cpp_model.inputs() : cpp_model.outputs();
      size_t count = 0;
      ASSERT_OCTET_OK((input ? octet_model_input_count : octet_model_output_count)(model.get(), &count));
      ASSERT_EQ(count, expected.size());
      for (size_t i = 0; i < count; ++i) {
        octet_tensor_info info{};
        ASSERT_OCTET_OK((input ? octet_model_input_info : octet_model_output_info)(model.get(), i, &info));
        const octet::TensorInfo& e = expected[i];
        const std::string what = path.filename().string() + " " + e.name;
        EXPECT_EQ(info.name, e.name);
        EXPECT_EQ(info.dtype, c_dtype(e.dtype)) << what;
        ASSERT_EQ(info.rank, e.shape.size()) << what;
        for (size_t d = 0; d < info.rank; ++d) {
          EXPECT_EQ(info.dims[d], e.shape[d]) << what;
          EXPECT_EQ(info.dim_names[d], d < e.dim_names.size() ? e.dim_names[d] : "") << what;
        }
        EXPECT_EQ(info.scale, e.scale) << what;
        EXPECT_EQ(info.zero_point, e.zero_point) << what;
      }
    }
  }
  // What these models are known to declare: a dynamic batch with its symbolic name, uint8 parameters.
  const ModelPtr dynamic = load(kTestModelsDir / "qdq_conv_dynamic_batch.onnx");
  octet_tensor_info info{};
  ASSERT_OCTET_OK(octet_model_input_info(dynamic.get(), 0, &info));
  EXPECT_EQ(info.dims[0], -1);
  EXPECT_STRNE(info.dim_names[0], "");
  const ModelPtr uint8_io = load(kTestModelsDir / "qop_conv1x1_uint8_io.onnx");
  ASSERT_OCTET_OK(octet_model_input_info(uint8_io.get(), 0, &info));
  EXPECT_EQ(info.dtype, OCTET_UINT8);
  EXPECT_GT(info.scale, 0.0f);
}

TEST(CApi, LoadOptionsAndMemorySameAsCpp) {
  const octet::LoadOptions cpp_options{.nhwc_io = true,
                                       .input_shapes = {{"input", {3, 28, 28, 1}}},
                                       .requantization = octet::Requantization::float_scale};
  const octet::Model cpp_model = octet::Model::load(kFashionMnist.string(), cpp_options);
  ASSERT_EQ(cpp_model.inputs().at(0).name, "input") << "the test names the bundled model's input";
  octet::Session cpp_session(cpp_model, {.requantization = octet::Requantization::float_scale});
  // NHWC images: the same values as NCHW for one channel.
  auto inputs = fashion_mnist_inputs(cpp_model, 3);
  inputs.at("input") = octet::HostTensor::from_float(
      {3, 28, 28, 1},
      std::vector<float>(inputs.at("input").float_data().begin(), inputs.at("input").float_data().end()));
  const auto expected = cpp_session.run(inputs);

  octet_load_options* raw_options = nullptr;
  ASSERT_OCTET_OK(octet_load_options_create(&raw_options));
  const LoadOptionsPtr options(raw_options);
  ASSERT_OCTET_OK(octet_load_options_set_nhwc_io(options.get(), 1));
  const int64_t shape[] = {3, 28, 28, 1};  // the caller's layout
  ASSERT_OCTET_OK(octet_load_options_set_input_shape(options.get(), "input", shape, 4));
  ASSERT_OCTET_OK(octet_load_options_set_requantization(options.get(), OCTET_REQUANTIZATION_FLOAT_SCALE));

  std::ifstream file(kFashionMnist, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  octet_model* raw_model = nullptr;
  ASSERT_OCTET_OK(octet_model_load_from_memory(bytes.data(), bytes.size(), options.get(), &raw_model));
  const ModelPtr model(raw_model);
  octet_tensor_info info{};
  ASSERT_OCTET_OK(octet_model_input_info(model.get(), 0, &info));
  ASSERT_EQ(info.rank, 4u);
  EXPECT_EQ(info.dims[3], 1) << "nhwc_io: channels last";

  const SessionOptionsPtr session_opts = session_options(1, OCTET_REQUANTIZATION_FLOAT_SCALE, "");
  const SessionPtr session = make_session(model.get(), session_opts.get());
  const auto outputs = run_c(session.get(), inputs, 1, 0);
  expect_identical(outputs[0], expected.begin()->second, "nhwc_io, loaded from memory");
}

// Outputs chosen by name, in the caller's order; the profile of a profiled run.
TEST(CApi, OutputsByNameAndProfile) {
  const fs::path path = kTestModelsDir / "qdq_small_net.onnx";
  const octet::Model cpp_model = octet::Model::load(path.string());
  ASSERT_EQ(cpp_model.outputs().size(), 2u);
  std::map<std::string, octet::HostTensor> inputs;
  const npy::Array a = npy::read((kTestModelsDir / "qdq_small_net.input.npy").string());
  inputs.emplace(cpp_model.inputs()[0].name, octet::HostTensor::from_float(a.shape, a.to_float()));
  octet::Session cpp_session(cpp_model);
  std::vector<octet::NodeTiming> cpp_profile;
  const auto expected = cpp_session.run(inputs, {.profile = &cpp_profile});

  const ModelPtr model = load(path);
  const SessionPtr session = make_session(model.get());
  const TensorPtr x = to_c(inputs.begin()->second);
  const char* input_names[] = {inputs.begin()->first.c_str()};
  const octet_tensor* input_tensors[] = {x.get()};
  // The second output twice and the first: any order, repeats allowed.
  const char* output_names[] = {cpp_model.outputs()[1].name.c_str(), cpp_model.outputs()[0].name.c_str(),
                                cpp_model.outputs()[1].name.c_str()};
  const octet_tensor* outputs[3] = {};
  ASSERT_OCTET_OK(octet_session_run(session.get(), input_names, input_tensors, 1, output_names, 3,
                                    OCTET_RUN_PROFILE, outputs));
  expect_identical(outputs[0], expected.at(output_names[0]), "second output");
  expect_identical(outputs[1], expected.at(output_names[1]), "first output");
  EXPECT_EQ(outputs[2], outputs[0]);

  size_t count = 0;
  ASSERT_OCTET_OK(octet_session_profile_count(session.get(), &count));
  ASSERT_EQ(count, cpp_profile.size());
  ASSERT_GT(count, 0u);
  for (size_t i = 0; i < count; ++i) {
    const char* name = nullptr;
    const char* op = nullptr;
    double seconds = -1;
    ASSERT_OCTET_OK(octet_session_profile_node(session.get(), i, &name, &op, &seconds));
    EXPECT_EQ(name, cpp_profile[i].name);
    EXPECT_EQ(op, cpp_profile[i].op);
    EXPECT_GE(seconds, 0.0);
  }
  EXPECT_OCTET_OK(octet_session_profile_node(session.get(), 0, nullptr, nullptr, nullptr));
  EXPECT_FAILS(octet_session_profile_node(session.get(), count, nullptr, nullptr, nullptr),
               OCTET_ERROR_INVALID_ARGUMENT, "out of range");

  // A run without the flag has no profile.
  ASSERT_OCTET_OK(
      octet_session_run(session.get(), input_names, input_tensors, 1, output_names, 1, 0, outputs));
  ASSERT_OCTET_OK(octet_session_profile_count(session.get(), &count));
  EXPECT_EQ(count, 0u);
}

// ---- Errors ---------------------------------------------------------------------------------------------

TEST(CApi, LoadErrors) {
  octet_model* model = reinterpret_cast<octet_model*>(&model);  // not NULL: a failure must reset it
  EXPECT_FAILS(octet_model_load("/no/such/model.onnx", nullptr, &model), OCTET_ERROR_MODEL,
               "/no/such/model.onnx");
  EXPECT_EQ(model, nullptr);
  EXPECT_FAILS(octet_model_load(nullptr, nullptr, &model), OCTET_ERROR_INVALID_ARGUMENT, "'path'");
  EXPECT_FAILS(octet_model_load(kFashionMnist.string().c_str(), nullptr, nullptr),
               OCTET_ERROR_INVALID_ARGUMENT, "'out'");
  const char garbage[] = "not an onnx model";
  EXPECT_FAILS(octet_model_load_from_memory(garbage, sizeof garbage, nullptr, &model), OCTET_ERROR_MODEL,
               "could not be parsed");
  EXPECT_FAILS(octet_model_load_from_memory(nullptr, 10, nullptr, &model), OCTET_ERROR_INVALID_ARGUMENT,
               "'data'");
  EXPECT_EQ(model, nullptr);

  // Every malformed model of the loader's tests: OCTET_ERROR_MODEL with the loader's message.
  std::ifstream expected_file(kMalformedDir / "EXPECTED.txt");
  std::string line;
  int checked = 0;
  while (std::getline(expected_file, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const fs::path path = kMalformedDir / line.substr(0, tab);
    EXPECT_FAILS(octet_model_load(path.string().c_str(), nullptr, &model), OCTET_ERROR_MODEL,
                 line.substr(tab + 1));
    EXPECT_EQ(model, nullptr);
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST(CApi, OptionErrors) {
  EXPECT_FAILS(octet_load_options_create(nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'out'");
  EXPECT_FAILS(octet_session_options_create(nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'out'");
  EXPECT_FAILS(octet_load_options_set_nhwc_io(nullptr, 1), OCTET_ERROR_INVALID_ARGUMENT, "'options'");
  EXPECT_FAILS(octet_load_options_set_requantization(nullptr, OCTET_REQUANTIZATION_FIXED_POINT),
               OCTET_ERROR_INVALID_ARGUMENT, "'options'");
  EXPECT_FAILS(octet_session_options_set_threads(nullptr, 1), OCTET_ERROR_INVALID_ARGUMENT, "'options'");
  EXPECT_FAILS(octet_session_options_set_max_arena_bytes(nullptr, 1), OCTET_ERROR_INVALID_ARGUMENT,
               "'options'");
  EXPECT_FAILS(octet_session_options_set_requantization(nullptr, OCTET_REQUANTIZATION_FIXED_POINT),
               OCTET_ERROR_INVALID_ARGUMENT, "'options'");
  EXPECT_FAILS(octet_session_options_set_isa(nullptr, "scalar"), OCTET_ERROR_INVALID_ARGUMENT, "'options'");
  EXPECT_FAILS(octet_session_options_set_max_loop_iterations(nullptr, 1), OCTET_ERROR_INVALID_ARGUMENT,
               "'options'");

  octet_load_options* raw_load = nullptr;
  ASSERT_OCTET_OK(octet_load_options_create(&raw_load));
  const LoadOptionsPtr load_options(raw_load);
  EXPECT_FAILS(c_api_test_set_load_requantization(load_options.get(), 7), OCTET_ERROR_INVALID_ARGUMENT,
               "requantization mode 7");
  const int64_t negative[] = {1, -1};
  EXPECT_FAILS(octet_load_options_set_input_shape(load_options.get(), "x", negative, 2),
               OCTET_ERROR_INVALID_ARGUMENT, "input 'x'");
  EXPECT_FAILS(octet_load_options_set_input_shape(load_options.get(), nullptr, negative, 2),
               OCTET_ERROR_INVALID_ARGUMENT, "'name'");
  EXPECT_FAILS(octet_load_options_set_input_shape(load_options.get(), "x", nullptr, 2),
               OCTET_ERROR_INVALID_ARGUMENT, "'shape'");

  octet_session_options* raw_session = nullptr;
  ASSERT_OCTET_OK(octet_session_options_create(&raw_session));
  const SessionOptionsPtr options(raw_session);
  EXPECT_FAILS(octet_session_options_set_threads(options.get(), -2), OCTET_ERROR_INVALID_ARGUMENT, "threads");
  EXPECT_FAILS(octet_session_options_set_max_arena_bytes(options.get(), -5), OCTET_ERROR_INVALID_ARGUMENT,
               "max_arena_bytes");
  EXPECT_FAILS(octet_session_options_set_max_loop_iterations(options.get(), -1), OCTET_ERROR_INVALID_ARGUMENT,
               "max_loop_iterations");
  ASSERT_OCTET_OK(octet_session_options_set_max_loop_iterations(options.get(), 1000));
  EXPECT_FAILS(c_api_test_set_session_requantization(options.get(), -1), OCTET_ERROR_INVALID_ARGUMENT,
               "requantization mode -1");
  EXPECT_FAILS(octet_session_options_set_isa(options.get(), "sse9"), OCTET_ERROR_INVALID_ARGUMENT, "'sse9'");
  // Known to octet, but not to every CPU: refused where this one lacks it.
  const std::vector<std::string> available = octet::available_isas();
  for (const char* isa : {"avx2", "avx512vnni", "neon", "neon_dotprod", "neon_i8mm"})
    if (std::find(available.begin(), available.end(), isa) == available.end())
      EXPECT_FAILS(octet_session_options_set_isa(options.get(), isa), OCTET_ERROR_INVALID_ARGUMENT, isa);
  EXPECT_OCTET_OK(octet_session_options_set_isa(options.get(), nullptr));  // the default
  EXPECT_OCTET_OK(octet_session_options_set_isa(options.get(), "scalar"));

  // A valid limit that a model's activations exceed: refused when the session is created if the model's
  // shapes are fixed, at the run otherwise (Fashion-MNIST's batch dimension is dynamic).
  ASSERT_OCTET_OK(octet_session_options_set_max_arena_bytes(options.get(), 16));
  const ModelPtr fixed = load(kTestModelsDir / "qdq_conv1x1.onnx");
  octet_session* session = reinterpret_cast<octet_session*>(&raw_session);
  EXPECT_FAILS(octet_session_create(fixed.get(), options.get(), &session), OCTET_ERROR_INVALID_ARGUMENT,
               "limit of 16");
  EXPECT_EQ(session, nullptr);
  const ModelPtr model = load(kFashionMnist);
  ASSERT_OCTET_OK(octet_session_create(model.get(), options.get(), &session));
  const SessionPtr limited(session);
  const std::vector<float> pixels(784);
  const int64_t shape[] = {1, 1, 28, 28};
  octet_tensor* image = nullptr;
  ASSERT_OCTET_OK(octet_tensor_create_float32(shape, 4, pixels.data(), pixels.size(), &image));
  const TensorPtr image_owner(image);
  const char* names[] = {"input"};
  const octet_tensor* inputs[] = {image};
  const octet_tensor* output = nullptr;
  EXPECT_FAILS(octet_session_run(limited.get(), names, inputs, 1, nullptr, 1, 0, &output),
               OCTET_ERROR_INVALID_INPUT, "limit of 16");
  EXPECT_FAILS(octet_session_create(nullptr, nullptr, &session), OCTET_ERROR_INVALID_ARGUMENT, "'model'");
  EXPECT_FAILS(octet_session_create(model.get(), nullptr, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'out'");
}

TEST(CApi, TensorErrors) {
  const int64_t shape[] = {2, 3};
  const float values[6] = {};
  octet_tensor* t = reinterpret_cast<octet_tensor*>(&t);
  EXPECT_FAILS(octet_tensor_create_float32(shape, 2, values, 5, &t), OCTET_ERROR_INVALID_ARGUMENT,
               "needs 6 values");
  EXPECT_EQ(t, nullptr);
  const int64_t negative[] = {2, -3};
  EXPECT_FAILS(octet_tensor_create_float32(negative, 2, values, 6, &t), OCTET_ERROR_INVALID_ARGUMENT,
               "negative dimension");
  EXPECT_FAILS(octet_tensor_create_float32(nullptr, 2, values, 6, &t), OCTET_ERROR_INVALID_ARGUMENT,
               "'shape'");
  EXPECT_FAILS(octet_tensor_create_float32(shape, 2, nullptr, 6, &t), OCTET_ERROR_INVALID_ARGUMENT, "'data'");
  EXPECT_FAILS(octet_tensor_create_float32(shape, 2, values, 6, nullptr), OCTET_ERROR_INVALID_ARGUMENT,
               "'out'");
  const uint8_t bytes[7] = {};  // 7 values: the count below is what the buffer holds
  EXPECT_FAILS(octet_tensor_create_uint8(shape, 2, bytes, 7, 0.5f, 3, &t), OCTET_ERROR_INVALID_ARGUMENT,
               "needs 6");
  // Counts that are not the shape's are refused before any element is read: the byte size of `values`
  // (24, which would read 18 floats past it; ASan reports such a read), counts that would wrap the
  // pointer, and a shape beyond any address space.
  EXPECT_FAILS(octet_tensor_create_float32(shape, 2, values, sizeof(values), &t),
               OCTET_ERROR_INVALID_ARGUMENT, "needs 6 values, got count 24 (a count of elements, not bytes)");
  EXPECT_FAILS(octet_tensor_create_float32(shape, 2, values, (size_t{1} << 62) + 6, &t),
               OCTET_ERROR_INVALID_ARGUMENT, "needs 6 values");
  EXPECT_FAILS(octet_tensor_create_float32(shape, 2, values, SIZE_MAX, &t), OCTET_ERROR_INVALID_ARGUMENT,
               "needs 6 values");
  const int64_t huge[] = {int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_FAILS(octet_tensor_create_float32(huge, 2, values, 6, &t), OCTET_ERROR_INVALID_ARGUMENT,
               "more elements than an address space holds");
  const int64_t empty_rows[] = {0, 3};
  EXPECT_FAILS(octet_tensor_create_float32(empty_rows, 2, values, 6, &t), OCTET_ERROR_INVALID_ARGUMENT,
               "needs 0 values");
  EXPECT_FAILS(octet_tensor_create_bool(shape, 2, nullptr, 6, &t), OCTET_ERROR_INVALID_ARGUMENT, "'data'");
  EXPECT_FAILS(octet_tensor_create_int64(shape, 2, nullptr, 6, &t), OCTET_ERROR_INVALID_ARGUMENT, "'data'");
  EXPECT_FAILS(octet_tensor_copy(nullptr, &t), OCTET_ERROR_INVALID_ARGUMENT, "'tensor'");
  EXPECT_EQ(t, nullptr);

  // Getters: a NULL tensor or NULL destination.
  octet_dtype dtype{};
  size_t size = 0;
  const int64_t* dims = nullptr;
  int64_t count = 0;
  const void* data = nullptr;
  float scale = 0;
  int32_t zero_point = 0;
  EXPECT_FAILS(octet_tensor_dtype(nullptr, &dtype), OCTET_ERROR_INVALID_ARGUMENT, "'tensor'");
  EXPECT_FAILS(octet_tensor_rank(nullptr, &size), OCTET_ERROR_INVALID_ARGUMENT, "'tensor'");
  EXPECT_FAILS(octet_tensor_dims(nullptr, &dims), OCTET_ERROR_INVALID_ARGUMENT, "'tensor'");
  EXPECT_FAILS(octet_tensor_element_count(nullptr, &count), OCTET_ERROR_INVALID_ARGUMENT, "'tensor'");
  EXPECT_FAILS(octet_tensor_data(nullptr, &data), OCTET_ERROR_INVALID_ARGUMENT, "'tensor'");
  EXPECT_FAILS(octet_tensor_byte_size(nullptr, &size), OCTET_ERROR_INVALID_ARGUMENT, "'tensor'");
  EXPECT_FAILS(octet_tensor_quantization(nullptr, &scale, &zero_point), OCTET_ERROR_INVALID_ARGUMENT,
               "'tensor'");
  ASSERT_OCTET_OK(octet_tensor_create_uint8(shape, 2, bytes, 6, 0.5f, 3, &t));
  const TensorPtr owner(t);
  EXPECT_FAILS(octet_tensor_dtype(t, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'dtype'");
  EXPECT_FAILS(octet_tensor_rank(t, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'rank'");
  EXPECT_FAILS(octet_tensor_dims(t, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'dims'");
  EXPECT_FAILS(octet_tensor_element_count(t, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'count'");
  EXPECT_FAILS(octet_tensor_data(t, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'data'");
  EXPECT_FAILS(octet_tensor_byte_size(t, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'bytes'");
  EXPECT_FAILS(octet_tensor_quantization(t, nullptr, &zero_point), OCTET_ERROR_INVALID_ARGUMENT, "'scale'");
  EXPECT_FAILS(octet_tensor_quantization(t, &scale, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'zero_point'");
  ASSERT_OCTET_OK(octet_tensor_quantization(t, &scale, &zero_point));
  EXPECT_EQ(scale, 0.5f);
  EXPECT_EQ(zero_point, 3);

  // A scalar and an empty tensor are tensors too.
  const int64_t one = 42;
  octet_tensor* scalar = nullptr;
  ASSERT_OCTET_OK(octet_tensor_create_int64(nullptr, 0, &one, 1, &scalar));
  const TensorPtr scalar_owner(scalar);
  ASSERT_OCTET_OK(octet_tensor_rank(scalar, &size));
  EXPECT_EQ(size, 0u);
  ASSERT_OCTET_OK(octet_tensor_data(scalar, &data));
  EXPECT_EQ(*static_cast<const int64_t*>(data), 42);
  const int64_t empty_shape[] = {0, 4};
  octet_tensor* empty = nullptr;
  ASSERT_OCTET_OK(octet_tensor_create_bool(empty_shape, 2, nullptr, 0, &empty));
  const TensorPtr empty_owner(empty);
  ASSERT_OCTET_OK(octet_tensor_byte_size(empty, &size));
  EXPECT_EQ(size, 0u);
}

TEST(CApi, ModelInfoErrors) {
  const ModelPtr model = load(kFashionMnist);
  size_t count = 0;
  octet_tensor_info info{};
  EXPECT_FAILS(octet_model_input_count(nullptr, &count), OCTET_ERROR_INVALID_ARGUMENT, "'model'");
  EXPECT_FAILS(octet_model_output_count(model.get(), nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'count'");
  EXPECT_FAILS(octet_model_input_info(nullptr, 0, &info), OCTET_ERROR_INVALID_ARGUMENT, "'model'");
  EXPECT_FAILS(octet_model_output_info(model.get(), 0, nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'info'");
  EXPECT_FAILS(octet_model_input_info(model.get(), 1, &info), OCTET_ERROR_INVALID_ARGUMENT, "input index 1");
  EXPECT_FAILS(octet_model_output_info(model.get(), 5, &info), OCTET_ERROR_INVALID_ARGUMENT,
               "output index 5");
  EXPECT_FAILS(octet_available_isas(nullptr, &count), OCTET_ERROR_INVALID_ARGUMENT, "'names'");
  EXPECT_FAILS(octet_default_isa(nullptr), OCTET_ERROR_INVALID_ARGUMENT, "'name'");
  EXPECT_FAILS(octet_session_profile_count(nullptr, &count), OCTET_ERROR_INVALID_ARGUMENT, "'session'");
}

// Fashion-MNIST takes one float input "input" of shape [N, 1, 28, 28] and has one output.
class RunErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = load(kFashionMnist);
    ASSERT_NE(model_, nullptr);
    session_ = make_session(model_.get());
    ASSERT_NE(session_, nullptr);
    octet_tensor_info info{};
    ASSERT_OCTET_OK(octet_model_input_info(model_.get(), 0, &info));
    ASSERT_STREQ(info.name, "input");
    image_ = tensor({1, 1, 28, 28});
  }

  static TensorPtr tensor(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (const int64_t d : shape)
      n *= d;
    const std::vector<float> values(static_cast<size_t>(n), 0.5f);
    octet_tensor* t = nullptr;
    EXPECT_OCTET_OK(
        octet_tensor_create_float32(shape.data(), shape.size(), values.data(), values.size(), &t));
    return TensorPtr(t);
  }

  // Runs with one input; the output slot is set to non-NULL before, so that a failure is seen to reset it.
  octet_status run(const char* name, const octet_tensor* input, uint32_t flags = 0) {
    const char* names[] = {name};
    const octet_tensor* inputs[] = {input};
    output_ = reinterpret_cast<const octet_tensor*>(this);
    return octet_session_run(session_.get(), names, inputs, 1, nullptr, 1, flags, &output_);
  }

  ModelPtr model_;
  SessionPtr session_;
  TensorPtr image_;
  const octet_tensor* output_ = nullptr;
};

TEST_F(RunErrors, InputsThatDoNotFit) {
  ASSERT_OCTET_OK(run("input", image_.get()));
  EXPECT_NE(output_, nullptr);

  EXPECT_FAILS(run("image", image_.get()), OCTET_ERROR_INVALID_INPUT, "input 'image' is not an input");
  EXPECT_EQ(output_, nullptr);
  const TensorPtr wrong_rank = tensor({1, 28, 28});
  EXPECT_FAILS(run("input", wrong_rank.get()), OCTET_ERROR_INVALID_INPUT,
               "input 'input' has shape [1, 28, 28]");
  EXPECT_EQ(output_, nullptr);
  const TensorPtr wrong_shape = tensor({1, 1, 28, 27});
  EXPECT_FAILS(run("input", wrong_shape.get()), OCTET_ERROR_INVALID_INPUT,
               "input 'input' has shape [1, 1, 28, 27]");
  const int64_t shape[] = {1, 1, 28, 28};
  const std::vector<int64_t> ints(784, 1);
  octet_tensor* raw = nullptr;
  ASSERT_OCTET_OK(octet_tensor_create_int64(shape, 4, ints.data(), ints.size(), &raw));
  const TensorPtr wrong_dtype(raw);
  EXPECT_FAILS(run("input", wrong_dtype.get()), OCTET_ERROR_INVALID_INPUT,
               "input 'input' must be float32, got int64");
  // uint8 data for the float input the model quantizes: only with the model's parameters.
  const std::vector<uint8_t> bytes(784, 7);
  ASSERT_OCTET_OK(octet_tensor_create_uint8(shape, 4, bytes.data(), bytes.size(), 0.125f, 1, &raw));
  const TensorPtr wrong_params(raw);
  EXPECT_FAILS(run("input", wrong_params.get()), OCTET_ERROR_INVALID_INPUT,
               "input 'input' is quantized with");
  ASSERT_OCTET_OK(octet_tensor_create_uint8(shape, 4, bytes.data(), bytes.size(), 0.0f, 0, &raw));
  const TensorPtr model_params(raw);
  EXPECT_OCTET_OK(run("input", model_params.get()));

  // No input at all.
  const octet_tensor* out = nullptr;
  EXPECT_FAILS(octet_session_run(session_.get(), nullptr, nullptr, 0, nullptr, 1, 0, &out),
               OCTET_ERROR_INVALID_INPUT, "input 'input' is missing");
}

TEST_F(RunErrors, InvalidArguments) {
  const char* names[] = {"input", "input"};
  const octet_tensor* inputs[] = {image_.get(), image_.get()};
  const octet_tensor* out[2] = {};
  octet_session* session = session_.get();
  EXPECT_FAILS(octet_session_run(nullptr, names, inputs, 1, nullptr, 1, 0, out), OCTET_ERROR_INVALID_ARGUMENT,
               "'session'");
  EXPECT_FAILS(octet_session_run(session, nullptr, inputs, 1, nullptr, 1, 0, out),
               OCTET_ERROR_INVALID_ARGUMENT, "'input_names'");
  EXPECT_FAILS(octet_session_run(session, names, nullptr, 1, nullptr, 1, 0, out),
               OCTET_ERROR_INVALID_ARGUMENT, "'inputs'");
  EXPECT_FAILS(octet_session_run(session, names, inputs, 1, nullptr, 1, 0, nullptr),
               OCTET_ERROR_INVALID_ARGUMENT, "'outputs'");
  EXPECT_FAILS(octet_session_run(session, names, inputs, 2, nullptr, 1, 0, out), OCTET_ERROR_INVALID_ARGUMENT,
               "input 'input' is given more than once");
  const char* null_name[] = {nullptr};
  EXPECT_FAILS(octet_session_run(session, null_name, inputs, 1, nullptr, 1, 0, out),
               OCTET_ERROR_INVALID_ARGUMENT, "input_names[0] is NULL");
  const octet_tensor* null_tensor[] = {nullptr};
  EXPECT_FAILS(octet_session_run(session, names, null_tensor, 1, nullptr, 1, 0, out),
               OCTET_ERROR_INVALID_ARGUMENT, "inputs[0] ('input') is NULL");
  // All outputs: the count must be the model's, so that the caller's array is known to be large enough.
  EXPECT_FAILS(octet_session_run(session, names, inputs, 1, nullptr, 2, 0, out), OCTET_ERROR_INVALID_ARGUMENT,
               "the model has 1 outputs");
  const char* no_such_output[] = {"probabilities"};
  EXPECT_FAILS(octet_session_run(session, names, inputs, 1, no_such_output, 1, 0, out),
               OCTET_ERROR_INVALID_ARGUMENT, "'probabilities' is not an output of the model");
  const char* null_output[] = {nullptr};
  EXPECT_FAILS(octet_session_run(session, names, inputs, 1, null_output, 1, 0, out),
               OCTET_ERROR_INVALID_ARGUMENT, "output_names[0] is NULL");
  EXPECT_FAILS(run("input", image_.get(), 1u << 7), OCTET_ERROR_INVALID_ARGUMENT, "unknown flags 128");
  EXPECT_EQ(out[0], nullptr);
  EXPECT_EQ(out[1], nullptr);
  // The session still works after all that.
  EXPECT_OCTET_OK(run("input", image_.get()));
}

// The message is per thread: another thread's failure does not replace this thread's.
TEST_F(RunErrors, LastErrorIsPerThread) {
  EXPECT_EQ(run("image", image_.get()), OCTET_ERROR_INVALID_INPUT);
  const std::string mine = octet_last_error();
  std::string theirs_before, theirs_after;
  std::thread other([&] {
    theirs_before = octet_last_error();
    octet_model* model = nullptr;
    (void)octet_model_load("/no/such/file.onnx", nullptr, &model);
    theirs_after = octet_last_error();
  });
  other.join();
  EXPECT_EQ(theirs_before, "");
  EXPECT_NE(theirs_after.find("/no/such/file.onnx"), std::string::npos);
  EXPECT_EQ(octet_last_error(), mine);
  // A success leaves the message alone.
  EXPECT_OCTET_OK(run("input", image_.get()));
  EXPECT_EQ(octet_last_error(), mine);
}

// ---- Ownership ------------------------------------------------------------------------------------------

TEST(CApi, Ownership) {
  // Destroying nothing is fine.
  octet_model_destroy(nullptr);
  octet_session_destroy(nullptr);
  octet_tensor_destroy(nullptr);
  octet_load_options_destroy(nullptr);
  octet_session_options_destroy(nullptr);

  // The session outlives the caller's model handle (the C++ objects share the model).
  ModelPtr model = load(kFashionMnist);
  const SessionPtr session = make_session(model.get());
  model.reset();

  const octet::Model cpp_model = octet::Model::load(kFashionMnist.string());
  const auto batch = fashion_mnist_inputs(cpp_model, 2);
  const std::vector<float> pixels(batch.at("input").float_data().begin(),
                                  batch.at("input").float_data().end());
  const int64_t shape[] = {1, 1, 28, 28};
  octet_tensor* raw = nullptr;
  ASSERT_OCTET_OK(octet_tensor_create_float32(shape, 4, pixels.data(), 784, &raw));
  const TensorPtr first(raw);
  ASSERT_OCTET_OK(octet_tensor_create_float32(shape, 4, pixels.data() + 784, 784, &raw));
  const TensorPtr second(raw);

  octet::Session cpp_session(cpp_model);
  const auto expected_first = cpp_session.run(
      {{"input", octet::HostTensor::from_float({1, 1, 28, 28}, {pixels.begin(), pixels.begin() + 784})}});
  const auto expected_second = cpp_session.run(
      {{"input", octet::HostTensor::from_float({1, 1, 28, 28}, {pixels.begin() + 784, pixels.end()})}});
  const octet::HostTensor& first_logits = expected_first.begin()->second;
  const octet::HostTensor& second_logits = expected_second.begin()->second;
  ASSERT_FALSE(
      std::equal(first_logits.bytes().begin(), first_logits.bytes().end(), second_logits.bytes().begin()));

  const char* names[] = {"input"};
  const octet_tensor* inputs[] = {first.get()};
  const octet_tensor* output = nullptr;
  ASSERT_OCTET_OK(octet_session_run(session.get(), names, inputs, 1, nullptr, 1, 0, &output));
  expect_identical(output, first_logits, "first run");
  // The caller's copy is its own; destroying the session's output is ignored (it is not the caller's).
  ASSERT_OCTET_OK(octet_tensor_copy(output, &raw));
  const TensorPtr kept(raw);
  octet_tensor_destroy(const_cast<octet_tensor*>(output));
  expect_identical(output, first_logits, "an output after octet_tensor_destroy");

  // The next run replaces the outputs; the copy keeps the first run's values.
  inputs[0] = second.get();
  ASSERT_OCTET_OK(octet_session_run(session.get(), names, inputs, 1, nullptr, 1, 0, &output));
  expect_identical(output, second_logits, "second run");
  expect_identical(kept.get(), first_logits, "the copy after the next run");

  // The caller's input data was copied in: changing the caller's buffer changes nothing.
  std::vector<float> buffer(pixels.begin(), pixels.begin() + 784);
  ASSERT_OCTET_OK(octet_tensor_create_float32(shape, 4, buffer.data(), 784, &raw));
  const TensorPtr from_buffer(raw);
  std::fill(buffer.begin(), buffer.end(), 0.0f);
  inputs[0] = from_buffer.get();
  ASSERT_OCTET_OK(octet_session_run(session.get(), names, inputs, 1, nullptr, 1, 0, &output));
  expect_identical(output, first_logits, "a tensor whose source buffer changed");
}

// An output of one run fed to the next run of the same session: the old outputs end with the call, but
// only after the inputs were read (AddressSanitizer checks that). The model: the first test model whose
// one float output fits its one float input.
TEST(CApi, OutputAsNextInput) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(kTestModelsDir))
    if (entry.path().extension() == ".onnx") paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  for (const fs::path& path : paths) {
    const fs::path input_file = fs::path(path).replace_extension(".input.npy");
    const octet::Model cpp_model = octet::Model::load(path.string());
    if (cpp_model.inputs().size() != 1 || cpp_model.outputs().size() != 1 || !fs::exists(input_file))
      continue;
    const npy::Array a = npy::read(input_file.string());
    if (a.dtype != npy::Dtype::float32) continue;
    const std::string input_name = cpp_model.inputs()[0].name;
    octet::Session cpp_session(cpp_model);
    auto expected = cpp_session.run({{input_name, octet::HostTensor::from_float(a.shape, a.to_float())}});
    const octet::HostTensor& y = expected.begin()->second;
    if (y.dtype() != octet::DataType::float32 || y.shape() != a.shape) continue;
    expected = cpp_session.run({{input_name, octet::HostTensor(y)}});

    const ModelPtr model = load(path);
    const SessionPtr session = make_session(model.get());
    const TensorPtr x = to_c(octet::HostTensor::from_float(a.shape, a.to_float()));
    const char* names[] = {input_name.c_str()};
    const octet_tensor* inputs[] = {x.get()};
    const octet_tensor* output = nullptr;
    ASSERT_OCTET_OK(octet_session_run(session.get(), names, inputs, 1, nullptr, 1, 0, &output));
    inputs[0] = output;
    ASSERT_OCTET_OK(octet_session_run(session.get(), names, inputs, 1, nullptr, 1, 0, &output));
    expect_identical(output, expected.begin()->second, path.filename().string() + " applied twice");
    return;
  }
  FAIL() << "no test model's output fits its input";
}

// ---- Threads --------------------------------------------------------------------------------------------

// One model, a session per thread, the same results as one thread alone.
TEST(CApi, ModelSharedByTwoThreads) {
  const ModelPtr model = load(kFashionMnist);
  const octet::Model cpp_model = octet::Model::load(kFashionMnist.string());
  const auto inputs = fashion_mnist_inputs(cpp_model, 4);
  const auto expected = octet::Session(cpp_model).run(inputs);
  const TensorPtr images = to_c(inputs.at("input"));  // read by both threads at once

  std::vector<std::string> failures(2);
  auto work = [&](size_t index) {
    std::string& failure = failures[index];
    octet_session* session = nullptr;
    if (octet_session_create(model.get(), nullptr, &session) != OCTET_OK) {
      failure = octet_last_error();
      return;
    }
    const SessionPtr owner(session);
    const char* names[] = {"input"};
    const octet_tensor* in[] = {images.get()};
    for (int run = 0; run < 10 && failure.empty(); ++run) {
      const octet_tensor* out = nullptr;
      if (octet_session_run(session, names, in, 1, nullptr, 1, 0, &out) != OCTET_OK) {
        failure = octet_last_error();
        return;
      }
      const void* data = nullptr;
      size_t bytes = 0;
      const octet::HostTensor& want = expected.begin()->second;
      if (octet_tensor_data(out, &data) != OCTET_OK || octet_tensor_byte_size(out, &bytes) != OCTET_OK ||
          bytes != want.bytes().size_bytes() || std::memcmp(data, want.bytes().data(), bytes) != 0)
        failure = "run " + std::to_string(run) + " differs from the single-threaded result";
    }
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  EXPECT_EQ(failures[0], "");
  EXPECT_EQ(failures[1], "");
}

}  // namespace
