#pragma once

// A whole file's bytes, read with one allocation of its size and one read: model files are tens of
// megabytes, and reading them a character at a time into a growing buffer (which then had to be copied)
// cost more than parsing them.

#include <cstddef>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace octet::runtime {

// The bytes of the file at `path`, or nothing when it cannot be opened or read (callers word the error
// in their own terms: an octet::Error, a Python exception).
inline std::optional<std::vector<std::byte>> read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return std::nullopt;
  const std::streamoff size = file.tellg();
  if (size < 0) return std::nullopt;
  std::vector<std::byte> bytes(static_cast<size_t>(size));
  file.seekg(0);
  if (!file.read(reinterpret_cast<char*>(bytes.data()), size)) return std::nullopt;
  return bytes;
}

}  // namespace octet::runtime
