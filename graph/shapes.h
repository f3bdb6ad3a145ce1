#pragma once

#include "graph/ir.h"

namespace octet::graph {

// The physical shape of `node`'s output from its inputs' shapes and its attributes. `out` carries the
// output's layout. Throws octet::Error naming the node when the shapes do not fit together.
Shape infer_output_shape(const Graph& graph, const Node& node, const Value& out);

// Verifies the whole graph: every edge refers to an existing value produced before use, every uint8 value
// has valid params, operators that pass values through unchanged (max pool, reshape, transpose, resize)
// keep their input's params exactly, and every node's output shape is what its inputs imply. Throws
// octet::Error naming the node and tensor.
void check_graph(const Graph& graph);

}  // namespace octet::graph
