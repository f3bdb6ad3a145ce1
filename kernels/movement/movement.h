#pragma once

// The element-moving operators of kernels/reference/movement.h run in parallel over independent output
// ranges (oneTBB): the same bytes as the references for any thread count.

#include "kernels/reference/indexing.h"
#include "kernels/reference/movement.h"

namespace octet::movement {

void transpose(const void* x, const Shape& s, const std::vector<int64_t>& perm, size_t element_size, void* y);
void slice(const void* x, const Shape& s, const std::vector<ref::SliceAxis>& axes, size_t element_size,
           void* y);
void pad(const void* x, const Shape& s, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
         ref::PadMode mode, const void* value, size_t element_size, void* y, std::string_view what);
void gather(const void* x, const Shape& s, int64_t axis, const int64_t* indices, const Shape& index_shape,
            size_t element_size, void* y, std::string_view what);
void gather_elements(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                     const Shape& index_shape, size_t element_size, void* y, std::string_view what);
void gather_nd(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
               int64_t batch_dims, size_t element_size, void* y, std::string_view what);
void expand(const void* x, const Shape& s, const Shape& out, size_t element_size, void* y);
void tile(const void* x, const Shape& s, const std::vector<int64_t>& repeats, size_t element_size, void* y);
void concat(const std::vector<const void*>& xs, const std::vector<Shape>& shapes, int64_t axis,
            size_t element_size, void* y);
void depth_to_space(const void* x, const Shape& nchw, int64_t block, bool crd, size_t element_size, void* y);
void space_to_depth(const void* x, const Shape& nchw, int64_t block, size_t element_size, void* y);
// The channel shuffle of `pixels` rows of groups x per_group elements: y[p][j * groups + i] =
// x[p][i * per_group + j], the transpose of each row as a [groups, per_group] matrix.
void channel_shuffle(const void* x, int64_t pixels, int64_t groups, int64_t per_group, size_t element_size,
                     void* y);

}  // namespace octet::movement
