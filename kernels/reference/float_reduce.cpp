#include "kernels/reference/float_reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/error.h"
#include "kernels/reference/float_math.h"
#include "kernels/reference/float_reduce_order.h"

namespace octet::ref {

float accumulate_identity(Accumulate k) {
  switch (k) {
    case Accumulate::prod:
      return 1.0f;
    case Accumulate::max:
      return -std::numeric_limits<float>::infinity();
    case Accumulate::min:
      return std::numeric_limits<float>::infinity();
    default:
      return -0.0f;
  }
}

float accumulate_step(Accumulate k, float partial, float x, float shift) {
  switch (k) {
    case Accumulate::sum:
      return partial + x;
    case Accumulate::abs_sum:
      return partial + std::fabs(x);
    case Accumulate::square_sum:
      return partial + x * x;
    case Accumulate::centered_square_sum: {
      const float d = x - shift;
      return partial + d * d;
    }
    case Accumulate::shifted_exp_sum:
      return partial + fmath::exp(x - shift);
    case Accumulate::prod:
      return partial * x;
    case Accumulate::max:
      return max_propagating_nan(partial, x);
    case Accumulate::min:
      return min_propagating_nan(partial, x);
  }
  return partial;
}

float accumulate_combine(Accumulate k, float a, float b) {
  switch (k) {
    case Accumulate::prod:
      return a * b;
    case Accumulate::max:
      return max_propagating_nan(a, b);
    case Accumulate::min:
      return min_propagating_nan(a, b);
    default:
      return a + b;
  }
}

float ordered_accumulate(Accumulate k, const float* x, int64_t count, int64_t stride, float shift) {
  return ordered_accumulate(k, count, shift, [&](int64_t i) { return x[i * stride]; });
}

float ordered_sum(const float* x, int64_t count, int64_t stride) {
  return ordered_accumulate(Accumulate::sum, x, count, stride);
}

Accumulate accumulate_of(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::mean:
    case ReduceOp::log_sum:
      return Accumulate::sum;
    case ReduceOp::max:
      return Accumulate::max;
    case ReduceOp::min:
      return Accumulate::min;
    case ReduceOp::prod:
      return Accumulate::prod;
    case ReduceOp::l1:
      return Accumulate::abs_sum;
    case ReduceOp::l2:
    case ReduceOp::sum_square:
      return Accumulate::square_sum;
    case ReduceOp::log_sum_exp:
      return Accumulate::shifted_exp_sum;
  }
  return Accumulate::sum;
}

float finish_reduce(ReduceOp op, float acc, int64_t count, float max) {
  switch (op) {
    case ReduceOp::mean:
      return acc / static_cast<float>(count);
    case ReduceOp::l2:
      return std::sqrt(acc);
    case ReduceOp::log_sum:
      return fmath::log(acc);
    case ReduceOp::log_sum_exp:
      // A finite max makes every exp(x - max) <= 1 with at least one 1, so the sum cannot overflow; an
      // infinite or NaN max is itself the answer (exp of +inf dominates, all -inf is log 0).
      return std::isfinite(max) ? fmath::log(acc) + max : max;
    default:
      return acc;
  }
}

float empty_reduction(ReduceOp op) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  switch (op) {
    case ReduceOp::prod:
      return 1.0f;
    case ReduceOp::max:
    case ReduceOp::log_sum:
    case ReduceOp::log_sum_exp:
      return -inf;
    case ReduceOp::min:
      return inf;
    case ReduceOp::mean:
      return std::numeric_limits<float>::quiet_NaN();
    default:
      return 0.0f;
  }
}

ReduceGeometry reduce_geometry(std::string_view op, const Shape& s, const std::vector<int64_t>& axes) {
  const auto rank = static_cast<int64_t>(s.size());
  element_count(s, op);
  std::vector<bool> reduced(s.size(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= rank)
      throw Error(std::string(op) + ": axis " + std::to_string(axes[i]) + " is out of range for rank " +
                  std::to_string(rank));
    if (i > 0 && axes[i] <= axes[i - 1]) throw Error(std::string(op) + ": axes must be sorted and distinct");
    reduced[static_cast<size_t>(axes[i])] = true;
  }
  ReduceGeometry g;
  int64_t stride = 1;
  // Innermost first, then reversed: a block's stride is its innermost dimension's stride.
  for (size_t d = s.size(); d-- > 0;) {
    const int64_t size = s[d];
    if (size != 1) {
      if (!g.blocks.empty() && g.blocks.back().reduced == reduced[d] && g.blocks.back().size != 0 &&
          size != 0)
        g.blocks.back().size *= size;
      else
        g.blocks.push_back({size, stride, reduced[d]});
      (reduced[d] ? g.count : g.outputs) *= size;
    }
    stride *= size;
  }
  std::reverse(g.blocks.begin(), g.blocks.end());
  return g;
}

float accumulate_output(Accumulate k, const float* x, const ReduceGeometry& g, int64_t o, float shift) {
  int64_t base = 0;
  std::vector<const ReduceBlock*> walked;  // the reduced blocks, outermost first
  for (auto b = g.blocks.rbegin(); b != g.blocks.rend(); ++b)
    if (!b->reduced) {
      base += (o % b->size) * b->stride;
      o /= b->size;
    }
  for (const ReduceBlock& b : g.blocks)
    if (b.reduced) walked.push_back(&b);
  std::vector<int64_t> index(walked.size(), 0);
  int64_t offset = base;
  return ordered_accumulate(k, g.count, shift, [&](int64_t) {
    const float v = x[offset];
    // Advance the odometer over the reduced blocks (innermost fastest).
    for (size_t d = walked.size(); d-- > 0;) {
      offset += walked[d]->stride;
      if (++index[d] < walked[d]->size) break;
      offset -= walked[d]->stride * walked[d]->size;
      index[d] = 0;
    }
    return v;
  });
}

