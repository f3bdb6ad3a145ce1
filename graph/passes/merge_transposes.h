#pragma once

#include "graph/ir.h"

namespace octet::graph {

// Merges a transpose of a transpose into one: the importer's layout changes meet the model's own Transposes
// (an NHWC convolution output moved back to NCHW for an ONNX Transpose to channels-last, as ConvNeXt and
// Swin permute after their patch embedding). The first must be read by the second alone. Where the two cancel
// out, what is left is a reshape: the same bytes under the second's shape and layout, one copy.
void merge_transposes(Graph& graph);

}  // namespace octet::graph
