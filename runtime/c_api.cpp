// The C API (include/octet/octet_c.h): a thin layer over the C++ API of octet.h. Each handle owns its C++
// object; each entry point turns every exception into a status and a thread-local message, because an
// exception that crossed into C would terminate the caller (or worse, unwind through frames that cannot
// be unwound).

#include "octet/octet_c.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernels/tensor.h"
#include "octet/octet.h"

// The handles: structs in the global namespace, as octet_c.h declares them.

struct octet_load_options {
  octet::LoadOptions options;
};

struct octet_session_options {
  octet::SessionOptions options;
};

struct octet_model {
  explicit octet_model(octet::Model m) : model(std::move(m)) {
    // octet_tensor_info hands out arrays of C strings: built once here, pointing into the model's own
    // TensorInfo strings, which live as long as the model.
    for (const octet::TensorInfo& info : model.inputs())
      input_dim_names.push_back(dim_name_pointers(info));
    for (const octet::TensorInfo& info : model.outputs())
      output_dim_names.push_back(dim_name_pointers(info));
  }

  const octet::Model model;
  std::vector<std::vector<const char*>> input_dim_names, output_dim_names;

 private:
  // One entry per dimension: outputs have no symbolic names (and inputs may have fewer than their rank).
  static std::vector<const char*> dim_name_pointers(const octet::TensorInfo& info) {
    std::vector<const char*> names(info.shape.size(), "");
    for (size_t d = 0; d < names.size() && d < info.dim_names.size(); ++d)
      names[d] = info.dim_names[d].c_str();
    return names;
  }
};

struct octet_tensor {
  octet::HostTensor tensor;
  // Outputs of a run belong to their session: octet_tensor_destroy leaves them alone.
  bool owned_by_session = false;
};

struct octet_session {
  octet_session(const octet::Model& m, const octet::SessionOptions& options)
      : model(m), session(m, options) {}

  const octet::Model model;  // a copy shares the model's data: the caller may destroy its octet_model first
  octet::Session session;
  // The last run's outputs (model order) and profile, valid until the next run.
  std::vector<std::unique_ptr<octet_tensor>> outputs;
  std::vector<octet::NodeTiming> profile;
  // Set while a run is in progress: a second thread's run on the same session is refused, not a data race.
  std::atomic<bool> running{false};
};

