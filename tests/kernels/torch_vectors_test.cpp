// octet's scalar reference operators against vectors from PyTorch's quantized operators
// (scripts/make_torch_vectors.py writes them; its header documents the file format). PyTorch is an
// independent implementation, so these catch a shared misreading of layouts, padding, groups or parameter
// conventions that octet's own float64 models would repeat.

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/element_type.h"
#include "kernels/reference/concat.h"
#include "kernels/reference/conv2d.h"
#include "kernels/reference/conv_transpose2d.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/fully_connected.h"
#include "kernels/reference/pooling.h"
#include "kernels/tensor.h"

namespace octet {
namespace {

// ---- Reader ---------------------------------------------------------------------------------------------

struct FileTensor {
  std::string name;
  Shape shape;
  std::string dtype;
  QuantParams quant;
  std::vector<int64_t> values;
};

struct VectorFile {
  std::string path;
  std::string op, engine, kernel, torch_version;
  std::map<std::string, std::vector<int64_t>> attrs;
  std::vector<FileTensor> tensors;

  const FileTensor& tensor(std::string_view name) const {
    for (const FileTensor& t : tensors)
      if (t.name == name) return t;
    throw std::runtime_error(path + ": no tensor '" + std::string(name) + "'");
  }
  bool has_tensor(std::string_view name) const {
    return std::any_of(tensors.begin(), tensors.end(), [&](const FileTensor& t) { return t.name == name; });
  }
  // Attribute `name`, which must hold exactly `count` integers.
  std::vector<int64_t> attr(const std::string& name, size_t count) const {
    const auto it = attrs.find(name);
    if (it == attrs.end()) throw std::runtime_error(path + ": no attribute '" + name + "'");
    if (it->second.size() != count)
      throw std::runtime_error(path + ": attribute '" + name + "' has " + std::to_string(it->second.size()) +
                               " values, expected " + std::to_string(count));
    return it->second;
  }
  int64_t attr1(const std::string& name) const { return attr(name, 1)[0]; }
};

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;)
    words.push_back(w);
  return words;
}

// from_chars rather than streams: exact (the scales are written as round-tripping float32 decimals, and
// from_chars rounds correctly) and independent of the locale.
template <class T>
T parse_number(const std::string& word, const std::string& where) {
  T value{};
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size())
    throw std::runtime_error(where + ": cannot parse '" + word + "'");
  return value;
}

template <class T>
std::vector<T> parse_numbers(const std::vector<std::string>& words, const std::string& where) {
  std::vector<T> out;
  out.reserve(words.size());
  for (const std::string& w : words)
    out.push_back(parse_number<T>(w, where));
  return out;
}

VectorFile read_vector_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  VectorFile f;
  f.path = path.filename().string();
  bool saw_format = false;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = f.path + ":" + std::to_string(number);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error(where + ": expected 'key: values'");
    const std::vector<std::string> key_words = split(line.substr(0, colon));
    if (key_words.size() != 1) throw std::runtime_error(where + ": expected one word before ':'");
    const std::string& key = key_words[0];
    const std::vector<std::string> words = split(line.substr(colon + 1));
    // Free-text values keep their inner spaces.
    const auto text = [&] {
      std::string joined;
      for (const std::string& w : words)
        joined += (joined.empty() ? "" : " ") + w;
      return joined;
    };
    if (!saw_format) {
      if (key != "format" || words != std::vector<std::string>{"octet-torch-vectors", "1"})
        throw std::runtime_error(where + ": expected 'format: octet-torch-vectors 1' first");
      saw_format = true;
      continue;
    }
    if (key == "op") {
      f.op = words.at(0);
    } else if (key == "engine") {
      f.engine = words.at(0);
    } else if (key == "kernel") {
      f.kernel = text();
    } else if (key == "torch") {
      f.torch_version = text();
    } else if (key == "attr") {
      if (words.empty()) throw std::runtime_error(where + ": attr without a name");
      f.attrs[words[0]] = parse_numbers<int64_t>({words.begin() + 1, words.end()}, where);
    } else if (key == "tensor") {
      f.tensors.push_back({});
      f.tensors.back().name = words.at(0);
    } else {
      if (f.tensors.empty()) throw std::runtime_error(where + ": '" + key + "' before any tensor:");
      FileTensor& t = f.tensors.back();
      if (key == "shape") {
        t.shape = parse_numbers<int64_t>(words, where);
      } else if (key == "dtype") {
        t.dtype = words.at(0);
      } else if (key == "scale") {
        t.quant.scales = parse_numbers<float>(words, where);
      } else if (key == "zero_point") {
        t.quant.zero_points = parse_numbers<int32_t>(words, where);
      } else if (key == "axis") {
        t.quant.axis = parse_number<int>(words.at(0), where);
      } else if (key == "values") {
        const std::vector<int64_t> v = parse_numbers<int64_t>(words, where);
        t.values.insert(t.values.end(), v.begin(), v.end());
      } else {
        throw std::runtime_error(where + ": unknown key '" + key + "'");
      }
    }
  }
  if (!saw_format) throw std::runtime_error(f.path + ": empty file");
  for (const FileTensor& t : f.tensors)
    if (element_count(t.shape, t.name) != static_cast<int64_t>(t.values.size()))
      throw std::runtime_error(f.path + ": tensor " + t.name + " has shape " + to_string(t.shape) + " but " +
                               std::to_string(t.values.size()) + " values");
  return f;
}

