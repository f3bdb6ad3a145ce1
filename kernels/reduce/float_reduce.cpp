#include "kernels/reduce/float_reduce.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/float_kernels.h"
#include "kernels/parallel.h"
#include "kernels/reduce/float_reduce_kernels.h"

namespace octet::reduce {

using ref::Accumulate;

namespace {

// Finishes outputs [0, n) of y in place (their accumulations); max: log_sum_exp's per-output shifts.
void finish_outputs(ReduceOp op, float* y, int64_t n, int64_t count, const float* max) {
  if (op == ReduceOp::sum || op == ReduceOp::max || op == ReduceOp::min || op == ReduceOp::prod ||
      op == ReduceOp::l1 || op == ReduceOp::sum_square)
    return;
  for (int64_t i = 0; i < n; ++i)
    y[i] = ref::finish_reduce(op, y[i], count, max != nullptr ? max[i] : 0.0f);
}

// Outputs that are contiguous rows: y[r] reduces x[r * count .. (r + 1) * count).
void reduce_rows(const FloatReduceKernels& k, ReduceOp op, const float* x, int64_t rows, int64_t count,
                 float* y) {
  parallel_ranges(rows, grain(count), [&](int64_t r0, int64_t r1) {
    const float* xr = x + r0 * count;
    if (op == ReduceOp::log_sum_exp) {
      std::vector<float> max(static_cast<size_t>(r1 - r0));
      k.accumulate_rows(Accumulate::max, xr, r1 - r0, count, nullptr, max.data());
      k.accumulate_rows(Accumulate::shifted_exp_sum, xr, r1 - r0, count, max.data(), y + r0);
      finish_outputs(op, y + r0, r1 - r0, count, max.data());
    } else {
      k.accumulate_rows(ref::accumulate_of(op), xr, r1 - r0, count, nullptr, y + r0);
      finish_outputs(op, y + r0, r1 - r0, count, nullptr);
    }
  });
}

// Outputs side by side: x is [outer, count, lanes], y is [outer, lanes].
void reduce_columns(const FloatReduceKernels& k, ReduceOp op, const float* x, int64_t outer, int64_t count,
                    int64_t lanes, float* y) {
  parallel_columns(outer, lanes, count, [&](int64_t o, int64_t l0, int64_t l1) {
    const float* xs = x + o * count * lanes + l0;
    float* ys = y + o * lanes + l0;
    const int64_t n = l1 - l0;
    if (op == ReduceOp::log_sum_exp) {
      float max[kColumnChunk];
      k.accumulate_columns(Accumulate::max, xs, count, lanes, n, nullptr, max);
      k.accumulate_columns(Accumulate::shifted_exp_sum, xs, count, lanes, n, max, ys);
      finish_outputs(op, ys, n, count, max);
    } else {
      k.accumulate_columns(ref::accumulate_of(op), xs, count, lanes, n, nullptr, ys);
      finish_outputs(op, ys, n, count, nullptr);
    }
  });
}

}  // namespace

void float_reduce(Isa isa, ReduceOp op, const float* x, const Shape& s, const std::vector<int64_t>& axes,
                  float* y) {
  const FloatReduceKernels* k = float_kernels(isa).reduce;
  if (k == nullptr) return ref::float_reduce(op, x, s, axes, y);
  // No axes reduces each element alone (ref::float_reduce): the rows of one element below.
  const ref::ReduceGeometry g = ref::reduce_geometry("float_reduce", s, axes);
  if (g.outputs == 0) return;
  if (g.count == 0) {
    std::fill(y, y + g.outputs, ref::empty_reduction(op));
    return;
  }
  const std::vector<ref::ReduceBlock>& b = g.blocks;
  const auto reduced_blocks =
      std::count_if(b.begin(), b.end(), [](const ref::ReduceBlock& r) { return r.reduced; });
  // Only size-1 axes reduced (one element per output), or one reduced block innermost: contiguous rows.
  if (reduced_blocks == 0 || (reduced_blocks == 1 && b.back().reduced))
    return reduce_rows(*k, op, x, g.outputs, g.count, y);
  // One reduced block just inside the innermost kept block: [outer,] count, lanes.
  if (reduced_blocks == 1 && b.size() >= 2 && b[b.size() - 2].reduced) {
    const int64_t lanes = b.back().size;
    return reduce_columns(*k, op, x, g.outputs / lanes, g.count, lanes, y);
  }
  // Anything else (reduced blocks interleaved with kept ones): the reference's walk per output.
  const Accumulate acc = ref::accumulate_of(op);
  parallel_ranges(g.outputs, grain(g.count), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      const float max =
          op == ReduceOp::log_sum_exp ? ref::accumulate_output(Accumulate::max, x, g, o, 0.0f) : 0.0f;
      y[o] = ref::finish_reduce(op, ref::accumulate_output(acc, x, g, o, max), g.count, max);
    }
  });
}

void float_softmax(Isa isa, const float* x, const Shape& s, int64_t axis, bool log, float* y) {
  const FloatReduceKernels* k = float_kernels(isa).reduce;
  if (k == nullptr) return ref::float_softmax(x, s, axis, log, y);
  const ref::AxisView v = ref::axis_view(log ? "float_log_softmax" : "float_softmax", s, axis);
  if (v.outer * v.length * v.inner == 0) return;
  if (v.inner == 1) {
    parallel_ranges(v.outer, grain(v.length), [&](int64_t r0, int64_t r1) {
      k->softmax_rows(x + r0 * v.length, r1 - r0, v.length, log, y + r0 * v.length);
    });
    return;
  }
  parallel_columns(v.outer, v.inner, v.length, [&](int64_t o, int64_t l0, int64_t l1) {
    const int64_t offset = o * v.length * v.inner + l0;
    k->softmax_columns(x + offset, v.length, v.inner, l1 - l0, log, y + offset);
  });
}

void float_arg_reduce(Isa isa, const float* x, const Shape& s, int64_t axis, bool max, bool select_last_index,
                      int64_t* y) {
  if (isa == Isa::scalar) return ref::float_arg_reduce(x, s, axis, max, select_last_index, y);
  const char* op = max ? "float_argmax" : "float_argmin";
  const ref::AxisView v = ref::axis_view(op, s, axis);
  if (v.outer * v.inner == 0) return;
  if (v.length == 0)
    throw Error(std::string(op) + ": axis " + std::to_string(axis) + " has no elements to choose from");
  // Comparisons only, no arithmetic: the same choices as the reference, visiting the lanes of a column
  // chunk side by side so that the reads stay in order.
  parallel_columns(v.outer, v.inner, v.length, [&](int64_t o, int64_t l0, int64_t l1) {
    const float* xs = x + o * v.length * v.inner;
    int64_t* ys = y + o * v.inner;
    std::fill(ys + l0, ys + l1, 0);
    for (int64_t i = 1; i < v.length; ++i)
      for (int64_t l = l0; l < l1; ++l)
        if (ref::arg_reduce_replaces(xs[i * v.inner + l], xs[ys[l] * v.inner + l], max, select_last_index))
          ys[l] = i;
  });
}

}  // namespace octet::reduce
