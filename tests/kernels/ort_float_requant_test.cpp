// octet's float requantization mode (RequantMode::float_scale) against ONNX Runtime's own bytes: the golden
// vectors in data/ort_requant/ (written by data/make_ort_requant_vectors.py, which documents the format)
// hold the inputs, parameters and output of ONNX Runtime's QLinearAdd, QLinearMul, QLinearGlobalAveragePool,
// QLinearSoftmax (com.microsoft), QLinearConv (3x3 and depthwise), QLinearMatMul, a uint8 Resize, and the
// QDQ groups ONNX Runtime computes in float32 (DequantizeLinear -> QuantizeLinear, Concat and Resize between
// them), with scales chosen to make exact .5 ties common. The reference operators and the fast kernels of
// every ISA this CPU runs must reproduce every byte; the fixed-point mode must not (so a mode that is
// silently ignored shows up here).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/conv/depthwise_conv2d.h"
#include "kernels/conv/gemm_conv2d.h"
#include "kernels/elementwise/quantized_binary.h"
#include "kernels/isa.h"
#include "kernels/pooling/average_pool.h"
#include "kernels/quantization/element_type.h"
#include "kernels/reduce/u8_softmax.h"
#include "kernels/reference/concat.h"
#include "kernels/reference/conv2d.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/fully_connected.h"
#include "kernels/reference/integer_matmul.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/requantize.h"
#include "kernels/reference/resize.h"
#include "kernels/reference/softmax.h"
#include "kernels/resize/resize.h"
#include "test_util.h"

namespace octet {
namespace {

namespace fs = std::filesystem;

// ---- Reader -----------------------------------------------------------------------------------------------

struct FileTensor {
  std::string name, dtype;
  Shape shape;
  QuantParams quant;  // empty for the bias
  std::vector<std::byte> bytes;
};

struct OrtCase {
  std::string file, name, op, domain, ort_version;
  std::map<std::string, std::vector<int64_t>> attrs;
  std::vector<FileTensor> tensors;  // the last one is ONNX Runtime's output

  const FileTensor& tensor(std::string_view n) const {
    for (const FileTensor& t : tensors)
      if (t.name == n) return t;
    throw std::runtime_error(file + ": no tensor " + std::string(n));
  }
  const FileTensor& output() const { return tensors.back(); }
  const std::vector<int64_t>& attr(const std::string& n, size_t count) const {
    const auto it = attrs.find(n);
    if (it == attrs.end() || it->second.size() != count)
      throw std::runtime_error(file + ": attribute " + n + " missing or of the wrong length");
    return it->second;
  }
};

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;)
    words.push_back(w);
  return words;
}

// from_chars: exact for the %.9g float32 scales, and independent of the locale.
template <class T>
T number(const std::string& word, const std::string& where) {
  T value{};
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size())
    throw std::runtime_error(where + ": cannot parse '" + word + "'");
  return value;
}

template <class T>
std::vector<T> numbers(const std::vector<std::string>& words, size_t first, const std::string& where) {
  std::vector<T> out;
  for (size_t i = first; i < words.size(); ++i)
    out.push_back(number<T>(words[i], where));
  return out;
}

size_t element_size(const std::string& dtype, const std::string& where) {
  if (dtype == "uint8" || dtype == "int8") return 1;
  if (dtype == "int32") return 4;
  throw std::runtime_error(where + ": unknown dtype " + dtype);
}

