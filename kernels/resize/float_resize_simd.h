#pragma once

// Linear / cubic Resize rows with xsimd, vectorised across the channels of NHWC (or, with few channels,
// across the elements of a row): each lane computes its output with the reference's products and sums in
// the reference's order. Instantiated per ISA (float_resize_kernels.h).

#include <algorithm>
#include <cstdint>

#include "kernels/resize/float_resize_kernels.h"
#include "kernels/simd/float_lanes.h"

namespace octet::resize {

// Few channels (FewChannelTaps): an input row interpolated along x in vectors across its output elements,
// each lane gathering its taps' inputs; then output rows combined along y across the whole row.
template <class Arch>
void interpolate_x(const FewChannelTaps& t, const float* line, float* h) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  for (int64_t j = 0; j < t.padded; j += L::width) {
    B v = L::load(t.weight + j) * L::gather(line, t.offset + j);
    for (int64_t kx = 1; kx < t.taps; ++kx) {
      const int64_t at = kx * t.padded + j;
      v = v + L::load(t.weight + at) * L::gather(line, t.offset + at);
    }
    L::store(h + j, v);
  }
}

template <class Arch>
void combine_rows(const float* const* rows, const float* wy, int64_t taps, int64_t span, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  for (int64_t i = 0; i < span; i += L::width) {
    const int64_t n = L::lanes_from(i, span);
    B acc = B(wy[0]) * L::load_n(rows[0] + i, n);
    for (int64_t ky = 1; ky < taps; ++ky)
      acc = acc + B(wy[ky]) * L::load_n(rows[ky] + i, n);
    L::store_n(y + i, acc, n);
  }
}

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
  constexpr int64_t half_vector = simd::Lanes<Arch>::width / 2;
#if defined(__x86_64__)
  // AVX2 and AVX-512 gather in one instruction: rows of up to 8 channels go across their elements.
  constexpr int64_t most = 8;
#else
  constexpr int64_t most = half_vector;
#endif
  return {&interpolate_row<Arch>, &interpolate_x<Arch>, &combine_rows<Arch>, std::max(most, half_vector)};
}

}  // namespace octet::resize
