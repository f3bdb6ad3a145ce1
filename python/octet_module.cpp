// octet._octet: the Python binding of the C++ API (runtime/include/octet/octet.h), shaped after ONNX
// Runtime's InferenceSession so that code written for it ports by changing the import. The pure-Python
// package (octet/__init__.py) re-exports what is defined here; docs/python.md is the user's guide.
//
// Two rules shape this file:
//   * The GIL is held only while Python objects are touched: NumPy data is copied into HostTensors first,
//     then the GIL is released around Model::load, Session construction and Session::run, so Python threads
//     run models in parallel.
//   * An octet::Session is not thread-safe, a Model is (octet.h). An InferenceSession therefore holds one
//     Model and a pool of Sessions: each concurrent run takes an idle Session or makes one, and gives it
//     back.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "octet/octet.h"
#include "octet/quantize.h"
#include "runtime/file_bytes.h"

namespace py = pybind11;

namespace octet::python {

namespace {

// The exception classes, created at import (see PYBIND11_MODULE). InvalidArgument and InvalidType are also
// ValueError and TypeError, so that callers may catch either the octet or the Python family.
PyObject* octet_error = nullptr;
PyObject* invalid_argument = nullptr;
PyObject* invalid_type = nullptr;

struct InvalidArgument : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct InvalidType : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ONNX Runtime's spelling of element types, which ported code compares against.
const char* ort_type_name(DataType t) {
  switch (t) {
    case DataType::float32:
      return "tensor(float)";
    case DataType::uint8:
      return "tensor(uint8)";
    case DataType::int64:
      return "tensor(int64)";
    case DataType::boolean:
      return "tensor(bool)";
    case DataType::int32:
      return "tensor(int32)";
  }
  return "tensor(unknown)";
}

Requantization parse_requantization(const std::string& name) {
  if (name == "fixed_point" || name == "fixed") return Requantization::fixed_point;
  if (name == "float" || name == "float_scale") return Requantization::float_scale;
  throw InvalidArgument("requantization must be 'fixed_point' or 'float', got '" + name + "'");
}

std::string join_names(const std::vector<TensorInfo>& infos) {
  std::string s;
  for (const TensorInfo& t : infos)
    s += (s.empty() ? "'" : ", '") + t.name + "'";
  return s;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d)
    s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + "]";
}

// What ONNX Runtime's NodeArg carries (name, shape with symbolic dimensions as strings, type), plus octet's
// quantization params of uint8 tensors and of float inputs that the model quantizes on entry.
struct NodeArg {
  std::string name;
  py::list shape;
  std::string type;
  float scale = 0.0f;
  int32_t zero_point = 0;

  explicit NodeArg(const TensorInfo& t) : name(t.name), type(ort_type_name(t.dtype)), scale(t.scale) {
    zero_point = t.zero_point;
    for (size_t d = 0; d < t.shape.size(); ++d) {
      const std::string symbol = d < t.dim_names.size() ? t.dim_names[d] : "";
      if (t.shape[d] >= 0)
        shape.append(t.shape[d]);
      else if (!symbol.empty())
        shape.append(symbol);
      else
        shape.append(py::none());
    }
  }

  py::dict as_dict() const {
    py::dict d;
    d["name"] = name;
    d["shape"] = shape.attr("copy")();
    d["type"] = type;
    d["scale"] = scale;
    d["zero_point"] = zero_point;
    return d;
  }
};

// A model file path (str or os.PathLike) or the model's bytes (bytes, bytearray, memoryview).
Model load_model(const py::object& source, const LoadOptions& options) {
  if (py::isinstance<py::bytes>(source) || py::isinstance<py::bytearray>(source) ||
      py::isinstance<py::memoryview>(source)) {
    // A contiguous view of the caller's bytes; load_from_memory copies them, so the view ends here.
    const py::buffer buffer = py::reinterpret_borrow<py::buffer>(source);
    const py::buffer_info info = buffer.request();
    if (info.ndim != 1 || info.itemsize != 1 || (info.ndim == 1 && info.strides[0] != 1))
      throw InvalidType("model bytes must be a contiguous buffer of bytes");
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(info.ptr),
                                           static_cast<size_t>(info.size));
    py::gil_scoped_release release;
    return Model::load_from_memory(bytes, options);
  }
  const py::object fspath = py::module_::import("os").attr("fspath");
  std::string path;
  try {
    path = py::cast<std::string>(fspath(source));
  } catch (const py::error_already_set&) {
    throw InvalidType("a model is a path (str or os.PathLike), its bytes, or an octet.Model");
  } catch (const py::cast_error&) {
    throw InvalidType("a model path must be text, not bytes (pass the model's contents as bytes instead)");
  }
  py::gil_scoped_release release;
  return Model::load(path, options);
}

