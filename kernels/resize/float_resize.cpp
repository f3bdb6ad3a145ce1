#include "kernels/resize/float_resize.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/float_kernels.h"
#include "kernels/parallel.h"
#include "kernels/resize/float_resize_kernels.h"

namespace octet::resize {

void float_resize(Isa isa, const float* x, const Shape& nhwc, const ref::FloatResizeParams& p, float* y) {
  const FloatResizeKernels* k = float_kernels(isa).resize;
  if (k == nullptr || nhwc.size() != 4) return ref::float_resize(x, nhwc, p, y);
  element_count(nhwc, "float_resize");
  const int64_t n = nhwc[0], ih = nhwc[1], iw = nhwc[2], c = nhwc[3];
  const ref::FloatResizeAxis ay = ref::float_resize_axis(ih, p.base.out_h, p.base.scale_h, p);
  const ref::FloatResizeAxis ax = ref::float_resize_axis(iw, p.base.out_w, p.base.scale_w, p);
  const int64_t oh = p.base.out_h, ow = p.base.out_w, taps = ay.taps;
  element_count({n, oh, ow, c}, "float_resize output");
  if (c == 0) return;
  const bool nearest = p.mode == ref::FloatResizeMode::nearest;
  // Each task: whole output rows, (image, oy) pairs.
  // Few channels: scratch for the rows interpolated along x (kernels/resize/float_resize_simd.h), allocated
  // here, per task, where no ISA's flags apply. 16: the widest vector's floats.
  const bool few_channels = !nearest && 2 * c <= 16;
  parallel_ranges(n * oh, grain(ow * c * taps * taps), [&](int64_t r0, int64_t r1) {
    std::vector<float> scratch(few_channels ? static_cast<size_t>(taps * ow * c) : 0);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / oh, oy = r % oh;
      const float* image = x + b * ih * iw * c;
      float* out = y + r * ow * c;
      if (nearest) {  // copies: whole pixels
        const float* line = image + ay.index[static_cast<size_t>(oy)] * iw * c;
        for (int64_t ox = 0; ox < ow; ++ox)
          std::memcpy(out + ox * c, line + ax.index[static_cast<size_t>(ox)] * c,
                      static_cast<size_t>(c) * sizeof(float));
        continue;
      }
      const FloatResizeRow row{image,
                               iw,
                               c,
                               ow,
                               taps,
                               &ay.index[static_cast<size_t>(oy * taps)],
                               &ay.weight[static_cast<size_t>(oy * taps)],
                               ax.index.data(),
                               ax.weight.data(),
                               scratch.empty() ? nullptr : scratch.data()};
      k->interpolate_row(row, out);
    }
  });
}

}  // namespace octet::resize
