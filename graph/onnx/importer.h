#pragma once

// The ONNX importer's shared state. Lowering walks the ONNX nodes in topological order and keeps, for every
// ONNX tensor name, what that tensor is in octet terms (a Symbol); the lower_*.cpp files each handle one
// family of ONNX operators.

#include <onnx/onnx_pb.h>

#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "graph/ir.h"
#include "graph/onnx/attributes.h"
#include "graph/onnx/constant.h"
#include "graph/onnx/initializer_data.h"
#include "graph/onnx_import.h"

namespace octet::graph::onnx_import {

// What an ONNX tensor is after lowering.
struct Symbol {
  enum class Kind {
    constant,     // an initializer / Constant (possibly the DequantizeLinear of one: then `quant` is set)
    quantized,    // a runtime uint8 value
    dequantized,  // a float tensor equal to dequantize(value): folded into the consumers; materialised (a
                  // dequantize node, once per value) only when a float operator reads it
    real,  // a runtime float (or bool / int64) value: float graph inputs, the results of float operators
  };
  Kind kind = Kind::constant;
  ValueId value = -1;
  Constant constant;
  std::optional<QuantParams> quant;  // for constants: the integer data is quantized with these params

  // The constant's real values (dequantized if it is a quantized constant).
  std::vector<double> real_values() const;
};

// A constant symbol's real values as the float layers read their weights: a float32 constant that is not
// quantized is read where it is stored (for an initializer, its bytes in the model file), any other
// (quantized, float64, float16) is converted to doubles once. Weights are most of a float model's bytes:
// widening them all to double made loading VGG-11 (530 MB) take 9.8 s, most of it writing and
// page-faulting 8 bytes per weight, and even a float32 copy of ResNet-50's 100 MB cost a quarter of its
// load. Borrows the symbol's storage: it must not outlive it.
class RealValues {
 public:
  explicit RealValues(const Symbol& s);
  RealValues(std::vector<double> values) : doubles_(std::move(values)) {}  // NOLINT: implicit on purpose

  size_t size() const { return in_place() ? float_bytes_.size() / sizeof(float) : doubles_.size(); }
  double operator[](size_t i) const {
    return in_place() ? ConstantValues::read_float32(float_bytes_.data(), i) : doubles_[i];
  }
  // f(read) with read(i) the i-th value (a float or a double): one choice of storage for a whole loop.
  template <class F>
  decltype(auto) with_reader(F&& f) const {
    if (in_place()) {
      const std::byte* bytes = float_bytes_.data();
      return f([bytes](size_t i) { return ConstantValues::read_float32(bytes, i); });
    }
    const double* values = doubles_.data();
    return f([values](size_t i) { return values[i]; });
  }
  // Whether the values are read where the symbol stores them (no copy was made).
  bool reads_in_place() const { return in_place(); }
  // Mutable access (folding a BatchNormalization into the weights), as doubles widened on first use.
  std::vector<double>& doubles();

