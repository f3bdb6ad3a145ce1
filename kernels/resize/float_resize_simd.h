#pragma once

// Linear / cubic Resize rows with xsimd, vectorised across the channels of NHWC: each lane computes its
// output with the reference's products and sums in the reference's order. Instantiated per ISA
// (float_resize_kernels.h).

#include <cstdint>

#include "kernels/resize/float_resize_kernels.h"
#include "kernels/simd/float_lanes.h"

namespace octet::resize {

template <class Arch>
void interpolate_row(const FloatResizeRow& r, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  const int64_t taps = r.taps;
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
