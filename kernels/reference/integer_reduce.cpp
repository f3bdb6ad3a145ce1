// int64 reductions (integer_reduce.h).

#include "kernels/reference/integer_reduce.h"

#include <algorithm>
#include <limits>
#include <string>

#include "kernels/error.h"

namespace octet::ref {

bool int64_reduces(ReduceOp op) {
  return op == ReduceOp::sum || op == ReduceOp::mean || op == ReduceOp::max || op == ReduceOp::min ||
         op == ReduceOp::prod;
}

void int64_reduce(ReduceOp op, const int64_t* x, const Shape& s, const std::vector<int64_t>& axes,
                  int64_t* y) {
  if (!int64_reduces(op))
    throw Error("int64 reduce: only sum, mean, max, min and product take int64 tensors");
  const auto rank = s.size();
  std::vector<bool> reduced(rank, false);
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= static_cast<int64_t>(rank)) throw Error("int64 reduce: axis out of range");
    reduced[static_cast<size_t>(axis)] = true;
  }
  // Each input element's output index: its coordinates with the reduced ones set to 0.
  Shape out_shape = s;
  int64_t count = 1;
  for (size_t d = 0; d < rank; ++d)
    if (reduced[d]) {
      count *= s[d];
      out_shape[d] = 1;
    }
  const int64_t outputs = element_count(out_shape, "int64 reduce"), total = element_count(s, "int64 reduce");
  const int64_t identity = op == ReduceOp::prod  ? 1
                           : op == ReduceOp::max ? std::numeric_limits<int64_t>::min()
                           : op == ReduceOp::min ? std::numeric_limits<int64_t>::max()
                                                 : 0;
  if (op == ReduceOp::mean && count == 0 && outputs > 0) throw Error("int64 reduce: the mean of no elements");
  std::fill(y, y + outputs, identity);
  std::vector<int64_t> coord(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < rank; ++d)
      o = o * out_shape[d] + (reduced[d] ? 0 : coord[d]);
    int64_t& acc = y[o];
    // Sums and products in uint64: wrapping, where signed overflow would be undefined.
    switch (op) {
      case ReduceOp::sum:
      case ReduceOp::mean:
        acc = static_cast<int64_t>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(x[i]));
        break;
      case ReduceOp::prod:
        acc = static_cast<int64_t>(static_cast<uint64_t>(acc) * static_cast<uint64_t>(x[i]));
        break;
      case ReduceOp::max:
        acc = std::max(acc, x[i]);
        break;
      default:
        acc = std::min(acc, x[i]);
        break;
    }
    for (size_t d = rank; d-- > 0;) {
      if (++coord[d] < s[d]) break;
      coord[d] = 0;
    }
  }
  if (op == ReduceOp::mean)
    for (int64_t o = 0; o < outputs; ++o)
      y[o] /= count;
}

}  // namespace octet::ref