LoadOptions load_options(bool nhwc_io,
                         const std::optional<std::map<std::string, std::vector<int64_t>>>& shapes,
                         Requantization requantization) {
  LoadOptions o;
  o.nhwc_io = nhwc_io;
  if (shapes) o.input_shapes = *shapes;
  o.requantization = requantization;
  return o;
}

// octet.Model: a loaded model, immutable and shareable by any number of InferenceSessions.
struct PyModel {
  Model model;
  std::vector<NodeArg> inputs, outputs;

  explicit PyModel(Model m) : model(std::move(m)) {
    for (const TensorInfo& t : model.inputs())
      inputs.emplace_back(t);
    for (const TensorInfo& t : model.outputs())
      outputs.emplace_back(t);
  }

  py::list nodes() const {
    py::list out;
    for (const NodeInfo& n : model.nodes()) {
      py::dict d;
      d["name"] = n.name;
      d["op"] = n.op;
      d["onnx_op"] = n.onnx_op;
      d["output_name"] = n.output_name;
      d["output_shape"] = n.output_shape;
      d["quantization"] = n.quantization;
      d["macs"] = n.macs;
      d["computes_in_float"] = n.computes_in_float;
      d["stores_into"] = n.stores_into;
      out.append(std::move(d));
    }
    return out;
  }

  py::dict info() const {
    py::dict d;
    py::list in, out;
    for (const NodeArg& a : inputs)
      in.append(a.as_dict());
    for (const NodeArg& a : outputs)
      out.append(a.as_dict());
    d["inputs"] = in;
    d["outputs"] = out;
    d["nodes"] = nodes();
    d["planned_arena_bytes"] = model.planned_arena_bytes();
    d["unplanned_activation_bytes"] = model.unplanned_activation_bytes();
    return d;
  }
};

// One input array as an octet HostTensor. The element copy is the one copy between NumPy and octet's arena
// (HostTensor owns a std::vector; Session::run copies that into the arena); a non-contiguous array is made
// contiguous by NumPy first, which costs a second copy only for such arrays.
template <typename T>
std::vector<T> copy_elements(const py::array& a) {
  const auto contiguous = py::array_t<T, py::array::c_style>::ensure(a);
  if (!contiguous) {
    // ensure() clears NumPy's error: with the type checked before, what failed is the copy's memory.
    PyErr_SetString(
        PyExc_MemoryError,
        ("cannot make a contiguous copy of an array of " + std::to_string(a.size()) + " elements").c_str());
    throw py::error_already_set();
  }
  const T* data = contiguous.data();
  return std::vector<T>(data, data + contiguous.size());
}

// Whether `d` is T's NumPy type, in this machine's byte order. Compared by type number, not by identity:
// an array that comes back from another process (pickled: a process pool's result) has a dtype object of
// its own.
template <typename T>
bool is_native(const py::dtype& d) {
  return d.num() == py::dtype::of<T>().num() && py::cast<bool>(d.attr("isnative"));
}

