#pragma once

// Linear / cubic Resize rows with xsimd, vectorised across the channels of NHWC: each lane computes its
// output with the reference's products and sums in the reference's order. Instantiated per ISA
// (float_resize_kernels.h).

#include <cstdint>

#include "kernels/resize/float_resize_kernels.h"
#include "kernels/simd/float_lanes.h"

namespace octet::resize {

// Few channels (an RGB image before the network): vectors across channels would be mostly empty lanes.
// Each input row is interpolated along x element by element into `rows` (the same products and sums as
// below, in the same order), then the rows are combined along y in vectors across the whole output row.
template <class Arch>
void interpolate_row_few_channels(const FloatResizeRow& r, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  const int64_t taps = r.taps, span = r.ow * r.c;
  float* const rows = r.scratch;
  for (int64_t ky = 0; ky < taps; ++ky) {
    const float* line = r.image + r.iy[ky] * r.iw * r.c;
    float* h = rows + ky * span;
    for (int64_t ox = 0; ox < r.ow; ++ox) {
      const int64_t* ix = r.ix + ox * taps;
      const float* wx = r.wx + ox * taps;
      for (int64_t c = 0; c < r.c; ++c) {
        float v = wx[0] * line[ix[0] * r.c + c];
        for (int64_t kx = 1; kx < taps; ++kx)
          v = v + wx[kx] * line[ix[kx] * r.c + c];
        h[ox * r.c + c] = v;
      }
    }
  }
  for (int64_t i = 0; i < span; i += L::width) {
    const int64_t n = L::lanes_from(i, span);
    B acc = B(r.wy[0]) * L::load_n(rows + i, n);
    for (int64_t ky = 1; ky < taps; ++ky)
      acc = acc + B(r.wy[ky]) * L::load_n(rows + ky * span + i, n);
    L::store_n(y + i, acc, n);
  }
}

template <class Arch>
void interpolate_row(const FloatResizeRow& r, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  const int64_t taps = r.taps;
  if (r.scratch != nullptr && 2 * r.c <= L::width) return interpolate_row_few_channels<Arch>(r, y);
  for (int64_t ox = 0; ox < r.ow; ++ox) {
    const int64_t* ix = r.ix + ox * taps;
    const float* wx = r.wx + ox * taps;
    for (int64_t c = 0; c < r.c; c += L::width) {
      const int64_t n = L::lanes_from(c, r.c);
      B acc;
      for (int64_t ky = 0; ky < taps; ++ky) {
        const float* line = r.image + r.iy[ky] * r.iw * r.c + c;
        B row = B(wx[0]) * L::load_n(line + ix[0] * r.c, n);
        for (int64_t kx = 1; kx < taps; ++kx)
          row = row + B(wx[kx]) * L::load_n(line + ix[kx] * r.c, n);
        acc = ky == 0 ? B(r.wy[0]) * row : acc + B(r.wy[ky]) * row;
      }
      L::store_n(y + ox * r.c + c, acc, n);
    }
  }
}

template <class Arch>
constexpr FloatResizeKernels make_float_resize_kernels() {
  return {&interpolate_row<Arch>};
}

}  // namespace octet::resize
