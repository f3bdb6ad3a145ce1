#pragma once

// The inner loops shared by the element-moving operators (kernels/reference/movement.h): copies and fills
// of elements that are just `element_size` bytes, and a row-major index walker.
//
// Elements are moved with memcpy, never through typed pointers: the buffers hold any type and need not be
// aligned. A memcpy of a constant size compiles to one load and one store, so loops that move single
// elements take the size as a template parameter (`with_element_size`: constants for 1, 2, 4 and 8 bytes,
// a run-time size_t otherwise); whole contiguous runs are one memcpy of any size.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace octet::ref::detail {

// Calls f(std::integral_constant<size_t, N>{}) for element sizes 1, 2, 4 and 8, else f(element_size).
template <class F>
decltype(auto) with_element_size(size_t element_size, F&& f) {
  switch (element_size) {
    case 1:
      return f(std::integral_constant<size_t, 1>{});
    case 2:
      return f(std::integral_constant<size_t, 2>{});
    case 4:
      return f(std::integral_constant<size_t, 4>{});
    case 8:
      return f(std::integral_constant<size_t, 8>{});
    default:
      return f(element_size);
  }
}

// `count` contiguous elements; a count of zero never touches the (possibly null) pointers.
inline void copy_elements(std::byte* dst, const std::byte* src, int64_t count, size_t element_size) {
  if (count > 0) std::memcpy(dst, src, static_cast<size_t>(count) * element_size);
}

// memcpy of up to 64 bytes as two fixed-size moves that may overlap, inline: a transpose that keeps short
// rows whole (attention's heads of 32 bytes) copies one per row, where a call to memcpy and its size
// dispatch cost more than the copy.
inline void copy_short(std::byte* dst, const std::byte* src, size_t bytes) {
  auto two = [&]<size_t kSize>(std::integral_constant<size_t, kSize>) {
    std::memcpy(dst, src, kSize);
    std::memcpy(dst + bytes - kSize, src + bytes - kSize, kSize);
  };
  if (bytes >= 32) return two(std::integral_constant<size_t, 32>{});
  if (bytes >= 16) return two(std::integral_constant<size_t, 16>{});
  if (bytes >= 8) return two(std::integral_constant<size_t, 8>{});
  if (bytes >= 4) return two(std::integral_constant<size_t, 4>{});
  for (size_t i = 0; i < bytes; ++i)
    dst[i] = src[i];
}

// dst[i] = src[i * stride] for i < count (stride in elements, any sign).
template <class Size>
void copy_strided(std::byte* dst, const std::byte* src, int64_t count, int64_t stride, Size element_size) {
  const size_t size = element_size;
  const ptrdiff_t step = static_cast<ptrdiff_t>(stride) * static_cast<ptrdiff_t>(size);
  for (int64_t i = 0; i < count; ++i, dst += size, src += step)
    std::memcpy(dst, src, size);
}

// `count` copies of the one element at `value`. Long fills double the filled prefix with memcpy up to a
// cache-sized chunk and then repeat the chunk: few calls for any element size.
template <class Size>
void fill_elements(std::byte* dst, const std::byte* value, int64_t count, Size element_size) {
  if (count <= 0) return;
  const size_t size = element_size;
  const size_t total = static_cast<size_t>(count) * size;
  constexpr size_t kChunk = 4096;
  if (total <= 256 || size > kChunk / 2) {
    for (int64_t i = 0; i < count; ++i, dst += size)
      std::memcpy(dst, value, size);
    return;
  }
  std::memcpy(dst, value, size);
  size_t filled = size;
  const size_t chunk = std::min(total, kChunk / size * size);
  while (filled < total) {
    // Copying from the start keeps every copy a whole number of elements: `filled` always is one.
    const size_t n = std::min({filled, chunk, total - filled});
    std::memcpy(dst + filled, dst, n);
    filled += n;
  }
}

// A row-major position in `dims` that steps forward one position at a time and keeps N offsets
// (sum over k of index[k] * strides[n][k]) up to date: a few adds per step instead of a division per
// dimension. Seeking to a position divides once. Stepping past the last position wraps to the first.
template <size_t N>
class Odometer {
 public:
  Odometer(std::vector<int64_t> dims, std::array<std::vector<int64_t>, N> strides, int64_t position)
      : dims_(std::move(dims)), strides_(std::move(strides)), index_(dims_.size(), 0) {
    for (size_t d = dims_.size(); d-- > 0;) {
      index_[d] = position % dims_[d];
      position /= dims_[d];
      for (size_t n = 0; n < N; ++n)
        offsets_[n] += index_[d] * strides_[n][d];
    }
  }

  int64_t offset(size_t n) const { return offsets_[n]; }
  const std::vector<int64_t>& index() const { return index_; }

  // How many positions are left in the innermost dimension, this one included (1 without dimensions).
  int64_t innermost_left() const { return dims_.empty() ? 1 : dims_.back() - index_.back(); }

  // Steps forward `steps` positions, 1 <= steps <= innermost_left(): within the innermost dimension, then
  // one step that may carry.
  void next(int64_t steps) {
    if (!dims_.empty() && steps > 1) {
      for (size_t n = 0; n < N; ++n)
        offsets_[n] += (steps - 1) * strides_[n].back();
      index_.back() += steps - 1;
    }
    next();
  }

  void next() {
    for (size_t d = dims_.size(); d-- > 0;) {
      for (size_t n = 0; n < N; ++n)
        offsets_[n] += strides_[n][d];
      if (++index_[d] < dims_[d]) return;
      for (size_t n = 0; n < N; ++n)
        offsets_[n] -= strides_[n][d] * dims_[d];
      index_[d] = 0;
    }
  }

 private:
  std::vector<int64_t> dims_;
  std::array<std::vector<int64_t>, N> strides_;
  std::vector<int64_t> index_;
  std::array<int64_t, N> offsets_{};
};

}  // namespace octet::ref::detail