namespace {

// A failure the C layer itself detects (a NULL pointer, an index out of range), with its own status.
class ApiError : public std::runtime_error {
 public:
  ApiError(octet_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  octet_status status() const { return status_; }

 private:
  octet_status status_;
};

ApiError invalid_argument(const std::string& message) {
  return ApiError(OCTET_ERROR_INVALID_ARGUMENT, message);
}

// The last failure's text on this thread. The pointer is what octet_last_error returns: it falls back on a
// static string when even the message could not be stored.
thread_local std::string last_error_text;
thread_local const char* last_error = "";

octet_status fail(const char* function, octet_status status, const char* message) noexcept {
  try {
    last_error_text = std::string(function) + ": " + message;
    last_error = last_error_text.c_str();
  } catch (...) {
    last_error = "octet: out of memory while storing an error message";
  }
  return status;
}

// Runs one entry point's body: OCTET_OK if it returns, otherwise the status of what it threw. octet::Error
// means different things in different calls (a bad model at load, bad inputs in a run), so each call says
// which status it stands for.
template <typename Body>
octet_status guarded(const char* function, octet_status octet_error_status, Body&& body) noexcept {
  try {
    body();
    return OCTET_OK;
  } catch (const ApiError& e) {
    return fail(function, e.status(), e.what());
  } catch (const std::bad_alloc& e) {
    // An allocation the runtime can describe (runtime/out_of_memory.h: the activation arena) says what it
    // was for; a plain std::bad_alloc says only its class.
    const std::string what = e.what();
    return fail(function, OCTET_ERROR_OUT_OF_MEMORY,
                what == std::bad_alloc().what() ? "out of memory" : ("out of memory: " + what).c_str());
  } catch (const std::length_error& e) {
    // A container asked for more than it can ever hold: an allocation that cannot succeed.
    return fail(function, OCTET_ERROR_OUT_OF_MEMORY, e.what());
  } catch (const octet::Error& e) {
    return fail(function, octet_error_status, e.what());
  } catch (const std::exception& e) {
    return fail(function, OCTET_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(function, OCTET_ERROR_INTERNAL, "unknown exception");
  }
}

template <typename T>
T* non_null(T* pointer, const char* name) {
  if (pointer == nullptr) throw invalid_argument(std::string("argument '") + name + "' is NULL");
  return pointer;
}

template <typename T>
T& deref(T* pointer, const char* name) {
  return *non_null(pointer, name);
}

// An output handle argument: checked, and NULL until the call succeeds.
template <typename T>
T*& out_handle(T** out, const char* name) {
  T*& slot = deref(out, name);
  slot = nullptr;
  return slot;
}

// Frees a handle the caller created, through the owner it had before release() handed it to C.
template <typename T>
void destroy_handle(T* handle) noexcept {
  const std::unique_ptr<T> owner(handle);
}

// The int a C caller passed for an enum parameter. C lets it pass any int; in C++ an enum object may only
// hold values within the range its enumerators need (0 to 7 for octet_status), and reading another one as
// the enum is undefined (UBSan's -fsanitize=enum reports it). So the bits are read as the int they are.
template <typename Enum>
int int_value(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int), "C enums have the size of int on the platforms octet supports");
  int result = 0;
  std::memcpy(&result, &value, sizeof result);
  return result;
}

octet::Requantization requantization_of(const octet_requantization& mode) {
  switch (const int value = int_value(mode)) {
    case OCTET_REQUANTIZATION_FIXED_POINT:
      return octet::Requantization::fixed_point;
    case OCTET_REQUANTIZATION_FLOAT_SCALE:
      return octet::Requantization::float_scale;
    default:
      throw invalid_argument("unknown requantization mode " + std::to_string(value) +
                             " (OCTET_REQUANTIZATION_FIXED_POINT = 0, OCTET_REQUANTIZATION_FLOAT_SCALE = 1)");
  }
}

octet_dtype dtype_of(octet::DataType dtype) {
  switch (dtype) {
    case octet::DataType::float32:
      return OCTET_FLOAT32;
    case octet::DataType::uint8:
      return OCTET_UINT8;
    case octet::DataType::int64:
      return OCTET_INT64;
    case octet::DataType::boolean:
      return OCTET_BOOL;
    case octet::DataType::int32:
      return OCTET_INT32;
  }
  throw std::logic_error("octet::DataType without a C equivalent");
}

std::vector<int64_t> shape_of(const int64_t* shape, size_t rank) {
  if (rank > 0 && shape == nullptr) throw invalid_argument("argument 'shape' is NULL and rank is not 0");
  return rank == 0 ? std::vector<int64_t>{} : std::vector<int64_t>(shape, shape + rank);
}

// The values of a tensor of `shape`: `count` elements from `data`, after checking that the shape holds
// exactly that many. The check comes first because `count` elements are read: a count that is not the
// shape's (a byte size given for an element count, say) would read past the caller's array.
template <typename T>
std::vector<T> values_of(const std::vector<int64_t>& shape, const T* data, size_t count) {
  if (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; }))
    throw invalid_argument("shape " + octet::to_string(shape) + " has a negative dimension");
  const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();
  size_t elements = empty ? 0 : 1;
  for (const int64_t d : shape) {
    if (empty) continue;
    if (elements > SIZE_MAX / static_cast<size_t>(d))
      throw invalid_argument("shape " + octet::to_string(shape) +
                             " has more elements than an address space holds");
    elements *= static_cast<size_t>(d);
  }
  if (count != elements)
    throw invalid_argument("a tensor of shape " + octet::to_string(shape) + " needs " +
                           std::to_string(elements) + " values, got count " + std::to_string(count) +
                           " (a count of elements, not bytes)");
  if (count > 0 && data == nullptr) throw invalid_argument("argument 'data' is NULL and count is not 0");
  return count == 0 ? std::vector<T>{} : std::vector<T>(data, data + count);
}

