#pragma once

// Large buffers (a model file's bytes, weights, packed weights: up to hundreds of megabytes) are written
// once, when a model loads, and the first touch of each 4 KiB page costs a page fault. On the virtual
// machines octet is measured on one costs about 10-15 us, so the 411 MB of VGG-11's first fully connected
// layer cost about a second in faults each time a buffer of its size was filled. These ask the kernel to
// back such a buffer with transparent huge pages (2 MiB, one fault each) before it is first written.
// Advice only: where transparent_hugepage is "never", or on a system without madvise, nothing changes.

#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

#include <cstddef>
#include <cstdint>
#include <vector>

namespace octet {

// Advises the whole 2 MiB pages inside [data, data + bytes); ranges of under two such pages are left alone
// (they would hold at most one whole page).
inline void advise_huge_pages([[maybe_unused]] void* data, [[maybe_unused]] size_t bytes) {
#if defined(MADV_HUGEPAGE)
  constexpr size_t kHugePage = size_t{2} << 20;
  if (bytes < 2 * kHugePage) return;
  const auto begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t first = (begin + kHugePage - 1) & ~uintptr_t{kHugePage - 1};
  const uintptr_t last = (begin + bytes) & ~uintptr_t{kHugePage - 1};
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
}

// v.resize(n) (new elements value-initialized), with storage it allocates advised before the new
// elements are written.
template <class T, class Allocator>
void resize_large(std::vector<T, Allocator>& v, size_t n) {
  if (n > v.capacity()) {
    v.reserve(n);
    advise_huge_pages(v.data(), n * sizeof(T));
  }
  v.resize(n);
}

}  // namespace octet
