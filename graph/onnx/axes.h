#pragma once

// Axis and dimension arithmetic shared by the lowering files: ONNX axes (negative counting from the end)
// to octet's, the physical axis of an NHWC-stored image, and integer lists read from constants.

#include <cstdint>
#include <vector>

#include "graph/onnx/constant.h"

namespace onnx {
class NodeProto;
}

namespace octet::graph::onnx_import {

// An ONNX axis in [-rank, rank) as an index in [0, rank); throws naming the node otherwise.
int64_t normalize_axis(const onnx::NodeProto& node, int64_t axis, int64_t rank);

// A dimension or index read from a constant tensor, whose values are doubles: converting a double outside
// int64's range is undefined behavior, so a value no dimension could have is refused before the conversion.
int64_t to_dimension(const onnx::NodeProto& node, double v, const char* what);

// Every value of an integer constant (axes, pads, repeats, shapes), checked by to_dimension.
std::vector<int64_t> int_values(const onnx::NodeProto& node, const Constant& c, const char* what);
// Slice's starts or ends. ONNX clamps them to the dimension, and exporters write INT64_MIN / INT64_MAX
// (or one off) for "to the very beginning / end": held as doubles they are 2^63, so they are clamped to
// +-2^62 here, beyond any dimension, instead of refused.
std::vector<int64_t> slice_bounds(const onnx::NodeProto& node, const Constant& c, const char* what);

// Physical axis of ONNX axis `a` (in [0, 4)) for an NHWC-stored image tensor.
int64_t nhwc_axis(int64_t a);

// The ONNX axis stored at physical axis `p` of an NHWC image tensor (the inverse of nhwc_axis).
int64_t onnx_axis_of_nhwc(int64_t p);

}  // namespace octet::graph::onnx_import