OrtCase read_case(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  OrtCase c;
  c.file = path.filename().string();
  const size_t end = content.find("\nend\n");
  if (content.rfind("octet-ort-vectors 1\n", 0) != 0 || end == std::string::npos)
    throw std::runtime_error(c.file + ": not an octet-ort-vectors 1 file");
  std::vector<size_t> sizes;
  std::istringstream header(content.substr(0, end));
  std::string line;
  std::getline(header, line);  // the format line
  for (int number_of_line = 2; std::getline(header, line); ++number_of_line) {
    const std::string where = c.file + ":" + std::to_string(number_of_line);
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error(where + ": expected 'key: values'");
    const std::string key = line.substr(0, colon);
    const std::vector<std::string> w = words_of(line.substr(colon + 1));
    if (w.empty()) throw std::runtime_error(where + ": no value");
    if (key == "case") {
      c.name = w[0];
    } else if (key == "op") {
      c.op = w[0];
    } else if (key == "domain") {
      c.domain = w[0];
    } else if (key == "onnxruntime") {
      c.ort_version = w[0];
    } else if (key == "attr") {
      c.attrs[w[0]] = numbers<int64_t>(w, 1, where);
    } else if (key == "tensor") {
      if (w.size() != 3) throw std::runtime_error(where + ": expected 'tensor: name dtype bytes'");
      c.tensors.push_back({w[0], w[1], {}, {}, {}});
      sizes.push_back(number<size_t>(w[2], where));
    } else if (c.tensors.empty()) {
      throw std::runtime_error(where + ": '" + key + "' before any tensor");
    } else if (key == "shape") {
      c.tensors.back().shape = numbers<int64_t>(w, 0, where);
    } else if (key == "scale") {
      c.tensors.back().quant.scales = numbers<float>(w, 0, where);
    } else if (key == "zero_point") {
      c.tensors.back().quant.zero_points = numbers<int32_t>(w, 0, where);
    } else if (key == "axis") {
      c.tensors.back().quant.axis = number<int>(w[0], where);
    } else {
      throw std::runtime_error(where + ": unknown key " + key);
    }
  }
  size_t offset = end + 5;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    FileTensor& t = c.tensors[i];
    const size_t expected =
        static_cast<size_t>(element_count(t.shape, t.name)) * element_size(t.dtype, c.file);
    if (sizes[i] != expected || offset + expected > content.size())
      throw std::runtime_error(c.file + ": tensor " + t.name + " has the wrong size");
    t.bytes.resize(expected);
    std::memcpy(t.bytes.data(), content.data() + offset, expected);
    offset += expected;
  }
  if (offset != content.size()) throw std::runtime_error(c.file + ": trailing bytes");
  if (c.tensors.empty() || c.output().dtype != "uint8")
    throw std::runtime_error(c.file + ": no uint8 output");
  return c;
}

const std::vector<OrtCase>& all_cases() {
  static const std::vector<OrtCase> cases = [] {
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(fs::path(OCTET_TEST_DATA_DIR) / "ort_requant"))
      if (entry.path().extension() == ".ortv") paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    std::vector<OrtCase> out;
    for (const fs::path& p : paths)
      out.push_back(read_case(p));
    return out;
  }();
  return cases;
}

// ---- Layouts ----------------------------------------------------------------------------------------------

template <class T>
Tensor<T> to_tensor(const FileTensor& t) {
  if (t.dtype != name_of(element_type_of<T>()))
    throw std::runtime_error("tensor " + t.name + " is " + t.dtype + ", expected " +
                             std::string(name_of(element_type_of<T>())));
  std::vector<T> data(t.bytes.size() / sizeof(T));
  std::memcpy(data.data(), t.bytes.data(), t.bytes.size());  // little-endian, as the hosts octet runs on
  return Tensor<T>(t.shape, std::move(data), t.quant);
}

// [A, B, C, D] -> [A, C, D, B]: NCHW to NHWC, and ONNX conv weights [C_out, C_in/g, KH, KW] to octet's
// [C_out, KH, KW, C_in/g]. Per-axis params along axis 0 stay where they are.
template <class T>
Tensor<T> channels_last(const Tensor<T>& t) {
  if (t.shape.size() != 4) throw std::runtime_error("channels_last needs rank 4");
  const int64_t n = t.shape[0], c = t.shape[1], h = t.shape[2], w = t.shape[3];
  Tensor<T> out({n, h, w, c}, t.quant);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t ih = 0; ih < h; ++ih)
        for (int64_t iw = 0; iw < w; ++iw)
          out.data[static_cast<size_t>(((in * h + ih) * w + iw) * c + ic)] =
              t.data[static_cast<size_t>(((in * c + ic) * h + ih) * w + iw)];
  if (t.quant.axis == 1) out.quant.axis = 3;
  return out;
}

// ---- The operators, in octet's layout ---------------------------------------------------------------------

enum class Family {
  add,
  mul,
  global_average_pool,
  conv,
  depthwise,
  matmul,
  softmax,
  requantize,
  concat,
  resize_bytes,
  resize_real,
  activation_matmul
};

const char* family_name(Family f) {
  switch (f) {
    case Family::add:
      return "QLinearAdd";
    case Family::mul:
      return "QLinearMul";
    case Family::global_average_pool:
      return "QLinearGlobalAveragePool";
    case Family::conv:
      return "QLinearConv";
    case Family::depthwise:
      return "QLinearConv (depthwise)";
    case Family::matmul:
      return "QLinearMatMul";
    case Family::softmax:
      return "QLinearSoftmax";
    case Family::requantize:
      return "DequantizeLinear -> QuantizeLinear";
    case Family::concat:
      return "QDQ Concat";
    case Family::resize_bytes:
      return "uint8 Resize";
    case Family::resize_real:
      return "QDQ Resize";
    case Family::activation_matmul:
      return "QDQ MatMul of activations";
  }
  return "?";
}