 private:
  bool in_place() const { return float_bytes_.data() != nullptr; }
  std::span<const std::byte> float_bytes_;  // null data(): the values are in doubles_
  std::vector<double> doubles_;
};

// A convolution's geometry from its ONNX attributes, and where each weight of octet's layout
// [C_out, KH, KW, C_in / groups] sits in the ONNX weight tensor.
struct ConvGeometry {
  bool transposed = false;
  ref::Conv2dParams conv;
  ref::ConvTranspose2dParams transpose;
  int64_t cout = 0, cin_g = 0, kh = 0, kw = 0;
  std::function<int64_t(int64_t co, int64_t ky, int64_t kx, int64_t ci)> index;
};

// Real-valued clamp bounds collected from Relu / Clip nodes between an operator and its QuantizeLinear.
struct RealRange {
  double lo = -INFINITY;
  double hi = INFINITY;
};

// An inference-mode BatchNormalization as y = x * scale[c] + shift[c].
struct BatchNormFactors {
  std::vector<double> scale, shift;
};

// An operator's QuantizeLinear, found by looking ahead past fusable activations.
struct OutputStage {
  const onnx::NodeProto* quantize = nullptr;
  std::vector<const onnx::NodeProto*> fused;  // Relu / Clip nodes folded into the clamp
  QuantParams params;
  Clamp clamp;
  std::string output_name;  // the QuantizeLinear's output
};

// The ONNX opsets octet imports. Opset 10 brought QuantizeLinear / DequantizeLinear; opsets 7 to 9 are the
// model zoo's float CNNs (what users run in float or quantize): their operators differ from opset 10's in
// Slice-1's and TopK-1's attributes and Upsample-7's scales attribute, which the lowering reads, and
// BatchNormalization-7's spatial (1 only). Opset 6 and before had the legacy broadcast attributes of the
// arithmetic operators, which octet does not implement. Opsets 22 to 28 (ONNX
// 1.17 to 1.23) changed no operator octet imports but by new element types (bfloat16, 4- and 2-bit
// integers, float4 / float8 variants: rejected by their type checks) and optional attributes
// (QuantizeLinear's precision, Range's stash_type), which the lowering checks; every other change in them is
// a new operator. Raise kMaxOpset only after reading the next opset's changes the same way.
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 28;

class Importer {
 public:
  // `initializer_raw_data`: per graph.initializer, its raw data where it lies in the model file (or nothing);
  // see initializer_data.h. `model` and those bytes must outlive the importer.
  Importer(const onnx::ModelProto& model, InitializerRawData initializer_raw_data,
           const ImportOptions& options);
  Graph run();

  // ---- shared helpers (used by the lower_*.cpp files) ----
  const Symbol& symbol(const onnx::NodeProto& node, int input) const;
  bool has_input(const onnx::NodeProto& node, int input) const;
  const Constant& constant_input(const onnx::NodeProto& node, int input, const char* what) const;
  double scalar_input(const onnx::NodeProto& node, int input, const char* what) const;
  ValueId runtime_input(const onnx::NodeProto& node, int input) const;  // quantized or dequantized value

  void define(const std::string& name, Symbol s);
  void define_value(const onnx::NodeProto& node, int output, Symbol::Kind kind, ValueId v);
  Symbol make_value_symbol(Symbol::Kind kind, ValueId v) const;

  // Adds a node with a new uint8 (or float) output value and returns that value. It appends to the graph's
  // value list, so references into it do not survive: the lowering code copies Values it keeps.
  ValueId emit(const onnx::NodeProto& source, OpKind kind, std::vector<ValueId> inputs, Attrs attrs,
               Value out);
  ValueId emit(const std::string& name, const std::string& onnx_op, OpKind kind, std::vector<ValueId> inputs,
               Attrs attrs, Value out);

  // Layout conversions: return a value holding the same tensor in NHWC / in ONNX (plain) order.
  // `name` names the inserted transpose, `what` is how errors name the consumer.
  ValueId as_nhwc(ValueId v, const std::string& name, const std::string& what);
  ValueId as_plain(ValueId v, const std::string& name);
  ValueId as_nhwc(ValueId v, const onnx::NodeProto& consumer);
  ValueId as_plain(ValueId v, const onnx::NodeProto& consumer);

  // The activation params of a QuantizeLinear / DequantizeLinear (inputs 1 and 2), mapped to uint8: int8
  // activations become uint8 with the zero point moved up by 128 (the same real values, q + 128).
  QuantParams activation_params(const onnx::NodeProto& node, int scale_input, int zero_point_input) const;
  QuantParams constant_params(const onnx::NodeProto& node, int scale_input, int zero_point_input,
                              const Constant& data, int64_t axis) const;

