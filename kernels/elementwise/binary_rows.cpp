#include "kernels/elementwise/binary_rows.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/error.h"

namespace octet::elementwise {

void BinaryRows::against_row(const uint8_t* moving, const uint8_t* row, bool moving_is_a, int64_t c,
                             int64_t pixels, uint8_t* out) const {
  if (c < 1 || c > kMaxRepeatedRow) throw Error("against_row: row length out of range");
  if (pixels <= 0) return;
  alignas(64) std::array<uint8_t, kRepeatedRowBuffer> rows;
  const int64_t copies = std::min(pixels, kRepeatedRowBuffer / c);
  for (int64_t k = 0; k < copies; ++k)
    std::memcpy(rows.data() + k * c, row, static_cast<size_t>(c));
  for (int64_t p = 0; p < pixels; p += copies) {
    const int64_t n = std::min(copies, pixels - p) * c;
    const uint8_t* m = moving + p * c;
    (*this)(moving_is_a ? m : rows.data(), moving_is_a ? rows.data() : m, out + p * c, n, Repeated::none);
  }
}

}  // namespace octet::elementwise