Family family_of(const OrtCase& c) {
  if (c.op == "QLinearAdd") return Family::add;
  if (c.op == "QLinearMul") return Family::mul;
  if (c.op == "QLinearGlobalAveragePool") return Family::global_average_pool;
  if (c.op == "QLinearMatMul") return Family::matmul;
  if (c.op == "QLinearSoftmax") return Family::softmax;
  if (c.op == "QDQRequantize") return Family::requantize;
  if (c.op == "QDQConcat") return Family::concat;
  if (c.op == "Resize") return Family::resize_bytes;
  if (c.op == "QDQResize") return Family::resize_real;
  if (c.op == "QDQMatMul") return Family::activation_matmul;
  if (c.op == "QLinearConv") {
    const int64_t group = c.attr("group", 1)[0];
    if (group == 1) return Family::conv;
    if (group == c.tensor("X").shape.at(1) && c.tensor("W").shape.at(1) == 1) return Family::depthwise;
  }
  throw std::runtime_error(c.file + ": unsupported op " + c.op);
}

// One way of running a case: the operands converted to octet's layout, and the expected bytes in the
// layout of the output it produces.
struct Binary {
  elementwise::BinaryOp op;
  TensorU8 a, b, expected;
};

struct Conv {
  TensorU8 input, expected;  // NHWC
  TensorS8 weights;          // [C_out, KH, KW, C_in/g]
  TensorS32 bias;
  ref::Conv2dParams params;
};

// The binary op in ONNX's layout and, for rank-4 operands, also in NHWC (what an imported model runs).
std::vector<Binary> binary_layouts(const OrtCase& c) {
  const auto op = c.op == "QLinearAdd" ? elementwise::BinaryOp::add : elementwise::BinaryOp::mul;
  Binary onnx{op, to_tensor<uint8_t>(c.tensor("A")), to_tensor<uint8_t>(c.tensor("B")),
              to_tensor<uint8_t>(c.output())};
  std::vector<Binary> out{onnx};
  if (onnx.a.shape.size() == 4 && onnx.b.shape.size() == 4)
    out.push_back({op, channels_last(onnx.a), channels_last(onnx.b), channels_last(onnx.expected)});
  return out;
}

Conv conv_of(const OrtCase& c) {
  Conv k{channels_last(to_tensor<uint8_t>(c.tensor("X"))),
         channels_last(to_tensor<uint8_t>(c.output())),
         channels_last(to_tensor<int8_t>(c.tensor("W"))),
         to_tensor<int32_t>(c.tensor("B")),
         {}};
  const std::vector<int64_t>& strides = c.attr("strides", 2);
  const std::vector<int64_t>& pads = c.attr("pads", 4);  // ONNX: top, left, bottom, right
  const std::vector<int64_t>& dilations = c.attr("dilations", 2);
  const std::vector<int64_t>& kernel = c.attr("kernel_shape", 2);
  if (kernel[0] != k.weights.dim(1) || kernel[1] != k.weights.dim(2))
    throw std::runtime_error(c.file + ": kernel_shape does not match W");
  k.params.stride_h = strides[0], k.params.stride_w = strides[1];
  k.params.dilation_h = dilations[0], k.params.dilation_w = dilations[1];
  k.params.pad = {pads[0], pads[1], pads[2], pads[3]};
  k.params.groups = c.attr("group", 1)[0];
  return k;
}

// QLinearMatMul as octet's fully connected layer: b [K, N] becomes weights [N, K].
struct MatMul {
  TensorU8 input, expected;
  TensorS8 weights;
};

MatMul matmul_of(const OrtCase& c) {
  const TensorS8 b = to_tensor<int8_t>(c.tensor("B"));
  const int64_t k = b.dim(0), n = b.dim(1);
  TensorS8 w({n, k}, b.quant);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      w.data[static_cast<size_t>(j * k + i)] = b.data[static_cast<size_t>(i * n + j)];
  return {to_tensor<uint8_t>(c.tensor("A")), to_tensor<uint8_t>(c.output()), std::move(w)};
}

// QLinearSoftmax (opset 13) over the last axis, the only one octet's softmax takes.
struct Softmax {
  TensorU8 input, expected;
};

Softmax softmax_of(const OrtCase& c) {
  Softmax s{to_tensor<uint8_t>(c.tensor("X")), to_tensor<uint8_t>(c.output())};
  const int64_t axis = c.attr("axis", 1)[0], rank = static_cast<int64_t>(s.input.shape.size());
  if (c.attr("opset", 1)[0] != 13 || (axis != -1 && axis != rank - 1))
    throw std::runtime_error(c.file + ": softmax over another axis than the last");
  return s;
}

