#include "graph/onnx/axes.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "graph/onnx/attributes.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

int64_t normalize_axis(const onnx::NodeProto& node, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    throw Error(describe(node) + ": axis " + std::to_string(axis) + " is outside rank " +
                std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

int64_t to_dimension(const onnx::NodeProto& node, double v, const char* what) {
  if (!(std::abs(v) <= 0x1p62))
    throw Error(describe(node) + ": " + what + " " + std::to_string(v) + " is out of range");
  return static_cast<int64_t>(v);
}

std::vector<int64_t> int_values(const onnx::NodeProto& node, const Constant& c, const char* what) {
  std::vector<int64_t> out;
  out.reserve(c.values.size());
  for (double v : c.values)
    out.push_back(to_dimension(node, v, what));
  return out;
}

std::vector<int64_t> slice_bounds(const onnx::NodeProto& node, const Constant& c, const char* what) {
  std::vector<int64_t> out;
  out.reserve(c.values.size());
  for (double v : c.values)
    if (std::isnan(v)) throw Error(describe(node) + ": " + what + " is not a number");
  for (double v : c.values)
    out.push_back(static_cast<int64_t>(std::clamp(v, -0x1p62, 0x1p62)));
  return out;
}

int64_t nhwc_axis(int64_t a) {
  constexpr int64_t map[] = {0, 3, 1, 2};
  return map[a];
}

int64_t onnx_axis_of_nhwc(int64_t p) {
  constexpr int64_t map[] = {0, 2, 3, 1};
  return map[p];
}

}  // namespace octet::graph::onnx_import
