// Detection operators that compute in float inside a compiled stage: RoiAlign (Mask / Faster R-CNN's
// region pooling). (NonMaxSuppression, whose output size depends on the data, runs between stages:
// graph/stages.h.)

#include <cmath>

#include "graph/onnx/attributes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

bool Importer::lower_detection(const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") return false;
  if (node.op_type() != "RoiAlign") return false;
  const Attributes a(node);
  a.expect_only({"mode", "output_height", "output_width", "sampling_ratio", "spatial_scale",
                 "coordinate_transformation_mode"});
  RoiAlignAttrs attrs;
  ref::RoiAlignParams& p = attrs.params;
  const std::string mode = a.get_string("mode", "avg");
  if (mode != "avg" && mode != "max") throw Error(describe(node) + ": unknown mode '" + mode + "'");
  p.max_mode = mode == "max";
  p.output_h = a.get_int("output_height", 1);
  p.output_w = a.get_int("output_width", 1);
  p.sampling_ratio = a.get_int("sampling_ratio", 0);
  p.spatial_scale = a.get_float("spatial_scale", 1.0f);
  // Opset 16 added the attribute with half_pixel as its default; opset 10's RoiAlign is output_half_pixel.
  const std::string transform =
      a.get_string("coordinate_transformation_mode", opset_ >= 16 ? "half_pixel" : "output_half_pixel");
  if (transform != "half_pixel" && transform != "output_half_pixel")
    throw Error(describe(node) + ": unknown coordinate_transformation_mode '" + transform + "'");
  p.half_pixel = transform == "half_pixel";
  if (p.output_h < 1 || p.output_w < 1 || p.output_h > 4096 || p.output_w > 4096)
    throw Error(describe(node) + ": output_height and output_width must be 1 to 4096, got " +
                std::to_string(p.output_h) + " and " + std::to_string(p.output_w));
  if (p.sampling_ratio < 0 || p.sampling_ratio > 1024)
    throw Error(describe(node) + ": sampling_ratio must be 0 to 1024, got " +
                std::to_string(p.sampling_ratio));
  if (!std::isfinite(p.spatial_scale) || p.spatial_scale <= 0.0f)
    throw Error(describe(node) + ": spatial_scale must be finite and > 0");
  const ValueId x = as_nhwc(float_input(node, 0), node);
  if (graph_.value(x).shape.size() != 4)
    throw Error(describe(node) + ": X must have rank 4, got " + to_string(graph_.value(x).shape));
  const ValueId rois = as_plain(float_input(node, 1), node);
  const ValueId batch = index_input(node, 2);
  Value out = graph_.value(x);
  out.name = node.output(0);
  out.quant = {};
  out.constant = nullptr;
  out.layout = Layout::nhwc;
  define_real(node, 0, emit(node, OpKind::roi_align, {x, rois, batch}, attrs, out));
  return true;
}

}  // namespace octet::graph::onnx_import