// Resize in NHWC: the input, ONNX Runtime's output, the params, and the arithmetic `mode` asks for.
struct ResizeCase {
  TensorU8 input, expected;
  ref::ResizeParams params;
  ref::ResizeArithmetic arithmetic = ref::ResizeArithmetic::fixed_point;
};

ResizeCase resize_of(const OrtCase& c, RequantMode mode) {
  ResizeCase r{
      channels_last(to_tensor<uint8_t>(c.tensor("X"))), channels_last(to_tensor<uint8_t>(c.output())), {}};
  const bool qdq = c.attr("qdq", 1)[0] != 0;
  if (qdq != (family_of(c) == Family::resize_real))
    throw std::runtime_error(c.file + ": qdq does not match op");
  r.params.mode = c.attr("linear", 1)[0] != 0 ? ref::ResizeMode::linear : ref::ResizeMode::nearest;
  r.params.coordinate_mode = static_cast<ref::CoordinateMode>(c.attr("coordinate_mode", 1)[0]);
  r.params.nearest_rounding = static_cast<ref::NearestRounding>(c.attr("nearest_mode", 1)[0]);
  r.params.out_h = r.expected.dim(1);
  r.params.out_w = r.expected.dim(2);
  r.arithmetic = ref::resize_arithmetic(mode, qdq);
  return r;
}

// A run's result next to ONNX Runtime's.
struct Outcome {
  std::string what;  // which layout / path
  std::vector<uint8_t> got, want;
};

// The reference operators on every layout of the case.
std::vector<Outcome> run_reference(const OrtCase& c, RequantMode mode) {
  std::vector<Outcome> out;
  switch (family_of(c)) {
    case Family::add:
    case Family::mul:
      for (const Binary& b : binary_layouts(c)) {
        const TensorU8 got = b.op == elementwise::BinaryOp::add
                                 ? ref::add(b.a, b.b, b.expected.quant, {}, mode)
                                 : ref::mul(b.a, b.b, b.expected.quant, {}, mode);
        EXPECT_EQ(got.shape, b.expected.shape);
        out.push_back(
            {"reference " + to_string(b.a.shape) + " x " + to_string(b.b.shape), got.data, b.expected.data});
      }
      break;
    case Family::global_average_pool: {
      const TensorU8 x = channels_last(to_tensor<uint8_t>(c.tensor("X")));
      const TensorU8 want = channels_last(to_tensor<uint8_t>(c.output()));
      const TensorU8 got = ref::global_average_pool(x, want.quant, {}, mode);
      EXPECT_EQ(got.shape, want.shape);
      out.push_back({"reference", got.data, want.data});
      break;
    }
    case Family::conv:
    case Family::depthwise: {
      const Conv k = conv_of(c);
      const TensorU8 got = ref::conv2d(k.input, k.weights, &k.bias, k.params, k.expected.quant, {}, mode);
      EXPECT_EQ(got.shape, k.expected.shape);
      out.push_back({"reference", got.data, k.expected.data});
      break;
    }
    case Family::matmul: {
      const MatMul m = matmul_of(c);
      const TensorU8 got = ref::fully_connected(m.input, m.weights, nullptr, m.expected.quant, {}, mode);
      EXPECT_EQ(got.shape, m.expected.shape);
      out.push_back({"reference", got.data, m.expected.data});
      break;
    }
    case Family::softmax: {
      const Softmax s = softmax_of(c);
      const TensorU8 got = ref::softmax_u8(s.input, s.expected.quant, mode);
      EXPECT_EQ(got.shape, s.expected.shape);
      out.push_back({"reference", got.data, s.expected.data});
      break;
    }
    case Family::requantize: {
      const TensorU8 want = to_tensor<uint8_t>(c.output());
      const TensorU8 got = ref::requantize_tensor(to_tensor<uint8_t>(c.tensor("X")), want.quant, {}, mode);
      out.push_back({"reference", got.data, want.data});
      break;
    }
    case Family::concat: {
      // In ONNX's layout along its axis, and in NHWC along the channels (what an imported model runs).
      const std::vector<TensorU8> onnx = {to_tensor<uint8_t>(c.tensor("X0")),
                                          to_tensor<uint8_t>(c.tensor("X1")),
                                          to_tensor<uint8_t>(c.tensor("X2"))};
      const TensorU8 want = to_tensor<uint8_t>(c.output());
      const TensorU8 got =
          ref::concat({&onnx[0], &onnx[1], &onnx[2]}, c.attr("axis", 1)[0], want.quant, mode);
      EXPECT_EQ(got.shape, want.shape);
      out.push_back({"reference", got.data, want.data});
      if (c.attr("axis", 1)[0] == 1) {
        const std::vector<TensorU8> nhwc = {channels_last(onnx[0]), channels_last(onnx[1]),
                                            channels_last(onnx[2])};
        const TensorU8 got_nhwc = ref::concat({&nhwc[0], &nhwc[1], &nhwc[2]}, 3, want.quant, mode);
        out.push_back({"reference NHWC", got_nhwc.data, channels_last(want).data});
      }
      break;
    }
    case Family::activation_matmul: {
      const TensorU8 want = to_tensor<uint8_t>(c.output());
      const TensorU8 got = ref::matmul_u8(to_tensor<uint8_t>(c.tensor("A")),
                                          to_tensor<uint8_t>(c.tensor("B")), want.quant, {}, mode);
      EXPECT_EQ(got.shape, want.shape);
      out.push_back({"reference", got.data, want.data});
      break;
    }
    case Family::resize_bytes:
    case Family::resize_real: {
      const ResizeCase r = resize_of(c, mode);
      // The byte-moving arithmetics keep the input's params; ONNX Runtime's Y carries them too.
      const TensorU8 got = ref::resize(
          r.input, r.params, r.arithmetic,
          r.arithmetic == ref::ResizeArithmetic::onnxruntime_real ? r.expected.quant : r.input.quant);
      EXPECT_EQ(got.shape, r.expected.shape);
      out.push_back({"reference", got.data, r.expected.data});
      break;
    }
  }
  return out;
}

