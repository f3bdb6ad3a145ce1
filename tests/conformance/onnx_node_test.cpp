// ONNX's own backend node tests as a conformance suite for octet.
//
// The cases come from ONNX 1.12's node tests (Debian's libonnx-testdata), selected and copied into
// onnx_node/ by select_onnx_node_tests.py, which also writes onnx_node/CASES.txt: every case considered,
// "NAME<TAB>run" or "NAME<TAB>skip<TAB>reason". A run case is loaded with octet::Model::load, fed every
// test_data_set_0/input_N.pb (float32, uint8, bool or int64) and compared with every output_N.pb. A skipped
// case still has its model: unless it is a known bug, the test checks that octet does reject it at load, with
// an error of the reason's category (so the skip list cannot go stale silently), and then skips with the
// reason, which ctest prints.
//
// Tolerances, and why:
//  - uint8 outputs are compared exactly, except those of QLinearConv / QLinearMatMul: octet requantizes the
//    int32 accumulator with a Q31 fixed-point multiplier and a rounding shift, rounding twice
//    (docs/quantization.md), where the ONNX reference rounds the exact product once, so an output may differ
//    by 1 LSB. Those differences are counted and reported, and anything beyond 1 LSB fails.
//  - int64 outputs (ArgMax, shapes, casts) and bool outputs (comparisons, logic) are compared exactly: any
//    correct implementation gives the same values.
//  - float outputs are exact unless NAME/tolerance.txt states "OUTPUT ABSOLUTE RELATIVE": an element passes
//    when |octet - ONNX| <= ABSOLUTE + RELATIVE |ONNX|. select_onnx_node_tests.py derives each bound from the
//    case's own data and writes the derivation above it, by class:
//     - exact (no file): element moves and selections (Reshape, Slice, Gather, MaxPool, nearest Resize,
//       Where, ...), comparisons, and single correctly rounded IEEE operations that both sides evaluate in
//       the same order (Add, Sub, Mul, Div, Sqrt, Reciprocal, Relu, Clip, Floor, DequantizeLinear, ...).
//     - elementwise functions (Exp, Log, Tanh, Sigmoid, Erf, Pow, Elu, Softplus, HardSwish, ...): relative
//       2^-20 (8 ulp: octet's math is within 2 ulp of the correctly rounded result, NumPy's float32 loops
//       within 4, and up to 2 more where one side fuses a multiply-add or composes two roundings) plus
//       absolute 2^-21 times the operator's factors (alpha, gamma): the references evaluate e^x - 1 and
//       log(1 + e^x) with a cancellation near 0 that costs up to half an ulp of 1.0 times those factors.
//     - accumulations over K terms (Conv, ConvTranspose, MatMul, Gemm, AveragePool, Reduce*, Sum / Mean,
//       linear and cubic Resize): a float32 sum of K terms, in any order and with or without fused
//       multiply-adds, is within gamma_K = K u / (1 - K u) (u = 2^-24) of the sum of the absolute values of
//       its terms (Higham, Accuracy and Stability of Numerical Algorithms, 3.1); octet and the reference
//       each are, so the absolute bound is 2 gamma_K S with S the largest sum of absolute terms over the
//       case's outputs (for Conv max over channels of |W_c|_1 max|x| + |b_c|, for MatMul max(|A| |B|), ...).
//       Products (ReduceProd) and square roots of sums (ReduceL2) get the relative form of the same bound.
//     - Softmax (relative: 2 gamma_K for the sum of exponentials plus 8 ulp for the exponentials and one for
//       the division), LogSoftmax (absolute: the same, as an error of the log, plus 8 ulp of |log sum|),
//       BatchNormalization (16 u of the largest term |x s| + |mean s| + |bias|), LayerNormalization /
//       MeanVarianceNormalization (the mean's and the variance's gamma_K errors propagated through
//       (x - mean) / sigma * scale + bias, per output: Y, Mean, InvStdDev).
//    An _expanded case computes its function operator on the same data, so it has that operator's bound.
//  - a float output that goes through quantization (a "_qdq" variant) has an absolute bound: the input
//    quantization error propagated through the operator, plus 1.5 output steps (tolerance.txt shows it).

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "octet/octet.h"
#include "octet/quantize.h"