HostTensor to_host_tensor(const TensorInfo& info, const py::handle& value) {
  if (!py::isinstance<py::array>(value))
    throw InvalidType("input '" + info.name + "' must be a numpy.ndarray, got " +
                      std::string(py::str(py::type::of(value).attr("__name__"))));
  auto a = py::reinterpret_borrow<py::array>(value);
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  const py::dtype dtype = a.dtype();
  const char kind = dtype.kind();
  const auto wrong_type = [&] {
    return InvalidType("input '" + info.name + "' must be " + ort_type_name(info.dtype) + " (numpy " +
                       name_of(info.dtype) +
                       (info.dtype == DataType::float32 ? ", or uint8 already quantized" : "") +
                       "), got numpy " + py::cast<std::string>(dtype.attr("name")) +
                       (py::cast<bool>(dtype.attr("isnative"))
                            ? ""
                            : " in the other byte order (" + py::cast<std::string>(dtype.attr("str")) + ")"));
  };
  // Shapes are checked here rather than by Session::run so that a wrong one is a ValueError; the message
  // is octet's.
  bool fits = shape.size() == info.shape.size();
  for (size_t d = 0; fits && d < shape.size(); ++d)
    fits = info.shape[d] < 0 || info.shape[d] == shape[d];
  if (!fits)
    throw InvalidArgument("input '" + info.name + "' has shape " + shape_text(shape) +
                          ", the model expects " + shape_text(info.shape) + " (-1: any size)");

  switch (info.dtype) {
    case DataType::float32:
      // No silent float64 -> float32 rounding: ONNX Runtime refuses it too, and the caller should choose.
      if (is_native<float>(dtype)) return HostTensor::from_float(std::move(shape), copy_elements<float>(a));
      // uint8 data for a float input: already quantized with the params the model quantizes it with (a
      // float input the model does not quantize has no such params: scale 0).
      if (is_native<uint8_t>(dtype) && info.scale > 0.0f)
        return HostTensor::from_uint8(std::move(shape), copy_elements<uint8_t>(a));
      throw wrong_type();
    case DataType::uint8:
      if (is_native<uint8_t>(dtype))
        return HostTensor::from_uint8(std::move(shape), copy_elements<uint8_t>(a));
      throw wrong_type();
    case DataType::int64:
      // Any integer type that int64 holds exactly (all but uint64) widens without loss.
      if (kind == 'i' || (kind == 'u' && dtype.itemsize() < 8))
        return HostTensor::from_int64(std::move(shape), copy_elements<int64_t>(a));
      throw wrong_type();
    case DataType::boolean:
      if (kind == 'b') return HostTensor::from_bool(std::move(shape), copy_elements<uint8_t>(a.view("u1")));
      throw wrong_type();
    case DataType::int32:
      // Any integer type that int32 holds exactly (8- and 16-bit ones, int32 itself) widens without loss.
      if ((kind == 'i' && dtype.itemsize() <= 4) || (kind == 'u' && dtype.itemsize() < 4))
        return HostTensor::from_int32(std::move(shape), copy_elements<int32_t>(a));
      throw wrong_type();
  }
  throw wrong_type();
}

// An output as a NumPy array that owns the HostTensor's storage: the tensor moves to the heap (its vector's
// buffer does not move with it) and a capsule deletes it when the array dies. No copy.
py::array to_numpy(HostTensor&& tensor) {
  py::dtype dtype = py::dtype::of<float>();
  switch (tensor.dtype()) {
    case DataType::float32:
      break;
    case DataType::uint8:
      dtype = py::dtype::of<uint8_t>();
      break;
    case DataType::int64:
      dtype = py::dtype::of<int64_t>();
      break;
    case DataType::boolean:
      dtype = py::dtype("bool");
      break;
    case DataType::int32:
      dtype = py::dtype::of<int32_t>();
      break;
  }
  const std::vector<py::ssize_t> shape(tensor.shape().begin(), tensor.shape().end());
  if (tensor.element_count() == 0) return py::array(dtype, shape);
  auto* owned = new HostTensor(std::move(tensor));
  py::capsule owner(owned, [](void* p) { delete static_cast<HostTensor*>(p); });
  // The array is the storage's only user, so it may be writable, like ONNX Runtime's outputs.
  void* data = const_cast<std::byte*>(owned->bytes().data());
  return py::array(dtype, shape, data, owner);
}

