#pragma once

// The element-moving operators of kernels/reference/movement.h prepared for execution: inputs validated
// (every error is thrown here, before anything is written) and the output split into independent units, any
// range of which can be written on its own. The references run all units in one call; the parallel kernels
// (kernels/movement/movement.h) hand ranges of units to oneTBB. Both execute the same code, so they write
// the same bytes for any partition of the units.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "kernels/reference/movement.h"

namespace octet::ref::detail {

struct MovementWork {
  int64_t units = 0;       // independent pieces of the output: output elements, or tiles of a transpose
  int64_t unit_bytes = 1;  // about how many bytes one unit writes, to size parallel tasks
  std::function<void(int64_t first, int64_t last)> run;  // writes units [first, last)

  void run_all() const {
    if (units > 0) run(0, units);
  }
};

// Output element i (row-major over `dims`) is input element base + sum over k of index_k * strides[k]
// (strides in elements, any sign). Transpose, Slice, DepthToSpace and SpaceToDepth are all this copy. The
// caller guarantees that every addressed input element lies inside x.
MovementWork strided_copy_work(const void* x, std::vector<int64_t> dims, std::vector<int64_t> strides,
                               int64_t base, size_t element_size, void* y);

MovementWork transpose_work(const void* x, const Shape& s, const std::vector<int64_t>& perm,
                            size_t element_size, void* y);
MovementWork slice_work(const void* x, const Shape& s, const std::vector<SliceAxis>& axes,
                        size_t element_size, void* y);
MovementWork pad_work(const void* x, const Shape& s, const std::vector<int64_t>& begin,
                      const std::vector<int64_t>& end, PadMode mode, const void* value, size_t element_size,
                      void* y, std::string_view what);
MovementWork gather_work(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                         const Shape& index_shape, size_t element_size, void* y, std::string_view what);
MovementWork expand_work(const void* x, const Shape& s, const Shape& out, size_t element_size, void* y);
MovementWork tile_work(const void* x, const Shape& s, const std::vector<int64_t>& repeats,
                       size_t element_size, void* y);
MovementWork concat_work(const std::vector<const void*>& xs, const std::vector<Shape>& shapes, int64_t axis,
                         size_t element_size, void* y);
MovementWork depth_to_space_work(const void* x, const Shape& nchw, int64_t block, bool crd,
                                 size_t element_size, void* y);
MovementWork space_to_depth_work(const void* x, const Shape& nchw, int64_t block, size_t element_size,
                                 void* y);

// Row-major element strides of `s`; all 0 for an empty tensor (nothing in it is addressed, and the products
// of its other dimensions could exceed int64 before reaching the zero).
std::vector<int64_t> contiguous_strides(const Shape& s);
// `axis` counted from the end when negative, checked against `rank` (throws octet::Error naming `what`).
size_t normalized_axis(int64_t axis, size_t rank, std::string_view what);

// Checks shared by the operators: a usable element size, and a byte count of `count` elements that fits
// in memory arithmetic. Both throw octet::Error naming `what`.
void check_element_size(size_t element_size, std::string_view what);
void check_byte_count(int64_t count, size_t element_size, std::string_view what);

}  // namespace octet::ref::detail