namespace octet {
namespace {

namespace fs = std::filesystem;

const fs::path kDataDir = OCTET_ONNX_NODE_DIR;

struct Case {
  std::string name;
  bool run = false;
  std::string reason;  // skip cases only
};

// Failure messages print the case by name rather than as raw bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

// GoogleTest parameter names allow only letters, digits and underscores.
std::string param_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = info.param.name;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

std::vector<Case> read_cases() {
  std::vector<Case> cases;
  std::ifstream in(kDataDir / "CASES.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    // At most three fields: a skip reason may itself contain anything but a tab.
    while (fields.size() < 2 && std::getline(ss, field, '\t'))
      fields.push_back(field);
    if (std::getline(ss, field)) fields.push_back(field);
    Case c;
    c.name = fields.at(0);
    c.run = fields.size() > 1 && fields[1] == "run";
    if (!c.run) c.reason = fields.size() > 2 ? fields[2] : "(malformed CASES.txt line: " + line + ")";
    cases.push_back(c);
  }
  return cases;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

template <class Message>
Message read_proto(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  Message m;
  if (!in || !m.ParseFromIstream(&in)) throw std::runtime_error("cannot parse " + path.string());
  return m;
}

// input_N.pb / output_N.pb in N order.
std::vector<fs::path> data_files(const fs::path& dir, const std::string& kind) {
  std::vector<std::pair<int, fs::path>> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (starts_with(f, kind + "_") && e.path().extension() == ".pb")
      found.emplace_back(std::stoi(f.substr(kind.size() + 1)), e.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& [n, p] : found)
    out.push_back(p);
  return out;
}

std::vector<int64_t> dims_of(const onnx::TensorProto& t) {
  return {t.dims().begin(), t.dims().end()};
}

// A tensor's elements of type T: from its raw bytes, or else from its typed field.
template <class T, class Field>
std::vector<T> elements_of(const onnx::TensorProto& t, const Field& field) {
  if (!t.raw_data().empty()) {
    std::vector<T> v(t.raw_data().size() / sizeof(T));
    std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(T));
    return v;
  }
  return {field.begin(), field.end()};
}

std::vector<float> floats_of(const onnx::TensorProto& t) {
  return elements_of<float>(t, t.float_data());
}

// ONNX stores uint8 and bool either as raw bytes or widened into int32_data.
std::vector<uint8_t> bytes_of(const onnx::TensorProto& t) {
  if (!t.raw_data().empty()) return {t.raw_data().begin(), t.raw_data().end()};
  std::vector<uint8_t> v;
  for (int32_t x : t.int32_data())
    v.push_back(static_cast<uint8_t>(x));
  return v;
}

std::vector<int64_t> int64s_of(const onnx::TensorProto& t) {
  return elements_of<int64_t>(t, t.int64_data());
}

std::vector<int32_t> int32s_of(const onnx::TensorProto& t) {
  return elements_of<int32_t>(t, t.int32_data());
}

HostTensor to_host(const onnx::TensorProto& t) {
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      return HostTensor::from_float(dims_of(t), floats_of(t));
    case onnx::TensorProto::UINT8:
      // Scale 0: "the params the model states for this input".
      return HostTensor::from_uint8(dims_of(t), bytes_of(t));
    case onnx::TensorProto::BOOL:
      return HostTensor::from_bool(dims_of(t), bytes_of(t));
    case onnx::TensorProto::INT64:
      return HostTensor::from_int64(dims_of(t), int64s_of(t));
    case onnx::TensorProto::INT32:
      return HostTensor::from_int32(dims_of(t), int32s_of(t));
    default:
      // The selection script skips cases with other input types; reaching this is a selection bug.
      throw std::runtime_error("input '" + t.name() + "' has ONNX type " + std::to_string(t.data_type()) +
                               ", which HostTensor cannot carry");
  }
}

std::set<std::string> op_types(const onnx::ModelProto& m) {
  std::set<std::string> ops;
  for (const auto& n : m.graph().node())
    ops.insert(n.op_type());
  return ops;
}

// The float tolerances a case states in tolerance.txt: after '#' comment lines (the derivation), one line
// "OUTPUT ABSOLUTE RELATIVE" per float output; an element passes when |octet - ONNX| <= ABSOLUTE + RELATIVE *
// |ONNX|. An output without a line (or a case without the file) is compared exactly.
struct Tolerance {
  double absolute = 0.0;
  double relative = 0.0;
};

std::map<std::string, Tolerance> float_tolerances(const fs::path& dir) {
  std::map<std::string, Tolerance> out;
  std::ifstream in(dir / "tolerance.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    Tolerance t;
    if (!(fields >> name >> t.absolute >> t.relative))
      throw std::runtime_error((dir / "tolerance.txt").string() + ": malformed line: " + line);
    out[name] = t;
  }
  return out;
}

void compare_uint8(const std::string& what, const onnx::TensorProto& expected, const HostTensor& got,
                   int allowed_lsb) {
  ASSERT_EQ(got.dtype(), DataType::uint8)
      << what << ": octet returned " << name_of(got.dtype()) << ", ONNX expects uint8";
  const std::vector<uint8_t> want = bytes_of(expected);
  const auto have = got.uint8_data();
  ASSERT_EQ(have.size(), want.size()) << what;
  int64_t differ = 0, worst = 0, first = -1;
  for (size_t i = 0; i < want.size(); ++i) {
    const int d = std::abs(int{have[i]} - int{want[i]});
    if (d != 0) {
      ++differ;
      if (first < 0) first = static_cast<int64_t>(i);
    }
    worst = std::max<int64_t>(worst, d);
  }
  // Always reported where 1 LSB is allowed, so that the count is visible even when it is 0.
  if (differ > 0 || allowed_lsb > 0) {
    std::cout << "[   INFO   ] " << what << ": " << differ << " of " << want.size()
              << " uint8 outputs differ from ONNX, by at most " << worst << " LSB (allowed " << allowed_lsb
              << ")\n";
  }
  ::testing::Test::RecordProperty(what + "_lsb_differences", static_cast<int>(differ));
  EXPECT_LE(worst, allowed_lsb) << what << ": " << differ << " of " << want.size()
                                << " differ; first at flat index " << first << ": octet "
                                << int{have[static_cast<size_t>(first < 0 ? 0 : first)]} << ", ONNX "
                                << int{want[static_cast<size_t>(first < 0 ? 0 : first)]};
}

void compare_float(const std::string& what, const onnx::TensorProto& expected, const HostTensor& got,
                   Tolerance tolerance) {
  ASSERT_EQ(got.dtype(), DataType::float32)
      << what << ": octet returned " << name_of(got.dtype()) << ", ONNX expects float32";
  const std::vector<float> want = floats_of(expected);
  const auto have = got.float_data();
  ASSERT_EQ(have.size(), want.size()) << what;
  // The largest error in units of the element's allowance (1 = at the tolerance), so that the report says
  // how close a case comes to failing.
  double worst = 0.0, worst_ratio = 0.0, worst_ulp = 0.0;
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < want.size(); ++i) {
    // Equal values (infinities included) and two NaNs agree; anything else against a NaN does not.
    const bool same = have[i] == want[i] || (std::isnan(want[i]) && std::isnan(have[i]));
    const double err = same ? 0.0 : std::abs(double{have[i]} - double{want[i]});
    const double allowed = tolerance.absolute + tolerance.relative * std::abs(double{want[i]});
    if (!(err <= allowed)) {  // NaN-safe: a NaN error counts as a failure
      ++bad;
      if (first < 0) first = static_cast<int64_t>(i);
    }
    if (!std::isnan(err) && err > 0.0) {
      worst = std::max(worst, err);
      worst_ratio = std::max(worst_ratio, allowed > 0.0 ? err / allowed : INFINITY);
      const float w = std::abs(want[i]);
      worst_ulp = std::max(worst_ulp, err / double{std::nextafter(w, INFINITY) - w});
    }
  }
  if (worst > 0.0)
    std::cout << "[   INFO   ] " << what << ": largest error " << worst << " (" << worst_ulp
              << " ulp of the expected value), " << worst_ratio << " of the tolerance (absolute "
              << tolerance.absolute << ", relative " << tolerance.relative << ")\n";
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << want.size() << " outside absolute "
                    << tolerance.absolute << " + relative " << tolerance.relative << "; first at flat index "
                    << first << ": octet " << have[static_cast<size_t>(first < 0 ? 0 : first)] << ", ONNX "
                    << want[static_cast<size_t>(first < 0 ? 0 : first)];
}