  // Looks past Relu / Clip for the single QuantizeLinear consuming `tensor`; marks those nodes as consumed.
  std::optional<OutputStage> find_output_stage(const std::string& tensor);
  // Whether `tensor` reaches an operator that runs on NHWC images (a convolution, pooling, Resize, ...)
  // through operators that follow their input's layout (elementwise, QDQ pairs, Pad, Concat, ...).
  bool reaches_image_operator(const std::string& tensor) const;
  // A QDQ MatMul of two activations (attention's Q K^T and its product with V), both dequantized uint8
  // tensors with per-tensor params of rank >= 2, whose result reaches a QuantizeLinear: one uint8 matmul
  // (exact int32 sums, as ONNX Runtime's QLinearMatMul). Returns false, emitting nothing, for anything else,
  // which the float path computes.
  bool lower_u8_matmul(const onnx::NodeProto& node);
  OutputStage require_output_stage(const onnx::NodeProto& node);
  OutputStage require_output_stage(const onnx::NodeProto& node, const std::string& tensor);
  // The per-channel factors of an inference-mode BatchNormalization over `channels`, with every check its
  // folds and its float operator share (attributes, constant parameters of the right size, var + eps > 0).
  BatchNormFactors batch_norm_factors(const onnx::NodeProto& bn, int64_t channels) const;
  // Folds an inference-mode BatchNormalization that follows a convolution into its weights' per-channel
  // scales (negating channels whose factor is negative) and its real-valued bias.
  void fold_batch_norm(const onnx::NodeProto& bn, Constant& weights, QuantParams& params,
                       std::optional<std::vector<double>>& bias) const;
  void finish_with_stage(const OutputStage& stage, ValueId value);

  std::vector<const onnx::NodeProto*> consumers(const std::string& tensor) const;
  bool is_graph_output(const std::string& tensor) const;
  // x * gate(x) as one unary operator: Mul(x, Sigmoid(x)) is SiLU, Mul(x, HardSigmoid(x)) with HardSwish's
  // constants is HardSwish. `gate` is the Sigmoid / HardSigmoid node; nullopt unless its output feeds only
  // a float Mul by the gate's own input (lower_float.cpp).
  struct GatedProduct {
    const onnx::NodeProto* mul = nullptr;
    UnaryParams params;
  };
  std::optional<GatedProduct> gated_product(const onnx::NodeProto& gate) const;
  // GELU written out as exporters did before opset 20's Gelu, 0.5 x (1 + erf(x / sqrt 2)), as one unary
  // operator: x / sqrt 2 (or x * (1 / sqrt 2)) -> Erf -> + 1, then multiplied by x and by 0.5 in any of the
  // orders ((x * e) * 0.5, x * (e * 0.5), (x * 0.5) * e), each intermediate read only by the next node.
  // `nodes`: the chain, the node giving the result last; `params`: UnaryOp::gelu_written_out with the
  // chain's constant and order, which computes what its operators do, rounding for rounding. nullopt unless
  // x starts such a chain (x's type and rank, at least 1, are the caller's to check).
  struct GeluChain {
    std::vector<const onnx::NodeProto*> nodes;
    UnaryParams params;
  };
  std::optional<GeluChain> gelu_chain(const std::string& x) const;
  // The Add that a float convolution whose result is `tensor` (value `conv_output`) can take in: the
  // result's only consumer, adding a float value of the same shape and layout computed already (`other`).
  struct ResidualAdd {
    const onnx::NodeProto* node = nullptr;
    ValueId other = -1;
  };
  std::optional<ResidualAdd> fusable_residual_add(const std::string& tensor, ValueId conv_output) const;
  // Relu / Clip nodes right after a float operator's result `tensor`, folded into its output range (each
  // feeds nothing else), then at most one unary operator applied to the clamped result (`unary`: alone,
  // x * gate(x), or written-out GELU). `last` is the tensor the folded chain ends in; nothing folded
  // leaves `fused` empty and `last` == tensor (lower_float.cpp).
  struct FloatActivation {
    FloatClamp clamp;
    UnaryParams unary;
    std::vector<const onnx::NodeProto*> fused;
    std::string last;
  };
  FloatActivation float_activation(const std::string& tensor) const;
  // Marks the folded nodes consumed and defines the chain's last tensor as value `v`, renamed after it.
  void finish_activation(const FloatActivation& act, ValueId v);
  // ShuffleNet's channel shuffle starting at `reshape`, whose input is the NHWC value `nhwc`: Reshape to
  // [N, groups, C / groups, H, W], Transpose (0, 2, 1, 3, 4), Reshape back to [N, C, H, W], each the only
  // consumer of the one before; with `dequantized` (a QDQ model) Quantize / DequantizeLinear pairs with
  // the value's own params may sit between them (lower_structural.cpp). `fused`: the nodes after
  // `reshape`, `output` the last.
  struct ChannelShuffle {
    std::vector<const onnx::NodeProto*> fused;
    const onnx::NodeProto* output = nullptr;
    int64_t groups = 1;
  };
  std::optional<ChannelShuffle> channel_shuffle_at(const onnx::NodeProto& reshape, const Value& nhwc,
                                                   bool dequantized) const;
  void mark_consumed(const onnx::NodeProto* node) { consumed_.insert(node); }
  int64_t opset() const { return opset_; }
  Graph& graph() { return graph_; }

