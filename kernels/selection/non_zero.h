#pragma once

// ONNX NonZero: the coordinates of a tensor's non-zero elements.

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/tensor.h"

namespace octet::selection {

// `nonzero[i]` (0 or not) says whether element i (row-major) of a tensor of `shape` is non-zero. Returns the
// [rank, count] coordinates, row d holding axis d's, elements in row-major order. A scalar counts as a
// one-element vector (ONNX Runtime's choice): [1, count].
std::vector<int64_t> non_zero_coordinates(std::span<const uint8_t> nonzero, const Shape& shape);

}  // namespace octet::selection
