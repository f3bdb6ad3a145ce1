#include "kernels/selection/non_zero.h"

#include <algorithm>

namespace octet::selection {

std::vector<int64_t> non_zero_coordinates(std::span<const uint8_t> nonzero, const Shape& shape) {
  const Shape dims = shape.empty() ? Shape{1} : shape;
  const auto rank = dims.size();
  const auto count =
      static_cast<size_t>(std::count_if(nonzero.begin(), nonzero.end(), [](uint8_t b) { return b != 0; }));
  std::vector<int64_t> out(rank * count);
  std::vector<int64_t> index(rank, 0);  // the coordinates of element i
  size_t column = 0;
  for (size_t i = 0; i < nonzero.size(); ++i) {
    if (nonzero[i] != 0) {
      for (size_t d = 0; d < rank; ++d)
        out[d * count + column] = index[d];
      ++column;
    }
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < dims[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace octet::selection
