#pragma once

#include <cstddef>
#include <cstring>

namespace octet::runtime {

// memcpy that accepts empty ranges: an empty tensor's data(), an empty constant and an empty arena may be
// null, and passing null to memcpy is undefined even for zero bytes.
inline void copy_bytes(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

}  // namespace octet::runtime
