#include "kernels/reference/integer_matmul.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/float_matmul.h"
#include "kernels/reference/fully_connected.h"

namespace octet::ref {

TensorU8 matmul_weights(const uint8_t* b, int64_t k, int64_t n, const QuantParams& params) {
  TensorU8 w({n, k}, params);
  for (int64_t j = 0; j < k; ++j)
    for (int64_t c = 0; c < n; ++c)
      w.data[static_cast<size_t>(c * k + j)] = b[j * n + c];
  return w;
}

namespace {

// The fully connected layer's overflow guard (prepare_conv_requant), stated for the matmul: column c of each
// batch of b sums K products of at most max|a - z_a| x max_k |b[k][c] - z_b|, the latter over its actual
// bytes, which must fit int32.
void check_sums_fit(const TensorU8& a, const TensorU8& b, int64_t k, int64_t n) {
  const int64_t za = a.quant.zero_point(), zb = b.quant.zero_point();
  const int64_t max_a = std::max<int64_t>(za, 255 - za);
  const int64_t batches = k * n == 0 ? 0 : static_cast<int64_t>(b.data.size()) / (k * n);
  std::vector<int64_t> max_b(static_cast<size_t>(n));
  for (int64_t batch = 0; batch < batches; ++batch) {
    std::fill(max_b.begin(), max_b.end(), 0);
    for (int64_t j = 0; j < k; ++j)
      for (int64_t c = 0; c < n; ++c) {
        const int64_t dev = std::abs(b.data[static_cast<size_t>((batch * k + j) * n + c)] - zb);
        max_b[static_cast<size_t>(c)] = std::max(max_b[static_cast<size_t>(c)], dev);
      }
    for (int64_t c = 0; c < n; ++c) {
      const int64_t bound = k * max_a * max_b[static_cast<size_t>(c)];
      if (bound > std::numeric_limits<int32_t>::max())
        throw Error("matmul: column " + std::to_string(c) + " of b's batch " + std::to_string(batch) +
                    " sums " + std::to_string(k) +
                    " products that can overflow the int32 accumulator (worst case " + std::to_string(bound) +
                    "): quantize the operands with larger scales or split the product");
    }
  }
}

}  // namespace

TensorU8 matmul_u8(const TensorU8& a, const TensorU8& b, const QuantParams& output, Clamp clamp,
                   RequantMode mode) {
  check_consistent(a, "matmul a");
  check_consistent(b, "matmul b");
  validate(a.quant, ElementType::u8, a.shape, "matmul a");
  validate(b.quant, ElementType::u8, b.shape, "matmul b");
  if (!a.quant.is_per_tensor() || !b.quant.is_per_tensor())
    throw Error("matmul: both operands must be quantized per tensor");
  const Shape so = float_matmul_shape(a.shape, b.shape);
  const int64_t m = a.shape[a.rank() - 2], k = a.shape[a.rank() - 1], n = b.shape[b.rank() - 1];
  if (element_count(so, "matmul output") > 0) check_sums_fit(a, b, k, n);
  const Shape batch(so.begin(), so.end() - 2);
  const BroadcastRuns<2> batches(
      "matmul", batch,
      {Shape(a.shape.begin(), a.shape.end() - 2), Shape(b.shape.begin(), b.shape.end() - 2)});
  TensorU8 out(so, output);
  batches.for_runs(0, batches.outer(), [&](int64_t first, const std::array<int64_t, 2>& at) {
    for (int64_t i = 0; i < batches.inner(); ++i) {
      const int64_t ia = at[0] + i * batches.step(0), ib = at[1] + i * batches.step(1);
      TensorU8 rows({m, k}, a.quant);
      std::copy_n(a.data.begin() + ia * m * k, m * k, rows.data.begin());
      const TensorU8 w = matmul_weights(b.data.data() + ib * k * n, k, n, b.quant);
      const TensorU8 r = fully_connected(rows, w, nullptr, output, clamp, mode);
      std::copy(r.data.begin(), r.data.end(), out.data.begin() + (first + i) * m * n);
    }
  });
  return out;
}

}  // namespace octet::ref
