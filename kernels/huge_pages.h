#pragma once

// Large buffers (a model file's bytes, weights, packed weights: up to hundreds of megabytes) are written
// once, when a model loads, and the first touch of each 4 KiB page costs a page fault. On the virtual
// machines octet is measured on one costs about 10-15 us, so the 411 MB of VGG-11's first fully connected
// layer cost about a second in faults each time a buffer of its size was filled. So before such a buffer is
// first written, the kernel is asked to back it with transparent huge pages (2 MiB, one fault each) and to
// map all its pages in one call (MADV_POPULATE_WRITE, Linux 5.14) rather than one fault at a time: ResNet-50
// (AMD EPYC Zen 5 VM, `octet bench`'s load time) went from 15,400 page faults to 2,700, its int8 model
// loading in 185-205 ms instead of 245-265, the float one in 460-580 instead of 730-850.
// Advice only: where transparent_hugepage is "never", the kernel is older, or on a system without madvise,
// nothing changes. Either way the pages would be mapped by the writes that follow: populating them first
// maps no page that the buffer's first writes would not.

#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif
#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include <cstddef>
#include <cstdint>
#include <vector>

namespace octet {

// Advises the whole 2 MiB pages inside [data, data + bytes) (ranges of under two such pages are left alone:
// they would hold at most one whole page), then maps every whole page inside it, where it spans at
// least 64 KiB. The buffer's contents are unchanged.
inline void prepare_for_writing([[maybe_unused]] void* data, [[maybe_unused]] size_t bytes) {
  [[maybe_unused]] const auto begin = reinterpret_cast<uintptr_t>(data);
#if defined(MADV_HUGEPAGE)
  constexpr size_t kHugePage = size_t{2} << 20;
  if (bytes >= 2 * kHugePage) {
    const uintptr_t first = (begin + kHugePage - 1) & ~uintptr_t{kHugePage - 1};
    const uintptr_t last = (begin + bytes) & ~uintptr_t{kHugePage - 1};
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
#endif
#if defined(MADV_POPULATE_WRITE) && defined(_SC_PAGESIZE)
  static const uintptr_t page = [] {
    const long size = sysconf(_SC_PAGESIZE);
    return size > 0 ? static_cast<uintptr_t>(size) : uintptr_t{4096};
  }();
  constexpr size_t kPopulateBytes = 64 * 1024;
  if (bytes >= kPopulateBytes) {
    const uintptr_t first = (begin + page - 1) & ~(page - 1);
    const uintptr_t last = (begin + bytes) & ~(page - 1);
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE);
  }
#endif
}

// v.resize(n) (new elements value-initialized), with storage it allocates prepared (prepare_for_writing)
// before the new elements are written.
template <class T, class Allocator>
void resize_large(std::vector<T, Allocator>& v, size_t n) {
  if (n > v.capacity()) {
    v.reserve(n);
    prepare_for_writing(v.data(), n * sizeof(T));
  }
  v.resize(n);
}

}  // namespace octet