// The one place tensor handles are made, so that each create function is only its conversion.
template <typename Make>
octet_status create_tensor(const char* function, octet_tensor** out, Make&& make) noexcept {
  // octet::Error here is a shape that does not match the data or has a negative dimension.
  return guarded(function, OCTET_ERROR_INVALID_ARGUMENT, [&] {
    octet_tensor*& slot = out_handle(out, "out");
    slot = std::make_unique<octet_tensor>(octet_tensor{make(), false}).release();
  });
}

octet_status load_model(const char* function, const octet_load_options* options, octet_model** out,
                        const auto& load) noexcept {
  return guarded(function, OCTET_ERROR_MODEL, [&] {
    octet_model*& slot = out_handle(out, "out");
    const octet::LoadOptions defaults;
    slot = std::make_unique<octet_model>(load(options != nullptr ? options->options : defaults)).release();
  });
}

octet_status tensor_info(const char* function, const octet_model* model, size_t index,
                         octet_tensor_info* info, bool input) noexcept {
  return guarded(function, OCTET_ERROR_INTERNAL, [&] {
    const octet_model& m = deref(model, "model");
    octet_tensor_info& result = deref(info, "info");
    const std::vector<octet::TensorInfo>& infos = input ? m.model.inputs() : m.model.outputs();
    if (index >= infos.size())
      throw invalid_argument(std::string(input ? "input" : "output") + " index " + std::to_string(index) +
                             " is out of range: the model has " + std::to_string(infos.size()));
    const octet::TensorInfo& t = infos[index];
    const std::vector<const char*>& dim_names = (input ? m.input_dim_names : m.output_dim_names)[index];
    result = octet_tensor_info{
        .name = t.name.c_str(),
        .dtype = dtype_of(t.dtype),
        .rank = t.shape.size(),
        .dims = t.shape.empty() ? nullptr : t.shape.data(),
        .dim_names = dim_names.empty() ? nullptr : dim_names.data(),
        .scale = t.scale,
        .zero_point = t.zero_point,
    };
  });
}

std::string names_of(const std::vector<octet::TensorInfo>& infos) {
  std::string names;
  for (const octet::TensorInfo& info : infos)
    names += (names.empty() ? "'" : ", '") + info.name + "'";
  return names;
}

// Marks a session as running for the guard's lifetime, refusing a run that overlaps another.
class RunningGuard {
 public:
  explicit RunningGuard(std::atomic<bool>& running) : running_(running) {
    if (running_.exchange(true, std::memory_order_acquire))
      throw invalid_argument("the session is already running on another thread (use one session per thread)");
  }
  ~RunningGuard() { running_.store(false, std::memory_order_release); }
  RunningGuard(const RunningGuard&) = delete;
  RunningGuard& operator=(const RunningGuard&) = delete;

 private:
  std::atomic<bool>& running_;
};

