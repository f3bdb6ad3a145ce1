#pragma once

// ONNX Compress: the slices of a tensor along one axis (or the elements of the flattened tensor) whose
// condition is true.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/tensor.h"

namespace octet::selection {

// `condition[i]` (0 or not) keeps slice i along `axis` of `x` (`shape`, elements of `element_size` bytes);
// slices past the condition's length are dropped. Returns the kept slices' bytes, in order, and sets
// `kept` to their count.
std::vector<std::byte> compress(std::span<const std::byte> x, const Shape& shape, size_t element_size,
                                int64_t axis, std::span<const uint8_t> condition, int64_t& kept);

}  // namespace octet::selection
