#pragma once

// NumPy .npy files (format versions 1 to 3): the inputs and outputs of `octet run`. Reading is strict:
// anything malformed is an octet::Error that names the file, never a crash.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace octet::npy {

enum class Dtype { float32, float64, uint8, int8, int32, int64, boolean };

struct Array {
  Dtype dtype = Dtype::float32;
  std::vector<int64_t> shape;
  std::vector<std::byte> data;  // little-endian, C order

  int64_t element_count() const;
  std::vector<float> to_float() const;    // float32 / float64 / integer data as float
  std::vector<uint8_t> to_uint8() const;  // uint8 data only
  std::vector<int64_t> to_int64() const;  // integer data
  std::vector<uint8_t> to_bool() const;   // bool data: 0 or 1 per element
};

Array parse(std::span<const std::byte> bytes, const std::string& what);
Array read(const std::string& path);

std::vector<std::byte> serialize(const Array& array);
void write(const std::string& path, const Array& array);
// Creates the folder .npy files are to be written to, and its parents, where they do not exist. Throws an
// octet::Error naming `flag` (the option that gave the folder) when it cannot: a file of that name, no
// permission.
void create_directory(const std::string& dir, const std::string& flag);

Array from_float(std::vector<int64_t> shape, std::span<const float> values);
Array from_uint8(std::vector<int64_t> shape, std::span<const uint8_t> values);
Array from_int64(std::vector<int64_t> shape, std::span<const int64_t> values);
Array from_int32(std::vector<int64_t> shape, std::span<const int32_t> values);
Array from_bool(std::vector<int64_t> shape, std::span<const uint8_t> values);

const char* name_of(Dtype dtype);

}  // namespace octet::npy