// The fast kernels for `isa` (none where the family has no kernel for it: depthwise and softmax under scalar,
// where the runtime runs the references).
std::vector<Outcome> run_fast(const OrtCase& c, Isa isa, RequantMode mode) {
  std::vector<Outcome> out;
  switch (family_of(c)) {
    case Family::add:
    case Family::mul:
      for (const Binary& b : binary_layouts(c)) {
        const elementwise::QuantizedBinary kernel(b.op, b.a.quant, b.b.quant, b.expected.quant, Clamp{},
                                                  b.a.shape, b.b.shape, b.expected.shape, isa, mode);
        std::vector<uint8_t> got(b.expected.data.size());
        kernel.run(b.a.data.data(), b.b.data.data(), got.data());
        out.push_back(
            {"QuantizedBinary " + to_string(b.a.shape) + " x " + to_string(b.b.shape), got, b.expected.data});
      }
      break;
    case Family::global_average_pool: {
      const TensorU8 x = channels_last(to_tensor<uint8_t>(c.tensor("X")));
      const TensorU8 want = channels_last(to_tensor<uint8_t>(c.output()));
      const pooling::AveragePool pool =
          pooling::prepare_global_average_pool(x.dim(1), x.dim(2), x.quant, want.quant, Clamp{}, mode);
      std::vector<uint8_t> got(want.data.size());
      pooling::run(isa, pool, x.data.data(), x.dim(0), x.dim(1), x.dim(2), x.dim(3), got.data());
      out.push_back({"pooling::run", got, want.data});
      break;
    }
    case Family::conv: {
      const Conv k = conv_of(c);
      const conv::GemmConv2d prepared = conv::prepare_gemm_conv2d(
          isa, k.weights, &k.bias, k.params, k.input.quant, k.expected.quant, Clamp{}, mode);
      std::vector<uint8_t> got(k.expected.data.size());
      conv::run(prepared, k.input.data.data(), k.input.dim(0), k.input.dim(1), k.input.dim(2), got.data());
      out.push_back({"GemmConv2d", got, k.expected.data});
      break;
    }
    case Family::depthwise: {
      if (isa == Isa::scalar) break;
      const Conv k = conv_of(c);
      const conv::DepthwiseConv2d prepared = conv::prepare_depthwise_conv2d(
          isa, k.weights, &k.bias, k.params, k.input.quant, k.expected.quant, Clamp{}, mode);
      std::vector<uint8_t> got(k.expected.data.size());
      conv::run(prepared, k.input.data.data(), k.input.dim(0), k.input.dim(1), k.input.dim(2), got.data());
      out.push_back({"DepthwiseConv2d", got, k.expected.data});
      break;
    }
    case Family::matmul: {
      // As the runtime runs a fully connected layer: a 1x1 convolution over a 1 x M image.
      const MatMul m = matmul_of(c);
      TensorS8 as_conv = m.weights;
      as_conv.shape = {m.weights.dim(0), 1, 1, m.weights.dim(1)};
      const conv::GemmConv2d prepared = conv::prepare_gemm_conv2d(
          isa, as_conv, nullptr, ref::Conv2dParams{}, m.input.quant, m.expected.quant, Clamp{}, mode);
      std::vector<uint8_t> got(m.expected.data.size());
      conv::run(prepared, m.input.data.data(), 1, 1, m.input.dim(0), got.data());
      out.push_back({"GemmConv2d (fully connected)", got, m.expected.data});
      break;
    }
    case Family::resize_bytes:
    case Family::resize_real: {
      const ResizeCase r = resize_of(c, mode);
      const QuantParams output =
          r.arithmetic == ref::ResizeArithmetic::onnxruntime_real ? r.expected.quant : r.input.quant;
      const resize::Resize prepared = resize::prepare_resize(r.params, r.input.dim(1), r.input.dim(2),
                                                             r.arithmetic, r.input.quant, output);
      std::vector<uint8_t> got(r.expected.data.size());
      resize::run(prepared, r.input.data.data(), r.input.dim(0), r.input.dim(3), got.data());
      out.push_back({"resize::run", got, r.expected.data});
      break;
    }
    case Family::softmax: {
      if (isa == Isa::scalar) break;  // the runtime runs the reference there
      const Softmax sm = softmax_of(c);
      const int64_t width = sm.input.shape.back();
      const reduce::U8Softmax prepared =
          reduce::prepare_u8_softmax(sm.input.quant, width, sm.expected.quant, mode);
      std::vector<uint8_t> got(sm.expected.data.size());
      reduce::run(isa, prepared, sm.input.data.data(), static_cast<int64_t>(got.size()) / width, got.data());
      out.push_back({"U8Softmax", got, sm.expected.data});
      break;
    }
    case Family::activation_matmul:  // the runtime's GEMM per batch: tests/graph/model_tests.cpp,
                                     // qdq_attention
    case Family::requantize:         // the runtime maps bytes through a table of the reference's results
    case Family::concat:             // likewise, input by input
      break;
  }
  return out;
}

