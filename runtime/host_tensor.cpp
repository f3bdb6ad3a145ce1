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

int64_t HostTensor::element_count() const {
  return octet::element_count(shape_, "tensor");
}

std::span<const float> HostTensor::float_data() const {
  if (dtype_ != DataType::float32) throw Error("tensor holds uint8 data, not float32");
  return floats_;
}

std::span<const uint8_t> HostTensor::uint8_data() const {
  if (dtype_ != DataType::uint8) throw Error("tensor holds float32 data, not uint8");
  return bytes_;
}

}  // namespace octet