template <class T>
Tensor<T> to_tensor(const FileTensor& t) {
  const std::string_view want = name_of(element_type_of<T>());
  if (t.dtype != want)
    throw std::runtime_error("tensor " + t.name + " is " + t.dtype + ", expected " + std::string(want));
  std::vector<T> data;
  data.reserve(t.values.size());
  for (const int64_t v : t.values) {
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
      throw std::runtime_error("tensor " + t.name + " holds " + std::to_string(v) + ", outside " + t.dtype);
    data.push_back(static_cast<T>(v));
  }
  return Tensor<T>(t.shape, std::move(data), t.quant);
}

ref::Padding2d padding_of(const VectorFile& f) {
  const std::vector<int64_t> p = f.attr("padding", 4);
  return {p[0], p[1], p[2], p[3]};
}

// ---- Running octet ------------------------------------------------------------------------------------

// Runs the octet reference operator that matches the file's op on the file's inputs.
TensorU8 run_octet(const VectorFile& f) {
  const QuantParams& out = f.tensor("expected").quant;
  if (f.op == "conv2d" || f.op == "conv_transpose2d" || f.op == "linear") {
    const TensorU8 input = to_tensor<uint8_t>(f.tensor("input"));
    const TensorS8 weight = to_tensor<int8_t>(f.tensor("weight"));
    const TensorS32 bias = to_tensor<int32_t>(f.tensor("bias"));
    if (f.op == "linear") {
      if (f.attr1("relu") != 0) throw std::runtime_error("fused ReLU on linear is not generated");
      return ref::fully_connected(input, weight, &bias, out);
    }
    const std::vector<int64_t> stride = f.attr("stride", 2), dilation = f.attr("dilation", 2);
    if (f.op == "conv2d") {
      ref::Conv2dParams p;
      p.stride_h = stride[0], p.stride_w = stride[1];
      p.dilation_h = dilation[0], p.dilation_w = dilation[1];
      p.pad = padding_of(f);
      p.groups = f.attr1("groups");
      // PyTorch's conv2d_relu clamps at the output zero point, which is octet's ReLU clamp.
      const Clamp clamp = f.attr1("relu") ? activation_clamp(Activation::relu, out) : Clamp{};
      return ref::conv2d(input, weight, &bias, p, out, clamp);
    }
    ref::ConvTranspose2dParams p;
    p.stride_h = stride[0], p.stride_w = stride[1];
    p.dilation_h = dilation[0], p.dilation_w = dilation[1];
    p.pad = padding_of(f);
    const std::vector<int64_t> output_padding = f.attr("output_padding", 2);
    p.output_padding_h = output_padding[0], p.output_padding_w = output_padding[1];
    p.groups = f.attr1("groups");
    return ref::conv_transpose2d(input, weight, &bias, p, out);
  }
  if (f.op == "add")
    return ref::add(to_tensor<uint8_t>(f.tensor("a")), to_tensor<uint8_t>(f.tensor("b")), out);
  if (f.op == "cat") {
    std::vector<TensorU8> inputs;
    for (int i = 0; f.has_tensor("input" + std::to_string(i)); ++i)
      inputs.push_back(to_tensor<uint8_t>(f.tensor("input" + std::to_string(i))));
    std::vector<const TensorU8*> pointers;
    for (const TensorU8& t : inputs)
      pointers.push_back(&t);
    return ref::concat(pointers, f.attr1("axis"), out, RequantMode::fixed_point);
  }
  if (f.op == "max_pool2d" || f.op == "avg_pool2d") {
    const TensorU8 input = to_tensor<uint8_t>(f.tensor("input"));
    const std::vector<int64_t> kernel = f.attr("kernel", 2), stride = f.attr("stride", 2);
    ref::Pool2dParams p;
    p.kernel_h = kernel[0], p.kernel_w = kernel[1];
    p.stride_h = stride[0], p.stride_w = stride[1];
    p.pad = padding_of(f);
    p.ceil_mode = f.attr1("ceil_mode") != 0;
    if (f.op == "max_pool2d") {
      const std::vector<int64_t> dilation = f.attr("dilation", 2);
      p.dilation_h = dilation[0], p.dilation_w = dilation[1];
      return ref::max_pool2d(input, p);
    }
    p.count_include_pad = f.attr1("count_include_pad") != 0;
    return ref::average_pool2d(input, p, out);
  }
  throw std::runtime_error(f.path + ": unknown op '" + f.op + "'");
}

