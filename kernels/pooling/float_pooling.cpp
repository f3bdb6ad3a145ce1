#include "kernels/pooling/float_pooling.h"

#include "kernels/float_kernels.h"
#include "kernels/parallel.h"
#include "kernels/pooling/float_pooling_kernels.h"
#include "kernels/reduce/float_reduce.h"

namespace octet::pooling {

namespace {

// Shapes the references accept without complaint about the input itself (they throw for the rest).
bool plain_nhwc(const Shape& nhwc) {
  return nhwc.size() == 4 && nhwc[0] >= 0 && nhwc[1] >= 1 && nhwc[2] >= 1 && nhwc[3] >= 0;
}

using RowKernel = void (*)(const float*, const FloatPoolRow&, int64_t, float*);

void pool_rows(RowKernel kernel, std::string_view op, const float* x, const Shape& nhwc,
               const ref::Pool2dParams& p, FloatClamp clamp, float* y) {
  FloatPoolRow g{nhwc[1], nhwc[2], nhwc[3], 0, p, clamp};
  const int64_t n = nhwc[0];
  const int64_t oh = ref::pool_output_size(op, "height", g.ih, p.kernel_h, p.stride_h, p.dilation_h,
                                           p.pad.top, p.pad.bottom, p.ceil_mode);
  g.ow = ref::pool_output_size(op, "width", g.iw, p.kernel_w, p.stride_w, p.dilation_w, p.pad.left,
                               p.pad.right, p.ceil_mode);
  element_count({n, oh, g.ow, g.c}, op);
  if (g.c == 0) return;
  // Each task: whole output rows, (image, oy) pairs.
  parallel_ranges(n * oh, grain(g.ow * g.c * p.kernel_h * p.kernel_w), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / oh, oy = r % oh;
      kernel(x + b * g.ih * g.iw * g.c, g, oy, y + r * g.ow * g.c);
    }
  });
}

}  // namespace

void float_max_pool2d(Isa isa, const float* x, const Shape& nhwc, const ref::Pool2dParams& p,
                      FloatClamp clamp, float* y) {
  const FloatPoolKernels* k = float_kernels(isa).pool;
  if (k == nullptr || !plain_nhwc(nhwc)) return ref::float_max_pool2d(x, nhwc, p, clamp, y);
  pool_rows(k->max_pool_row, "float_max_pool2d", x, nhwc, p, clamp, y);
}

void float_average_pool2d(Isa isa, const float* x, const Shape& nhwc, const ref::Pool2dParams& p,
                          FloatClamp clamp, float* y) {
  const FloatPoolKernels* k = float_kernels(isa).pool;
  if (k == nullptr || !plain_nhwc(nhwc) || p.dilation_h != 1 || p.dilation_w != 1)
    return ref::float_average_pool2d(x, nhwc, p, clamp, y);
  pool_rows(k->average_pool_row, "float_average_pool2d", x, nhwc, p, clamp, y);
}

// The global average pool is the mean over axis 1 of [N, H * W, C]: the reduction kernels' columns (the
// channels side by side), the same ordered sum divided by H * W as the reference.
void float_global_average_pool(Isa isa, const float* x, const Shape& nhwc, float* y) {
  if (isa == Isa::scalar || !plain_nhwc(nhwc)) return ref::float_global_average_pool(x, nhwc, y);
  reduce::float_reduce(isa, ReduceOp::mean, x, {nhwc[0], nhwc[1] * nhwc[2], nhwc[3]}, {1}, y);
}

}  // namespace octet::pooling