py::list profile_dicts(const std::vector<NodeTiming>& profile) {
  py::list out;
  for (const NodeTiming& t : profile) {
    py::dict d;
    d["name"] = t.name;
    d["op"] = t.op;
    d["onnx_op"] = t.onnx_op;
    d["output_shape"] = t.output_shape;
    d["macs"] = t.macs;
    d["bytes"] = t.bytes;
    d["computes_in_float"] = t.computes_in_float;
    d["start_seconds"] = t.start_seconds;
    d["seconds"] = t.seconds;
    out.append(std::move(d));
  }
  return out;
}

// octet.InferenceSession.
class PySession {
 public:
  PySession(std::shared_ptr<PyModel> model, const SessionOptions& options)
      : model_(std::move(model)), options_(options) {
    // The first Session is made now, so that bad options (threads, ISA, a requantization mode the model
    // cannot run) fail at construction as in ONNX Runtime, not at the first run.
    py::gil_scoped_release release;
    idle_.push_back(std::make_unique<Session>(model_->model, options_));
  }

  const std::shared_ptr<PyModel>& model() const { return model_; }
  const SessionOptions& options() const { return options_; }

  py::list run(const py::object& output_names, const py::object& feeds, const py::object& run_options,
               bool quantized_outputs, bool profile) {
    if (!run_options.is_none())
      throw InvalidType(
          "octet has no RunOptions object: pass quantized_outputs= / profile= keywords instead");
    const std::vector<size_t> wanted = select_outputs(output_names);
    std::map<std::string, HostTensor> inputs = host_inputs(feeds);

    std::vector<NodeTiming> timings;
    RunOptions o{.quantized_outputs = quantized_outputs, .profile = profile ? &timings : nullptr};
    std::map<std::string, HostTensor> outputs;
    {
      py::gil_scoped_release release;
      Lease session(*this);
      outputs = session->run(inputs, o);
    }
    if (profile) {
      py::list p = profile_dicts(timings);
      std::lock_guard lock(mutex_);
      last_profile_ = std::move(p);
    }
    py::list result;
    const auto& infos = model_->model.outputs();
    // An output asked for twice is the same array twice: its tensor has moved into the first.
    std::map<size_t, py::object> arrays;
    for (size_t i : wanted) {
      auto [array, fresh] = arrays.try_emplace(i);
      if (fresh) {
        const auto it = outputs.find(infos[i].name);
        if (it == outputs.end()) throw Error("octet returned no output '" + infos[i].name + "'");
        array->second = to_numpy(std::move(it->second));
      }
      result.append(array->second);
    }
    return result;
  }

  py::object last_profile() {
    std::lock_guard lock(mutex_);
    return last_profile_;
  }

