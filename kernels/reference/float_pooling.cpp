#include "kernels/reference/float_pooling.h"

#include <algorithm>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/float_reduce_order.h"

namespace octet::ref {

namespace {

// The NHWC shape must be rank 4 with H and W >= 1 (every window then holds at least one input element or
// padding); N and C may be 0 (nothing to compute).
void check_float_nhwc(std::string_view op, const Shape& nhwc) {
  if (nhwc.size() != 4)
    throw Error(std::string(op) + ": input must be NHWC (rank 4), got " + to_string(nhwc));
  element_count(nhwc, op);
  if (nhwc[1] < 1 || nhwc[2] < 1)
    throw Error(std::string(op) + ": input height and width must be >= 1, got " + to_string(nhwc));
}

struct PoolSizes {
  int64_t n, ih, iw, c, oh, ow;
};

PoolSizes pool_sizes(std::string_view op, const Shape& nhwc, const Pool2dParams& p) {
  check_float_nhwc(op, nhwc);
  PoolSizes s{nhwc[0], nhwc[1], nhwc[2], nhwc[3], 0, 0};
  s.oh = pool_output_size(op, "height", s.ih, p.kernel_h, p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom,
                          p.ceil_mode);
  s.ow = pool_output_size(op, "width", s.iw, p.kernel_w, p.stride_w, p.dilation_w, p.pad.left, p.pad.right,
                          p.ceil_mode);
  return s;
}

}  // namespace

void float_max_pool2d(const float* x, const Shape& nhwc, const Pool2dParams& p, FloatClamp clamp, float* y) {
  const PoolSizes s = pool_sizes("float_max_pool2d", nhwc, p);
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t oy = 0; oy < s.oh; ++oy)
      for (int64_t ox = 0; ox < s.ow; ++ox)
        for (int64_t ch = 0; ch < s.c; ++ch) {
          // Padding never wins: it is not visited. A window whose taps all miss the input (possible only
          // through dilation) yields -inf, max's identity.
          float best = -std::numeric_limits<float>::infinity();
          for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
            const int64_t iy = oy * p.stride_h - p.pad.top + ky * p.dilation_h;
            if (iy < 0 || iy >= s.ih) continue;
            for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
              const int64_t ix = ox * p.stride_w - p.pad.left + kx * p.dilation_w;
              if (ix < 0 || ix >= s.iw) continue;
              best = max_propagating_nan(best, x[((b * s.ih + iy) * s.iw + ix) * s.c + ch]);
            }
          }
          *y++ = clamp.apply(best);
        }
}

void float_average_pool2d(const float* x, const Shape& nhwc, const Pool2dParams& p, FloatClamp clamp,
                          float* y) {
  if (p.dilation_h != 1 || p.dilation_w != 1) throw Error("float_average_pool2d: dilation is not supported");
  const PoolSizes s = pool_sizes("float_average_pool2d", nhwc, p);
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t oy = 0; oy < s.oh; ++oy)
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        // The uint8 operator's window rule (kernels/reference/pooling.h): the window clipped to the padded
        // input, and count_include_pad counting the padding inside it.
        const int64_t y0 = oy * p.stride_h - p.pad.top, x0 = ox * p.stride_w - p.pad.left;
        const int64_t y1 = std::min(y0 + p.kernel_h, s.ih + p.pad.bottom);
        const int64_t x1 = std::min(x0 + p.kernel_w, s.iw + p.pad.right);
        const int64_t vy0 = std::max<int64_t>(y0, 0), vx0 = std::max<int64_t>(x0, 0);
        const int64_t vy1 = std::min(y1, s.ih), vx1 = std::min(x1, s.iw);
        const int64_t count = p.count_include_pad ? (y1 - y0) * (x1 - x0) : (vy1 - vy0) * (vx1 - vx0);
        for (int64_t ch = 0; ch < s.c; ++ch) {
          float sum = 0.0f;
          for (int64_t iy = vy0; iy < vy1; ++iy)
            for (int64_t ix = vx0; ix < vx1; ++ix)
              sum = sum + x[((b * s.ih + iy) * s.iw + ix) * s.c + ch];
          *y++ = clamp.apply(sum / static_cast<float>(count));
        }
      }
}

void float_global_average_pool(const float* x, const Shape& nhwc, float* y) {
  check_float_nhwc("float_global_average_pool", nhwc);
  const int64_t n = nhwc[0], hw = nhwc[1] * nhwc[2], c = nhwc[3];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      y[b * c + ch] = ordered_sum(x + b * hw * c + ch, hw, c) / static_cast<float>(hw);
}

}  // namespace octet::ref