// ---- Expectations ---------------------------------------------------------------------------------------

// Each file must agree with PyTorch within `max_lsb`, and, where that is 1, with few enough elements off
// by one: at most 2% of them (at least 1, so that one legitimate near-tie in a small tensor passes).
//
// Why 2%: the legitimate differences are elements whose exact value lies within a sliver of a rounding
// boundary. octet requantizes with TFLite's fixed-point multiply, which rounds twice (to 2^-right_shift,
// then to an integer), so it leaves the correctly rounded value when acc * M is within 2^-(right_shift+1)
// of a half: right_shift is 8 to 13 for the conv-like cases here, so at most 0.2% of elements.
// PyTorch's float32 multipliers add ~1e-5. A systematic error moves far more: a zero point off by one
// moves every element, a rounding offset wrong by half an LSB about half of them, and a scale off by a
// relative d about d * mean|q - z| (30 to 60 here) of them, so 2% catches scale errors from ~1e-3 up (an
// output scale 1.001x too large on the add cases moves 10 and 3 of 120 elements; bigger ones fail on
// max_lsb). Layout, padding and group mistakes are tens of LSB off and fail on max_lsb outright.
//
// Exact ties (x.5 exactly) are counted apart: octet rounds them away from zero (upwards when the
// multiplier's right_shift is 0), PyTorch to even, so they may differ by 1 without counting against the 2%.
// They only arise in average pooling, whose output keeps the input's scale, so the exact result is sum /
// count and is a tie whenever count is even and 2 * sum / count is odd; with arbitrary float32 scales an
// exact tie has probability ~0.
struct Expectation {
  const char* file;  // under OCTET_TEST_DATA_DIR/torch, without ".txt"
  int32_t max_lsb;
};

std::ostream& operator<<(std::ostream& os, const Expectation& e) {
  return os << e.file;
}

