#pragma once

// Operators that only move elements (no arithmetic), for elements of any type: `element_size` bytes each,
// row-major. They serve uint8, float, bool and int64 tensors alike, at run time and in constant folding.
// The references are also fast enough to be the kernels (whole contiguous runs are memcpy'd);
// kernels/movement/movement.h runs them in parallel.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/tensor.h"

namespace octet::ref {

// y = x with dimensions permuted: output dimension i is input dimension perm[i].
void transpose(const void* x, const Shape& s, const std::vector<int64_t>& perm, size_t element_size, void* y);

// One dimension of a slice: elements start, start + step, ... (count of them); start is in range when
// count > 0, step != 0.
struct SliceAxis {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};
// ONNX Slice's starts / ends / axes / steps (axes may be negative, empty = all; steps empty = 1) as one
// SliceAxis per dimension of `s`, with the spec's clamping of out-of-range starts and ends. Throws
// octet::Error naming `what` for a zero step, a repeated or out-of-range axis, or mismatched lengths.
std::vector<SliceAxis> slice_axes(const Shape& s, const std::vector<int64_t>& starts,
                                  const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                                  const std::vector<int64_t>& steps, std::string_view what);
Shape slice_shape(const std::vector<SliceAxis>& axes);
void slice(const void* x, const Shape& s, const std::vector<SliceAxis>& axes, size_t element_size, void* y);

// ONNX Pad: `begin` / `end` elements added (negative: removed) per dimension; constant mode fills with
// the one element at `value`; reflect mirrors without repeating the edge, edge repeats it, wrap wraps
// around. Negative pads crop first and the modes pad what is left (as onnxruntime does); pads wider than
// that repeat the mirroring / wrapping (numpy's np.pad, ONNX's reference: the spec's own reflect example
// pads a dimension of 2 by 2). Throws naming `what` when a mode cannot produce the shape: reflect needs 2
// elements left in a padded dimension, edge and wrap 1.
enum class PadMode : uint8_t { constant, reflect, edge, wrap };
Shape pad_shape(const Shape& s, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                std::string_view what);
void pad(const void* x, const Shape& s, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
         PadMode mode, const void* value, size_t element_size, void* y, std::string_view what);

// ONNX Gather along `axis`: y has shape s[:axis] + index_shape + s[axis + 1:]. Negative indices count from
// the end; an index out of [-s[axis], s[axis]) throws naming `what`.
void gather(const void* x, const Shape& s, int64_t axis, const int64_t* indices, const Shape& index_shape,
            size_t element_size, void* y, std::string_view what);

// ONNX Expand / Tile: y = x broadcast to `out` (which must be the broadcast of s and out), or x repeated
// repeats[d] times along every dimension d.
void expand(const void* x, const Shape& s, const Shape& out, size_t element_size, void* y);
void tile(const void* x, const Shape& s, const std::vector<int64_t>& repeats, size_t element_size, void* y);

// Concatenation along `axis` of tensors whose other dimensions agree.
void concat(const std::vector<const void*>& xs, const std::vector<Shape>& shapes, int64_t axis,
            size_t element_size, void* y);

// DepthToSpace / SpaceToDepth on NCHW (plain) tensors, ONNX's DCR and CRD orders.
void depth_to_space(const void* x, const Shape& nchw, int64_t block, bool crd, size_t element_size, void* y);
void space_to_depth(const void* x, const Shape& nchw, int64_t block, size_t element_size, void* y);

}  // namespace octet::ref