int64_t differences(const Outcome& o) {
  if (o.got.size() != o.want.size()) return static_cast<int64_t>(std::max(o.got.size(), o.want.size()));
  int64_t n = 0;
  for (size_t i = 0; i < o.got.size(); ++i)
    n += o.got[i] != o.want[i];
  return n;
}

// Asserts that every byte matches, naming the first differences.
void expect_identical(const OrtCase& c, const Outcome& o) {
  ASSERT_EQ(o.got.size(), o.want.size()) << c.file << " " << o.what;
  const int64_t n = differences(o);
  if (n == 0) return;
  std::ostringstream first;
  int shown = 0;
  for (size_t i = 0; i < o.got.size() && shown < 8; ++i)
    if (o.got[i] != o.want[i]) {
      first << " [" << i << "] octet " << int{o.got[i]} << " onnxruntime " << int{o.want[i]} << ";";
      ++shown;
    }
  ADD_FAILURE() << c.file << " (" << c.op << ", onnxruntime " << c.ort_version << ") " << o.what << ": " << n
                << " of " << o.got.size() << " bytes differ:" << first.str();
}

// ref::add's float arithmetic with the operand folded first given explicitly rather than chosen from the
// shapes (ref::float_add_a_first); ONNX broadcasting by index.
std::vector<uint8_t> float_add_in_order(const TensorU8& a, const TensorU8& b, const QuantParams& out,
                                        bool a_first) {
  const Shape shape = ref::broadcast_shapes("add", a.shape, b.shape);
  const size_t rank = shape.size();
  const auto strides_of = [&](const Shape& s) {
    std::vector<int64_t> strides(rank, 0);
    int64_t stride = 1;
    for (size_t i = 0; i < s.size(); ++i) {
      const int64_t dim = s[s.size() - 1 - i];
      strides[rank - 1 - i] = dim == 1 ? 0 : stride;
      stride *= dim;
    }
    return strides;
  };
  const std::vector<int64_t> sa = strides_of(a.shape), sb = strides_of(b.shape);
  const ref::FloatAddConstants k = ref::float_add_constants(a.quant, b.quant, out, a_first);
  std::vector<uint8_t> result(static_cast<size_t>(element_count(shape, "add")));
  for (size_t i = 0; i < result.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i), ia = 0, ib = 0;
    for (size_t d = rank; d-- > 0;) {
      const int64_t x = rest % shape[d];
      rest /= shape[d];
      ia += x * sa[d], ib += x * sb[d];
    }
    result[i] = static_cast<uint8_t>(
        ref::float_add_value(k, a.data[static_cast<size_t>(ia)], b.data[static_cast<size_t>(ib)]));
  }
  return result;
}

// ONNX Runtime's QLinearSoftmax (ref::softmax_u8 in float_scale mode) with one step done another way: the
// near misses of softmax_float_variants in data/make_ort_requant_vectors.py, each a shortcut that a faster
// kernel might take.
enum class SoftmaxMiss { sum_double, sum_reverse, sum_8_lanes, reciprocal, div_double, log_double, no_shift };

