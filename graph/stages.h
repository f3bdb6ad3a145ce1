#pragma once

// Models whose tensor shapes depend on data. octet plans every shape at compile time, but the output of
// NonZero or NonMaxSuppression has as many rows as the data selects. Such a model runs in stages: stage 0
// is everything that does not depend on a data-dependent output, compiled like any model; the
// data-dependent operators run on its outputs; stage 1 is compiled for the sizes they produced (and cached
// by them), and so on. Each stage is an ordinary program with every shape known.
//
// Where a node goes: a node's level is the highest level of its inputs; a data-dependent node's output is
// one level above its inputs. An operand that sets a shape (Reshape's shape, Slice's starts, TopK's K,
// Resize's sizes, Range's bounds, ...; sets_shape in stages.cpp) and is computed from run-time data puts
// its node one level above that operand's, where the operand comes in as a constant: each value it takes
// compiles that stage once (cached by value, as the sizes a selection produces are). Shape and Size are
// computed where their input is and cross to later stages as constants (compiled in: a later stage folds the
// shape arithmetic that follows them as usual). Nodes computed from constants alone are not placed: every
// stage that needs them imports them and folds them. A DequantizeLinear whose readers are all in later stages
// moves there, so the uint8 tensor crosses instead of its floats and the later stage keeps the quantized
// form.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "graph/onnx_import.h"
#include "kernels/quantization/element_type.h"

namespace octet::graph {

// An operator whose output's shape depends on its input data (NonZero, NonMaxSuppression, Compress),
// evaluated between two stages. An If is one too: which branch runs, and so what it gives, depends on its
// condition's value; and a Loop, whose trip count and condition are data.
struct DynamicNode {
  enum class Op { non_zero, non_max_suppression, compress, if_branch, loop };
  Op op = Op::non_zero;
  std::string name;                 // the ONNX node's name (or its output's), for errors and reports
  std::string onnx_op;              // "NonZero", "NonMaxSuppression", "If"
  std::vector<std::string> inputs;  // ONNX tensor names; "" for an omitted optional input
  std::vector<std::string> outputs;
  int64_t center_point_box = 0;  // NonMaxSuppression's box format: 0 corners, 1 centre and size
  std::optional<int64_t> axis;   // Compress's axis (none: the flattened input)

  // If: input 0 is the condition, the others are the run-time tensors of the enclosing graph that the
  // branches read. Each branch is a model of its own (graph/onnx/stages.cpp writes it): its nodes, the
  // constants it reads from the enclosing graph, its outputs (the If's, in order), and as inputs the
  // enclosing tensors it reads, declared when it first runs (branch_model).
  struct Branch {
    std::string model;                // a serialized ONNX ModelProto without its inputs
    std::vector<std::string> inputs;  // the enclosing graph's run-time tensors it reads
    // Shapes and sizes of the enclosing graph's run-time tensors that it reads: given to it as constants
    // (their values select the compiled model), so that its shape arithmetic folds.
    std::vector<std::string> constant_inputs;
  };
  Branch then_branch, else_branch;

  // Loop: inputs are M (the trip count) and cond ("" where absent), the initial values of the loop-carried
  // tensors, then the enclosing graph's tensors that the body reads. The body is written as a branch is;
  // its own inputs (iteration number, condition, the loop-carried values) come first in body.inputs.
  Branch body;
  size_t loop_carried = 0;  // how many; the Loop's outputs are these values' last, then its scan outputs
  // Per loop-carried value, the body's Concat that only appends to it ("": none). A body that computes
  // v_out = Concat(v, piece) along axis 0 and reads v nowhere else is written without that Concat: it gives
  // `piece`, and the Loop appends it to the value it keeps (runtime/loops.cpp), so that a value that grows
  // every iteration (Mask R-CNN's pasted masks) is neither copied whole nor compiled for anew each time.
  // The body still declares v; it is given the initial value, which it does not read.
  std::vector<std::string> appended_by;
  // Per output, whether the model declares it int32 (octet computes int32 as int64, octet.h): given as int32.
  std::vector<bool> int32_outputs;
};

// The ONNX model of an If's branch or a Loop's body, its inputs declared with these element types (s32:
// int32) and ranks (dynamic dimensions, named "d0", "d1", ...), its constant inputs as initializers.
std::string branch_model(const DynamicNode::Branch& branch, std::span<const ElementType> types,
                         std::span<const size_t> ranks, std::span<const ImportCut::ConstantTensor> constants);

// One compiled part of a staged model.
struct Stage {
  std::vector<int> nodes;           // indices into the ONNX graph's node list, ascending
  std::vector<std::string> inputs;  // run-time tensors it reads (stage 0: every graph input, in order)
  // Tensors given to it as constants: what earlier stages computed from shapes alone, and the run-time
  // values that set a shape here (a Reshape's shape computed from data): the compiled stage is chosen by
  // their values.
  std::vector<std::string> constant_inputs;
  std::vector<std::string> data_constants;  // those of constant_inputs computed from run-time data
  std::vector<std::string> outputs;         // what later stages, dynamic nodes or the caller read from it
  std::vector<DynamicNode> dynamic_nodes;   // evaluated after it, in order
};

struct StagePlan {
  std::vector<Stage> stages;  // empty: the model has no data-dependent shapes and compiles as one program
  std::vector<std::string> outputs;  // the model's graph outputs, in order
  // What the model declares of each output, for those whose shape placeholders cannot describe (set by
  // run-time values): its element type (s32: int32; none where absent or one octet has no tensors of) and
  // rank (-1 where absent).
  struct Declared {
    std::optional<ElementType> type;
    int rank = -1;
  };
  std::vector<Declared> declared_outputs;
  bool staged() const { return !stages.empty(); }
};

// Plans the stages of an ONNX model. Returns an empty plan where no data-dependent operator computes on
// run-time data, and also where the graph is malformed (a cycle, an input nothing produces): importing it
// then reports the error. Throws octet::Error naming the node for a malformed data-dependent operator.
StagePlan plan_stages(std::span<const std::byte> onnx);

}  // namespace octet::graph
