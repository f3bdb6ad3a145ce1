#include "graph/onnx/window.h"

#include <onnx/onnx_pb.h>

#include <algorithm>

#include "graph/onnx/attributes.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

void check_range(const onnx::NodeProto& node, const char* what, const std::vector<int64_t>& values,
                 int64_t min, int64_t max) {
  for (const int64_t v : values)
    if (v < min || v > max)
      throw Error(describe(node) + ": " + what + " must be in [" + std::to_string(min) + ", " +
                  std::to_string(max) + "], got " + std::to_string(v));
}

SpatialPads auto_pads(const std::string& mode, int64_t in, int64_t kernel, int64_t stride, int64_t dilation) {
  if (mode == "VALID") return {0, 0};
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - in);
  if (mode == "SAME_UPPER") return {total / 2, total - total / 2};
  return {total - total / 2, total / 2};  // SAME_LOWER
}

}  // namespace octet::graph::onnx_import
