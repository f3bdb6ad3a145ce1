#include "kernels/reduce/u8_channel_affine.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/elementwise/quantize_rows.h"
#include "kernels/error.h"
#include "kernels/float_kernels.h"
#include "kernels/parallel.h"
#include "kernels/reduce/channel_affine_rows.h"

namespace octet::reduce {

namespace {

// Floats per block: 16 KB, in L1 beside the block's input and output bytes.
constexpr int64_t kBlockElements = 4096;

}  // namespace

void u8_channel_affine(Isa isa, const uint8_t* x, int64_t rows, int64_t channels, const float* scale,
                       const float* shift, FloatClamp clamp, const UnaryParams& activation,
                       const U8AffineQuantization& q, uint8_t* y) {
  if (rows < 0 || channels < 0) throw Error("u8_channel_affine: negative row or channel count");
  if (scale == nullptr || shift == nullptr) throw Error("u8_channel_affine: scale and shift are required");
  if (rows == 0 || channels == 0) return;
  const FloatReduceKernels* kernels = float_kernels(isa).reduce;
  if (kernels != nullptr && activation.op == UnaryOp::identity && std::isfinite(q.out_scale) &&
      q.out_scale > 0.0f) {
    // Without an activation, the ISA's one-pass loop: the same steps in registers (u8_affine_simd.h).
    parallel_ranges(rows, grain(channels), [&](int64_t r0, int64_t r1) {
      kernels->u8_affine_rows(x + r0 * channels, r1 - r0, channels, scale, shift, clamp, q.in_scale,
                              q.in_zero_point, q.out_scale, q.out_zero_point, y + r0 * channels);
    });
    return;
  }
  const int64_t block_rows = std::max<int64_t>(1, kBlockElements / channels);
  parallel_ranges(rows, grain(channels), [&](int64_t r0, int64_t r1) {
    // The task's own buffer: nothing in a block calls back into the scheduler.
    thread_local std::vector<float> values;
    values.resize(static_cast<size_t>(std::min(block_rows, r1 - r0) * channels));
    for (int64_t b0 = r0; b0 < r1; b0 += block_rows) {
      const int64_t count = std::min(block_rows, r1 - b0), n = count * channels;
      elementwise::dequantize_row(isa, x + b0 * channels, n, q.in_scale, q.in_zero_point, values.data());
      channel_affine_rows(isa, kernels, values.data(), count, channels, scale, shift, clamp, activation,
                          values.data());
      elementwise::quantize_row(isa, values.data(), n, q.out_scale, q.out_zero_point, y + b0 * channels);
    }
  });
}

}  // namespace octet::reduce
