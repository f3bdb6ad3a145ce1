#pragma once

// RoiAlign (ONNX, opset 10 and 16; Mask R-CNN's pooling of regions of interest, torchvision's
// MultiScaleRoIAlign): for each region and each cell of an output_h x output_w grid over it, the bilinear
// samples of the feature map at a grid_h x grid_w lattice inside the cell, averaged (avg) or their largest
// weighted corner term taken (max, as ONNX Runtime computes it). In float32, in ONNX Runtime's order of
// operations, on channel-last (NHWC) data.

#include <cstdint>

namespace octet::ref {

struct RoiAlignParams {
  bool max_mode = false;
  int64_t output_h = 1, output_w = 1;
  int64_t sampling_ratio = 0;  // samples per cell along each axis; 0: ceil(cell size) of each region
  float spatial_scale = 1.0f;  // region coordinates to feature-map pixels
  // half_pixel (opset 16's default): region corners shifted by -0.5 pixel; output_half_pixel (opset 10):
  // not shifted, and regions smaller than a pixel widened to one.
  bool half_pixel = true;
};

// x: [n, h, w, c] float; rois: [num_rois, 4] (x1, y1, x2, y2); batch_indices: [num_rois], each in [0, n);
// y: [num_rois, output_h, output_w, c]. Regions [first_roi, first_roi + count) only, so that callers can
// split the work. An octet::Error names the region where a batch index is out of range, a coordinate is
// not finite, or adaptive sampling (sampling_ratio 0) would take more than 1024 samples per cell and axis.
// The checks roi_align makes, for regions [first_roi, first_roi + count): callers that split the work check
// every region first, so that an error comes before anything is written.
void check_roi_align_regions(const float* rois, const int64_t* batch_indices, int64_t first_roi,
                             int64_t count, int64_t n, const RoiAlignParams& p);

void roi_align(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* rois,
               const int64_t* batch_indices, int64_t first_roi, int64_t count, const RoiAlignParams& p,
               float* y);

}  // namespace octet::ref
