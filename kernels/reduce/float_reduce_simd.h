#pragma once

// The vector reductions, softmax and normalizations, written once over xsimd and instantiated per ISA
// (float_reduce_kernels.h). The summation order of kernels/reference/float_reduce.h, 16 partials with
// element i in partial i % 16 and then the pairwise tree, maps onto the vectors two ways:
//  - along a contiguous row, the 16 partials are the lanes of 16 / width vectors (AVX-512: one vector;
//    AVX2: two; NEON: four): each step adds the next 16 elements lane by lane, which is exactly element
//    i going to partial i % 16; the tree then combines whole vectors, then lanes within the last one
//    (Lanes::tree), the same pairs in the same order;
//  - down strided columns (a reduction over an outer axis, the independent outputs side by side in memory),
//    each lane is its own output and keeps its own 16 partials: 16 partial vectors, row i going to vector
//    i % 16, then the tree on whole vectors. Keeping all 16 in registers (AVX-512 has 32, AVX2 16: some
//    spill) reads the input once, in order; running the partials one after the other instead would read
//    every 16th row in 16 passes.
// A tail of fewer than `width` elements or lanes runs the same vector code on a partial load (the unused
// lanes are never combined into a partial or stored), so every output sees the same operations.

#include <cmath>
#include <cstdint>

#include "kernels/reduce/float_reduce_kernels.h"
#include "kernels/reduce/u8_affine_simd.h"
#include "kernels/reference/float_math.h"
#include "kernels/simd/float_lanes.h"

namespace octet::reduce {

using ref::Accumulate;

// One Accumulate kind on vectors and on the scalar partials of the tree.
template <class Arch, Accumulate K>
struct AccumulateOps {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;