void run_session(octet_session& s, const char* const* input_names, const octet_tensor* const* inputs,
                 size_t input_count, const char* const* output_names, size_t output_count, uint32_t flags,
                 const octet_tensor** outputs) {
  const RunningGuard running(s.running);
  // The previous run's outputs end with this call, whatever its outcome; not before the inputs are copied,
  // since one of them may be an input now.
  const std::vector<std::unique_ptr<octet_tensor>> previous = std::exchange(s.outputs, {});
  s.profile.clear();

  constexpr uint32_t kKnownFlags = OCTET_RUN_QUANTIZED_OUTPUTS | OCTET_RUN_PROFILE;
  if ((flags & ~kKnownFlags) != 0)
    throw invalid_argument("unknown flags " + std::to_string(flags & ~kKnownFlags) +
                           " (OCTET_RUN_QUANTIZED_OUTPUTS, OCTET_RUN_PROFILE)");
  if (input_count > 0) {
    deref(input_names, "input_names");
    deref(inputs, "inputs");
  }
  if (output_count > 0) deref(outputs, "outputs");

  // Which outputs, as indices into the model's outputs: checked before the run, which may take long.
  const std::vector<octet::TensorInfo>& model_outputs = s.model.outputs();
  std::vector<size_t> selected;
  if (output_names == nullptr) {
    if (output_count != model_outputs.size())
      throw invalid_argument("output_names is NULL (all outputs) but output_count is " +
                             std::to_string(output_count) + ": the model has " +
                             std::to_string(model_outputs.size()) + " outputs");
    for (size_t i = 0; i < model_outputs.size(); ++i)
      selected.push_back(i);
  } else {
    for (size_t i = 0; i < output_count; ++i) {
      const char* name = output_names[i];
      if (name == nullptr) throw invalid_argument("output_names[" + std::to_string(i) + "] is NULL");
      const auto it = std::find_if(model_outputs.begin(), model_outputs.end(),
                                   [&](const octet::TensorInfo& info) { return info.name == name; });
      if (it == model_outputs.end())
        throw invalid_argument("'" + std::string(name) + "' is not an output of the model (its outputs: " +
                               names_of(model_outputs) + ")");
      selected.push_back(static_cast<size_t>(it - model_outputs.begin()));
    }
  }

  // The C++ API takes its inputs by value in a map: the tensors are copied (the caller's stay untouched,
  // so that other threads may read them meanwhile).
  std::map<std::string, octet::HostTensor> input_map;
  for (size_t i = 0; i < input_count; ++i) {
    const char* name = input_names[i];
    if (name == nullptr) throw invalid_argument("input_names[" + std::to_string(i) + "] is NULL");
    if (inputs[i] == nullptr)
      throw invalid_argument("inputs[" + std::to_string(i) + "] ('" + name + "') is NULL");
    // A map would keep one of two tensors given the same name, silently.
    if (!input_map.emplace(name, inputs[i]->tensor).second)
      throw invalid_argument("input '" + std::string(name) + "' is given more than once");
  }

  octet::RunOptions run_options;
  run_options.quantized_outputs = (flags & OCTET_RUN_QUANTIZED_OUTPUTS) != 0;
  if ((flags & OCTET_RUN_PROFILE) != 0) run_options.profile = &s.profile;
  std::map<std::string, octet::HostTensor> results = s.session.run(input_map, run_options);

  std::vector<std::unique_ptr<octet_tensor>> kept;
  kept.reserve(model_outputs.size());
  for (const octet::TensorInfo& info : model_outputs) {
    auto node = results.extract(info.name);
    if (node.empty()) throw std::logic_error("the run did not return output '" + info.name + "'");
    kept.push_back(std::make_unique<octet_tensor>(octet_tensor{std::move(node.mapped()), true}));
  }
  s.outputs = std::move(kept);
  for (size_t i = 0; i < selected.size(); ++i)
    outputs[i] = s.outputs[selected[i]].get();
}

}  // namespace

// ---- Status and errors ----

const char* octet_last_error(void) {
  return last_error;
}

const char* octet_status_name(octet_status status) {
  switch (int_value(status)) {
    case OCTET_OK:
      return "OCTET_OK";
    case OCTET_ERROR_INVALID_ARGUMENT:
      return "OCTET_ERROR_INVALID_ARGUMENT";
    case OCTET_ERROR_MODEL:
      return "OCTET_ERROR_MODEL";
    case OCTET_ERROR_INVALID_INPUT:
      return "OCTET_ERROR_INVALID_INPUT";
    case OCTET_ERROR_OUT_OF_MEMORY:
      return "OCTET_ERROR_OUT_OF_MEMORY";
    case OCTET_ERROR_INTERNAL:
      return "OCTET_ERROR_INTERNAL";
    default:
      return "unknown status";
  }
}

// ---- Library ----

const char* octet_version(void) {
  return octet::version();
}

