#pragma once

#include <vector>

#include "graph/ir.h"

namespace octet::graph {

// Removes the nodes a fusion pass took into others (dropped[i] for node i), keeping the order of the rest.
inline void drop_nodes(Graph& g, const std::vector<bool>& dropped) {
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!dropped[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}

}  // namespace octet::graph
