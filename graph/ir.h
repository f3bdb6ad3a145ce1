#pragma once

// octet's model IR: the graph after ONNX import and lowering. Values are tensors: uint8 activations with
// their quantization params, and float (with bool / int64) tensors where the model computes in float; a
// value may also be a constant whose data the graph holds. Nodes are operators of the reference set with
// their constant operands (weights, bias, lookup tables) attached. One operator kind serves both worlds
// where the operation is the same (a max pool of uint8 or of float values): the value types say which.
// Graph code knows nothing of instruction sets: which kernel runs a node is the runtime's business.

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
#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/float_normalization.h"
#include "kernels/reference/float_pooling.h"
#include "kernels/reference/float_recurrent.h"
#include "kernels/reference/float_reduce.h"
#include "kernels/reference/float_roi_align.h"
#include "kernels/reference/indexing.h"
#include "kernels/reference/lut.h"
#include "kernels/reference/movement.h"
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
  // A constant operand of a runtime operator (a float tensor added to an activation, say): its elements in
  // the physical layout. Constants take no activation memory and are computed by no node.
  std::shared_ptr<const std::vector<std::byte>> constant = {};

  bool is_constant() const { return constant != nullptr; }
};

// The logical (ONNX, channel-first) shape of a value.
Shape onnx_shape(const Value& v);

using Weights = std::variant<TensorS8, TensorU8>;

