#pragma once

// Whole files (models, .npy arrays) in memory. Model files are tens of megabytes, and the first touch of
// each 4 KiB page costs a page fault: on the virtual machines octet is measured on one costs about 15 us, so
// reading resnet18_like's 11.8 MB took 46 ms (9 ms with huge pages), and before this reader (a character at
// a time into a growing buffer, then two copies) it cost more than parsing the model. So a file is read with
// one allocation of its size and one read, into a buffer that is not zero-filled first and that the kernel
// is asked to back with huge pages where it is large.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>

namespace octet::runtime {

class ByteBuffer {
 public:
  ByteBuffer() = default;

  // `size` bytes, uninitialized.
  explicit ByteBuffer(size_t size) : data_(std::make_unique_for_overwrite<std::byte[]>(size)), size_(size) {
    advise_huge_pages();
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
  // Advice only: where the kernel does not use huge pages (transparent_hugepage "never"), nothing changes.
  void advise_huge_pages() {
#if defined(MADV_HUGEPAGE)
    constexpr size_t kHugePage = size_t{2} << 20;
    if (size_ < 2 * kHugePage) return;
    const auto begin = reinterpret_cast<uintptr_t>(data_.get());
    const uintptr_t first = (begin + kHugePage - 1) & ~uintptr_t{kHugePage - 1};
    const uintptr_t last = (begin + size_) & ~uintptr_t{kHugePage - 1};
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
  }

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