const char* miss_name(SoftmaxMiss m) {
  switch (m) {
    case SoftmaxMiss::sum_double:
      return "row sum in double";
    case SoftmaxMiss::sum_reverse:
      return "row sum in reverse order";
    case SoftmaxMiss::sum_8_lanes:
      return "row sum in 8 lanes";
    case SoftmaxMiss::reciprocal:
      return "t * (floor(1 / s_y) / sum)";
    case SoftmaxMiss::div_double:
      return "t * floor(1 / s_y) / sum in double";
    case SoftmaxMiss::log_double:
      return "log(FLT_MAX / D) in double";
    case SoftmaxMiss::no_shift:
      return "exp table without the headroom shift";
  }
  return "?";
}

std::vector<uint8_t> softmax_near_miss(const TensorU8& x, const QuantParams& out, SoftmaxMiss miss) {
  const int64_t width = x.shape.back();
  const float headroom = std::numeric_limits<float>::max() / static_cast<float>(width);
  const double log_double = std::log(static_cast<double>(headroom));
  const double log_headroom = miss == SoftmaxMiss::log_double ? log_double : static_cast<float>(log_double);
  const double s_x = x.quant.scale();
  const double shift = miss == SoftmaxMiss::no_shift ? 0.0 : std::max(0.0, log_headroom - 5.0) / s_x;
  std::array<float, 256> table{};
  for (size_t i = 0; i < table.size(); ++i)
    table[i] = static_cast<float>(std::exp((static_cast<double>(i) - 255.0 + shift) * s_x));
  const float y_scale = std::floor(1.0f / out.scale());
  std::vector<uint8_t> result(x.data.size());
  for (int64_t row = 0; row < static_cast<int64_t>(x.data.size()); row += width) {
    const uint8_t* q = x.data.data() + row;
    const float* t = table.data() + 255 - *std::max_element(q, q + width);
    float sum = 0.0f;
    if (miss == SoftmaxMiss::sum_double) {
      double d = 0.0;
      for (int64_t i = 0; i < width; ++i)
        d += t[q[i]];
      sum = static_cast<float>(d);
    } else if (miss == SoftmaxMiss::sum_reverse) {
      for (int64_t i = width; i-- > 0;)
        sum += t[q[i]];
    } else if (miss == SoftmaxMiss::sum_8_lanes) {
      std::array<float, 8> lanes{};
      for (int64_t i = 0; i < width; ++i)
        lanes[static_cast<size_t>(i % 8)] += t[q[i]];
      for (const float lane : lanes)
        sum += lane;
    } else {
      for (int64_t i = 0; i < width; ++i)
        sum += t[q[i]];
    }
    for (int64_t i = 0; i < width; ++i) {
      const float v = t[q[i]];
      const double p = miss == SoftmaxMiss::reciprocal   ? v * (y_scale / sum)
                       : miss == SoftmaxMiss::div_double ? static_cast<double>(v) * y_scale / sum
                                                         : v * y_scale / sum;
      // A quotient past int32 gives the zero point, as in ONNX Runtime (ref::kOnnxRuntimeSoftmaxLimit).
      const int64_t rounded = p < ref::kOnnxRuntimeSoftmaxLimit ? static_cast<int64_t>(std::nearbyint(p)) : 0;
      result[static_cast<size_t>(row + i)] =
          static_cast<uint8_t>(std::clamp<int64_t>(rounded + out.zero_point(), 0, 255));
    }
  }
  return result;
}

// ---- Tests ------------------------------------------------------------------------------------------------

TEST(OrtFloatRequant, FixturesCoverEveryOperator) {
  std::map<Family, int> count;
  for (const OrtCase& c : all_cases())
    ++count[family_of(c)];
  for (Family f : {Family::add, Family::mul, Family::global_average_pool, Family::conv, Family::depthwise,
                   Family::matmul, Family::softmax, Family::requantize, Family::concat, Family::resize_bytes,
                   Family::resize_real, Family::activation_matmul})
    EXPECT_GE(count[f], 3) << family_name(f);
}

TEST(OrtFloatRequant, ReferenceOperatorsReproduceOnnxRuntime) {
  for (const OrtCase& c : all_cases()) {
    SCOPED_TRACE(c.file);
    for (const Outcome& o : run_reference(c, RequantMode::float_scale))
      expect_identical(c, o);
  }
}

// The fixtures would not notice a kernel that ignores the mode unless the fixed-point mode gives other bytes:
// it must, for every operator (the tie-heavy cases see to that).
TEST(OrtFloatRequant, FixedPointModeDiffersFromOnnxRuntime) {
  std::map<Family, int64_t> differing;
  for (const OrtCase& c : all_cases())
    for (const Outcome& o : run_reference(c, RequantMode::fixed_point))
      differing[family_of(c)] += differences(o);
  for (const auto& [family, n] : differing) {
    EXPECT_GT(n, 0) << family_name(family);
    std::cout << family_name(family) << ": fixed_point differs from ONNX Runtime on " << n << " bytes\n";
  }
}

