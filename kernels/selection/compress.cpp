#include "kernels/selection/compress.h"

#include <algorithm>
#include <cstring>

namespace octet::selection {

std::vector<std::byte> compress(std::span<const std::byte> x, const Shape& shape, size_t element_size,
                                int64_t axis, std::span<const uint8_t> condition, int64_t& kept) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  const int64_t length = shape[static_cast<size_t>(axis)];
  const int64_t considered = std::min<int64_t>(length, static_cast<int64_t>(condition.size()));
  kept = 0;
  for (int64_t i = 0; i < considered; ++i)
    kept += condition[static_cast<size_t>(i)] != 0;
  const auto slice = static_cast<size_t>(inner) * element_size;
  std::vector<std::byte> out(static_cast<size_t>(outer * kept) * slice);
  if (out.empty()) return out;  // nothing kept, or empty slices
  std::byte* to = out.data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < considered; ++i)
      if (condition[static_cast<size_t>(i)] != 0) {
        std::memcpy(to, x.data() + static_cast<size_t>(o * length + i) * slice, slice);
        to += slice;
      }
  return out;
}

}  // namespace octet::selection
