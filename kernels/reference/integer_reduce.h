#pragma once

// Reductions of int64 tensors (shape arithmetic that a model computes at run time: Mask R-CNN's largest
// box index, counts): sum and product wrap around on overflow as int64 arithmetic does in ONNX Runtime,
// max / min, and mean as the sum divided by the count, truncated toward zero. Integer operations are exact
// and associative, so the order does not matter and every ISA and thread count gives the same values.

#include <cstdint>
#include <vector>

#include "kernels/reference/float_reduce.h"

namespace octet::ref {

// Whether int64_reduce computes `op`.
bool int64_reduces(ReduceOp op);

// Reduces x (shape s) over `axes` (sorted, distinct, each < rank) into y of shape s with those dimensions
// set to 1. An empty reduction gives the identity: 0 (sum), 1 (product), INT64_MIN (max), INT64_MAX (min);
// mean of nothing is an error. Throws for an operation int64_reduces refuses.
void int64_reduce(ReduceOp op, const int64_t* x, const Shape& s, const std::vector<int64_t>& axes,
                  int64_t* y);

}  // namespace octet::ref
