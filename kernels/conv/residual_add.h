#pragma once

// An elementwise operator applied to a convolution's output as the convolution writes it: the residual add
// of ResNet / MobileNetV2 blocks, out = add(conv, residual) (or add(residual, conv): the operand order
// fixes the float mode's arithmetic), with a tensor of the output's shape. The convolution stores a tile's
// requantized bytes, then the row kernel (elementwise::make_binary_rows) rewrites them in place while they
// are still in the L1 cache: the same bytes as the two operators one after the other, without a pass over
// the convolution's output in memory.

#include <cstdint>

#include "kernels/elementwise/binary_rows.h"
#include "kernels/parallel.h"

namespace octet::conv {

struct ResidualAdd {
  const elementwise::BinaryRows* rows = nullptr;
  const uint8_t* residual = nullptr;  // the output's shape and layout
  bool conv_first = true;             // the convolution is the operator's first operand

  // Asks for residual elements [offset, offset + n) to be brought into the L2 cache: a task calls it before
  // computing its tile, so that the loads arrive while the tile is computed. (Into L1 they evicted the
  // GEMM's weights: a 3x3 x 64-channel block's are 36 KiB.)
  void prefetch(int64_t offset, int64_t n) const {
    for (int64_t i = 0; i < n; i += 64)
      __builtin_prefetch(residual + offset + i, 0, 2);
  }

  // Applies the operator to output elements [offset, offset + n), in place.
  void apply(uint8_t* output, int64_t offset, int64_t n) const {
    uint8_t* conv = output + offset;
    const uint8_t* other = residual + offset;
    if (conv_first)
      (*rows)(conv, other, conv, n, elementwise::Repeated::none);
    else
      (*rows)(other, conv, conv, n, elementwise::Repeated::none);
  }

  // Applies it to all `count` output elements, in parallel: after a convolution whose tasks cannot take it.
  void apply_all(uint8_t* output, int64_t count) const {
    parallel_ranges(count, kTaskElements,
                    [&](int64_t first, int64_t last) { apply(output, first, last - first); });
  }
};

}  // namespace octet::conv
