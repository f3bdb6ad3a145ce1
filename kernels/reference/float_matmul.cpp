#include "kernels/reference/float_matmul.h"

#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/broadcast.h"

namespace octet::ref {

namespace {

Shape batch_of(const Shape& s) {
  return Shape(s.begin(), s.end() - 2);
}

}  // namespace

Shape float_matmul_shape(const Shape& sa, const Shape& sb) {
  if (sa.size() < 2 || sb.size() < 2)
    throw Error("matmul: operands need rank >= 2, got " + to_string(sa) + " and " + to_string(sb));
  element_count(sa, "matmul a");  // throws for negative dimensions
  element_count(sb, "matmul b");
  const int64_t k = sa[sa.size() - 1], kb = sb[sb.size() - 2];
  if (k != kb)
    throw Error("matmul: a " + to_string(sa) + " has K = " + std::to_string(k) + " but b " + to_string(sb) +
                " has K = " + std::to_string(kb));
  Shape out = broadcast_shape("matmul", batch_of(sa), batch_of(sb));
  out.push_back(sa[sa.size() - 2]);
  out.push_back(sb[sb.size() - 1]);
  element_count(out, "matmul output");  // throws if the product overflows
  return out;
}

void float_matmul(const float* a, const Shape& sa, const float* b, const Shape& sb, float* out) {
  const Shape so = float_matmul_shape(sa, sb);
  const int64_t m = sa[sa.size() - 2], k = sa[sa.size() - 1], n = sb[sb.size() - 1];
  const BroadcastRuns<2> batches("matmul", batch_of(so), {batch_of(sa), batch_of(sb)});
  batches.for_runs(0, batches.outer(), [&](int64_t first, const std::array<int64_t, 2>& at) {
    for (int64_t i = 0; i < batches.inner(); ++i) {
      const float* am = a + (at[0] + i * batches.step(0)) * m * k;
      const float* bm = b + (at[1] + i * batches.step(1)) * k * n;
      float* om = out + (first + i) * m * n;
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < n; ++c) {
          float acc = 0.0f;
          for (int64_t j = 0; j < k; ++j)
            acc = std::fma(am[r * k + j], bm[j * n + c], acc);
          om[r * n + c] = acc;
        }
    }
  });
}

void float_gemm(const float* a, int64_t m, int64_t k, bool transpose_a, const float* b, int64_t n,
                bool transpose_b, const float* c, const Shape& sc, float alpha, float beta, FloatClamp clamp,
                float* y) {
  if (m < 0 || k < 0 || n < 0)
    throw Error("gemm: negative dimension (M " + std::to_string(m) + ", K " + std::to_string(k) + ", N " +
                std::to_string(n) + ")");
  // C broadcasts to [M, N]: its row and column steps are 0 along the dimensions where it has size 1.
  int64_t c_row_step = 0, c_col_step = 0;
  if (c != nullptr) {
    if (sc.size() > 2) throw Error("gemm: C " + to_string(sc) + " has rank > 2");
    element_count(sc, "gemm C");
    const Shape mn{m, n};
    if (broadcast_shape("gemm", sc, mn) != mn)
      throw Error("gemm: C " + to_string(sc) + " does not broadcast to [" + std::to_string(m) + ", " +
                  std::to_string(n) + "]");
    const int64_t rows = sc.size() == 2 ? sc[0] : 1, cols = sc.empty() ? 1 : sc.back();
    c_row_step = rows == 1 ? 0 : cols;
    c_col_step = cols == 1 ? 0 : 1;
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t t = 0; t < k; ++t) {
        const float av = transpose_a ? a[t * m + i] : a[i * k + t];
        const float bv = transpose_b ? b[j * k + t] : b[t * n + j];
        acc = std::fma(av, bv, acc);
      }
      float v = alpha == 1.0f ? acc : alpha * acc;
      if (c != nullptr) {
        const float cv = c[i * c_row_step + j * c_col_step];
        v = v + (beta == 1.0f ? cv : beta * cv);
      }
      y[i * n + j] = clamp.apply(v);
    }
}

}  // namespace octet::ref
