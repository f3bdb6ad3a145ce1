#pragma once

// Whole files (models, .npy arrays) in memory. Model files are tens of megabytes, and the first touch of
// each 4 KiB page costs a page fault: on the virtual machines octet is measured on one costs about 15 us, so
// reading resnet18_like's 11.8 MB took 46 ms (9 ms with huge pages), and before this reader (a character at
// a time into a growing buffer, then two copies) it cost more than parsing the model. So a file is read with
// one allocation of its size and one read, into a buffer that is not zero-filled first and whose pages the
// kernel is asked to map in one call, with huge pages where it is large (kernels/huge_pages.h).

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include "kernels/huge_pages.h"

namespace octet::runtime {

class ByteBuffer {
 public:
  ByteBuffer() = default;

  // `size` bytes, uninitialized.
  explicit ByteBuffer(size_t size) : data_(std::make_unique_for_overwrite<std::byte[]>(size)), size_(size) {
    prepare_for_writing(data_.get(), size_);
  }

  static ByteBuffer copy_of(std::span<const std::byte> bytes) {
    ByteBuffer b(bytes.size());
    if (!bytes.empty()) std::memcpy(b.data(), bytes.data(), bytes.size());
    return b;
  }

  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  size_t size() const { return size_; }
  std::span<const std::byte> span() const { return {data_.get(), size_}; }
  operator std::span<const std::byte>() const { return span(); }  // NOLINT: reads like the bytes it holds

 private:
  std::unique_ptr<std::byte[]> data_;
  size_t size_ = 0;
};

// The bytes of the regular file at `path`, or nothing when it is not one (missing, a directory, a pipe)
// or cannot be read (callers word the error in their own terms: an octet::Error, a Python exception).
// Only a regular file has a size to allocate up front: a directory opens as a stream whose end offset is
// meaningless, and sizing a buffer by it asked for exabytes.
inline std::optional<ByteBuffer> read_file_bytes(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return std::nullopt;
  const std::streamoff size = file.tellg();
  if (size < 0) return std::nullopt;
  ByteBuffer bytes(static_cast<size_t>(size));
  file.seekg(0);
  if (!file.read(reinterpret_cast<char*>(bytes.data()), size)) return std::nullopt;
  return bytes;
}

}  // namespace octet::runtime
