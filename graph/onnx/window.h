#pragma once

// The window geometry that convolutions and pools share at import: bounds on their attributes, and ONNX's
// auto_pad.

#include <cstdint>
#include <string>
#include <vector>

namespace onnx {
class NodeProto;
}

namespace octet::graph::onnx_import {

// Bounds on a window's geometry, far beyond any real model, under which the size arithmetic at import and
// in the kernels (stride * input, dilation * kernel, sums with pads) cannot overflow int64.
inline constexpr int64_t kMaxStep = int64_t{1} << 16;         // strides, dilations, pads, output padding
inline constexpr int64_t kMaxSpatialSize = int64_t{1} << 31;  // heights and widths, kernel sizes

// Throws an octet::Error naming the node and `what` unless every value is in [min, max].
void check_range(const onnx::NodeProto& node, const char* what, const std::vector<int64_t>& values,
                 int64_t min, int64_t max);

struct SpatialPads {
  int64_t begin = 0;
  int64_t end = 0;
};

// ONNX auto_pad (SAME_UPPER, SAME_LOWER or VALID) of a window over `in` positions: the output keeps
// ceil(in / stride) positions, the padding split evenly, its odd one at the end (SAME_UPPER) or the begin.
// The arguments must be inside the bounds above.
SpatialPads auto_pads(const std::string& mode, int64_t in, int64_t kernel, int64_t stride, int64_t dilation);

}  // namespace octet::graph::onnx_import
