#pragma once

#include "graph/ir.h"
#include "kernels/quantization/requant_mode.h"

namespace octet::graph {

// Fuses chains of operators that map each uint8 byte of one tensor to one output byte into one lookup
// table: a table or requantization after another (their composition), and an add / mul of a tensor with a
// byte map of that same tensor (hard-swish as quantizers leave it: x * Q(relu6(x + 3)) / 6 is three uint8
// operators, each a function of x's byte alone). Every fused table is built from the unfused operators' own
// reference arithmetic, so the result is the same bytes as running them one by one, with one pass over the
// tensor instead of several. Intermediate values that anything else reads are left alone.
// `requant`: the arithmetic of the requantizations and add / mul operators being fused (the session's
// requantization mode).
void fuse_byte_maps(Graph& graph, RequantMode requant = RequantMode::fixed_point);

}  // namespace octet::graph
