#pragma once

// ONNX's index-driven operators, for elements of any type (`element_size` bytes each, row-major):
// GatherElements and GatherND select elements or slices by computed indices, ScatterElements and ScatterND
// write updates into a copy of the data. Indices arrive at run time (a TopK's or an ArgMax's output, say),
// so every index is checked before anything is written, and one out of range throws octet::Error naming
// `what` and the offending element. Negative indices count from the end of their dimension.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernels/reference/movement_work.h"
#include "kernels/tensor.h"

namespace octet::ref {

// GatherElements along `axis`: y has index_shape (the rank of s; every other dimension at most s's), and
// y[i] = x[i with i[axis] replaced by indices[i]].
void check_gather_elements_shapes(const Shape& s, int64_t axis, const Shape& index_shape,
                                  std::string_view what);
void gather_elements(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                     const Shape& index_shape, size_t element_size, void* y, std::string_view what);

// GatherND with `batch_dims` leading dimensions shared by x and the indices: the last dimension of the
// indices (k of them) addresses x's dimensions batch_dims .. batch_dims + k - 1, and each index tuple
// selects the slice of x that follows. y's shape is index_shape[:-1] + s[batch_dims + k:].
Shape gather_nd_shape(const Shape& s, const Shape& index_shape, int64_t batch_dims, std::string_view what);
void gather_nd(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
               int64_t batch_dims, size_t element_size, void* y, std::string_view what);

// How a scatter combines an update with the element it lands on: replace it (`none`), or ONNX's reductions
// (opsets 16 and 18). Updates are applied one after another in their row-major order, so repeated indices
// give the same result every run: the last one wins for `none`, and the reductions accumulate in that order.
enum class ScatterReduction : uint8_t { none, add, mul, max, min };
// The elements a reduction computes on: float32 or int64 at run time (int64 wraps around on overflow),
// float64 in constant folding. `bytes` moves elements of any size and allows only `none`. max and min keep
// the element unless the update compares greater (smaller), as std::max / std::min do.
enum class ScatterArithmetic : uint8_t { bytes, f32, f64, s64 };

// ScatterElements along `axis`: y = x, then each update u[i] goes to x's element at i with i[axis] replaced
// by indices[i]. The indices and updates share index_shape (rank of s; every other dimension at most s's).
void scatter_elements(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                      const Shape& index_shape, const void* updates, size_t element_size,
                      ScatterReduction reduction, ScatterArithmetic arithmetic, void* y,
                      std::string_view what);

// ScatterND: y = x, then each index tuple (the indices' last dimension, k <= rank of s) addresses a slice
// s[k:] of y that the matching slice of the updates (shape index_shape[:-1] + s[k:]) replaces or combines
// with.
void check_scatter_nd_shapes(const Shape& s, const Shape& index_shape, const Shape& update_shape,
                             std::string_view what);
void scatter_nd(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
                const void* updates, size_t element_size, ScatterReduction reduction,
                ScatterArithmetic arithmetic, void* y, std::string_view what);

namespace detail {

// The gathers prepared for parallel execution (see movement_work.h): the indices checked, units of output
// elements (GatherElements) or of slices (GatherND).
MovementWork gather_elements_work(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                                  const Shape& index_shape, size_t element_size, void* y,
                                  std::string_view what);
MovementWork gather_nd_work(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
                            int64_t batch_dims, size_t element_size, void* y, std::string_view what);

}  // namespace detail
}  // namespace octet::ref
