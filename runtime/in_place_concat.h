#pragma once

// Convolutions that write their output straight into the Concat that reads it (U-Net decoders, CSP and
// C2f blocks, Inception and DenseNet), so that the Concat has nothing to copy for them. A convolution
// output qualifies when the Concat joins NHWC channels (its last axis) in uint8, the output has the
// Concat output's own scale and zero point (so the copy would be exact), the Concat is its only reader
// (no other node, graph output or kept value sees its bytes, which are now strided), and its operator can
// store pixels further apart than its channels (takes_output_stride: convolutions on the GEMM kernels).
// The memory plan then places that output inside the Concat's (plan_memory's aliases).

#include <cstdint>
#include <vector>

#include "graph/ir.h"
#include "kernels/isa.h"
#include "runtime/memory_plan.h"

namespace octet::runtime {

struct InPlaceConcatInput {
  int producer = 0;        // node index of the convolution
  int concat = 0;          // node index of the Concat
  size_t input = 0;        // which input of the Concat it is
  ValueAlias alias;        // its output inside the Concat's output
  int64_t row_stride = 0;  // bytes between its output pixels: the Concat's channels
};

std::vector<InPlaceConcatInput> find_in_place_concat_inputs(const graph::Graph& g, Isa isa,
                                                            const std::vector<graph::ValueId>& keep_alive);

}  // namespace octet::runtime
