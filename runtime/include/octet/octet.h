#pragma once

// octet: int8 CNN inference. The one public header.
//
//   octet::Model model = octet::Model::load("net_int8.onnx");
//   octet::Session session(model, {.threads = 2});
//   auto outputs = session.run({{"input", octet::HostTensor::from_float({1, 3, 224, 224}, pixels)}});
//   std::span<const float> logits = outputs.at("logits").float_data();
//
// A Model is immutable and cheap to copy (copies share the packed weights); Sessions created from it may
// run concurrently on different threads. Every failure throws octet::Error with a message that names the
// node or tensor at fault.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace octet {

#ifndef OCTET_ERROR_DEFINED
#define OCTET_ERROR_DEFINED
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
#endif

// Element types of inputs and outputs: float and quantized uint8 tensors; int64, int32 and bool tensors
// appear where a model computes them in float (ArgMax indices, comparisons, shapes). octet computes int32
// tensors as int64 whose values wrap to int32's range where ONNX's Cast does, and exchanges them with
// callers as int32.
enum class DataType { float32, uint8, int64, boolean, int32 };
const char* name_of(DataType dtype);

// A tensor in host memory, owned by the caller: inputs to and outputs of Session::run. Image tensors are
// in the model's own layout (NCHW for ONNX models) unless the model was loaded with nhwc_io.
class HostTensor {
 public:
  HostTensor() = default;
  static HostTensor from_float(std::vector<int64_t> shape, std::vector<float> values);
  // Quantized data: real = scale * (q - zero_point). A uint8 input must carry the params the model expects
  // for that input (or scale 0 to mean "the model's params").
  static HostTensor from_uint8(std::vector<int64_t> shape, std::vector<uint8_t> values, float scale = 0.0f,
                               int32_t zero_point = 0);
  static HostTensor from_int64(std::vector<int64_t> shape, std::vector<int64_t> values);
  static HostTensor from_int32(std::vector<int64_t> shape, std::vector<int32_t> values);
  // One byte per element, any non-zero byte meaning true (stored as 1).
  static HostTensor from_bool(std::vector<int64_t> shape, std::vector<uint8_t> values);

  DataType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t element_count() const;
  std::span<const float> float_data() const;    // throws unless dtype() == float32
  std::span<const uint8_t> uint8_data() const;  // throws unless dtype() == uint8
  std::span<const int64_t> int64_data() const;  // throws unless dtype() == int64
  std::span<const int32_t> int32_data() const;  // throws unless dtype() == int32
  std::span<const uint8_t> bool_data() const;   // throws unless dtype() == boolean: 0 or 1 per element
  // The elements' bytes, whatever the type.
  std::span<const std::byte> bytes() const;
  float scale() const { return scale_; }
  int32_t zero_point() const { return zero_point_; }

 private:
  DataType dtype_ = DataType::float32;
  std::vector<int64_t> shape_;
  std::vector<float> floats_;
  std::vector<uint8_t> bytes_;  // uint8 and bool
  std::vector<int64_t> ints_;
  std::vector<int32_t> ints32_;
  float scale_ = 0.0f;
  int32_t zero_point_ = 0;
};

struct TensorInfo {
  std::string name;
  DataType dtype = DataType::float32;
  // -1 for a dynamic dimension. An output shaped by run-time values whose rank neither the model declares
  // nor octet can derive before a run is listed with no dimensions (its tensors come with theirs).
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;  // inputs: the symbolic name of each dynamic dimension ("" if fixed)
  float scale = 0.0f;                  // uint8 tensors: their params (the graph input's or output's)
  int32_t zero_point = 0;
};

// One operator of the compiled model, for reports (`octet info`) and profiles.
struct NodeInfo {
  std::string name;  // the ONNX node it came from
  // octet's operator, e.g. "conv"; "conv+add": an add fused into it, "conv+silu": a float activation
  std::string op;
  std::string onnx_op;                // the ONNX operator, e.g. "QLinearConv"
  std::vector<int64_t> output_shape;  // physical (NHWC for images)
  std::string output_name;
  std::string quantization;  // the output's params, e.g. "u8 scale 0.0234 zp 12"
  int64_t macs = 0;
  bool computes_in_float = false;  // the model computes this operator in float (not quantized)
  // The Concat node whose output this operator stores its output into, in place, so that the Concat copies
  // nothing for it (empty: it has an output of its own).
  std::string stores_into;
};

