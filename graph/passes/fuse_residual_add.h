#pragma once

#include "graph/ir.h"

namespace octet::graph {

// Fuses a quantized add into the convolution that produces one of its operands (ResidualAddAttrs): the
// residual connection of ResNet and MobileNetV2 blocks, conv(x) + shortcut. The fused node computes the
// convolution's bytes with its own params, then the add of them and the shortcut with the add's params and
// operand order, so the result is the same bytes as the two operators; the runtime applies the add to each
// tile of the convolution's output while it is in cache instead of in a pass of its own over memory.
// Applies where the add's operands and output have one shape (no broadcasting) and per-tensor uint8 params,
// and the convolution's output is read by that add alone (not a graph output). When both operands qualify,
// the convolution that runs later is taken. The fused node runs where the add ran: its inputs are all
// computed by then, and the convolution's input lives until then.
void fuse_residual_adds(Graph& graph);

}  // namespace octet::graph