void float_reduce(ReduceOp op, const float* x, const Shape& s, const std::vector<int64_t>& axes, float* y) {
  // No axes (ONNX's noop_with_empty_axes) reduces each element alone: the identity for sum, mean, max,
  // min and prod (the sum's -0.0f start keeps a -0), and the operator's own functions of one element for
  // the others: |x|, sqrt(x * x), x * x, log(x), log(exp(x - x)) + x. ONNX says so since onnx/onnx#7394,
  // and ONNX Runtime computes that (until then both read "the input unchanged").
  const ReduceGeometry g = reduce_geometry("float_reduce", s, axes);
  if (g.count == 0) {
    std::fill(y, y + g.outputs, empty_reduction(op));
    return;
  }
  const Accumulate k = accumulate_of(op);
  for (int64_t o = 0; o < g.outputs; ++o) {
    const float max = op == ReduceOp::log_sum_exp ? accumulate_output(Accumulate::max, x, g, o, 0.0f) : 0.0f;
    y[o] = finish_reduce(op, accumulate_output(k, x, g, o, max), g.count, max);
  }
}

AxisView axis_view(std::string_view op, const Shape& s, int64_t axis) {
  const auto rank = static_cast<int64_t>(s.size());
  if (axis < 0 || axis >= rank)
    throw Error(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for rank " +
                std::to_string(rank));
  element_count(s, op);
  AxisView v;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? v.outer : d == axis ? v.length : v.inner) *= s[static_cast<size_t>(d)];
  return v;
}

void float_softmax(const float* x, const Shape& s, int64_t axis, bool log, float* y) {
  const AxisView v = axis_view(log ? "float_log_softmax" : "float_softmax", s, axis);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.inner; ++k) {
      const float* xs = x + o * v.length * v.inner + k;
      float* ys = y + o * v.length * v.inner + k;
      const float m = ordered_accumulate(Accumulate::max, xs, v.length, v.inner);
      const float sum = ordered_accumulate(Accumulate::shifted_exp_sum, xs, v.length, v.inner, m);
      const float log_sum = log ? fmath::log(sum) : 0.0f;
      for (int64_t i = 0; i < v.length; ++i) {
        const float shifted = xs[i * v.inner] - m;
        ys[i * v.inner] = log ? shifted - log_sum : fmath::exp(shifted) / sum;
      }
    }
}

void float_arg_reduce(const float* x, const Shape& s, int64_t axis, bool max, bool select_last_index,
                      int64_t* y) {
  const AxisView v = axis_view(max ? "float_argmax" : "float_argmin", s, axis);
  if (v.length == 0 && v.outer * v.inner != 0)
    throw Error(std::string(max ? "float_argmax" : "float_argmin") + ": axis " + std::to_string(axis) +
                " has no elements to choose from");
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.inner; ++k) {
      const float* xs = x + o * v.length * v.inner + k;
      int64_t best = 0;
      for (int64_t i = 1; i < v.length; ++i)
        if (arg_reduce_replaces(xs[i * v.inner], xs[best * v.inner], max, select_last_index)) best = i;
      y[o * v.inner + k] = best;
    }
}

template <class T>
void cumulative_sum(const T* x, const Shape& s, int64_t axis, bool exclusive, bool reverse, T* y) {
  const AxisView v = axis_view("cumulative_sum", s, axis);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      const int64_t base = o * v.length * v.inner + i;
      T sum{};
      for (int64_t step = 0; step < v.length; ++step) {
        const int64_t at = base + (reverse ? v.length - 1 - step : step) * v.inner;
        const T value = x[at];  // read before the write: x and y may be one buffer
        if (exclusive) y[at] = sum;
        if constexpr (std::is_integral_v<T>)
          sum = static_cast<T>(static_cast<uint64_t>(sum) + static_cast<uint64_t>(value));
        else
          sum += value;
        if (!exclusive) y[at] = sum;
      }
    }
}
template void cumulative_sum<float>(const float*, const Shape&, int64_t, bool, bool, float*);
template void cumulative_sum<int64_t>(const int64_t*, const Shape&, int64_t, bool, bool, int64_t*);

void float_top_k(const float* x, const Shape& s, int64_t axis, int64_t k, bool largest, float* values,
                 int64_t* indices) {
  const AxisView v = axis_view("float_top_k", s, axis);
  if (k < 0 || k > v.length)
    throw Error("float_top_k: k = " + std::to_string(k) + " is outside [0, " + std::to_string(v.length) +
                "], the length of axis " + std::to_string(axis));
  std::vector<int64_t> order(static_cast<size_t>(v.length));
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      const float* xs = x + o * v.length * v.inner + i;
      // A strict total order: the more extreme value first (NaN most), then the lower index.
      auto before = [&](int64_t a, int64_t b) {
        const float xa = xs[a * v.inner], xb = xs[b * v.inner];
        const bool na = std::isnan(xa), nb = std::isnan(xb);
        if (na != nb) return na;
        if (!na && xa != xb) return largest ? xa > xb : xa < xb;
        return a < b;
      };
      std::iota(order.begin(), order.end(), int64_t{0});
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t out = (o * k + j) * v.inner + i, from = order[static_cast<size_t>(j)];
        if (values != nullptr) values[out] = xs[from * v.inner];
        if (indices != nullptr) indices[out] = from;
      }
    }
}

}  // namespace octet::ref