  // ---- lowering, one family per file ----
  bool lower_quantize_dequantize(const onnx::NodeProto& node);  // lower_qdq.cpp
  bool lower_qdq_compute(const onnx::NodeProto& node);          // lower_qdq.cpp: Conv, Gemm, MatMul, ...
  bool lower_qoperator(const onnx::NodeProto& node);            // lower_qoperator.cpp
  bool lower_elementwise(const onnx::NodeProto& node);          // lower_elementwise.cpp
  bool lower_constant_binary(const onnx::NodeProto& node);      // lower_elementwise.cpp
  // In the float requantization mode, the table of a lone quantized Add / Mul of `x` and a quantized scalar
  // constant with ONNX Runtime's QLinearAdd / QLinearMul arithmetic; nullopt for any other region.
  std::optional<ref::Lut> float_mode_scalar_binary(const onnx::NodeProto& node, ValueId x,
                                                   const QuantParams& output) const;
  bool lower_structural(const onnx::NodeProto& node);  // lower_structural.cpp
  // The uint8 softmax of quantized value `v` (Softmax between DequantizeLinear and QuantizeLinear, and
  // com.microsoft QLinearSoftmax) over ONNX axis `axis`: with `legacy` (Softmax before opset 13) over the
  // dimensions from `axis` on, flattened in ONNX order; else over that axis alone, which must be the
  // innermost in memory (nullopt otherwise). `output`: the output's params, or none for a float output.
  // `onnxruntime_int8`: an int8 QLinearSoftmax (SoftmaxAttrs::onnxruntime_int8).
  std::optional<ValueId> build_u8_softmax(const onnx::NodeProto& node, ValueId v, int64_t axis, bool legacy,
                                          const std::optional<QuantParams>& output,
                                          const std::string& output_name, bool onnxruntime_int8 = false);

  // Conv-family builders shared by the QDQ and QOperator forms.
  ValueId build_conv(const onnx::NodeProto& node, ValueId input, const Constant& weights,
                     const QuantParams& weight_params, const std::optional<std::vector<double>>& bias_real,
                     const QuantParams& output, Clamp clamp, bool transposed);
  ConvGeometry conv_geometry(const onnx::NodeProto& node, const Value& nhwc_input,
                             const Shape& onnx_weight_shape, bool transposed) const;
  // The float twin of build_conv: real-valued weights (ONNX layout) and bias.
  ValueId build_float_conv(const onnx::NodeProto& node, ValueId input, const Shape& weight_shape,
                           const RealValues& weights, const std::optional<std::vector<double>>& bias,
                           FloatClamp clamp, bool transposed, const std::string& output_name,
                           const UnaryParams& activation = {});
  ValueId build_fully_connected(const onnx::NodeProto& node, ValueId input, const Constant& weights,
                                const QuantParams& weight_params, bool weights_transposed,
                                const std::optional<std::vector<double>>& bias_real,
                                const QuantParams& output, Clamp clamp);
  // Pooling (MaxPool, AveragePool, QLinearAveragePool) from ONNX attributes.
  ValueId build_pool(const onnx::NodeProto& node, OpKind kind, ValueId input, const QuantParams& output,
                     Clamp clamp);
  // Add / Mul of two runtime values with ONNX broadcasting, reconciling their layouts.
  ValueId build_binary(const onnx::NodeProto& node, OpKind kind, ValueId a, ValueId b,
                       const QuantParams& output, Clamp clamp, const std::string& output_name);
  // Concat along an ONNX axis, reconciling layouts.
  ValueId build_concat(const onnx::NodeProto& node, const std::vector<ValueId>& inputs, int64_t onnx_axis,
                       const QuantParams& output);
  // A 256-entry table of f over the input's dequantized values.
  ValueId build_lut(const onnx::NodeProto& node, ValueId input, const std::function<double(double)>& f,
                    const QuantParams& output, const std::string& output_name);
  // The output shape of Reshape / Flatten / Squeeze / Unsqueeze on an input of ONNX shape `s`, and
  // Transpose's permutation for rank `rank`; shared by the runtime operators and constant folding.
  Shape reshaped_shape(const onnx::NodeProto& node, const Shape& s) const;
  std::vector<int64_t> transpose_perm(const onnx::NodeProto& node, int64_t rank) const;
  // A runtime uint8 operand whose params the node states (inputs scale_input, zero_point_input).
  ValueId quantized_operand(const onnx::NodeProto& node, int input, int scale_input, int zero_point_input);

