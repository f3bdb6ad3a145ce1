#pragma once

// Float reductions, softmax and normalizations, the scalar references.
//
// The summation order every kernel reproduces (so that results are the same bytes on every ISA and thread
// count): a sum over R elements x_0 .. x_{R-1} (in the order of the reduced axes, row-major) uses 16
// partial sums, element i going to partial i % 16 in ascending i (p = p + x); then p[j] += p[j + 8] for
// j < 8, p[j] += p[j + 4] for j < 4, p[j] += p[j + 2] for j < 2, and the result is p[0] + p[1]. Products
// (ReduceProd) and max / min follow the same pattern with * and max / min. Divisions are divisions, never
// multiplications by a reciprocal. The partials start from the operation's identity: -0.0f for sums (the
// exact one: a sum of -0s stays -0), 1 for products, -inf / +inf for max / min. The code of the rule, and
// of the steps that finish each ReduceOp, is kernels/reference/float_reduce_order.h.

#include <cstdint>
#include <vector>

#include "kernels/tensor.h"

namespace octet {

enum class ReduceOp : uint8_t { sum, mean, max, min, prod, l1, l2, sum_square, log_sum, log_sum_exp };

}  // namespace octet

namespace octet::ref {

// The fixed-order sum of x_i for i < count, x_i = x[i * stride] (the rule above).
float ordered_sum(const float* x, int64_t count, int64_t stride);

// Reduces x (shape s) over `axes` (sorted, distinct, each < rank): y has shape s with those dimensions set
// to 1 (keepdims = 0 is the caller's reshape). ONNX: max / min propagate NaN; an empty reduction gives
// the operator's identity (0, 1, -inf for max, +inf for min, -inf for log_sum and log_sum_exp, NaN for
// mean). No axes at all reduces each element alone (ONNX's noop_with_empty_axes: x itself for sum, mean,
// max, min and prod, |x| for l1, sqrt(x * x) for l2, and so on; a caller mapping ONNX's "empty axes reduce
// everything" passes every axis). mean divides the sum by the count; l2 is sqrt of the sum of
// x * x; log_sum_exp is log(sum exp(x - m)) + m with m the max (m itself when m is infinite or NaN).
void float_reduce(ReduceOp op, const float* x, const Shape& s, const std::vector<int64_t>& axes, float* y);

// Softmax (or LogSoftmax) over one axis: m = max, e_i = exp(x_i - m), s = ordered sum of e,
// y_i = e_i / s (log: (x_i - m) - log(s)). A row of -inf (or with a NaN, or a +inf) gives NaN, as
// ONNX's reference computes it. x and y may be the same buffer.
void float_softmax(const float* x, const Shape& s, int64_t axis, bool log, float* y);

// Index of the first maximum (or minimum) along `axis` (ONNX ArgMax / ArgMin, select_last_index selects
// the last); y has shape s with that dimension set to 1. NaN counts as the extreme (numpy: the first NaN,
// or the last with select_last_index); +0 and -0 tie. The axis must not be empty (throws).
void float_arg_reduce(const float* x, const Shape& s, int64_t axis, bool max, bool select_last_index,
                      int64_t* y);

// ONNX TopK: the k largest (or smallest) elements along `axis` in that order, ties in index order, NaN the
// most extreme (as float_arg_reduce); `values` and / or `indices` (either may be null) have shape s with that
// dimension set to k. Throws unless 0 <= k <= the axis's length.
void float_top_k(const float* x, const Shape& s, int64_t axis, int64_t k, bool largest, float* values,
                 int64_t* indices);

// ONNX CumSum along `axis`: y[.., i, ..] = the sum of x[.., j, ..] for j <= i (exclusive: j < i; reverse:
// j >= i, or j > i), accumulated one element at a time in the direction of the scan, as ONNX Runtime and
// numpy.cumsum do. T is float (float32 sums) or int64_t (wrapping around on overflow).
template <class T>
void cumulative_sum(const T* x, const Shape& s, int64_t axis, bool exclusive, bool reverse, T* y);

}  // namespace octet::ref
