#pragma once

// The executor's view of a node: a prepared operator that reads its inputs from and writes its output to
// buffers in the session's arena. Everything that depends only on the model (weights sliced for
// parallelism, multipliers, tables) is prepared once, when the model is loaded, and shared read-only by
// every session. The implementations here run the scalar reference kernels; faster kernels slot in behind
// the same interface.

#include <cstddef>
#include <memory>
#include <span>

#include "graph/ir.h"
#include "kernels/isa.h"
#include "kernels/quantization/requant_mode.h"

namespace octet::runtime {

class Operator {
 public:
  virtual ~Operator() = default;
  // Called inside the session's oneTBB arena: an operator may use tbb::parallel_for, and must produce the
  // same bytes for any number of threads.
  virtual void run(std::span<const std::byte* const> inputs, std::byte* output) const = 0;
};

// Prepares `node` for the kernels of `isa` (scalar: the reference operators) in requantization mode
// `requant`; throws octet::Error naming the node when its parameters are unusable (for example an
// accumulator that could overflow int32).
std::unique_ptr<const Operator> make_operator(const graph::Graph& graph, const graph::Node& node, Isa isa,
                                              RequantMode requant);

}  // namespace octet::runtime