  static float identity() {
    if constexpr (K == Accumulate::prod)
      return 1.0f;
    else if constexpr (K == Accumulate::max)
      return -INFINITY;
    else if constexpr (K == Accumulate::min)
      return INFINITY;
    else
      return -0.0f;
  }
  // The term an element contributes; a partial p becomes combine(p, term).
  static B term(const B& x, const B& shift) {
    if constexpr (K == Accumulate::abs_sum) {
      return L::abs(x);
    } else if constexpr (K == Accumulate::square_sum) {
      return x * x;
    } else if constexpr (K == Accumulate::centered_square_sum) {
      const B d = x - shift;
      return d * d;
    } else if constexpr (K == Accumulate::shifted_exp_sum) {
      return fmath::exp(x - shift);
    } else {
      return x;
    }
  }
  template <class V>  // B or float
  static V combine(const V& a, const V& b) {
    if constexpr (K == Accumulate::prod)
      return a * b;
    else if constexpr (K == Accumulate::max)
      return L::max(a, b);
    else if constexpr (K == Accumulate::min)
      return L::min(a, b);
    else
      return a + b;
  }
};

// The ordered accumulation of the `count` contiguous elements at x. With kStoreTerms, each element's term
// (softmax: its exp) is also stored at terms[i].
template <class Arch, Accumulate K, bool kStoreTerms = false>
float accumulate_row(const float* x, int64_t count, float shift, float* terms = nullptr) {
  using L = simd::Lanes<Arch>;
  using Acc = AccumulateOps<Arch, K>;
  using B = typename L::V;
  constexpr int64_t W = L::width, P = ref::kReducePartials, V = P / W;
  static_assert(P % W == 0);
  B p[V];
  for (B& v : p)
    v = B(Acc::identity());
  const B vshift(shift);
  int64_t i = 0;
  for (; i + P <= count; i += P)
#pragma GCC unroll 16
    for (int64_t v = 0; v < V; ++v) {
      const B t = Acc::term(L::load(x + i + v * W), vshift);
      if constexpr (kStoreTerms) L::store(terms + i + v * W, t);
      p[v] = Acc::combine(p[v], t);
    }
  for (int64_t v = 0; v < V && i + v * W < count; ++v) {
    const int64_t n = L::lanes_from(i + v * W, count);
    const B t = Acc::term(L::load_n(x + i + v * W, n), vshift);
    if constexpr (kStoreTerms) L::store_n(terms + i + v * W, t, n);
    p[v] = n == W ? Acc::combine(p[v], t) : simd::select(L::first_lanes(n), Acc::combine(p[v], t), p[v]);
  }
  // The reference's tree over the P partials (part[j] with part[j + h], h = P / 2 down to 1): its levels
  // that pair whole vectors, then those inside the last one.
  for (int64_t h = V / 2; h >= 1; h /= 2)
    for (int64_t v = 0; v < h; ++v)
      p[v] = Acc::combine(p[v], p[v + h]);
  return L::tree(p[0], [](const B& a, const B& b) { return Acc::combine(a, b); });
}

// The ordered accumulation down n (<= width) adjacent columns x[i * stride + l], i < count, one output per
// lane; lanes >= n are garbage. With kStoreTerms, each element's term is also stored at terms[i * stride].
template <class Arch, Accumulate K, bool kStoreTerms = false>
typename simd::Lanes<Arch>::V accumulate_column(const float* x, int64_t count, int64_t stride, int64_t n,
                                                const typename simd::Lanes<Arch>::V& shift,
                                                float* terms = nullptr) {
  using L = simd::Lanes<Arch>;
  using Acc = AccumulateOps<Arch, K>;
  using B = typename L::V;
  constexpr int64_t P = ref::kReducePartials;
  B p[P];
  for (B& v : p)
    v = B(Acc::identity());
  int64_t i = 0;
  if (n == L::width)
    for (; i + P <= count; i += P)
#pragma GCC unroll 16
      for (int64_t j = 0; j < P; ++j) {
        const B t = Acc::term(L::load(x + (i + j) * stride), shift);
        if constexpr (kStoreTerms) L::store(terms + (i + j) * stride, t);
        p[j] = Acc::combine(p[j], t);
      }
  for (; i < count; ++i) {
    const B t = Acc::term(L::load_n(x + i * stride, n), shift);
    if constexpr (kStoreTerms) L::store_n(terms + i * stride, t, n);
    p[i % P] = Acc::combine(p[i % P], t);
  }
  for (int64_t h = P / 2; h >= 1; h /= 2)
    for (int64_t j = 0; j < h; ++j)
      p[j] = Acc::combine(p[j], p[j + h]);
  return p[0];
}

template <class Arch, Accumulate K>
void accumulate_rows_as(const float* x, int64_t rows, int64_t count, const float* shift, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    y[r] = accumulate_row<Arch, K>(x + r * count, count, shift != nullptr ? shift[r] : 0.0f);
}

template <class Arch, Accumulate K>
void accumulate_columns_as(const float* x, int64_t count, int64_t stride, int64_t lanes, const float* shift,
                           float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  for (int64_t l = 0; l < lanes; l += L::width) {
    const int64_t n = L::lanes_from(l, lanes);
    const B s = shift != nullptr ? L::load_n(shift + l, n) : B(0.0f);
    L::store_n(y + l, accumulate_column<Arch, K>(x + l, count, stride, n, s), n);
  }
}

// Accumulate kind as a run-time value -> the template instance.
template <class Arch, template <class, Accumulate> class F, class... Args>
void with_accumulate(Accumulate k, Args... args) {
  switch (k) {
    case Accumulate::sum:
      return F<Arch, Accumulate::sum>::run(args...);
    case Accumulate::abs_sum:
      return F<Arch, Accumulate::abs_sum>::run(args...);
    case Accumulate::square_sum:
      return F<Arch, Accumulate::square_sum>::run(args...);
    case Accumulate::centered_square_sum:
      return F<Arch, Accumulate::centered_square_sum>::run(args...);
    case Accumulate::shifted_exp_sum:
      return F<Arch, Accumulate::shifted_exp_sum>::run(args...);
    case Accumulate::prod:
      return F<Arch, Accumulate::prod>::run(args...);
    case Accumulate::max:
      return F<Arch, Accumulate::max>::run(args...);
    case Accumulate::min:
      return F<Arch, Accumulate::min>::run(args...);
  }
}

template <class Arch, Accumulate K>
struct AccumulateRows {
  static void run(const float* x, int64_t rows, int64_t count, const float* shift, float* y) {
    accumulate_rows_as<Arch, K>(x, rows, count, shift, y);
  }
};
template <class Arch, Accumulate K>
struct AccumulateColumns {
  static void run(const float* x, int64_t count, int64_t stride, int64_t lanes, const float* shift,
                  float* y) {
    accumulate_columns_as<Arch, K>(x, count, stride, lanes, shift, y);
  }
};

template <class Arch>
void accumulate_rows(Accumulate k, const float* x, int64_t rows, int64_t count, const float* shift,
                     float* y) {
  with_accumulate<Arch, AccumulateRows>(k, x, rows, count, shift, y);
}

template <class Arch>
void accumulate_columns(Accumulate k, const float* x, int64_t count, int64_t stride, int64_t lanes,
                        const float* shift, float* y) {
  with_accumulate<Arch, AccumulateColumns>(k, x, count, stride, lanes, shift, y);
}

// Softmax of contiguous rows: m = max, e = exp(x - m) (stored while summed), y = e / sum; log-softmax:
// y = (x - m) - log(sum).
template <class Arch>
void softmax_rows(const float* x, int64_t rows, int64_t count, bool log, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  constexpr int64_t W = L::width;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * count;
    float* yr = y + r * count;
    const float m = accumulate_row<Arch, Accumulate::max>(xr, count, 0.0f);
    const B vm(m);
    if (log) {
      const float sum = accumulate_row<Arch, Accumulate::shifted_exp_sum>(xr, count, m);
      const B log_sum(L::lane0(fmath::log(B(sum))));
      for (int64_t i = 0; i < count; i += W) {
        const int64_t n = L::lanes_from(i, count);
        L::store_n(yr + i, (L::load_n(xr + i, n) - vm) - log_sum, n);
      }
      continue;
    }
    // exp(x - m) stored in y while summed, then divided in place.
    const B sum(accumulate_row<Arch, Accumulate::shifted_exp_sum, true>(xr, count, m, yr));
    for (int64_t j = 0; j < count; j += W) {
      const int64_t n = L::lanes_from(j, count);
      L::store_n(yr + j, L::div(L::load_n(yr + j, n), sum), n);
    }
  }
}