// The elements of an exact output (integers): the first that differs, if any.
template <class T>
void compare_exact(const std::string& what, const std::vector<T>& want, std::span<const T> have) {
  ASSERT_EQ(have.size(), want.size()) << what;
  const auto diff = std::mismatch(want.begin(), want.end(), have.begin());
  EXPECT_TRUE(diff.first == want.end())
      << what << ": first difference at flat index " << (diff.first - want.begin()) << ": octet "
      << +*diff.second << ", ONNX " << +*diff.first;  // + prints a byte as a number
}

// int64 / int32 (ArgMax, Cast, shapes) and bool (comparisons, logic) outputs are exact in any correct
// runtime.
void compare_int64(const std::string& what, const onnx::TensorProto& expected, const HostTensor& got) {
  ASSERT_EQ(got.dtype(), DataType::int64)
      << what << ": octet returned " << name_of(got.dtype()) << ", ONNX expects int64";
  compare_exact(what, int64s_of(expected), got.int64_data());
}

void compare_int32(const std::string& what, const onnx::TensorProto& expected, const HostTensor& got) {
  ASSERT_EQ(got.dtype(), DataType::int32)
      << what << ": octet returned " << name_of(got.dtype()) << ", ONNX expects int32";
  compare_exact(what, int32s_of(expected), got.int32_data());
}

