#include "kernels/resize/resize.h"

#include <tbb/parallel_for.h>

#include <cstring>

namespace octet::resize {

Resize prepare_resize(const ref::ResizeParams& params, int64_t in_h, int64_t in_w) {
  Resize r;
  r.nearest = params.mode == ref::ResizeMode::nearest;
  r.in_h = in_h;
  r.in_w = in_w;
  r.out_h = params.out_h;
  r.out_w = params.out_w;
  r.rows = ref::resize_axis_taps(in_h, params.out_h, params.scale_h, params);
  r.columns = ref::resize_axis_taps(in_w, params.out_w, params.scale_w, params);
  return r;
}

void run(const Resize& r, const uint8_t* input, int64_t n, int64_t c, uint8_t* output) {
  constexpr int32_t one = 1 << ref::kResizeWeightBits;
  constexpr int32_t half = int32_t{1} << (2 * ref::kResizeWeightBits - 1);
  tbb::parallel_for(int64_t{0}, n * r.out_h, [&](int64_t row) {
    const int64_t b = row / r.out_h;
    const ref::ResizeTap& ty = r.rows[static_cast<size_t>(row % r.out_h)];
    const uint8_t* top = input + (b * r.in_h + ty.index0) * r.in_w * c;
    const uint8_t* bottom = input + (b * r.in_h + ty.index1) * r.in_w * c;
    uint8_t* out = output + row * r.out_w * c;
    for (int64_t x = 0; x < r.out_w; ++x, out += c) {
      const ref::ResizeTap& tx = r.columns[static_cast<size_t>(x)];
      if (r.nearest) {
        std::memcpy(out, top + tx.index0 * c, static_cast<size_t>(c));
        continue;
      }
      const uint8_t *a = top + tx.index0 * c, *bb = top + tx.index1 * c;
      const uint8_t *d = bottom + tx.index0 * c, *e = bottom + tx.index1 * c;
      const int32_t wx1 = tx.weight1, wx0 = one - wx1, wy1 = ty.weight1, wy0 = one - wy1;
      for (int64_t ch = 0; ch < c; ++ch) {
        const int32_t upper = wx0 * a[ch] + wx1 * bb[ch], lower = wx0 * d[ch] + wx1 * e[ch];
        out[ch] = static_cast<uint8_t>((wy0 * upper + wy1 * lower + half) >> (2 * ref::kResizeWeightBits));
      }
    }
  });
}

}  // namespace octet::resize