octet_status octet_available_isas(const char* const** names, size_t* count) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    const char* const*& names_out = deref(names, "names");
    size_t& count_out = deref(count, "count");
    // The CPU does not change while the process runs: one list, built on first use, static like the
    // strings the caller is told it may keep.
    struct Isas {
      std::vector<std::string> names = octet::available_isas();
      std::vector<const char*> pointers;
      Isas() {
        for (const std::string& name : names)
          pointers.push_back(name.c_str());
      }
    };
    static const Isas isas;
    names_out = isas.pointers.data();
    count_out = isas.pointers.size();
  });
}

octet_status octet_default_isa(const char** name) {
  // octet::Error: OCTET_ISA names an instruction set that is unknown or that this CPU lacks.
  return guarded(__func__, OCTET_ERROR_INVALID_ARGUMENT, [&] {
    const char*& name_out = deref(name, "name");
    // Fixed for the process (the environment is read once): kept, so that the caller may keep the string.
    static const std::string isa = octet::default_isa();
    name_out = isa.c_str();
  });
}

// ---- Tensors ----

octet_status octet_tensor_create_float32(const int64_t* shape, size_t rank, const float* data, size_t count,
                                         octet_tensor** out) {
  return create_tensor(__func__, out, [&] {
    std::vector<int64_t> dims = shape_of(shape, rank);
    std::vector<float> values = values_of(dims, data, count);
    return octet::HostTensor::from_float(std::move(dims), std::move(values));
  });
}

octet_status octet_tensor_create_uint8(const int64_t* shape, size_t rank, const uint8_t* data, size_t count,
                                       float scale, int32_t zero_point, octet_tensor** out) {
  return create_tensor(__func__, out, [&] {
    std::vector<int64_t> dims = shape_of(shape, rank);
    std::vector<uint8_t> values = values_of(dims, data, count);
    return octet::HostTensor::from_uint8(std::move(dims), std::move(values), scale, zero_point);
  });
}

octet_status octet_tensor_create_int64(const int64_t* shape, size_t rank, const int64_t* data, size_t count,
                                       octet_tensor** out) {
  return create_tensor(__func__, out, [&] {
    std::vector<int64_t> dims = shape_of(shape, rank);
    std::vector<int64_t> values = values_of(dims, data, count);
    return octet::HostTensor::from_int64(std::move(dims), std::move(values));
  });
}

octet_status octet_tensor_create_int32(const int64_t* shape, size_t rank, const int32_t* data, size_t count,
                                       octet_tensor** out) {
  return create_tensor(__func__, out, [&] {
    std::vector<int64_t> dims = shape_of(shape, rank);
    std::vector<int32_t> values = values_of(dims, data, count);
    return octet::HostTensor::from_int32(std::move(dims), std::move(values));
  });
}

octet_status octet_tensor_create_bool(const int64_t* shape, size_t rank, const uint8_t* data, size_t count,
                                      octet_tensor** out) {
  return create_tensor(__func__, out, [&] {
    std::vector<int64_t> dims = shape_of(shape, rank);
    std::vector<uint8_t> values = values_of(dims, data, count);
    return octet::HostTensor::from_bool(std::move(dims), std::move(values));
  });
}

octet_status octet_tensor_copy(const octet_tensor* tensor, octet_tensor** out) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    octet_tensor*& slot = out_handle(out, "out");
    const octet_tensor& t = deref(tensor, "tensor");
    slot = std::make_unique<octet_tensor>(octet_tensor{t.tensor, false}).release();
  });
}

void octet_tensor_destroy(octet_tensor* tensor) {
  if (tensor != nullptr && !tensor->owned_by_session) destroy_handle(tensor);
}

octet_status octet_tensor_dtype(const octet_tensor* tensor, octet_dtype* dtype) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(dtype, "dtype") = dtype_of(deref(tensor, "tensor").tensor.dtype()); });
}

octet_status octet_tensor_rank(const octet_tensor* tensor, size_t* rank) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(rank, "rank") = deref(tensor, "tensor").tensor.shape().size(); });
}

octet_status octet_tensor_dims(const octet_tensor* tensor, const int64_t** dims) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    const int64_t*& dims_out = deref(dims, "dims");
    const std::vector<int64_t>& shape = deref(tensor, "tensor").tensor.shape();
    dims_out = shape.empty() ? nullptr : shape.data();
  });
}

