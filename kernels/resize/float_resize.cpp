#include "kernels/resize/float_resize.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
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
  // Linear: 2 taps per axis, cubic: 4 (ref::float_resize_axis).
  constexpr int64_t kMaxTaps = 4;
  if (taps > kMaxTaps || ax.taps > kMaxTaps) return ref::float_resize(x, nhwc, p, y);
  element_count({n, oh, ow, c}, "float_resize output");
  if (c == 0) return;
  const bool nearest = p.mode == ref::FloatResizeMode::nearest;
  const FewChannelTaps* few = nullptr;
  FewChannelTaps few_taps;
  std::vector<int32_t> offsets;
  std::vector<float> weights;
  // Few channels (FloatResizeKernels::few_channels_max): the x taps of every element of a row, built for
  // this call (kernels/resize/float_resize_kernels.h). Offsets within a row are int32 (the gathers').
  if (!nearest && c <= k->few_channels_max && iw * c <= INT32_MAX) {
    few_taps.span = ow * c;
    few_taps.padded = (few_taps.span + 15) / 16 * 16;
    few_taps.taps = ax.taps;
    offsets.assign(static_cast<size_t>(ax.taps * few_taps.padded), 0);
    weights.assign(offsets.size(), 0.0f);
    for (int64_t kx = 0; kx < ax.taps; ++kx)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t ch = 0; ch < c; ++ch) {
          const auto at = static_cast<size_t>(kx * few_taps.padded + ox * c + ch);
          const auto tap = static_cast<size_t>(ox * ax.taps + kx);
          offsets[at] = static_cast<int32_t>(ax.index[tap] * c + ch);
          weights[at] = ax.weight[tap];
        }
    few_taps.offset = offsets.data();
    few_taps.weight = weights.data();
    few = &few_taps;
  }
  // Each task: whole output rows, (image, oy) pairs.
  parallel_ranges(n * oh, grain(ow * c * taps * taps), [&](int64_t r0, int64_t r1) {
    // Few channels: the input rows interpolated along x, `taps` slots, each marked with the row it holds
    // (image * ih + iy, -1 none), so that the next output row reuses those it reads again (each input row
    // serves about taps * oh / ih output rows).
    std::vector<float> slots(few != nullptr ? static_cast<size_t>(taps * few->padded) : 0);
    std::array<int64_t, kMaxTaps> held;
    held.fill(-1);
    std::array<const float*, kMaxTaps> rows{};
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
      const int64_t* iy = &ay.index[static_cast<size_t>(oy * taps)];
      const float* wy = &ay.weight[static_cast<size_t>(oy * taps)];
      if (few != nullptr) {
        const auto slots_held = std::span(held).first(static_cast<size_t>(taps));
        auto wanted = [&](int64_t key) {
          for (int64_t t = 0; t < taps; ++t)
            if (b * ih + iy[t] == key) return true;
          return false;
        };
        for (int64_t ky = 0; ky < taps; ++ky) {
          const int64_t key = b * ih + iy[ky];
          auto slot = static_cast<size_t>(std::ranges::find(slots_held, key) - slots_held.begin());
          if (slot == slots_held.size()) {
            // A slot that holds no row this output row reads (there is one: taps slots, at most taps rows).
            slot = static_cast<size_t>(
                std::ranges::find_if(slots_held,
                                     [&](int64_t held_key) { return held_key < 0 || !wanted(held_key); }) -
                slots_held.begin());
            slots_held[slot] = key;
            k->interpolate_x(*few, image + iy[ky] * iw * c, slots.data() + slot * few->padded);
          }
          rows[static_cast<size_t>(ky)] = slots.data() + slot * few->padded;
        }
        k->combine_rows(rows.data(), wy, taps, few->span, out);
        continue;
      }
      const FloatResizeRow row{image, iw, c, ow, taps, iy, wy, ax.index.data(), ax.weight.data()};
      k->interpolate_row(row, out);
    }
  });
}

}  // namespace octet::resize