  // ---- float execution (lower_float.cpp) ----
  // Input `input` of `node` as a runtime value for a float operator: a real value as it is, a dequantized
  // one through its (shared) dequantize node, a constant as a constant value of its element type (float,
  // bool or int64). Throws naming the node for a raw uint8 tensor, which has no real values.
  ValueId float_input(const onnx::NodeProto& node, int input);
  // Whether an int64 value holds ONNX int32 data: an int32 graph input, or the result of a Cast to int32.
  bool holds_int32(ValueId v) const;
  // Input 0 of an operator that only orders values (ArgMax / ArgMin, TopK): float_input, or the
  // dequantized value of a quantized tensor with params (no DequantizeLinear needed).
  ValueId order_input(const onnx::NodeProto& node);
  ValueId dequantized_value(ValueId quantized);
  // A constant value holding `c` (converted to its runtime element type), laid out as `layout` (NHWC needs a
  // rank-4 constant).
  ValueId constant_value(const std::string& name, const Constant& c, Layout layout = Layout::plain);
  // A uint8 constant value of the 8-bit integers of `c` (int8 ones moved up by 128, as int8 activations
  // are) with `params` (per tensor, already in uint8 terms). `negate` stores -c instead: 255 - q with zero
  // point 255 - z, the same magnitudes.
  ValueId quantized_constant_value(const std::string& name, const Constant& c, QuantParams params,
                                   bool negate);
  void define_real(const onnx::NodeProto& node, int output, ValueId v);
  // Brings runtime values to a common layout for an elementwise operator: all NHWC (lower-rank operands
  // padded to rank 4) when any is an NHWC image, else as they are.
  std::vector<ValueId> align_layouts(const onnx::NodeProto& node, std::vector<ValueId> values);
  bool lower_float(const onnx::NodeProto& node);
  bool lower_float_reduce(const onnx::NodeProto& node);  // lower_float_reduce.cpp
  // Whether a reduction takes its axes as an input (ReduceSum from opset 13, the others from 18) rather
  // than an attribute; throws naming the node for noop_with_empty_axes before then, which came with it.
  // (lower_float_reduce.cpp; the constant folding of reductions asks too.)
  bool reduce_axes_are_input(const onnx::NodeProto& node, const Attributes& a) const;
  bool lower_float_normalization(const onnx::NodeProto& node);   // lower_float_reduce.cpp
  bool lower_float_matmul(const onnx::NodeProto& node);          // lower_float_matmul.cpp
  bool lower_dynamic_quantization(const onnx::NodeProto& node);  // lower_dynamic.cpp
  bool lower_indexing(const onnx::NodeProto& node);              // lower_indexing.cpp
  bool lower_einsum(const onnx::NodeProto& node);                // lower_einsum.cpp
  bool lower_recurrent(const onnx::NodeProto& node);             // lower_recurrent.cpp
  bool lower_detection(const onnx::NodeProto& node);             // lower_detection.cpp: RoiAlign
  // An index operand as an int64 value in plain layout: int32 / int64 constants, or a run-time int64 tensor.
  ValueId index_input(const onnx::NodeProto& node, int input);
  // Value v (plain layout) reshaped to `shape`, named after it and node with `suffix`.
  ValueId plain_reshape(const onnx::NodeProto& node, ValueId v, Shape shape, const std::string& suffix);
  // x [..., K] (or [K]) times constant weights b [K, N] (row-major), as a float fully connected layer
  // named after the node's output 0.
  // MatMul(x, constant) -> Add(constant of N values): the Add's bias taken into the fully connected layer
  // that gives `y` (torch's Linear on inputs of rank 3 or more is exported so) as its addend, with the Add's
  // rounding; the Add marked consumed and returned; nullptr where the product feeds anything else or the
  // addend is no such constant.
  const onnx::NodeProto* take_bias_add(const onnx::NodeProto& matmul, ValueId y);
  ValueId build_float_matmul_constant(const onnx::NodeProto& node, ValueId x, const Shape& b_shape,
                                      const RealValues& b);
  // Folds an inference-mode BatchNormalization into a float convolution's weights (ONNX layout, output
  // channel first) and bias.
  void fold_float_batch_norm(const onnx::NodeProto& bn, const Shape& weight_shape,
                             std::vector<double>& weights, std::optional<std::vector<double>>& bias) const;
  // Slice, Pad, Gather, Expand, Tile, Split, DepthToSpace, SpaceToDepth on any kind of tensor
  // (lower_movement.cpp).
  bool lower_movement(const onnx::NodeProto& node);

