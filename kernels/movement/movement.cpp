#include "kernels/movement/movement.h"

#include "kernels/parallel.h"
#include "kernels/reference/movement_work.h"

namespace octet::movement {
namespace {

// Every unit is written by the same code whichever range it falls in, so any partition writes the same
// bytes (the references run the one range [0, units)).
void run_parallel(const ref::detail::MovementWork& work) {
  parallel_ranges(work.units, grain(work.unit_bytes, kTaskBytes),
                  [&](int64_t first, int64_t last) { work.run(first, last); });
}

}  // namespace

void transpose(const void* x, const Shape& s, const std::vector<int64_t>& perm, size_t element_size,
               void* y) {
  run_parallel(ref::detail::transpose_work(x, s, perm, element_size, y));
}

void slice(const void* x, const Shape& s, const std::vector<ref::SliceAxis>& axes, size_t element_size,
           void* y) {
  run_parallel(ref::detail::slice_work(x, s, axes, element_size, y));
}

void pad(const void* x, const Shape& s, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
         ref::PadMode mode, const void* value, size_t element_size, void* y, std::string_view what) {
  run_parallel(ref::detail::pad_work(x, s, begin, end, mode, value, element_size, y, what));
}

void gather(const void* x, const Shape& s, int64_t axis, const int64_t* indices, const Shape& index_shape,
            size_t element_size, void* y, std::string_view what) {
  run_parallel(ref::detail::gather_work(x, s, axis, indices, index_shape, element_size, y, what));
}

void gather_elements(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                     const Shape& index_shape, size_t element_size, void* y, std::string_view what) {
  run_parallel(ref::detail::gather_elements_work(x, s, axis, indices, index_shape, element_size, y, what));
}

void gather_nd(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
               int64_t batch_dims, size_t element_size, void* y, std::string_view what) {
  run_parallel(ref::detail::gather_nd_work(x, s, indices, index_shape, batch_dims, element_size, y, what));
}

void expand(const void* x, const Shape& s, const Shape& out, size_t element_size, void* y) {
  run_parallel(ref::detail::expand_work(x, s, out, element_size, y));
}

void tile(const void* x, const Shape& s, const std::vector<int64_t>& repeats, size_t element_size, void* y) {
  run_parallel(ref::detail::tile_work(x, s, repeats, element_size, y));
}

void concat(const std::vector<const void*>& xs, const std::vector<Shape>& shapes, int64_t axis,
            size_t element_size, void* y) {
  run_parallel(ref::detail::concat_work(xs, shapes, axis, element_size, y));
}

void depth_to_space(const void* x, const Shape& nchw, int64_t block, bool crd, size_t element_size, void* y) {
  run_parallel(ref::detail::depth_to_space_work(x, nchw, block, crd, element_size, y));
}

void space_to_depth(const void* x, const Shape& nchw, int64_t block, size_t element_size, void* y) {
  run_parallel(ref::detail::space_to_depth_work(x, nchw, block, element_size, y));
}

}  // namespace octet::movement
