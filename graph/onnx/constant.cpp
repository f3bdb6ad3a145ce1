#include "graph/onnx/constant.h"

#include <onnx/onnx_pb.h>

#include <bit>
#include <cstring>

#include "kernels/error.h"

namespace octet::graph::onnx_import {

namespace {

using onnx::TensorProto;

// Little-endian decode of raw_data (ONNX's raw_data is always little-endian).
template <class T>
std::vector<double> decode_raw(const std::string& raw, int64_t count, const std::string& what) {
  static_assert(std::endian::native == std::endian::little, "octet assumes a little-endian host");
  if (raw.size() != static_cast<size_t>(count) * sizeof(T))
    throw Error(what + ": raw data holds " + std::to_string(raw.size()) + " bytes, but its shape needs " +
                std::to_string(count) + " x " + std::to_string(sizeof(T)));
  std::vector<double> out(static_cast<size_t>(count));
  for (size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(v);
  }
  return out;
}

template <class Field>
std::vector<double> decode_field(const Field& field, int64_t count, const std::string& what) {
  if (field.size() != count)
    throw Error(what + ": holds " + std::to_string(field.size()) + " values, but its shape needs " +
                std::to_string(count));
  return std::vector<double>(field.begin(), field.end());
}

}  // namespace

bool Constant::is_integer() const {
  return onnx_type != TensorProto::FLOAT && onnx_type != TensorProto::DOUBLE &&
         onnx_type != TensorProto::FLOAT16;
}

const char* onnx_type_name(int32_t t) {
  switch (t) {
    case TensorProto::FLOAT:
      return "float32";
    case TensorProto::UINT8:
      return "uint8";
    case TensorProto::INT8:
      return "int8";
    case TensorProto::UINT16:
      return "uint16";
    case TensorProto::INT16:
      return "int16";
    case TensorProto::INT32:
      return "int32";
    case TensorProto::INT64:
      return "int64";
    case TensorProto::STRING:
      return "string";
    case TensorProto::BOOL:
      return "bool";
    case TensorProto::FLOAT16:
      return "float16";
    case TensorProto::DOUBLE:
      return "float64";
    case TensorProto::UINT32:
      return "uint32";
    case TensorProto::UINT64:
      return "uint64";
    case TensorProto::BFLOAT16:
      return "bfloat16";
    default:
      return "unknown type";
  }
}

Constant decode_tensor(const TensorProto& proto, const std::string& what) {
  if (proto.data_location() == TensorProto::EXTERNAL || proto.external_data_size() > 0)
    throw Error(what + ": external tensor data is not supported; save the model with its weights inside");
  Constant c;
  c.onnx_type = proto.data_type();
  c.shape.assign(proto.dims().begin(), proto.dims().end());
  const int64_t count = element_count(c.shape, what);
  // A tensor larger than the file could hold is a corrupt header, not a reason to allocate gigabytes.
  if (count > (int64_t{1} << 31))
    throw Error(what + ": shape " + to_string(c.shape) + " has too many elements");
  const bool raw = proto.has_raw_data();
  const std::string& r = proto.raw_data();
  switch (c.onnx_type) {
    case TensorProto::FLOAT:
      c.values = raw ? decode_raw<float>(r, count, what) : decode_field(proto.float_data(), count, what);
      break;
    case TensorProto::DOUBLE:
      c.values = raw ? decode_raw<double>(r, count, what) : decode_field(proto.double_data(), count, what);
      break;
    case TensorProto::INT64:
      c.values = raw ? decode_raw<int64_t>(r, count, what) : decode_field(proto.int64_data(), count, what);
      break;
    case TensorProto::INT32:
      c.values = raw ? decode_raw<int32_t>(r, count, what) : decode_field(proto.int32_data(), count, what);
      break;
    // ONNX stores the narrow integer types widened into int32_data when they are not raw.
    case TensorProto::INT8:
      c.values = raw ? decode_raw<int8_t>(r, count, what) : decode_field(proto.int32_data(), count, what);
      break;
    case TensorProto::UINT8:
      c.values = raw ? decode_raw<uint8_t>(r, count, what) : decode_field(proto.int32_data(), count, what);
      break;
    case TensorProto::BOOL:
      c.values = raw ? decode_raw<uint8_t>(r, count, what) : decode_field(proto.int32_data(), count, what);
      break;
    default:
      throw Error(what + ": element type " + onnx_type_name(c.onnx_type) + " is not supported");
  }
  if (c.onnx_type == TensorProto::INT8 || c.onnx_type == TensorProto::UINT8) {
    const double lo = c.onnx_type == TensorProto::INT8 ? -128 : 0,
                 hi = c.onnx_type == TensorProto::INT8 ? 127 : 255;
    for (double v : c.values)
      if (v < lo || v > hi) throw Error(what + ": value " + std::to_string(v) + " is outside its 8-bit type");
  }
  return c;
}

}  // namespace octet::graph::onnx_import