  // For benchmarks/python_overhead.py: Session::run alone, `repeat` times in C++ on inputs converted once, so
  // that the Python run's cost above it is the binding's overhead. Returns the mean seconds per run.
  double time_cpp_run(const py::object& feeds, int repeat) {
    if (repeat < 1) throw InvalidArgument("repeat must be >= 1");
    const std::map<std::string, HostTensor> inputs = host_inputs(feeds);
    py::gil_scoped_release release;
    Lease session(*this);
    (void)session->run(inputs);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeat; ++i)
      (void)session->run(inputs);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeat;
  }

  size_t pool_size() {
    std::lock_guard lock(mutex_);
    return idle_.size();
  }

 private:
  // A Session taken from the pool for one run (a new one when all are busy), returned when the run ends.
  // Called without the GIL: making a Session can take a while, and others' runs should go on meanwhile.
  class Lease {
   public:
    explicit Lease(PySession& owner) : owner_(owner) {
      {
        std::lock_guard lock(owner_.mutex_);
        if (!owner_.idle_.empty()) {
          session_ = std::move(owner_.idle_.back());
          owner_.idle_.pop_back();
        }
      }
      if (!session_) session_ = std::make_unique<Session>(owner_.model_->model, owner_.options_);
    }
    ~Lease() {
      std::lock_guard lock(owner_.mutex_);
      owner_.idle_.push_back(std::move(session_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Session* operator->() const { return session_.get(); }

   private:
    PySession& owner_;
    std::unique_ptr<Session> session_;
  };

  std::vector<size_t> select_outputs(const py::object& names) const {
    const auto& infos = model_->model.outputs();
    std::vector<size_t> wanted;
    if (!names.is_none()) {
      if (py::isinstance<py::str>(names))
        throw InvalidType("output_names must be a list of names, not a str");
      for (const py::handle& h : names) {
        if (!py::isinstance<py::str>(h)) throw InvalidType("output_names must hold str names");
        const std::string name = py::cast<std::string>(h);
        size_t i = 0;
        while (i < infos.size() && infos[i].name != name)
          ++i;
        if (i == infos.size())
          throw InvalidArgument("output '" + name +
                                "' is not an output of the model (its outputs: " + join_names(infos) + ")");
        wanted.push_back(i);
      }
    }
    // None or an empty list: every output, in the model's order (as ONNX Runtime does).
    if (wanted.empty())
      for (size_t i = 0; i < infos.size(); ++i)
        wanted.push_back(i);
    return wanted;
  }

  std::map<std::string, HostTensor> host_inputs(const py::object& feeds) const {
    if (!py::isinstance<py::dict>(feeds))
      throw InvalidType("input_feed must be a dict {name: numpy.ndarray}");
    const auto feed = py::reinterpret_borrow<py::dict>(feeds);
    const auto& infos = model_->model.inputs();
    std::map<std::string, HostTensor> inputs;
    for (const auto& [key, value] : feed) {
      if (!py::isinstance<py::str>(key)) throw InvalidType("input_feed keys must be input names (str)");
      const std::string name = py::cast<std::string>(key);
      const TensorInfo* info = nullptr;
      for (const TensorInfo& t : infos)
        if (t.name == name) info = &t;
      if (!info)
        throw InvalidArgument("input '" + name +
                              "' is not an input of the model (its inputs: " + join_names(infos) + ")");
      inputs.emplace(name, to_host_tensor(*info, value));
    }
    for (const TensorInfo& t : infos)
      if (!inputs.count(t.name)) throw InvalidArgument("input '" + t.name + "' is missing");
    return inputs;
  }

  std::shared_ptr<PyModel> model_;
  SessionOptions options_;
  std::mutex mutex_;  // guards idle_ and last_profile_
  std::vector<std::unique_ptr<Session>> idle_;
  py::object last_profile_ = py::none();
};

// A model's bytes from a path (str or os.PathLike) or a bytes-like object.
octet::runtime::ByteBuffer model_bytes(const py::object& source) {
  if (py::isinstance<py::bytes>(source) || py::isinstance<py::bytearray>(source) ||
      py::isinstance<py::memoryview>(source)) {
    const py::buffer_info info = py::reinterpret_borrow<py::buffer>(source).request();
    if (info.ndim != 1 || info.itemsize != 1 || info.strides[0] != 1)
      throw InvalidType("model bytes must be a contiguous buffer of bytes");
    return octet::runtime::ByteBuffer::copy_of(
        {static_cast<const std::byte*>(info.ptr), static_cast<size_t>(info.size)});
  }
  std::string path;
  try {
    path = py::cast<std::string>(py::module_::import("os").attr("fspath")(source));
  } catch (const py::error_already_set&) {
    throw InvalidType("a model is a path (str or os.PathLike) or its bytes");
  } catch (const py::cast_error&) {
    throw InvalidType("a model path must be text, not bytes (pass the model's contents as bytes instead)");
  }
  std::optional<octet::runtime::ByteBuffer> bytes = octet::runtime::read_file_bytes(path);
  if (!bytes) throw InvalidArgument("cannot open or read '" + path + "'");
  return std::move(*bytes);
}

// octet._quantize: post-training quantization (octet/quantize.h). `samples` is a sequence of input feeds
// ({name: numpy.ndarray}, as run's input_feed), converted before the GIL is released for the whole job.
// Returns (the QDQ model's bytes, the report as a dict).
py::tuple quantize_model(const py::object& source, const py::object& samples, const std::string& method,
                         double percentile, bool per_channel_weights, const std::vector<std::string>& exclude,
                         int threads) {
  const octet::runtime::ByteBuffer bytes = model_bytes(source);
  QuantizeOptions options;
  options.method = parse_calibration_method(method);
  options.percentile = percentile;
  options.per_channel_weights = per_channel_weights;
  options.exclude = exclude;
  options.threads = threads;
  if (!py::isinstance<py::sequence>(samples) || py::isinstance<py::dict>(samples))
    throw InvalidType("calibration samples must be a sequence (e.g. a list) of {name: numpy.ndarray} feeds");
  std::vector<TensorInfo> inputs;
  {
    py::gil_scoped_release release;
    inputs = Model::load_from_memory(bytes).inputs();
  }
  std::vector<std::map<std::string, HostTensor>> feeds;
  for (const py::handle feed : samples) {
    if (!py::isinstance<py::dict>(feed))
      throw InvalidType("each calibration sample must be a dict {name: numpy.ndarray}");
    std::map<std::string, HostTensor> tensors;
    for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(feed)) {
      const std::string name = py::cast<std::string>(key);
      const auto it =
          std::find_if(inputs.begin(), inputs.end(), [&](const TensorInfo& t) { return t.name == name; });
      if (it == inputs.end())
        throw InvalidArgument("calibration sample " + std::to_string(feeds.size()) + ": '" + name +
                              "' is not an input of the model (its inputs: " + join_names(inputs) + ")");
      tensors.emplace(name, to_host_tensor(*it, value));
    }
    feeds.push_back(std::move(tensors));
  }
  QuantizeResult result;
  {
    py::gil_scoped_release release;
    result = quantize(bytes, {feeds.size(), [&](size_t i) { return feeds.at(i); }}, options);
  }
  py::list tensors, float_nodes;
  for (const QuantizedTensorReport& t : result.tensors) {
    py::dict d;
    d["name"] = t.name;
    d["observed_min"] = t.observed_min;
    d["observed_max"] = t.observed_max;
    d["range"] = py::make_tuple(t.range_lo, t.range_hi);
    d["scale"] = t.scale;
    d["zero_point"] = t.zero_point;
    d["params"] = t.params_from;
    d["sqnr_db"] = t.sqnr_db;
    tensors.append(std::move(d));
  }
  for (const FloatNodeReport& n : result.float_nodes) {
    py::dict d;
    d["name"] = n.name;
    d["op"] = n.op;
    d["reason"] = n.reason;
    float_nodes.append(std::move(d));
  }
  py::dict report;
  report["method"] = std::string(name_of(options.method));
  report["samples"] = result.samples;
  report["quantized_nodes"] = result.quantized_nodes;
  report["tensors"] = tensors;
  report["float_nodes"] = float_nodes;
  report["folded_batch_norms"] = result.folded_batch_norms;
  report["raised_weight_scales"] = result.raised_weight_scales;
  report["calibration_seconds"] = result.calibration_seconds;
  report["evaluation_seconds"] = result.evaluation_seconds;
  const py::bytes model(reinterpret_cast<const char*>(result.model.data()), result.model.size());
  return py::make_tuple(model, report);
}

SessionOptions session_options(int threads, const std::optional<std::string>& isa,
                               Requantization requantization, int64_t max_arena_bytes,
                               int64_t max_loop_iterations) {
  if (threads < 0)
    throw InvalidArgument("threads must be >= 0 (0: all cores), got " + std::to_string(threads));
  if (max_arena_bytes < 0)
    throw InvalidArgument("max_arena_bytes must be >= 0 (0: no limit), got " +
                          std::to_string(max_arena_bytes));
  if (max_loop_iterations < 0)
    throw InvalidArgument("max_loop_iterations must be >= 0 (0: no limit), got " +
                          std::to_string(max_loop_iterations));
  SessionOptions o;
  o.threads = threads;
  o.requantization = requantization;
  o.max_arena_bytes = max_arena_bytes;
  o.max_loop_iterations = max_loop_iterations;
  if (isa && !isa->empty()) {
    const std::vector<std::string> known = available_isas();
    if (std::find(known.begin(), known.end(), *isa) == known.end()) {
      std::string list;
      for (const std::string& k : known)
        list += (list.empty() ? "" : ", ") + k;
      throw InvalidArgument("isa '" + *isa +
                            "' is unknown or not supported by this CPU (this CPU runs: " + list + ")");
    }
    o.isa = *isa;
  }
  return o;
}

}  // namespace

}  // namespace octet::python