// How quantized operators turn their int32 accumulators into 8-bit outputs. Both are bit-exact across
// instruction sets and thread counts (docs/quantization.md):
//   fixed_point  a Q31 multiplier and a rounding shift (gemmlowp / TFLite), the default;
//   float_scale  ONNX Runtime's arithmetic: the accumulator in float32 times a float32 scale, rounded half to
//                even, so that octet gives ONNX Runtime's bytes.
enum class Requantization { fixed_point, float_scale };
const char* name_of(Requantization mode);  // "fixed_point", "float"

struct LoadOptions {
  // The caller's image tensors are channel-last (NHWC): no layout change at the graph boundary.
  bool nhwc_io = false;
  // The input shapes to compile for at load, e.g. {"x", {1, 3, 480, 640}} for a model with dynamic
  // dimensions, in the caller's order of dimensions (the model's; NHWC for image inputs with nhwc_io): then
  // nodes() and the memory plan describe those shapes. Other shapes still run (each compiles once, on first
  // use). Dynamic dimensions of inputs not listed here are compiled with a placeholder size; a name that is
  // not an input of the model is an error.
  std::map<std::string, std::vector<int64_t>> input_shapes = {};
  // The requantization the load-time program is prepared for (Model::nodes(), the load-time checks).
  // Sessions choose their own (SessionOptions::requantization); another mode compiles once, on first use.
  Requantization requantization = Requantization::fixed_point;
};

class Model {
 public:
  static Model load(const std::string& path, const LoadOptions& options = {});
  static Model load_from_memory(std::span<const std::byte> bytes, const LoadOptions& options = {});

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  // The operators as compiled at load: for LoadOptions::input_shapes, dynamic dimensions otherwise taking a
  // placeholder size (1, or a larger one when the model's arithmetic needs it).
  std::vector<NodeInfo> nodes() const;
  // Whether some input has a dynamic dimension that LoadOptions::input_shapes did not fix.
  bool has_placeholder_shapes() const;
  // Activation memory for the declared shapes: the planned arena, and what one buffer per tensor would take.
  int64_t planned_arena_bytes() const;
  int64_t unplanned_activation_bytes() const;

  struct Impl;

 private:
  explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  static Model load_owned(std::shared_ptr<Impl> impl, const LoadOptions& options);
  std::shared_ptr<const Impl> impl_;
  friend class Session;
};

struct SessionOptions {
  int threads = 1;              // worker threads of this session's own oneTBB arena (0: all cores)
  int64_t max_arena_bytes = 0;  // refuse shapes whose activations need more (0: no limit)
  Requantization requantization = Requantization::fixed_point;
  // The instruction set of the session's kernels, one of available_isas(); "" for default_isa(). Every ISA
  // gives the same bytes; a lower one is for comparisons and for reproducing another machine's speed.
  std::string isa = {};
  // A Loop that would run more iterations than this is an error naming it (0: no limit, as in ONNX). For
  // models from untrusted sources: a loop's trip count and condition are data.
  int64_t max_loop_iterations = 0;
};

// The instruction sets this CPU runs, slowest first: "scalar", then e.g. "avx2", "avx512vnni",
// "avx512amx" (x86; AMX tiles for convolutions) or "neon", "neon_dotprod", "neon_i8mm" (aarch64).
std::vector<std::string> available_isas();
// What sessions use unless SessionOptions::isa says otherwise: the fastest, or the OCTET_ISA environment
// variable's choice. Never "avx512amx" unless named (its kernels have not been timed on AMX hardware yet).
std::string default_isa();
// octet's version, e.g. "0.1.0".
const char* version();

// The time one operator took in one run (Session::run with RunOptions::profile).
struct NodeTiming {
  size_t node = 0;   // index into Model::nodes() order for the run's input shapes
  std::string name;  // the ONNX node
  std::string op;    // octet's operator
  std::string onnx_op;
  std::vector<int64_t> output_shape;
  int64_t macs = 0;
  int64_t bytes = 0;  // inputs + output + weights: the operator's minimum memory traffic
  bool computes_in_float = false;
  double start_seconds = 0.0;  // since the start of the run
  double seconds = 0.0;
};

struct RunOptions {
  // Return outputs as uint8 with their params instead of dequantizing them.
  bool quantized_outputs = false;
  // When set, receives one entry per executed operator, in execution order. Off (null) it costs nothing.
  std::vector<NodeTiming>* profile = nullptr;
};

class Session {
 public:
  explicit Session(const Model& model, const SessionOptions& options = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs the model. Every graph input must be given, by name, with the right dtype and shape (dynamic
  // dimensions may take any size the model allows). Not thread-safe on one Session; use one per thread.
  std::map<std::string, HostTensor> run(const std::map<std::string, HostTensor>& inputs,
                                        const RunOptions& options = {});

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace octet