const Expectation kExpectations[] = {
    // QNNPACK conv: int32 accumulation as octet's (so any layout, padding, group or bias mistake is many
    // LSB off), then acc * float32(s_in * s_w / s_out), rounded half to even. octet's fixed-point
    // double rounding differs on ~0.1% of elements (see above). Within 1 LSB.
    {"conv2d_3x3_pad1", 1},
    {"conv2d_3x3_stride2_per_channel", 1},
    {"conv2d_dilation2", 1},
    {"conv2d_groups2_rect", 1},
    {"conv2d_depthwise_mult2", 1},
    {"conv2d_depthwise_stride2", 1},
    // The fused ReLU is a clamp at the output zero point in both, so it adds no rounding. Within 1 LSB.
    {"conv2d_relu", 1},
    // QNNPACK deconvolution: same arithmetic as its conv, so within 1 LSB for the same reason.
    {"conv_transpose2d_unet_2x2_s2", 1},
    {"conv_transpose2d_3x3_s2_pad1_outpad1", 1},
    {"conv_transpose2d_groups2", 1},
    {"conv_transpose2d_dilation2_rect", 1},
    // QNNPACK gemm and oneDNN inner product: float requantization of an exact int32 sum. Within 1 LSB.
    {"linear_per_channel", 1},
    {"linear_per_tensor_onednn", 1},
    // QNNPACK add rescales both inputs in its own fixed point; ATen's add dequantizes to float32. octet
    // rescales with 20 extra fractional bits. Different roundings, so within 1 LSB (exact on these data).
    {"add_qnnpack", 1},
    {"add_aten", 1},
    // ATen cat requantizes through float32, rounding half to even; octet's Rescale is fixed point with
    // 20 extra bits, rounding ties away from zero. Within 1 LSB (exact on these data; input1 of
    // cat_height_three shares the output's params and must be copied bit for bit either way).
    {"cat_channels", 1},
    {"cat_height_three", 1},
    // Max pooling compares integers and keeps the input's params: no rounding at all, so exact.
    {"max_pool2d_3x3_s2_p1", 0},
    {"max_pool2d_2x2_s2_ceil", 0},
    {"max_pool2d_dilation2", 0},
    // Average pooling: QNNPACK (include_pad) and ATen (float32 multiplier, round half to even) are both
    // correctly rounded on these data (the generator checks them against exact sums). Within 1 LSB; exact
    // ties may differ (see above).
    // octet pre-shifts the window sum (average_pool_sum_shift) so its fixed-point multiply rounds once at
    // full precision; before that fix ~11% of 3x3 outputs were 1 too high, which these vectors caught.
    {"avg_pool2d_3x3_s2_p1_include_pad", 1},
    {"avg_pool2d_3x3_s2_p1_exclude_pad", 1},
    {"avg_pool2d_3x3_s2_p1_ceil_include_pad", 1},
    {"avg_pool2d_2x2_s2_ceil_exclude_pad", 1},
};

// For average pooling with equal input and output params: which output elements are exact ties, i.e.
// sum(q - z) / count is an odd multiple of 1/2. The window and count follow PyTorch's definition (the
// window clipped to the padded input; with count_include_pad the clipped window's size, else the number
// of input elements under it).
std::vector<bool> average_pool_ties(const VectorFile& f, const Shape& out_shape) {
  const FileTensor& in = f.tensor("input");
  if (!(in.quant == f.tensor("expected").quant))
    throw std::runtime_error(f.path + ": tie detection assumes PyTorch's equal input and output params");
  const std::vector<int64_t> kernel = f.attr("kernel", 2), stride = f.attr("stride", 2);
  const ref::Padding2d pad = padding_of(f);
  const bool include_pad = f.attr1("count_include_pad") != 0;
  const int64_t ih = in.shape[1], iw = in.shape[2], c = in.shape[3];
  const int64_t n = out_shape[0], oh = out_shape[1], ow = out_shape[2];
  const int32_t z = in.quant.zero_point();
  std::vector<bool> ties;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        const int64_t y0 = y * stride[0] - pad.top, x0 = x * stride[1] - pad.left;
        const int64_t y1 = std::min(y0 + kernel[0], ih + pad.bottom),
                      x1 = std::min(x0 + kernel[1], iw + pad.right);
        const int64_t vy0 = std::max<int64_t>(y0, 0), vx0 = std::max<int64_t>(x0, 0);
        const int64_t vy1 = std::min(y1, ih), vx1 = std::min(x1, iw);
        const int64_t count = include_pad ? (y1 - y0) * (x1 - x0) : (vy1 - vy0) * (vx1 - vx0);
        for (int64_t ch = 0; ch < c; ++ch) {
          int64_t sum = 0;
          for (int64_t iy = vy0; iy < vy1; ++iy)
            for (int64_t ix = vx0; ix < vx1; ++ix)
              sum += in.values[static_cast<size_t>(((b * ih + iy) * iw + ix) * c + ch)] - z;
          ties.push_back((2 * sum) % count == 0 && sum % count != 0);
        }
      }
  return ties;
}