octet_status octet_tensor_element_count(const octet_tensor* tensor, int64_t* count) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(count, "count") = deref(tensor, "tensor").tensor.element_count(); });
}

octet_status octet_tensor_data(const octet_tensor* tensor, const void** data) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(data, "data") = deref(tensor, "tensor").tensor.bytes().data(); });
}

octet_status octet_tensor_byte_size(const octet_tensor* tensor, size_t* bytes) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(bytes, "bytes") = deref(tensor, "tensor").tensor.bytes().size_bytes(); });
}

octet_status octet_tensor_quantization(const octet_tensor* tensor, float* scale, int32_t* zero_point) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    float& scale_out = deref(scale, "scale");
    int32_t& zero_point_out = deref(zero_point, "zero_point");
    const octet::HostTensor& t = deref(tensor, "tensor").tensor;
    scale_out = t.scale();
    zero_point_out = t.zero_point();
  });
}

// ---- Models ----

octet_status octet_load_options_create(octet_load_options** out) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    // Checked first: in `a = b` the right side runs first, and would leak if `out` were NULL.
    octet_load_options*& slot = out_handle(out, "out");
    slot = std::make_unique<octet_load_options>().release();
  });
}

void octet_load_options_destroy(octet_load_options* options) {
  destroy_handle(options);
}

octet_status octet_load_options_set_nhwc_io(octet_load_options* options, int nhwc_io) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(options, "options").options.nhwc_io = nhwc_io != 0; });
}

octet_status octet_load_options_set_requantization(octet_load_options* options, octet_requantization mode) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    octet_load_options& o = deref(options, "options");
    o.options.requantization = requantization_of(mode);
  });
}

octet_status octet_load_options_set_input_shape(octet_load_options* options, const char* name,
                                                const int64_t* shape, size_t rank) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    octet_load_options& o = deref(options, "options");
    const std::string input(non_null(name, "name"));
    std::vector<int64_t> dims = shape_of(shape, rank);
    for (const int64_t d : dims)
      if (d < 0)
        throw invalid_argument("the shape of input '" + input + "' has a negative dimension " +
                               std::to_string(d) + " (sizes are >= 0)");
    o.options.input_shapes[input] = std::move(dims);
  });
}

octet_status octet_model_load(const char* path, const octet_load_options* options, octet_model** out) {
  return load_model(__func__, options, out, [&](const octet::LoadOptions& o) {
    return octet::Model::load(non_null(path, "path"), o);
  });
}

octet_status octet_model_load_from_memory(const void* data, size_t size, const octet_load_options* options,
                                          octet_model** out) {
  return load_model(__func__, options, out, [&](const octet::LoadOptions& o) {
    const auto* bytes = static_cast<const std::byte*>(non_null(data, "data"));
    return octet::Model::load_from_memory({bytes, size}, o);
  });
}

void octet_model_destroy(octet_model* model) {
  destroy_handle(model);
}

octet_status octet_model_input_count(const octet_model* model, size_t* count) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(count, "count") = deref(model, "model").model.inputs().size(); });
}

octet_status octet_model_output_count(const octet_model* model, size_t* count) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(count, "count") = deref(model, "model").model.outputs().size(); });
}

octet_status octet_model_input_info(const octet_model* model, size_t index, octet_tensor_info* info) {
  return tensor_info(__func__, model, index, info, true);
}

octet_status octet_model_output_info(const octet_model* model, size_t index, octet_tensor_info* info) {
  return tensor_info(__func__, model, index, info, false);
}

// ---- Sessions ----

octet_status octet_session_options_create(octet_session_options** out) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    // Checked first: in `a = b` the right side runs first, and would leak if `out` were NULL.
    octet_session_options*& slot = out_handle(out, "out");
    slot = std::make_unique<octet_session_options>().release();
  });
}

void octet_session_options_destroy(octet_session_options* options) {
  destroy_handle(options);
}

octet_status octet_session_options_set_threads(octet_session_options* options, int threads) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    octet_session_options& o = deref(options, "options");
    if (threads < 0)
      throw invalid_argument("threads must be >= 0 (0: all cores), got " + std::to_string(threads));
    o.options.threads = threads;
  });
}