namespace pybind11::detail {

// Python can make an object of a bound class without constructing its C++ value: Cls.__new__(Cls), with
// no __init__ after it. pybind11's caster then hands the methods freshly allocated, uninitialised memory
// as the object (type_caster_generic::load_value), and they crash. These casters refuse such an object
// with a TypeError before that allocation, so every method, property and field of the class is covered.
template <class T>
struct constructed_only_caster : type_caster_base<T> {
  bool load(handle src, bool convert) {
    if (isinstance<T>(src)) {
      type_info* const bound = get_type_info(typeid(T));
      // No value yet is exactly what pybind11's lazy allocation tests (an instance it does not own, returned
      // by reference, has a value but no holder).
      if (reinterpret_cast<instance*>(src.ptr())->get_value_and_holder(bound).value_ptr() == nullptr) {
        const auto name =
            handle(reinterpret_cast<PyObject*>(bound->type)).attr("__name__").cast<std::string>();
        throw type_error("this octet." + name + " was made by __new__ without __init__: it holds nothing");
      }
    }
    return type_caster_base<T>::load(src, convert);
  }
};

template <>
struct type_caster<octet::python::NodeArg> : constructed_only_caster<octet::python::NodeArg> {};
template <>
struct type_caster<octet::python::PyModel> : constructed_only_caster<octet::python::PyModel> {};
template <>
struct type_caster<octet::python::PySession> : constructed_only_caster<octet::python::PySession> {};

}  // namespace pybind11::detail