  // ---- constant folding (fold.cpp) ----
  // Evaluates `node` at load time when all its inputs are constants (or it only reads a runtime value's
  // shape: Shape, Size), defining its outputs as constants. Returns false when it does not apply.
  bool fold_constants(const onnx::NodeProto& node);

 private:
  void read_constants();
  void name_omitted_first_outputs();
  void sort_nodes();
  void read_inputs();
  void write_outputs();
  // Throws unless the output's declared element type is the one octet produces for it.
  void check_output_type(const onnx::ValueInfoProto& out, const Value& v) const;
  void lower(const onnx::NodeProto& node);

  const onnx::ModelProto& model_;
  InitializerRawData initializer_raw_data_;
  ImportOptions options_;
  int64_t opset_ = 0;
  // The graph's nodes with 1-D convolutions and pools lifted to 2-D (lift_1d.h), which keeps the nodes it
  // adds or changes in lifted_nodes_.
  std::deque<onnx::NodeProto> lifted_nodes_;
  // DynamicQuantizeLinear's quantized output -> its zero-point output (lower_dynamic.cpp).
  std::map<std::string, std::string> dynamic_zero_points_;
  std::vector<const onnx::NodeProto*> nodes_;
  Graph graph_;
  std::map<std::string, Symbol> symbols_;
  std::map<std::pair<ValueId, Layout>, ValueId> relayouts_;  // as_nhwc / as_plain copies, made once per value
  std::vector<const onnx::NodeProto*> order_;
  std::map<std::string, std::vector<const onnx::NodeProto*>> consumers_;
  std::set<std::string> graph_outputs_;
  std::set<const onnx::NodeProto*> consumed_;
  std::map<ValueId, ValueId> dequantized_;  // uint8 value -> its materialised float value
};

// Parses a model file, leaving the initializers' raw data where it lies in `bytes` (initializer_data.h):
// `raw_data` gets one entry per graph.initializer. Throws octet::Error for bytes that are not a model.
onnx::ModelProto parse_model_file(std::span<const std::byte> bytes, InitializerRawData& raw_data);

// The ONNX element type of tensors octet passes between stages (float32, uint8, bool, int64).
int32_t onnx_type_of(ElementType t);

}  // namespace octet::graph::onnx_import
