#include "tools/model_inputs.h"

#include <algorithm>

#include "kernels/error.h"
#include "kernels/tensor.h"

namespace octet::tools {

namespace {

std::vector<int64_t> parse_shape(std::string_view command, const std::string& text) {
  std::vector<int64_t> shape;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('x', start), text.size());
    const std::string part = text.substr(start, end - start);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || v < 1 || v > (int64_t{1} << 40))
      throw Error(std::string(command) + ": --shape expects dimensions >= 1 like 1x3x480x640, got '" + text +
                  "'");
    shape.push_back(v);
    start = end + 1;
  }
  element_count(shape, std::string(command) + " --shape");
  return shape;
}

}  // namespace

bool take_input_flag(std::string_view command, std::string_view flag, const std::string& value,
                     ModelInputs& in) {
  if (flag != "--input" && flag != "--shape") return false;
  const size_t eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
    throw Error(std::string(command) + ": " + std::string(flag) +
                " expects NAME=" + (flag == "--input" ? "FILE.npy" : "AxBxC") + ", got '" + value + "'");
  const std::string name = value.substr(0, eq), rest = value.substr(eq + 1);
  if (in.files.count(name) || in.shapes.count(name))
    throw Error(std::string(command) + ": input '" + name + "' is given twice (--input / --shape)");
  if (flag == "--input")
    in.files[name] = rest;
  else
    in.shapes[name] = parse_shape(command, rest);
  return true;
}

void read_input_files(ModelInputs& in) {
  for (const auto& [name, file] : in.files)
    in.data[name] = npy::read(file);
}

std::string describe_dims(const TensorInfo& info) {
  std::string s = "[";
  for (size_t d = 0; d < info.shape.size(); ++d) {
    if (d) s += ", ";
    const std::string symbol = d < info.dim_names.size() ? info.dim_names[d] : "";
    s += info.shape[d] >= 0 ? std::to_string(info.shape[d]) : symbol.empty() ? "?" : symbol;
  }
  return s + "]";
}

Model load_for_inputs(std::string_view command, const std::string& path, const ModelInputs& in,
                      int64_t default_batch, LoadOptions options) {
  for (const auto& [name, shape] : in.shapes)
    options.input_shapes[name] = shape;
  for (const auto& [name, array] : in.data)
    options.input_shapes[name] = array.shape;
  Model model = Model::load(path, options);
  bool reload = false;
  for (const TensorInfo& info : model.inputs()) {
    if (options.input_shapes.count(info.name)) continue;
    const auto dynamic = std::count(info.shape.begin(), info.shape.end(), -1);
    if (dynamic == 0) continue;
    if (default_batch > 0 && dynamic == 1 && info.shape[0] == -1) {
      std::vector<int64_t> shape = info.shape;
      shape[0] = default_batch;
      options.input_shapes[info.name] = shape;
      reload = true;
      continue;
    }
    std::string example;
    for (size_t d = 0; d < info.shape.size(); ++d) {
      if (d) example.push_back('x');
      example.append(std::to_string(info.shape[d] > 0 ? info.shape[d] : d == 0 ? 1 : 224));
    }
    throw Error(std::string(command) + ": input '" + info.name + "' has dynamic dimensions " +
                describe_dims(info) + ": give its shape with --shape " + info.name + "=" + example +
                " (random data) or its data with --input " + info.name + "=FILE.npy");
  }
  for (const auto& entry : options.input_shapes) {
    const std::string& name = entry.first;
    if (std::none_of(model.inputs().begin(), model.inputs().end(),
                     [&](const TensorInfo& t) { return t.name == name; }))
      throw Error(std::string(command) + ": the model has no input named '" + name + "'");
  }
  // Compiled again only to give a dynamic batch its size, so that every report describes the shapes run.
  return reload ? Model::load(path, options) : model;
}

HostTensor to_host_tensor(const std::string& what, const TensorInfo& info, const npy::Array& a) {
  switch (info.dtype) {
    case DataType::float32:
      if (a.dtype == npy::Dtype::uint8) return HostTensor::from_uint8(a.shape, a.to_uint8());
      if (a.dtype != npy::Dtype::float32)
        throw Error(what + ": input '" + info.name +
                    "' takes float32 (or pre-quantized uint8) data, the file holds " + npy::name_of(a.dtype));
      return HostTensor::from_float(a.shape, a.to_float());
    case DataType::uint8:
      if (a.dtype != npy::Dtype::uint8)
        throw Error(what + ": input '" + info.name + "' takes uint8 data, the file holds " +
                    npy::name_of(a.dtype));
      return HostTensor::from_uint8(a.shape, a.to_uint8());
    case DataType::int64:
      if (a.dtype != npy::Dtype::int64 && a.dtype != npy::Dtype::int32)
        throw Error(what + ": input '" + info.name + "' takes int64 data, the file holds " +
                    npy::name_of(a.dtype));
      return HostTensor::from_int64(a.shape, a.to_int64());
    case DataType::int32: {
      // int8 / uint8 / int32 files widen exactly; an int64 file's values must fit.
      if (a.dtype != npy::Dtype::int32 && a.dtype != npy::Dtype::int64 && a.dtype != npy::Dtype::int8 &&
          a.dtype != npy::Dtype::uint8)
        throw Error(what + ": input '" + info.name + "' takes int32 data, the file holds " +
                    npy::name_of(a.dtype));
      const std::vector<int64_t> wide = a.to_int64();
      std::vector<int32_t> values(wide.size());
      for (size_t i = 0; i < wide.size(); ++i) {
        if (wide[i] < INT32_MIN || wide[i] > INT32_MAX)
          throw Error(what + ": input '" + info.name + "' takes int32 data; element " + std::to_string(i) +
                      " of the file is " + std::to_string(wide[i]));
        values[i] = static_cast<int32_t>(wide[i]);
      }
      return HostTensor::from_int32(a.shape, std::move(values));
    }
    case DataType::boolean:
      if (a.dtype != npy::Dtype::boolean)
        throw Error(what + ": input '" + info.name + "' takes bool data, the file holds " +
                    npy::name_of(a.dtype));
      return HostTensor::from_bool(a.shape, a.to_bool());
  }
  throw Error(what + ": unknown input type");
}

npy::Array to_npy(const HostTensor& t) {
  switch (t.dtype()) {
    case DataType::float32:
      return npy::from_float(t.shape(), t.float_data());
    case DataType::uint8:
      return npy::from_uint8(t.shape(), t.uint8_data());
    case DataType::int64:
      return npy::from_int64(t.shape(), t.int64_data());
    case DataType::boolean:
      return npy::from_bool(t.shape(), t.bool_data());
    case DataType::int32:
      return npy::from_int32(t.shape(), t.int32_data());
  }
  throw Error("unknown tensor type");
}

}  // namespace octet::tools