// A quantized add that takes a convolution's output and another tensor of its shape, fused into the
// convolution (graph/passes/fuse_residual_add.h): the conv node's second input is the other operand and its
// output is the add's.
struct ResidualAddAttrs {
  QuantParams conv_output;  // the convolution's own output params, as the add's operand
  Clamp clamp;              // the add's
  bool conv_first = true;   // the convolution's output is the add's first operand (A)
};
struct ConvAttrs {
  bool transposed = false;
  ref::Conv2dParams conv;                  // used when !transposed
  ref::ConvTranspose2dParams transpose;    // used when transposed
  std::shared_ptr<const Weights> weights;  // [C_out, KH, KW, C_in / groups]
  std::shared_ptr<const TensorS32> bias;   // may be null
  Clamp clamp;                             // of the convolution's own output
  std::optional<ResidualAddAttrs> residual;
};
// The float convolution: the same geometry, float weights and bias, a float output range.
struct FloatConvAttrs {
  bool transposed = false;
  ref::Conv2dParams conv;
  ref::ConvTranspose2dParams transpose;
  std::shared_ptr<const TensorF32> weights;  // [C_out, KH, KW, C_in / groups]
  std::shared_ptr<const TensorF32> bias;     // [C_out] or null
  FloatClamp clamp;
  UnaryParams activation;  // after the clamp; identity: none
  // A residual connection's Add fused in: the node's second input, of the output's shape, is added to the
  // convolution's result before the clamp (not transposed convolutions).
  bool residual = false;
};
struct FullyConnectedAttrs {
  std::shared_ptr<const Weights> weights;  // [C_out, K]
  std::shared_ptr<const TensorS32> bias;
  Clamp clamp;
};
// y[..., n] = clamp(bias[n] + sum_k x[..., k] * weights[n, k]): Gemm / MatMul with a constant matrix.
struct FloatFullyConnectedAttrs {
  std::shared_ptr<const TensorF32> weights;  // [N, K]
  std::shared_ptr<const TensorF32> bias;     // [N] or null
  // [N] or null: added to the finished sums, as the Add after a MatMul that it stands for computes it.
  std::shared_ptr<const TensorF32> addend;
  FloatClamp clamp;
};
struct PoolAttrs {
  ref::Pool2dParams params;
  Clamp clamp;             // uint8 outputs
  FloatClamp float_clamp;  // float outputs
};
struct ClampAttrs {
  Clamp clamp;
};
struct ConcatAttrs {
  int64_t axis = 0;  // physical axis
};
struct ResizeAttrs {
  // params.base for uint8 values (nearest and linear only); all of it for float values.
  ref::FloatResizeParams params;
  // For uint8 values: whether the model resizes real values (DequantizeLinear -> Resize -> QuantizeLinear)
  // or raw uint8 bytes. They are the same operator in octet's own arithmetic, but ONNX Runtime computes them
  // differently, and the float requantization mode follows it (ref::resize_arithmetic).
  bool real_values = false;
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
struct UnaryAttrs {
  UnaryParams params;
};
struct BinaryAttrs {
  BinaryOp op = BinaryOp::add;
};
struct ReduceAttrs {
  ReduceOp op = ReduceOp::sum;
  std::vector<int64_t> axes;  // physical, sorted; the output keeps them as size-1 dimensions
};
struct SoftmaxAttrs {
  int64_t axis = -1;  // physical; uint8 softmax supports the innermost axis only
  bool log = false;
  // uint8 softmax of an int8 com.microsoft QLinearSoftmax: ONNX Runtime's int8 kernel, whose overflowing
  // quotient saturates where its uint8 one gives the zero point (ref::SoftmaxOverflow; float mode only).
  bool onnxruntime_int8 = false;
};
struct ArgReduceAttrs {
  int64_t axis = 0;  // physical; the output keeps it as a size-1 dimension
  bool max = true;
  bool select_last_index = false;
};
struct DynamicQuantizeAttrs {
  bool scale = false;  // this node's output: the scale (a float32 scalar) rather than the centered values
};
// RoiAlign: inputs X (float NHWC image), rois [R, 4] float, batch indices [R] int64; output NHWC
// [R, output_h, output_w, C].
struct RoiAlignAttrs {
  ref::RoiAlignParams params;
};
struct CumSumAttrs {
  int64_t axis = 0;  // physical
  bool exclusive = false;
  bool reverse = false;
};
struct TopKAttrs {
  int64_t axis = 0;  // physical
  int64_t k = 1;
  bool largest = true;
  bool indices = false;  // this node's output: the indices (int64) rather than the values (float)
};
enum class NormKind { channel_affine, instance, group, layer, lrn };
struct NormAttrs {
  NormKind kind = NormKind::channel_affine;
  // channel_affine: y = x * scale[c] + shift[c] along `axis`; instance: per (n, c) over the spatial
  // positions, channel `axis`; layer: over the dimensions from `axis` on (scale / shift expanded to them);
  // group: as instance over `groups` groups of channels (scale / shift per channel); lrn: across the
  // channels of `axis` (ref::float_lrn), with `lrn`'s parameters.
  int64_t axis = 1;                        // physical
  std::shared_ptr<const TensorF32> scale;  // null for lrn
  std::shared_ptr<const TensorF32> shift;  // may be null for layer; null for lrn
  float epsilon = 1e-5f;
  int64_t groups = 1;
  ref::LrnParams lrn;
  // channel_affine only: a fused Relu / Clip, then an activation (identity: none), as for FloatConvAttrs.
  FloatClamp clamp;
  UnaryParams activation;
  // A channel_affine node along the innermost axis may have several inputs: the pieces of a Concat along
  // that axis, in order (graph/passes/fuse_concat_affine.h); every other normalize has one.
  // Such a node on uint8 (its Dequantize and Quantize folded in) dequantizes with the Concat's params, to
  // which each piece's bytes are first requantized as the Concat did; unused otherwise.
  QuantParams joined_quant;
  // A uint8 channel affine may end in a byte table that read only its bytes (a Relu or Clip requantized,
  // any byte map: fold_affine_quantization.h): the affine quantizes with `table_input_quant`, the table maps
  // those bytes, and the node's output is the table's.
  std::optional<ref::Lut> output_table;
  QuantParams table_input_quant;
};
struct SliceAttrs {
  std::vector<ref::SliceAxis> axes;  // one per physical dimension
};
struct PadAttrs {
  std::vector<int64_t> begin, end;  // physical
  ref::PadMode mode = ref::PadMode::constant;
  std::vector<std::byte> value;  // one element of the value's type (constant mode)
};
struct GatherAttrs {
  int64_t axis = 0;  // physical
  // Constant indices, checked at load; null when they are the node's second input (int64, at run time).
  std::shared_ptr<const std::vector<int64_t>> indices;
  Shape index_shape;
};
// GatherElements / ScatterElements (`axis`, physical), GatherND (`batch_dims`), ScatterND; the indices are
// input 1 (int64), the updates input 2.
struct IndexingAttrs {
  int64_t axis = 0;
  int64_t batch_dims = 0;
  ref::ScatterReduction reduction = ref::ScatterReduction::none;
};
// RNN / GRU / LSTM: the node's inputs are X, then initial_h, initial_c (float) and sequence_lens (int64)
// where the flags say the model gives them; the weights are constants in `params`, shared by the nodes of
// one ONNX node (one per output the model uses: Y, Y_h or Y_c).
struct RecurrentAttrs {
  std::shared_ptr<const ref::RecurrentParams> params;
  ref::RecurrentOutput output = ref::RecurrentOutput::sequence;
  bool initial_h = false, initial_c = false, sequence_lens = false;
};
struct TileAttrs {
  std::vector<int64_t> repeats;  // physical
};
struct CastAttrs {
  ElementType to = ElementType::f32;
  // ONNX's Cast to int32, held as int64 (`to` is s64): a float is truncated to int32 (out of its range or
  // NaN: INT32_MIN, as x86's conversion gives), an integer wraps modulo 2^32.
  bool int32 = false;
};
struct DepthToSpaceAttrs {
  int64_t block = 1;
  bool to_space = true;  // DepthToSpace; false: SpaceToDepth
  bool crd = false;
};
// ShuffleNet's channel shuffle on the innermost (physical) axis of C channels: out[..., j * groups + i] =
// in[..., i * (C / groups) + j], ONNX's Reshape [N, groups, C / groups, H, W] -> Transpose (0, 2, 1, 3, 4)
// -> Reshape [N, C, H, W] of an NCHW tensor, done on its NHWC form in one pass.
struct ChannelShuffleAttrs {
  int64_t groups = 1;
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
  // Float operators (and element-moving ones that serve every type).
  unary,             // float elementwise function
  binary,            // float arithmetic, comparisons (bool out), logical operators (bool in and out)
  where,             // cond ? x : y (any type)
  reduce,            // float reduction over axes
  arg_reduce,        // ArgMax / ArgMin: int64 indices
  top_k,             // TopK's values (float) or indices (int64): one node per output ONNX asks for
  cumulative_sum,    // CumSum (float32 or int64)
  dynamic_quantize,  // DynamicQuantizeLinear: q - zero point as float (what ConvInteger multiplies), or the
                     // scale; both from the tensor's own range at run time
  matmul,            // NumPy matmul of two runtime operands: float, or uint8 (ClampAttrs) requantized
  normalize,         // BatchNormalization (channel affine), InstanceNormalization, LayerNormalization
  slice,             // any type
  pad,               // any type
  gather,            // any type; constant indices, or int64 ones at run time (input 1)
  gather_elements,   // any type, int64 indices (input 1)
  gather_nd,         // any type, int64 index tuples (input 1)
  scatter_elements,  // data (any type; float32 / int64 with a reduction), int64 indices, updates
  scatter_nd,        // the same, with index tuples
  expand,            // any type: broadcast to the output's shape
  tile,              // any type
  cast,              // float <-> bool / int64
  depth_to_space,
  channel_shuffle,  // any type (ChannelShuffleAttrs)
  recurrent,        // RNN, GRU, LSTM in float (RecurrentAttrs)
  roi_align,        // RoiAlign in float (RoiAlignAttrs)
};

const char* name_of(OpKind kind);

using Attrs =
    std::variant<std::monostate, ConvAttrs, FloatConvAttrs, FullyConnectedAttrs, FloatFullyConnectedAttrs,
                 PoolAttrs, ClampAttrs, ConcatAttrs, ResizeAttrs, LutAttrs, TransposeAttrs, ReshapeAttrs,
                 UnaryAttrs, BinaryAttrs, ReduceAttrs, SoftmaxAttrs, ArgReduceAttrs, NormAttrs, SliceAttrs,
                 PadAttrs, GatherAttrs, TileAttrs, CastAttrs, DepthToSpaceAttrs, ChannelShuffleAttrs,
                 TopKAttrs, DynamicQuantizeAttrs, IndexingAttrs, CumSumAttrs, RecurrentAttrs, RoiAlignAttrs>;

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
  // The graph inputs' shapes as the model declares them (ONNX order), -1 for dynamic dimensions, and the
  // symbolic names of those dimensions ("" for fixed ones or unnamed dynamic ones).
  std::vector<Shape> declared_input_shapes;
  std::vector<std::vector<std::string>> declared_input_dim_names;
  // The graph inputs and outputs (by position) that the model declares int32. octet holds them as int64
  // values (those of int32 Casts wrapped to int32's range) and callers exchange them as int32: a caller's
  // int32 input is widened, an int64 value leaves through an int32 output wrapped modulo 2^32, which is
  // what int32 arithmetic gives for the operators that wrap (Add, Sub, Mul, Cast).
  std::vector<bool> int32_inputs;
  std::vector<bool> int32_outputs;
  // Graph inputs that also have an initializer (ONNX IR version 3's defaults): octet holds them as
  // constants, not as inputs, and names them when a caller gives one a shape or data.
  std::vector<std::string> initialized_inputs;
  // Read through these: a graph built without the flags (tests, benchmarks) has none.
  bool int32_input(size_t i) const { return i < int32_inputs.size() && int32_inputs[i]; }
  bool int32_output(size_t i) const { return i < int32_outputs.size() && int32_outputs[i]; }

  ValueId add_value(Value v) {
    values.push_back(std::move(v));
    return static_cast<ValueId>(values.size() - 1);
  }
  const Value& value(ValueId id) const { return values.at(static_cast<size_t>(id)); }
  Value& value(ValueId id) { return values.at(static_cast<size_t>(id)); }
};

// A node's operator in reports: its kind, and what was fused into it ("conv+add").
std::string op_name(const Node& node);

// Multiply-accumulates of one node (0 for data movement), for reports.
int64_t mac_count(const Graph& graph, const Node& node);

// Whether the node computes in float (as opposed to on quantized data or only moving elements): what
// reports mark, so users see what their quantizer left in float.
bool computes_in_float(const Graph& graph, const Node& node);

// Bytes a node must at least read and write: its inputs, its output and its constant operands (weights,
// bias). The denominator of its arithmetic intensity in a roofline.
int64_t bytes_moved(const Graph& graph, const Node& node);

}  // namespace octet::graph
