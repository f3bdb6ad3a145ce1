#pragma once
// Which parts of a float ONNX graph octet quantizes, and where the QuantizeLinear / DequantizeLinear
// pairs go. The rule, for any graph:
// - weighted operators (Conv, ConvTranspose, Gemm, MatMul with constant weights) quantize their input, their
//   weights (int8) and bias (int32); a Relu / Clip chain after one (or after any quantized operator) is
//   absorbed: the pair goes after the chain, whose range does the clamping;
// - a group of elementwise operators computing from one tensor (with scalar constants) is one 256-entry
//   table in octet (hard-swish written as Add, Clip, Mul, Div is one): the pair goes on the tensor it reads
//   and on each tensor leaving the group, none inside, so the group computes in float from exact inputs;
// - Add / Mul of two tensors (or of a tensor and a constant of any shape), pooling, Concat, Resize, Softmax
//   and the operators that move bytes are quantized; those that only move bytes (and MaxPool) give their
//   output their input's params, Softmax [0, 1];
// - everything else, and whatever the user excludes, stays float: it reads the dequantized tensor where its
//   producer is quantized and the float tensor otherwise.

#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace octet::graph::quantize {

enum class NodeRole {
  weighted,   // Conv, ConvTranspose, Gemm, MatMul with constant weights
  absorbed,   // Relu / Clip fused into the quantized operator before it
  table,      // elementwise, part of a group computing from one tensor
  quantized,  // other quantized operators (binary elementwise, pooling, Concat, moving bytes, ...)
  float_op,   // computes in float
};

struct WeightedNode {
  int weight_input = 1;
  int bias_input = -1;    // -1: none
  int axis = 0;           // the output-channel axis of the weights, -1: one scale (per-tensor)
  int64_t reduction = 0;  // how many products each output value sums (K), at most
};

struct QdqPlan {
  std::vector<NodeRole> roles;                 // per node of the graph
  std::map<int, WeightedNode> weighted;        // node index -> its weights
  std::map<int, std::string> float_reasons;    // node index -> why it stays float (float-valued nodes only)
  std::vector<std::string> quantized_tensors;  // tensors that get a Q / DQ pair, in graph order
  std::map<std::string, std::string> shares_params_of;  // output -> the input whose params it takes
  std::set<std::string> fixed_unit_range;               // outputs quantized to [0, 1] (Softmax)
  std::set<std::string> produced_quantized;  // quantized tensors whose producer is a quantized operator
};

struct PlanOptions {
  bool per_channel_weights = true;
  std::set<std::string> exclude;  // node names kept in float
};

// `float_tensors`: the tensors that hold float32 values (found by running the float model); everything
// else (shapes, indices, booleans) is never quantized. Throws octet::Error for an excluded name that is not
// a node of the graph.
QdqPlan plan_qdq(const onnx::GraphProto& graph, const std::set<std::string>& float_tensors,
                 const PlanOptions& options);

}  // namespace octet::graph::quantize
