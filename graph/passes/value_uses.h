#pragma once

#include <map>

#include "graph/ir.h"

namespace octet::graph {

// Who reads and who computes each value, as the fusion passes ask: a value read once can be folded into
// its reader.
struct ValueUses {
  std::map<ValueId, int> readers;      // node inputs, plus one for each graph output
  std::map<ValueId, size_t> producer;  // index of the node that computes it

  explicit ValueUses(const Graph& g) {
    for (const Node& n : g.nodes)
      for (ValueId id : n.inputs)
        ++readers[id];
    for (ValueId id : g.outputs)
      ++readers[id];
    for (size_t i = 0; i < g.nodes.size(); ++i)
      producer[g.nodes[i].output] = i;
  }

  int read_count(ValueId id) const {
    const auto it = readers.find(id);
    return it == readers.end() ? 0 : it->second;
  }
};

}  // namespace octet::graph
