#pragma once

// The row kernels of the quantized binary operators (add, mul): out[i] = op(a[i], b[i]) for a row of n
// elements, either operand possibly one element repeated along the row (a broadcast scalar), and the same
// against one row of C values repeated for every pixel (a broadcast row). A kernel is made once per layer,
// with its constants, and called for every row; kernels/elementwise/quantized_binary.h drives it over
// broadcast shapes.

#include <cstdint>

namespace octet::elementwise {

// Which operand of a row is one element repeated n times (read from a[0] or b[0]), if any.
enum class Repeated { none, a, b };

// The longest repeated row against_row takes, and the size of the buffers it may fill with copies of it:
// every stretch it computes in one call is then at least two rows and 512 elements long.
constexpr int64_t kRepeatedRowBuffer = 1024;
constexpr int64_t kMaxRepeatedRow = kRepeatedRowBuffer / 2;

class BinaryRows {
 public:
  BinaryRows() = default;
  BinaryRows(const BinaryRows&) = delete;
  BinaryRows& operator=(const BinaryRows&) = delete;
  virtual ~BinaryRows() = default;

  // out[i] = op(a[repeated == a ? 0 : i], b[repeated == b ? 0 : i]) for i in [0, n). Reads and writes
  // nothing outside those elements. `out` may be `a` or `b` itself (in place: every kernel reads a chunk of
  // its operands before it stores that chunk's results); it must not overlap them otherwise. Safe to call
  // from several threads at once.
  virtual void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                          Repeated repeated) const = 0;

  // out[p * c + i] = op(moving[p * c + i], row[i]) (operands in that order when moving_is_a, swapped
  // otherwise) for p in [0, pixels), i in [0, c), c in [1, kMaxRepeatedRow]. This default copies the row
  // into a buffer as many times as fits and calls operator() once per buffer length; kernels override it
  // where they can also keep the row's own share of the arithmetic in the buffer, computed once.
  virtual void against_row(const uint8_t* moving, const uint8_t* row, bool moving_is_a, int64_t c,
                           int64_t pixels, uint8_t* out) const;
};

}  // namespace octet::elementwise
