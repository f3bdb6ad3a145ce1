#pragma once

// The fixed reduction order of kernels/reference/float_reduce.h as code: what is accumulated (Accumulate),
// the 16 partials and their pairwise tree, and the scalar steps that finish each ReduceOp. The references
// use it directly; the fast kernels reproduce it lane for lane (kernels/reduce/float_reduce_simd.h) and
// finish their outputs with the same functions.

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/reference/float_reduce.h"
#include "kernels/simd/float_primitives.h"

namespace octet::ref {

// Element i of a reduction goes to partial i % kReducePartials.
inline constexpr int kReducePartials = 16;

// What a reduction accumulates over its elements x_i (shift: a per-output value, e.g. the mean or max):
//   sum: x, abs_sum: |x|, square_sum: x * x, centered_square_sum: (x - shift) * (x - shift),
//   shifted_exp_sum: exp(x - shift), all combined with +; prod: x with *; max / min: x with the
//   NaN-propagating max / min below.
enum class Accumulate : uint8_t {
  sum,
  abs_sum,
  square_sum,
  centered_square_sum,
  shifted_exp_sum,
  prod,
  max,
  min
};

// The NaN-propagating max / min (kernels/simd/float_primitives.h states the rule; the fast kernels use the
// same functions on vectors).
using simd::max_propagating_nan;
using simd::min_propagating_nan;

// The value every partial starts from. Sums start from -0.0f, the exact additive identity (-0 + x == x for
// every x, +0 included), so starting there is the same as starting from the first element.
float accumulate_identity(Accumulate k);

// The partial update p = combine(p, map(x)) for one element.
float accumulate_step(Accumulate k, float partial, float x, float shift);

// Combines two partials (the tree steps).
float accumulate_combine(Accumulate k, float a, float b);

// The ordered accumulation of value_at(i) for i < count: 16 partials, element i into partial i % 16 in
// ascending i, then p[j] = combine(p[j], p[j + h]) for h = 8, 4, 2, 1, j < h. value_at is called once per i,
// in ascending order (so it may walk an odometer).
template <class ValueAt>
float ordered_accumulate(Accumulate k, int64_t count, float shift, ValueAt&& value_at) {
  float p[kReducePartials];
  const float identity = accumulate_identity(k);
  for (float& v : p)
    v = identity;
  for (int64_t i = 0; i < count; ++i) {
    float& partial = p[i % kReducePartials];
    partial = accumulate_step(k, partial, value_at(i), shift);
  }
  for (int h = kReducePartials / 2; h >= 1; h /= 2)
    for (int j = 0; j < h; ++j)
      p[j] = accumulate_combine(k, p[j], p[j + h]);
  return p[0];
}

// The ordered accumulation of x[i * stride], i < count.
float ordered_accumulate(Accumulate k, const float* x, int64_t count, int64_t stride, float shift = 0.0f);

// How each ReduceOp accumulates (log_sum_exp: shifted_exp_sum, its shift being the max) and finishes an
// output from its accumulation `acc` over `count` >= 1 elements (`max`: log_sum_exp's shift):
//   mean: acc / count; l2: sqrt(acc); log_sum: log(acc); log_sum_exp: log(acc) + max when max is finite,
//   else max (all -inf gives -inf, a +inf gives +inf, a NaN gives NaN); the others: acc.
Accumulate accumulate_of(ReduceOp op);
float finish_reduce(ReduceOp op, float acc, int64_t count, float max);

// The result of a reduction over no elements (ONNX): sum, l1, l2, sum_square 0; prod 1; max -inf; min +inf;
// log_sum and log_sum_exp -inf (the log of an empty sum); mean NaN (0 / 0).
float empty_reduction(ReduceOp op);

// ArgMax / ArgMin: whether element a replaces the best so far, b. NaN beats every number (numpy's argmax and
// argmin); among equal values (NaN with NaN, +0 with -0) the first is kept, or with select_last_index the
// last.
inline bool arg_reduce_replaces(float a, float b, bool max, bool select_last_index) {
  if (b != b) return select_last_index && a != a;
  if (a != a) return true;
  return (max ? a > b : a < b) || (select_last_index && a == b);
}

// A tensor viewed as [outer, length, inner] around `axis` (softmax, argmax); throws octet::Error naming `op`
// for an axis outside [0, rank) or a bad shape.
struct AxisView {
  int64_t outer = 1, length = 1, inner = 1;
};
AxisView axis_view(std::string_view op, const Shape& s, int64_t axis);

// A reduction's geometry after dropping size-1 dimensions and merging adjacent dimensions that are both
// kept or both reduced (which keeps the row-major order of the reduced elements): alternating blocks.
struct ReduceBlock {
  int64_t size = 1;
  int64_t stride = 1;  // element stride in the input
  bool reduced = false;
};
struct ReduceGeometry {
  std::vector<ReduceBlock> blocks;  // outermost first
  int64_t outputs = 1;              // product of the kept sizes
  int64_t count = 1;                // product of the reduced sizes (elements per output)
};
// Validates `axes` (sorted, distinct, in [0, rank)), throwing octet::Error naming `op`.
ReduceGeometry reduce_geometry(std::string_view op, const Shape& s, const std::vector<int64_t>& axes);

// Accumulates output `o` (row-major over the kept blocks) of a geometry with the ordered rule: the generic
// path for any layout.
float accumulate_output(Accumulate k, const float* x, const ReduceGeometry& g, int64_t o, float shift);

}  // namespace octet::ref
