#include "graph/onnx/constant.h"

#include <onnx/onnx_pb.h>

#include <bit>
#include <cstring>
#include <limits>

#include "kernels/error.h"
#include "kernels/huge_pages.h"

namespace octet::graph::onnx_import {

namespace {

using onnx::TensorProto;

void check_count(size_t have, int64_t count, const std::string& what) {
  if (have != static_cast<size_t>(count))
    throw Error(what + ": holds " + std::to_string(have) + " values, but its shape needs " +
                std::to_string(count));
}

void check_raw_size(std::span<const std::byte> raw, int64_t count, size_t element_bytes,
                    const std::string& what) {
  if (raw.size() != static_cast<size_t>(count) * element_bytes)
    throw Error(what + ": raw data holds " + std::to_string(raw.size()) + " bytes, but its shape needs " +
                std::to_string(count) + " x " + std::to_string(element_bytes));
}

// raw_data as T, little-endian (ONNX's raw_data always is), one copy.
template <class T>
std::vector<T> decode_raw(std::span<const std::byte> raw, int64_t count, const std::string& what) {
  static_assert(std::endian::native == std::endian::little, "octet assumes a little-endian host");
  check_raw_size(raw, count, sizeof(T), what);
  std::vector<T> out;
  resize_large(out, static_cast<size_t>(count));
  if (!out.empty()) std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

template <class T, class Field>
std::vector<T> decode_field(const Field& field, int64_t count, const std::string& what) {
  check_count(static_cast<size_t>(field.size()), count, what);
  return std::vector<T>(field.begin(), field.end());
}

// ONNX stores the narrow integer types widened into int32_data when they are not raw: check the range
// before narrowing.
template <class T>
std::vector<T> decode_narrow_field(const google::protobuf::RepeatedField<int32_t>& field, int64_t count,
                                   const std::string& what) {
  check_count(static_cast<size_t>(field.size()), count, what);
  std::vector<T> out;
  out.reserve(static_cast<size_t>(count));
  for (const int32_t v : field) {
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
      throw Error(what + ": value " + std::to_string(v) + " is outside its 8-bit type");
    out.push_back(static_cast<T>(v));
  }
  return out;
}

template <class T>
ConstantValues widened(std::vector<T> v) {
  return std::vector<double>(v.begin(), v.end());
}

}  // namespace

std::vector<double> ConstantValues::to_doubles() const {
  std::vector<double> out;
  resize_large(out, size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = (*this)[i];
  return out;
}

std::vector<double>& ConstantValues::doubles() {
  if (data_.index() != 0) data_ = to_doubles();
  return std::get<std::vector<double>>(data_);
}

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
    // Types newer than the schema octet builds with (ONNX 1.12's) have numbers only there.
    case 17:
      return "float8e4m3fn";
    case 18:
      return "float8e4m3fnuz";
    case 19:
      return "float8e5m2";
    case 20:
      return "float8e5m2fnuz";
    case 21:
      return "uint4";
    case 22:
      return "int4";
    case 23:
      return "float4e2m1";
    default:
      return "unknown type";
  }
}

namespace {

Constant decode(const TensorProto& proto, std::optional<std::span<const std::byte>> raw_data, bool borrow,
                const std::string& what) {
  if (proto.data_location() == TensorProto::EXTERNAL || proto.external_data_size() > 0)
    throw Error(what + ": external tensor data is not supported; save the model with its weights inside");
  Constant c;
  c.onnx_type = proto.data_type();
  c.shape.assign(proto.dims().begin(), proto.dims().end());
  const int64_t count = element_count(c.shape, what);
  // A tensor larger than the file could hold is a corrupt header, not a reason to allocate gigabytes.
  if (count > (int64_t{1} << 31))
    throw Error(what + ": shape " + to_string(c.shape) + " has too many elements");
  const bool raw = raw_data.has_value();
  const std::span<const std::byte> r = raw ? *raw_data : std::span<const std::byte>();
  if (raw && borrow &&
      (c.onnx_type == TensorProto::INT8 || c.onnx_type == TensorProto::UINT8 ||
       c.onnx_type == TensorProto::FLOAT)) {
    static_assert(std::endian::native == std::endian::little, "octet assumes a little-endian host");
    using Borrowed = ConstantValues::Borrowed;
    const bool is_float = c.onnx_type == TensorProto::FLOAT;
    check_raw_size(r, count, is_float ? sizeof(float) : 1, what);
    c.values = ConstantValues::borrow_bytes(
        r, is_float ? Borrowed::f32 : (c.onnx_type == TensorProto::INT8 ? Borrowed::s8 : Borrowed::u8));
    return c;
  }
  switch (c.onnx_type) {
    case TensorProto::FLOAT:
      c.values = ConstantValues(raw ? decode_raw<float>(r, count, what)
                                    : decode_field<float>(proto.float_data(), count, what));
      break;
    case TensorProto::DOUBLE:
      c.values =
          raw ? decode_raw<double>(r, count, what) : decode_field<double>(proto.double_data(), count, what);
      break;
    case TensorProto::INT64:
      c.values = widened(raw ? decode_raw<int64_t>(r, count, what)
                             : decode_field<int64_t>(proto.int64_data(), count, what));
      break;
    case TensorProto::INT32:
      c.values = ConstantValues(raw ? decode_raw<int32_t>(r, count, what)
                                    : decode_field<int32_t>(proto.int32_data(), count, what));
      break;
    case TensorProto::INT8:
      c.values = ConstantValues(raw ? decode_raw<int8_t>(r, count, what)
                                    : decode_narrow_field<int8_t>(proto.int32_data(), count, what));
      break;
    case TensorProto::UINT8:
      c.values = ConstantValues(raw ? decode_raw<uint8_t>(r, count, what)
                                    : decode_narrow_field<uint8_t>(proto.int32_data(), count, what));
      break;
    case TensorProto::BOOL:
      // Any non-zero byte is true; stored as read, like before (consumers compare with 0).
      c.values = ConstantValues(raw ? decode_raw<uint8_t>(r, count, what)
                                    : decode_narrow_field<uint8_t>(proto.int32_data(), count, what));
      break;
    default:
      throw Error(what + ": element type " + onnx_type_name(c.onnx_type) + " is not supported");
  }
  return c;
}

}  // namespace

Constant decode_tensor(const TensorProto& proto, const std::string& what) {
  std::optional<std::span<const std::byte>> raw;
  if (proto.has_raw_data()) raw = std::as_bytes(std::span(proto.raw_data()));
  return decode(proto, raw, false, what);
}

Constant decode_tensor_borrowing_data(const TensorProto& proto,
                                      std::optional<std::span<const std::byte>> raw_data,
                                      const std::string& what) {
  return decode(proto, raw_data, true, what);
}

}  // namespace octet::graph::onnx_import