// ONNX Runtime folds the operand that repeats along the innermost run first (octet decides it from the
// element counts, ref::float_add_a_first, which agrees on these broadcasts): every kind of add fixture must
// hold bytes that the other order gets wrong, or the choice would go unchecked.
TEST(OrtFloatRequant, AddFixturesPinTheOperandOrder) {
  std::map<std::string, int64_t> wrong_order;  // by fixture kind: add_same, add_scalar_a, ...
  for (const OrtCase& c : all_cases()) {
    if (family_of(c) != Family::add) continue;
    SCOPED_TRACE(c.file);
    const Binary b = binary_layouts(c).front();
    const bool a_first = ref::float_add_a_first(b.a.shape, b.b.shape);
    EXPECT_EQ(differences({"", float_add_in_order(b.a, b.b, b.expected.quant, a_first), b.expected.data}), 0);
    wrong_order[c.name.substr(0, c.name.rfind('_'))] +=
        differences({"", float_add_in_order(b.a, b.b, b.expected.quant, !a_first), b.expected.data});
  }
  EXPECT_EQ(wrong_order.size(), 5u);
  for (const auto& [kind, n] : wrong_order)
    EXPECT_GT(n, 0) << kind << ": no byte depends on the operand order";
}

// The softmax fixtures cover row lengths 2 to 1000 (the exp table's shift depends on the length), the two
// usual output scales, float32(1/255) (floor(1 / s) = 254) and 1/256, with zero point 0, and a nonzero output
// zero point.
TEST(OrtFloatRequant, SoftmaxFixturesCoverLengthsAndOutputScales) {
  std::map<int64_t, int> lengths;
  int y_1_255 = 0, y_1_256 = 0, nonzero_zero_point = 0;
  for (const OrtCase& c : all_cases()) {
    if (family_of(c) != Family::softmax) continue;
    const Softmax s = softmax_of(c);
    ++lengths[s.input.shape.back()];
    const float y_scale = s.expected.quant.scale();
    const int32_t zp = s.expected.quant.zero_point();
    y_1_255 += y_scale == 1.0f / 255.0f && zp == 0;
    y_1_256 += y_scale == 1.0f / 256.0f && zp == 0;
    nonzero_zero_point += zp != 0;
  }
  for (int64_t length : {2, 10, 100, 1000})
    EXPECT_GT(lengths[length], 0) << "no softmax fixture with rows of " << length;
  EXPECT_GT(y_1_255, 0);
  EXPECT_GT(y_1_256, 0);
  EXPECT_GT(nonzero_zero_point, 0);
}

// Each near miss of ONNX Runtime's softmax arithmetic (softmax_near_miss) must get some fixture byte wrong
// (softmax_10_telling holds rows searched for that), or a kernel that took the shortcut would pass.
TEST(OrtFloatRequant, SoftmaxFixturesPinTheArithmetic) {
  std::map<SoftmaxMiss, int64_t> wrong;
  for (const OrtCase& c : all_cases()) {
    if (family_of(c) != Family::softmax) continue;
    const Softmax s = softmax_of(c);
    for (SoftmaxMiss m :
         {SoftmaxMiss::sum_double, SoftmaxMiss::sum_reverse, SoftmaxMiss::sum_8_lanes,
          SoftmaxMiss::reciprocal, SoftmaxMiss::div_double, SoftmaxMiss::log_double, SoftmaxMiss::no_shift})
      wrong[m] += differences({"", softmax_near_miss(s.input, s.expected.quant, m), s.expected.data});
  }
  ASSERT_EQ(wrong.size(), 7u);
  for (const auto& [miss, n] : wrong)
    EXPECT_GT(n, 0) << miss_name(miss) << ": no fixture byte tells it from ONNX Runtime's arithmetic";
}

class OrtFloatRequantFast : public ::testing::TestWithParam<Isa> {};

TEST_P(OrtFloatRequantFast, KernelsReproduceOnnxRuntime) {
  int64_t checked = 0;
  for (const OrtCase& c : all_cases()) {
    SCOPED_TRACE(c.file);
    for (const Outcome& o : run_fast(c, GetParam(), RequantMode::float_scale)) {
      expect_identical(c, o);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Isas, OrtFloatRequantFast, ::testing::ValuesIn(supported_isas()),
                         [](const ::testing::TestParamInfo<Isa>& info) {
                           return std::string(name_of(info.param));
                         });

}  // namespace
}  // namespace octet