void compare_bool(const std::string& what, const onnx::TensorProto& expected, const HostTensor& got) {
  ASSERT_EQ(got.dtype(), DataType::boolean)
      << what << ": octet returned " << name_of(got.dtype()) << ", ONNX expects bool";
  std::vector<uint8_t> want = bytes_of(expected);
  for (uint8_t& b : want)
    b = b != 0;
  compare_exact(what, want, got.bool_data());
}

// Loads a case octet is expected to reject; returns the error message, or nothing if it loaded.
std::optional<std::string> load_error(const fs::path& model) {
  try {
    (void)Model::load(model.string());
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

// Whether octet's load error is of the kind the skip reason's category names: the opset, a graph input or
// output, an initializer's element type; "unsupported" errors name their node (UnsupportedCasesNameTheNode).
bool matches_category(const std::string& reason, const std::string& error) {
  if (starts_with(reason, "opset: ")) return error.find("opset") != std::string::npos;
  if (starts_with(reason, "io type: "))
    return error.find("graph input '") != std::string::npos ||
           error.find("graph output '") != std::string::npos;
  if (starts_with(reason, "constant type: ")) return error.find("element type") != std::string::npos;
  return starts_with(reason, "unsupported: ");
}

class OnnxNode : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxNode, MatchesOnnxReference) {
  const Case& c = GetParam();
  const fs::path dir = kDataDir / c.name;
  if (!c.run) {
    if (!starts_with(c.reason, "KNOWN BUG")) {
      // The skip is legitimate only while octet rejects the case with an octet::Error, and for the reason
      // stated (UnsupportedCasesNameTheNode checks the "unsupported" ones).
      const auto error = load_error(dir / "model.onnx");
      EXPECT_TRUE(error.has_value())
          << c.name << " is listed as skipped (" << c.reason
          << ") but octet now loads it: rerun select_onnx_node_tests.py and run it";
      if (error) {
        EXPECT_TRUE(matches_category(c.reason, *error))
            << c.name << " is skipped as \"" << c.reason << "\" but octet's error is another: " << *error;
      }
    }
    GTEST_SKIP() << c.reason;
  }

  const auto onnx_model = read_proto<onnx::ModelProto>(dir / "model.onnx");
  const std::set<std::string> ops = op_types(onnx_model);
  const int allowed_lsb = ops.count("QLinearConv") || ops.count("QLinearMatMul") ? 1 : 0;
  const std::map<std::string, Tolerance> tolerances = float_tolerances(dir);

  // A quantized variant (NAME_qdq) whose float case runs too shares that case's inputs and expected outputs
  // instead of storing a copy.
  fs::path data = dir / "test_data_set_0";
  if (!fs::exists(data) && c.name.size() > 4 && c.name.substr(c.name.size() - 4) == "_qdq")
    data = kDataDir / c.name.substr(0, c.name.size() - 4) / "test_data_set_0";
  ASSERT_TRUE(fs::exists(data)) << c.name << ": no test_data_set_0";

  const Model model = Model::load((dir / "model.onnx").string());
  std::map<std::string, HostTensor> inputs;
  const auto input_files = data_files(data, "input");
  ASSERT_EQ(input_files.size(), model.inputs().size()) << "one input_N.pb per graph input";
  for (size_t i = 0; i < input_files.size(); ++i) {
    const auto t = read_proto<onnx::TensorProto>(input_files[i]);
    inputs.emplace(t.name().empty() ? model.inputs()[i].name : t.name(), to_host(t));
  }
  Session session(model);
  const auto outputs = session.run(inputs);

  const auto output_files = data_files(data, "output");
  ASSERT_EQ(output_files.size(), model.outputs().size());
  // A tolerance for an output the model does not have is a stale tolerance.txt.
  for (const auto& entry : tolerances) {
    const std::string& name = entry.first;
    const auto& outs = model.outputs();
    EXPECT_TRUE(std::any_of(outs.begin(), outs.end(), [&](const TensorInfo& o) { return o.name == name; }))
        << c.name << ": tolerance.txt names '" << name << "', which is not an output";
  }
  for (size_t i = 0; i < output_files.size(); ++i) {
    const auto want = read_proto<onnx::TensorProto>(output_files[i]);
    const std::string name = want.name().empty() ? model.outputs()[i].name : want.name();
    SCOPED_TRACE("output '" + name + "'");
    const auto it = outputs.find(name);
    ASSERT_NE(it, outputs.end()) << "octet produced no output '" << name << "'";
    ASSERT_EQ(it->second.shape(), dims_of(want));
    if (want.data_type() == onnx::TensorProto::UINT8)
      compare_uint8(c.name + ":" + name, want, it->second, allowed_lsb);
    else if (want.data_type() == onnx::TensorProto::FLOAT)
      compare_float(c.name + ":" + name, want, it->second,
                    tolerances.count(name) ? tolerances.at(name) : Tolerance{});
    else if (want.data_type() == onnx::TensorProto::INT64)
      compare_int64(c.name + ":" + name, want, it->second);
    else if (want.data_type() == onnx::TensorProto::INT32)
      compare_int32(c.name + ":" + name, want, it->second);
    else if (want.data_type() == onnx::TensorProto::BOOL)
      compare_bool(c.name + ":" + name, want, it->second);
    else
      FAIL() << "expected output type " << want.data_type() << " cannot come out of octet";
  }
}

// octet quantize on every float case with float inputs, its test inputs as the one calibration sample:
// the quantizer must either refuse the model with an octet::Error or write a model that octet loads and
// runs to outputs of the float model's names, shapes and types (the values are the quantization's
// business: docs/quantize.md measures them on real models). Its error must never be a bug report.
TEST_P(OnnxNode, QuantizesFloatCases) {
  const Case& c = GetParam();
  const fs::path dir = kDataDir / c.name;
  const fs::path data = dir / "test_data_set_0";
  if (!c.run || !fs::exists(data)) GTEST_SKIP() << "not a float case that runs";
  const auto onnx_model = read_proto<onnx::ModelProto>(dir / "model.onnx");
  for (const auto& n : onnx_model.graph().node())
    if (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear" ||
        starts_with(n.op_type(), "QLinear"))
      GTEST_SKIP() << "already quantized";
  const Model model = Model::load((dir / "model.onnx").string());
  std::map<std::string, HostTensor> inputs;
  const auto input_files = data_files(data, "input");
  for (size_t i = 0; i < input_files.size(); ++i) {
    const auto t = read_proto<onnx::TensorProto>(input_files[i]);
    if (t.data_type() != onnx::TensorProto::FLOAT) GTEST_SKIP() << "an input is not float";
    inputs.emplace(t.name().empty() ? model.inputs()[i].name : t.name(), to_host(t));
  }
  std::ifstream file(dir / "model.onnx", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(text.size());
  std::transform(text.begin(), text.end(), bytes.begin(), [](char ch) { return static_cast<std::byte>(ch); });
  QuantizeResult result;
  try {
    result = quantize(bytes, {1, [&](size_t) { return inputs; }});
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("a bug"), std::string::npos) << e.what();
    return;
  }
  Session float_session(model);
  Session int8_session(Model::load_from_memory(result.model));
  const auto want = float_session.run(inputs);
  const auto got = int8_session.run(inputs);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) {
    const auto it = got.find(name);
    ASSERT_NE(it, got.end()) << "no output '" << name << "'";
    EXPECT_EQ(it->second.dtype(), tensor.dtype()) << name;
    EXPECT_EQ(it->second.shape(), tensor.shape()) << name;
  }
}