// ---- Tests ----------------------------------------------------------------------------------------------

std::filesystem::path torch_dir() {
  return std::filesystem::path(OCTET_TEST_DATA_DIR) / "torch";
}

class TorchVectors : public ::testing::TestWithParam<Expectation> {};

TEST_P(TorchVectors, MatchesPyTorch) {
  const Expectation& e = GetParam();
  const VectorFile f = read_vector_file(torch_dir() / (std::string(e.file) + ".txt"));
  SCOPED_TRACE(f.path + " (" + f.op + ", PyTorch " + f.torch_version + ", engine " + f.engine + ": " +
               f.kernel + ")");
  const TensorU8 expected = to_tensor<uint8_t>(f.tensor("expected"));
  const TensorU8 actual = run_octet(f);
  ASSERT_EQ(actual.shape, expected.shape);
  ASSERT_EQ(actual.quant, expected.quant);
  const std::vector<bool> ties = f.op == "avg_pool2d" ? average_pool_ties(f, expected.shape)
                                                      : std::vector<bool>(expected.data.size(), false);

  int32_t worst = 0;
  int64_t differing = 0, differing_at_ties = 0;
  std::ostringstream details;
  for (size_t i = 0; i < actual.data.size(); ++i) {
    const int32_t d = std::abs(static_cast<int32_t>(actual.data[i]) - static_cast<int32_t>(expected.data[i]));
    worst = std::max(worst, d);
    if (d == 0) continue;
    ++(ties[i] ? differing_at_ties : differing);
    if (differing + differing_at_ties <= 8)
      details << "\n  flat index " << i << ": octet " << int{actual.data[i]} << ", PyTorch "
              << int{expected.data[i]} << (ties[i] ? " (exact tie)" : "");
  }
  const int64_t total = expected.size();
  const int64_t allowed = std::max<int64_t>(1, total / 50);
  // Printed and recorded in the test XML, so that a drift in the counts shows without a failure.
  RecordProperty("max_lsb_difference", worst);
  RecordProperty("differing_elements", static_cast<int>(differing));
  RecordProperty("differing_at_exact_ties", static_cast<int>(differing_at_ties));
  std::cout << "[ torch    ] " << f.path << " (" << f.engine << "): " << total << " elements, max |diff| "
            << worst << " LSB, " << differing << " differ"
            << (f.op == "avg_pool2d" ? " + " + std::to_string(differing_at_ties) + " at exact ties" : "")
            << "\n";
  EXPECT_LE(worst, e.max_lsb) << details.str();
  EXPECT_LE(differing, allowed) << "more than 2% of " << total
                                << " elements differ from PyTorch away from exact ties" << details.str();
}

INSTANTIATE_TEST_SUITE_P(Torch, TorchVectors, ::testing::ValuesIn(kExpectations),
                         [](const ::testing::TestParamInfo<Expectation>& info) {
                           return std::string(info.param.file);
                         });

// Every generated file must have an expectation above, so that a new case cannot be skipped silently.
TEST(TorchVectorsFiles, EveryFileIsTested) {
  std::set<std::string> listed;
  for (const Expectation& e : kExpectations)
    listed.insert(e.file);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(torch_dir())) {
    if (entry.path().extension() != ".txt") continue;
    ++files;
    EXPECT_TRUE(listed.count(entry.path().stem().string())) << entry.path() << " has no expectation";
  }
  EXPECT_EQ(files, std::size(kExpectations));
}

}  // namespace
}  // namespace octet
