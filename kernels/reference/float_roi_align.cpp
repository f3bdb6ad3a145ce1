// RoiAlign in float32 (float_roi_align.h).

#include "kernels/reference/float_roi_align.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/error.h"

namespace octet::ref {

namespace {

constexpr int64_t kMaxSamplesPerAxis = 1024;

// One bilinear sample: the four feature-map pixels around it and their weights (all zero where the sample
// lies more than a pixel outside the map).
struct Sample {
  int64_t p1 = 0, p2 = 0, p3 = 0, p4 = 0;  // pixel indices y * w + x
  float w1 = 0, w2 = 0, w3 = 0, w4 = 0;
};

Sample bilinear_sample(float yy, float xx, int64_t h, int64_t w) {
  Sample s;
  // (Written so that NaN, from coordinates that overflow, is outside too; an empty map has no pixels.)
  if (h == 0 || w == 0) return s;
  if (!(yy >= -1.0f && yy <= static_cast<float>(h) && xx >= -1.0f && xx <= static_cast<float>(w))) return s;
  yy = std::max(yy, 0.0f);
  xx = std::max(xx, 0.0f);
  auto y_low = static_cast<int64_t>(yy), x_low = static_cast<int64_t>(xx);
  int64_t y_high = y_low + 1, x_high = x_low + 1;
  if (y_low >= h - 1) {
    y_high = y_low = h - 1;
    yy = static_cast<float>(y_low);
  }
  if (x_low >= w - 1) {
    x_high = x_low = w - 1;
    xx = static_cast<float>(x_low);
  }
  const float ly = yy - static_cast<float>(y_low), lx = xx - static_cast<float>(x_low);
  const float hy = 1.0f - ly, hx = 1.0f - lx;
  s.p1 = y_low * w + x_low, s.p2 = y_low * w + x_high, s.p3 = y_high * w + x_low, s.p4 = y_high * w + x_high;
  s.w1 = hy * hx, s.w2 = hy * lx, s.w3 = ly * hx, s.w4 = ly * lx;
  return s;
}

// A region's corners in feature-map pixels, its size, and its samples per cell along each axis.
struct Region {
  float x1 = 0, y1 = 0, width = 0, height = 0;
  int64_t grid_h = 1, grid_w = 1;
};

Region region(const float* roi, int64_t r, const RoiAlignParams& p) {
  const float offset = p.half_pixel ? 0.5f : 0.0f;
  if (!std::isfinite(roi[0]) || !std::isfinite(roi[1]) || !std::isfinite(roi[2]) || !std::isfinite(roi[3]))
    throw Error("roi_align: region " + std::to_string(r) + " has a coordinate that is not finite");
  Region g;
  g.x1 = roi[0] * p.spatial_scale - offset, g.y1 = roi[1] * p.spatial_scale - offset;
  const float x2 = roi[2] * p.spatial_scale - offset, y2 = roi[3] * p.spatial_scale - offset;
  g.width = x2 - g.x1, g.height = y2 - g.y1;
  if (!p.half_pixel) {
    g.width = std::max(g.width, 1.0f);
    g.height = std::max(g.height, 1.0f);
  }
  // Adaptive sampling takes ceil(cell size) samples per axis; a region so large that a cell would take
  // more than kMaxSamplesPerAxis is refused rather than sampled for minutes.
  auto samples_per_axis = [&](float extent, int64_t cells, const char* axis) -> int64_t {
    if (p.sampling_ratio > 0) return p.sampling_ratio;
    const float samples = std::ceil(extent / static_cast<float>(cells));
    if (!(samples <= static_cast<float>(kMaxSamplesPerAxis)))
      throw Error("roi_align: region " + std::to_string(r) + " is " + std::to_string(extent) + " pixels " +
                  axis + ": more than " + std::to_string(kMaxSamplesPerAxis) + " samples per cell");
    return static_cast<int64_t>(samples);
  };
  g.grid_h = samples_per_axis(g.height, p.output_h, "tall");
  g.grid_w = samples_per_axis(g.width, p.output_w, "wide");
  return g;
}

}  // namespace

void check_roi_align_regions(const float* rois, const int64_t* batch_indices, int64_t first_roi,
                             int64_t count, int64_t n, const RoiAlignParams& p) {
  for (int64_t r = first_roi; r < first_roi + count; ++r) {
    const int64_t b = batch_indices[r];
    if (b < 0 || b >= n)
      throw Error("roi_align: batch index " + std::to_string(b) + " of region " + std::to_string(r) +
                  " is outside [0, " + std::to_string(n) + ")");
    (void)region(rois + r * 4, r, p);
  }
}

void roi_align(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* rois,
               const int64_t* batch_indices, int64_t first_roi, int64_t count, const RoiAlignParams& p,
               float* y) {
  check_roi_align_regions(rois, batch_indices, first_roi, count, n, p);
  std::vector<Sample> samples;
  for (int64_t r = first_roi; r < first_roi + count; ++r) {
    const int64_t b = batch_indices[r];
    const Region g = region(rois + r * 4, r, p);
    const float x1 = g.x1, y1 = g.y1;
    const float bin_h = g.height / static_cast<float>(p.output_h),
                bin_w = g.width / static_cast<float>(p.output_w);
    const int64_t grid_h = g.grid_h, grid_w = g.grid_w;
    const float per_cell = static_cast<float>(std::max<int64_t>(grid_h * grid_w, 1));
    const float* image = x + b * h * w * c;
    for (int64_t ph = 0; ph < p.output_h; ++ph)
      for (int64_t pw = 0; pw < p.output_w; ++pw) {
        samples.clear();
        for (int64_t iy = 0; iy < grid_h; ++iy) {
          const float yy = y1 + static_cast<float>(ph) * bin_h +
                           (static_cast<float>(iy) + 0.5f) * bin_h / static_cast<float>(grid_h);
          for (int64_t ix = 0; ix < grid_w; ++ix) {
            const float xx = x1 + static_cast<float>(pw) * bin_w +
                             (static_cast<float>(ix) + 0.5f) * bin_w / static_cast<float>(grid_w);
            samples.push_back(bilinear_sample(yy, xx, h, w));
          }
        }
        // Each channel's value starts at 0 and takes the samples in order; the channels are the inner loop,
        // over contiguous NHWC memory, so that the compiler vectorises it.
        float* out = y + ((r * p.output_h + ph) * p.output_w + pw) * c;
        std::fill_n(out, c, 0.0f);
        for (size_t k = 0; k < samples.size(); ++k) {
          const Sample& s = samples[k];
          const float *q1 = image + s.p1 * c, *q2 = image + s.p2 * c;
          const float *q3 = image + s.p3 * c, *q4 = image + s.p4 * c;
          if (p.max_mode) {
            for (int64_t ch = 0; ch < c; ++ch) {
              const float m =
                  std::max(std::max(std::max(s.w1 * q1[ch], s.w2 * q2[ch]), s.w3 * q3[ch]), s.w4 * q4[ch]);
              out[ch] = k == 0 ? m : std::max(out[ch], m);
            }
          } else {
            for (int64_t ch = 0; ch < c; ++ch)
              out[ch] += s.w1 * q1[ch] + s.w2 * q2[ch] + s.w3 * q3[ch] + s.w4 * q4[ch];
          }
        }
        if (!p.max_mode)
          for (int64_t ch = 0; ch < c; ++ch)
            out[ch] /= per_cell;
      }
  }
}

}  // namespace octet::ref