PYBIND11_MODULE(_octet, m) {
  using namespace octet;
  using namespace octet::python;
  m.doc() = "octet: int8 CNN inference (the C++ binding; import octet, not octet._octet)";

  octet_error = PyErr_NewException("octet.OctetError", PyExc_RuntimeError, nullptr);
  invalid_argument = PyErr_NewException(
      "octet.InvalidArgument", py::make_tuple(py::handle(octet_error), py::handle(PyExc_ValueError)).ptr(),
      nullptr);
  invalid_type =
      PyErr_NewException("octet.InvalidType",
                         py::make_tuple(py::handle(octet_error), py::handle(PyExc_TypeError)).ptr(), nullptr);
  m.attr("OctetError") = py::handle(octet_error);
  m.attr("InvalidArgument") = py::handle(invalid_argument);
  m.attr("InvalidType") = py::handle(invalid_type);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) {
      PyErr_SetString(invalid_argument, e.what());
    } catch (const InvalidType& e) {
      PyErr_SetString(invalid_type, e.what());
    } catch (const Error& e) {
      PyErr_SetString(octet_error, e.what());
    }
  });

  m.def("version", [] { return std::string(version()); });
  m.def("_quantize", &quantize_model, py::arg("path_or_bytes"), py::arg("samples"), py::kw_only(),
        py::arg("method") = "minmax", py::arg("percentile") = 99.99, py::arg("per_channel_weights") = true,
        py::arg("exclude") = std::vector<std::string>{}, py::arg("threads") = 1);
  m.def(
      "available_isas", [] { return available_isas(); },
      "The instruction sets this CPU runs, slowest first; the last is the default (unless OCTET_ISA is "
      "set).");

  py::class_<NodeArg>(m, "NodeArg",
                      "An input or output of a model: name, shape, type (as ONNX Runtime's NodeArg)")
      .def_readonly("name", &NodeArg::name)
      // A fresh list each time, so that a caller editing it does not edit the model's description.
      .def_property_readonly("shape", [](const NodeArg& a) { return py::list(a.shape.attr("copy")()); })
      .def_readonly("type", &NodeArg::type)
      .def_readonly("scale", &NodeArg::scale)
      .def_readonly("zero_point", &NodeArg::zero_point)
      .def("__repr__", [](const NodeArg& a) {
        std::string s =
            "NodeArg(name='" + a.name + "', type='" + a.type + "', shape=" + std::string(py::repr(a.shape));
        if (a.scale > 0)
          s += ", scale=" + std::to_string(a.scale) + ", zero_point=" + std::to_string(a.zero_point);
        return s + ")";
      });

  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model")
      .def(py::init([](const py::object& source, bool nhwc_io,
                       const std::optional<std::map<std::string, std::vector<int64_t>>>& input_shapes,
                       const std::string& requantization) {
             return std::make_shared<PyModel>(load_model(
                 source, load_options(nhwc_io, input_shapes, parse_requantization(requantization))));
           }),
           py::arg("path_or_bytes"), py::kw_only(), py::arg("nhwc_io") = false,
           py::arg("input_shapes") = py::none(), py::arg("requantization") = "fixed_point")
      .def("get_inputs", [](const PyModel& m) { return m.inputs; })
      .def("get_outputs", [](const PyModel& m) { return m.outputs; })
      .def("nodes", &PyModel::nodes)
      .def("info", &PyModel::info)
      .def_property_readonly("planned_arena_bytes",
                             [](const PyModel& m) { return m.model.planned_arena_bytes(); });

  py::class_<PySession>(m, "InferenceSession")
      .def(py::init([](const py::object& source, int threads, const std::optional<std::string>& isa,
                       const std::string& requantization, bool nhwc_io,
                       const std::optional<std::map<std::string, std::vector<int64_t>>>& input_shapes,
                       int64_t max_arena_bytes, int64_t max_loop_iterations) {
             const Requantization mode = parse_requantization(requantization);
             const SessionOptions options =
                 session_options(threads, isa, mode, max_arena_bytes, max_loop_iterations);
             std::shared_ptr<PyModel> model;
             if (py::isinstance<PyModel>(source)) {
               // A loaded model keeps its load options; asking for others would be silently ignored.
               if (nhwc_io || input_shapes)
                 throw InvalidArgument("nhwc_io and input_shapes are load options: give them to octet.Model");
               // Through the value's caster first: a Model made by __new__ alone gets its TypeError, not the
               // holder caster's "Unable to cast from non-held to held instance".
               static_cast<void>(py::cast<const PyModel&>(source));
               model = py::cast<std::shared_ptr<PyModel>>(source);
             } else {
               model =
                   std::make_shared<PyModel>(load_model(source, load_options(nhwc_io, input_shapes, mode)));
             }
             return std::make_unique<PySession>(std::move(model), options);
           }),
           py::arg("path_or_bytes"), py::kw_only(), py::arg("threads") = 1, py::arg("isa") = py::none(),
           py::arg("requantization") = "fixed_point", py::arg("nhwc_io") = false,
           py::arg("input_shapes") = py::none(), py::arg("max_arena_bytes") = 0,
           py::arg("max_loop_iterations") = 0)
      .def("get_inputs", [](const PySession& s) { return s.model()->inputs; })
      .def("get_outputs", [](const PySession& s) { return s.model()->outputs; })
      .def_property_readonly("model", &PySession::model)
      .def_property_readonly("threads", [](const PySession& s) { return s.options().threads; })
      .def_property_readonly("isa",
                             [](const PySession& s) -> py::object {
                               // None: the default (the fastest this CPU runs, or OCTET_ISA).
                               if (s.options().isa.empty()) return py::none();
                               return py::str(s.options().isa);
                             })
      .def_property_readonly(
          "requantization",
          [](const PySession& s) { return std::string(name_of(s.options().requantization)); })
      .def_property_readonly("max_arena_bytes",
                             [](const PySession& s) { return s.options().max_arena_bytes; })
      .def_property_readonly("max_loop_iterations",
                             [](const PySession& s) { return s.options().max_loop_iterations; })
      .def("run", &PySession::run, py::arg("output_names"), py::arg("input_feed"),
           py::arg("run_options") = py::none(), py::kw_only(), py::arg("quantized_outputs") = false,
           py::arg("profile") = false)
      .def("last_profile", &PySession::last_profile)
      .def("_time_cpp_run", &PySession::time_cpp_run, py::arg("input_feed"), py::arg("repeat"))
      .def("_pool_size", &PySession::pool_size);
}
