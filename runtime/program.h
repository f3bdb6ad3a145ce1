#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "graph/ir.h"
#include "graph/onnx_import.h"
#include "runtime/memory_plan.h"
#include "runtime/operators.h"

namespace octet::runtime {

// A model compiled for one set of input shapes: the graph, a prepared operator per node and the memory
// plan. Immutable once built; shared by every session that runs these shapes.
struct Program {
  graph::Graph graph;
  std::vector<std::unique_ptr<const Operator>> operators;
  RequantMode requant = RequantMode::fixed_point;  // how its operators requantize
  Isa isa = Isa::scalar;                           // the instruction set its operators run
  MemoryPlan plan;
  // For each node: the Concat node whose output it stores its own output straight into
  // (in_place_concat.h), else -1.
  std::vector<int> stores_into_concat;
  // For each graph output produced by a DequantizeLinear: the uint8 value it dequantizes (kept alive to
  // the end so that callers can ask for quantized outputs), else -1.
  std::vector<graph::ValueId> quantized_outputs;
  // For each float graph input consumed only by its quantize node: that node's index (else -1), so a
  // caller's already-quantized uint8 data can skip it.
  std::vector<int> input_quantize_nodes;

  // How many operator outputs are stored straight into their Concat's output.
  int in_place_concat_inputs() const;
};

// Imports `onnx` and prepares every operator for `isa` (which the CPU must run), requantizing in mode
// `requant`.
std::shared_ptr<const Program> compile(std::span<const std::byte> onnx, const graph::ImportOptions& options,
                                       RequantMode requant, Isa isa);

}  // namespace octet::runtime
