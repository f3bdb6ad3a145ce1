#pragma once

// octet's model IR: the quantized graph after ONNX import and lowering. Values are runtime tensors
// (uint8 activations, the float tensors at the graph boundary); nodes are operators of the reference set
// with their constant operands (packed weights, bias, lookup tables) attached. Graph code knows nothing of
// instruction sets: which kernel runs a node is the runtime's business.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/element_type.h"
#include "kernels/reference/conv2d.h"
#include "kernels/reference/conv_transpose2d.h"
#include "kernels/reference/lut.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/resize.h"
#include "kernels/tensor.h"

namespace octet::graph {

using ValueId = int32_t;

// How a value's elements are laid out. Image tensors (rank 4) run channel-last; the ONNX model describes
// them channel-first, so `shape` is always the physical shape and `onnx_shape` the model's view of it.
enum class Layout { plain, nhwc };

struct Value {
  std::string name;  // the ONNX tensor name
  ElementType type = ElementType::u8;
  Shape shape;  // physical shape (NHWC for Layout::nhwc)
  Layout layout = Layout::plain;
  QuantParams quant;  // for uint8 values
};

// The logical (ONNX, channel-first) shape of a value.
Shape onnx_shape(const Value& v);

using Weights = std::variant<TensorS8, TensorU8>;

struct ConvAttrs {
  bool transposed = false;
  ref::Conv2dParams conv;                  // used when !transposed
  ref::ConvTranspose2dParams transpose;    // used when transposed
  std::shared_ptr<const Weights> weights;  // [C_out, KH, KW, C_in / groups]
  std::shared_ptr<const TensorS32> bias;   // may be null
  Clamp clamp;
};
struct FullyConnectedAttrs {
  std::shared_ptr<const Weights> weights;  // [C_out, K]
  std::shared_ptr<const TensorS32> bias;
  Clamp clamp;
};
struct PoolAttrs {
  ref::Pool2dParams params;
  Clamp clamp;
};
struct ClampAttrs {
  Clamp clamp;
};
struct ConcatAttrs {
  int64_t axis = 0;  // physical axis
};
struct ResizeAttrs {
  ref::ResizeParams params;
};
struct LutAttrs {
  ref::Lut table{};
};
struct TransposeAttrs {
  std::vector<int64_t> perm;  // output dim i is input dim perm[i]
};
struct ReshapeAttrs {
  Shape shape;  // the output's physical shape
};

enum class OpKind {
  quantize,    // float -> uint8 (input 0 float, output uint8)
  dequantize,  // uint8 -> float
  conv,        // conv2d and conv_transpose2d
  fully_connected,
  max_pool,
  average_pool,
  global_average_pool,
  add,
  mul,
  concat,
  requantize,  // uint8 -> uint8 with new params (and clamp)
  resize,
  lut,
  softmax,    // uint8 -> uint8, or uint8 -> float when the output value is float
  reshape,    // same elements, new shape
  transpose,  // permutes dimensions (layout changes at the graph boundary and before reshapes)
};

const char* name_of(OpKind kind);

using Attrs = std::variant<std::monostate, ConvAttrs, FullyConnectedAttrs, PoolAttrs, ClampAttrs, ConcatAttrs,
                           ResizeAttrs, LutAttrs, TransposeAttrs, ReshapeAttrs>;

struct Node {
  std::string name;     // the ONNX node this came from (for errors and profiles)
  std::string onnx_op;  // its op type, e.g. "QLinearConv" or "Conv (QDQ)"
  OpKind kind = OpKind::requantize;
  std::vector<ValueId> inputs;
  ValueId output = -1;
  Attrs attrs;
};

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;  // in execution order
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  // The graph inputs' shapes as the model declares them (ONNX order), -1 for dynamic dimensions.
  std::vector<Shape> declared_input_shapes;

  ValueId add_value(Value v) {
    values.push_back(std::move(v));
    return static_cast<ValueId>(values.size() - 1);
  }
  const Value& value(ValueId id) const { return values.at(static_cast<size_t>(id)); }
  Value& value(ValueId id) { return values.at(static_cast<size_t>(id)); }
};

// Multiply-accumulates of one node (0 for data movement), for reports.
int64_t mac_count(const Graph& graph, const Node& node);

// Bytes a node must at least read and write: its inputs, its output and its constant operands (weights,
// bias). The denominator of its arithmetic intensity in a roofline.
int64_t bytes_moved(const Graph& graph, const Node& node);

}  // namespace octet::graph