// Softmax down each column x[i * stride + l], i < count, l < lanes.
template <class Arch>
void softmax_columns(const float* x, int64_t count, int64_t stride, int64_t lanes, bool log, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  for (int64_t l = 0; l < lanes; l += L::width) {
    const int64_t n = L::lanes_from(l, lanes);
    const B m = accumulate_column<Arch, Accumulate::max>(x + l, count, stride, n, B(0.0f));
    if (log) {
      const B log_sum =
          fmath::log(accumulate_column<Arch, Accumulate::shifted_exp_sum>(x + l, count, stride, n, m));
      for (int64_t i = 0; i < count; ++i)
        L::store_n(y + i * stride + l, (L::load_n(x + i * stride + l, n) - m) - log_sum, n);
      continue;
    }
    // exp(x - m) stored in y while summed, then divided in place.
    const B sum =
        accumulate_column<Arch, Accumulate::shifted_exp_sum, true>(x + l, count, stride, n, m, y + l);
    for (int64_t i = 0; i < count; ++i)
      L::store_n(y + i * stride + l, L::div(L::load_n(y + i * stride + l, n), sum), n);
  }
}

// The clamp (FloatClamp::apply's selects) only where there is one: the loops stay a load, an fma and a store.
template <class Arch, bool kClamps>
void affine_rows_clamped(const float* x, int64_t ldx, int64_t rows, int64_t channels, const float* scale,
                         const float* shift, FloatClamp clamp, float* y, int64_t ldy) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  const B lo(clamp.lo), hi(clamp.hi);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; c += L::width) {
      const int64_t n = L::lanes_from(c, channels);
      const B v = L::fma(L::load_n(x + r * ldx + c, n), L::load_n(scale + c, n), L::load_n(shift + c, n));
      L::store_n(y + r * ldy + c, kClamps ? L::clamp(v, lo, hi) : v, n);
    }
}

