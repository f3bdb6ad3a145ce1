#include <string>

#include "kernels/error.h"
#include "kernels/tensor.h"
#include "octet/octet.h"

namespace octet {

namespace {

void check_size(const std::vector<int64_t>& shape, size_t values) {
  const int64_t n = element_count(shape, "tensor");
  if (n != static_cast<int64_t>(values))
    throw Error("tensor of shape " + to_string(shape) + " needs " + std::to_string(n) + " values, got " +
                std::to_string(values));
}

}  // namespace

HostTensor HostTensor::from_float(std::vector<int64_t> shape, std::vector<float> values) {
  check_size(shape, values.size());
  HostTensor t;
  t.dtype_ = DataType::float32;
  t.shape_ = std::move(shape);
  t.floats_ = std::move(values);
  return t;
}

HostTensor HostTensor::from_uint8(std::vector<int64_t> shape, std::vector<uint8_t> values, float scale,
                                  int32_t zero_point) {
  check_size(shape, values.size());
  HostTensor t;
  t.dtype_ = DataType::uint8;
  t.shape_ = std::move(shape);
  t.bytes_ = std::move(values);
  t.scale_ = scale;
  t.zero_point_ = zero_point;
  return t;
}

HostTensor HostTensor::from_int64(std::vector<int64_t> shape, std::vector<int64_t> values) {
  check_size(shape, values.size());
  HostTensor t;
  t.dtype_ = DataType::int64;
  t.shape_ = std::move(shape);
  t.ints_ = std::move(values);
  return t;
}

HostTensor HostTensor::from_int32(std::vector<int64_t> shape, std::vector<int32_t> values) {
  check_size(shape, values.size());
  HostTensor t;
  t.dtype_ = DataType::int32;
  t.shape_ = std::move(shape);
  t.ints32_ = std::move(values);
  return t;
}

HostTensor HostTensor::from_bool(std::vector<int64_t> shape, std::vector<uint8_t> values) {
  check_size(shape, values.size());
  for (uint8_t& v : values)
    v = v != 0 ? 1 : 0;
  HostTensor t;
  t.dtype_ = DataType::boolean;
  t.shape_ = std::move(shape);
  t.bytes_ = std::move(values);
  return t;
}

const char* name_of(DataType dtype) {
  switch (dtype) {
    case DataType::float32:
      return "float32";
    case DataType::uint8:
      return "uint8";
    case DataType::int64:
      return "int64";
    case DataType::boolean:
      return "bool";
    case DataType::int32:
      return "int32";
  }
  return "?";
}

int64_t HostTensor::element_count() const {
  return octet::element_count(shape_, "tensor");
}

namespace {

void expect(DataType have, DataType want) {
  if (have != want) throw Error(std::string("tensor holds ") + name_of(have) + " data, not " + name_of(want));
}

}  // namespace

std::span<const float> HostTensor::float_data() const {
  expect(dtype_, DataType::float32);
  return floats_;
}

std::span<const uint8_t> HostTensor::uint8_data() const {
  expect(dtype_, DataType::uint8);
  return bytes_;
}

std::span<const int64_t> HostTensor::int64_data() const {
  expect(dtype_, DataType::int64);
  return ints_;
}

std::span<const int32_t> HostTensor::int32_data() const {
  expect(dtype_, DataType::int32);
  return ints32_;
}

std::span<const uint8_t> HostTensor::bool_data() const {
  expect(dtype_, DataType::boolean);
  return bytes_;
}

std::span<const std::byte> HostTensor::bytes() const {
  switch (dtype_) {
    case DataType::float32:
      return std::as_bytes(std::span(floats_));
    case DataType::int64:
      return std::as_bytes(std::span(ints_));
    case DataType::int32:
      return std::as_bytes(std::span(ints32_));
    default:
      return std::as_bytes(std::span(bytes_));
  }
}

}  // namespace octet
