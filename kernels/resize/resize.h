#pragma once

// Resize (nearest and bilinear) over NHWC uint8, bit-exact with ref::resize: the axis taps are computed
// once, when the operator is prepared, by the reference's own resize_axis_taps; each output pixel then
// copies one input pixel (nearest) or blends four across the channel vector in int32 (bilinear: at most
// 2^11 * 2^11 * 255 + 2^21 < 2^31, so int32 holds what the reference computes in int64), a loop the
// compiler vectorises.

#include <cstdint>
#include <vector>

#include "kernels/reference/resize.h"

namespace octet::resize {

struct Resize {
  bool nearest = false;
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::vector<ref::ResizeTap> rows, columns;
};

// For inputs of in_h x in_w; throws octet::Error as the reference does.
Resize prepare_resize(const ref::ResizeParams& params, int64_t in_h, int64_t in_w);

// [n, in_h, in_w, c] -> [n, out_h, out_w, c], in parallel over output rows.
void run(const Resize& r, const uint8_t* input, int64_t n, int64_t c, uint8_t* output);

}  // namespace octet::resize
