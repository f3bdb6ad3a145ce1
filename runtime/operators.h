#pragma once

// The executor's view of a node: a prepared operator that reads its inputs from and writes its output to
// buffers in the session's arena. Everything that depends only on the model (weights sliced for
// parallelism, multipliers, tables) is prepared once, when the model is loaded, and shared read-only by
// every session. The implementations here run the scalar reference kernels; faster kernels slot in behind
// the same interface.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

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

// Where a node's output or inputs lie other than densely in their own bytes (in_place_concat.h).
struct Placement {
  // > 0: the output's NHWC pixels are this many bytes apart (inside a Concat's output); only for nodes
  // with takes_output_stride.
  int64_t output_stride = 0;
  // Of a Concat: the inputs that their producers wrote into its output already (nothing to copy).
  std::vector<bool> inputs_in_place;
};

// Prepares `node` for the kernels of `isa` (scalar: the reference operators) in requantization mode
// `requant`; throws octet::Error naming the node when its parameters are unusable (for example an
// accumulator that could overflow int32).
std::unique_ptr<const Operator> make_operator(const graph::Graph& graph, const graph::Node& node, Isa isa,
                                              RequantMode requant, const Placement& placement = {});

// Whether the operator of `node` on `isa` can store its output pixels further apart than its channels
// (Placement::output_stride): uint8 convolutions on the GEMM kernels.
bool takes_output_stride(const graph::Graph& graph, const graph::Node& node, Isa isa);

}  // namespace octet::runtime