octet_status octet_session_options_set_max_arena_bytes(octet_session_options* options, int64_t bytes) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    octet_session_options& o = deref(options, "options");
    if (bytes < 0)
      throw invalid_argument("max_arena_bytes must be >= 0 (0: no limit), got " + std::to_string(bytes));
    o.options.max_arena_bytes = bytes;
  });
}

octet_status octet_session_options_set_max_loop_iterations(octet_session_options* options,
                                                           int64_t iterations) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    octet_session_options& o = deref(options, "options");
    if (iterations < 0)
      throw invalid_argument("max_loop_iterations must be >= 0 (0: no limit), got " +
                             std::to_string(iterations));
    o.options.max_loop_iterations = iterations;
  });
}

octet_status octet_session_options_set_requantization(octet_session_options* options,
                                                      octet_requantization mode) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    octet_session_options& o = deref(options, "options");
    o.options.requantization = requantization_of(mode);
  });
}

octet_status octet_session_options_set_isa(octet_session_options* options, const char* isa) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    octet_session_options& o = deref(options, "options");
    const std::string name = isa != nullptr ? isa : "";
    // Checked here rather than at octet_session_create, so that the failure points at the option.
    if (!name.empty()) {
      const std::vector<std::string> available = octet::available_isas();
      if (std::find(available.begin(), available.end(), name) == available.end()) {
        std::string list;
        for (const std::string& a : available)
          list += (list.empty() ? "" : ", ") + a;
        throw invalid_argument(
            "'" + name + "' is not an instruction set this CPU runs octet's kernels with (" + list + ")");
      }
    }
    o.options.isa = name;
  });
}

octet_status octet_session_create(const octet_model* model, const octet_session_options* options,
                                  octet_session** out) {
  // octet::Error from the constructor: options the model cannot run with (an arena limit below what its
  // declared shapes need, OCTET_ISA naming an instruction set this CPU lacks).
  return guarded(__func__, OCTET_ERROR_INVALID_ARGUMENT, [&] {
    octet_session*& slot = out_handle(out, "out");
    const octet_model& m = deref(model, "model");
    const octet::SessionOptions defaults;
    slot =
        std::make_unique<octet_session>(m.model, options != nullptr ? options->options : defaults).release();
  });
}

void octet_session_destroy(octet_session* session) {
  destroy_handle(session);
}

octet_status octet_session_run(octet_session* session, const char* const* input_names,
                               const octet_tensor* const* inputs, size_t input_count,
                               const char* const* output_names, size_t output_count, uint32_t flags,
                               const octet_tensor** outputs) {
  // octet::Error from the run: inputs that do not fit the model (name, dtype, shape, quantization).
  const octet_status status = guarded(__func__, OCTET_ERROR_INVALID_INPUT, [&] {
    run_session(deref(session, "session"), input_names, inputs, input_count, output_names, output_count,
                flags, outputs);
  });
  if (status != OCTET_OK && outputs != nullptr) std::fill_n(outputs, output_count, nullptr);
  return status;
}

octet_status octet_session_profile_count(const octet_session* session, size_t* count) {
  return guarded(__func__, OCTET_ERROR_INTERNAL,
                 [&] { deref(count, "count") = deref(session, "session").profile.size(); });
}

octet_status octet_session_profile_node(const octet_session* session, size_t index, const char** name,
                                        const char** op, double* seconds) {
  return guarded(__func__, OCTET_ERROR_INTERNAL, [&] {
    const octet_session& s = deref(session, "session");
    if (index >= s.profile.size())
      throw invalid_argument("profile index " + std::to_string(index) +
                             " is out of range: the last run has " + std::to_string(s.profile.size()) +
                             " entries");
    const octet::NodeTiming& t = s.profile[index];
    if (name != nullptr) *name = t.name.c_str();
    if (op != nullptr) *op = t.op.c_str();
    if (seconds != nullptr) *seconds = t.seconds;
  });
}