template <class Arch>
void affine_rows(const float* x, int64_t ldx, int64_t rows, int64_t channels, const float* scale,
                 const float* shift, FloatClamp clamp, float* y, int64_t ldy) {
  if (simd::Lanes<Arch>::is_identity(clamp))
    affine_rows_clamped<Arch, false>(x, ldx, rows, channels, scale, shift, clamp, y, ldy);
  else
    affine_rows_clamped<Arch, true>(x, ldx, rows, channels, scale, shift, clamp, y, ldy);
}

template <class Arch, bool kClamps>
void affine_plane_clamped(const float* x, int64_t count, float scale, float shift, FloatClamp clamp,
                          float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  const B vscale(scale), vshift(shift), lo(clamp.lo), hi(clamp.hi);
  for (int64_t i = 0; i < count; i += L::width) {
    const int64_t n = L::lanes_from(i, count);
    const B v = L::fma(L::load_n(x + i, n), vscale, vshift);
    L::store_n(y + i, kClamps ? L::clamp(v, lo, hi) : v, n);
  }
}

template <class Arch>
void affine_plane(const float* x, int64_t count, float scale, float shift, FloatClamp clamp, float* y) {
  if (simd::Lanes<Arch>::is_identity(clamp))
    affine_plane_clamped<Arch, false>(x, count, scale, shift, clamp, y);
  else
    affine_plane_clamped<Arch, true>(x, count, scale, shift, clamp, y);
}

// Rows normalized by their own statistics (ref::float_layer_norm, the channels-first instance norm):
// mean = sum / count, var = centered square sum / count, y = (x - mean) / sqrt(var + epsilon) * s + b.
template <class Arch>
void normalize_rows(const float* x, int64_t rows, int64_t count, const float* scale, const float* bias,
                    bool per_row_params, float epsilon, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * count;
    float* yr = y + r * count;
    const float mean = accumulate_row<Arch, Accumulate::sum>(xr, count, 0.0f) / static_cast<float>(count);
    const float var =
        accumulate_row<Arch, Accumulate::centered_square_sum>(xr, count, mean) / static_cast<float>(count);
    const B vmean(mean), denominator(L::sqrt(B(var + epsilon)));
    for (int64_t i = 0; i < count; i += L::width) {
      const int64_t n = L::lanes_from(i, count);
      const B s = per_row_params ? B(scale[r]) : L::load_n(scale + i, n);
      const B normalized = L::div(L::load_n(xr + i, n) - vmean, denominator) * s;
      if (bias == nullptr)
        L::store_n(yr + i, normalized, n);
      else
        L::store_n(yr + i, normalized + (per_row_params ? B(bias[r]) : L::load_n(bias + i, n)), n);
    }
  }
}

// The same down columns (the channels-last instance norm), one set of statistics per lane.
template <class Arch>
void normalize_columns(const float* x, int64_t count, int64_t stride, int64_t lanes, const float* scale,
                       const float* bias, float epsilon, float* y) {
  using L = simd::Lanes<Arch>;
  using B = typename L::V;
  const B vcount(static_cast<float>(count)), veps(epsilon);
  for (int64_t l = 0; l < lanes; l += L::width) {
    const int64_t n = L::lanes_from(l, lanes);
    const B mean = L::div(accumulate_column<Arch, Accumulate::sum>(x + l, count, stride, n, B(0.0f)), vcount);
    const B var = L::div(
        accumulate_column<Arch, Accumulate::centered_square_sum>(x + l, count, stride, n, mean), vcount);
    const B denominator = L::sqrt(var + veps);
    const B s = L::load_n(scale + l, n), b = L::load_n(bias + l, n);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t e = i * stride + l;
      L::store_n(y + e, L::div(L::load_n(x + e, n) - mean, denominator) * s + b, n);
    }
  }
}

template <class Arch>
constexpr FloatReduceKernels make_float_reduce_kernels() {
  return {&accumulate_rows<Arch>, &accumulate_columns<Arch>, &softmax_rows<Arch>,
          &softmax_columns<Arch>, &affine_rows<Arch>,        &affine_plane<Arch>,
          &normalize_rows<Arch>,  &normalize_columns<Arch>,  &u8_affine_rows<Arch>};
}

}  // namespace octet::reduce