const std::vector<Case>& all_cases() {
  static const std::vector<Case> cases = read_cases();
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Onnx112, OnnxNode, ::testing::ValuesIn(all_cases()), param_name);

TEST(OnnxNodeSuite, HasCases) {
  int runs = 0;
  for (const Case& c : all_cases())
    runs += c.run;
  EXPECT_GT(runs, 0) << "no runnable case in " << (kDataDir / "CASES.txt")
                     << ": run tests/conformance/select_onnx_node_tests.py";
}

// octet promises that every load error names the node or tensor at fault. For the cases skipped as
// unsupported (an operator, a form of one, or float data where octet needs quantized data) that means the
// message must name the node: its name, or its operator as describe() prints it, "(OpType)".
TEST(OnnxNodeSuite, UnsupportedCasesNameTheNode) {
  int checked = 0;
  for (const Case& c : all_cases()) {
    if (c.run || !starts_with(c.reason, "unsupported: ")) continue;
    SCOPED_TRACE(c.name);
    if (c.reason.find("KNOWN BUG") != std::string::npos) {
      // A diagnosed defect of the message itself, listed in the reason.
      std::cout << "[   INFO   ] " << c.name << ": message check skipped (known bug in the message)\n";
      continue;
    }
    const fs::path model = kDataDir / c.name / "model.onnx";
    const auto error = load_error(model);
    if (!error) continue;  // reported by the case's own test
    const auto onnx_model = read_proto<onnx::ModelProto>(model);
    bool named = false;
    for (const auto& n : onnx_model.graph().node()) {
      if (n.op_type() == "Constant") continue;
      named = named || error->find("(" + n.op_type() + ")") != std::string::npos ||
              (!n.name().empty() && error->find("'" + n.name() + "'") != std::string::npos);
    }
    EXPECT_TRUE(named) << "the error does not name the node: " << *error;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace octet
