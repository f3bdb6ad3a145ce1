#pragma once

#include <cstdint>
#include <vector>

#include "graph/ir.h"

namespace octet::runtime {

// Where every runtime value lives in one activation arena. Values whose lifetimes do not overlap share
// bytes: a value lives from the node that computes it (graph inputs: from the start) to the last node that
// reads it (graph outputs: to the end).
struct MemoryPlan {
  std::vector<int64_t> offsets;  // per ValueId, in bytes
  std::vector<int64_t> sizes;    // per ValueId, in bytes (0 for values that need no storage)
  int64_t arena_bytes = 0;       // the planned peak
  int64_t unplanned_bytes = 0;   // the sum of all values: one buffer each
};

// A value stored inside another from `offset` bytes on (a convolution's output inside its Concat's:
// in_place_concat.h) instead of in bytes of its own; the other then lives from the first's producer on.
struct ValueAlias {
  graph::ValueId value = -1, into = -1;
  int64_t offset = 0;
};

// Greedy best-offset placement, largest values first, with every offset aligned to 64 bytes (a cache line,
// and what the widest vector loads like).
// `keep_alive` values live to the end like graph outputs.
MemoryPlan plan_memory(const graph::Graph& graph, const std::vector<graph::ValueId>& keep_alive = {},
                       const std::vector<ValueAlias>& aliases = {});

int64_t byte_size(const graph::Value& value);

}  // namespace octet::runtime
