// octet::quantize: calibrates a float model by running it in octet's float executor, plans and writes the
// QDQ model (graph/quantize/), then runs the int8 model on the same data to report each tensor's error.

#include "octet/quantize.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <set>

#include "graph/quantize/prepare.h"
#include "graph/quantize/qdq_plan.h"
#include "graph/quantize/qdq_writer.h"
#include "kernels/quantization/calibration.h"

namespace octet {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::byte> serialize(const onnx::ModelProto& model) {
  return graph::quantize::serialize_with_outputs(model, {});
}

calibration::Method to_calibration(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::minmax:
      return calibration::Method::minmax;
    case CalibrationMethod::percentile:
      return calibration::Method::percentile;
    case CalibrationMethod::entropy:
      return calibration::Method::entropy;
    case CalibrationMethod::mse:
      return calibration::Method::mse;
  }
  return calibration::Method::minmax;
}

// One calibration sample's inputs, checked against the float model's before it runs.
std::map<std::string, HostTensor> load_sample(const CalibrationData& data, size_t index, const Model& model) {
  const std::string where = "calibration sample " + std::to_string(index);
  std::map<std::string, HostTensor> inputs = data.load(index);
  for (const TensorInfo& in : model.inputs()) {
    const auto it = inputs.find(in.name);
    if (it == inputs.end()) throw Error(where + ": no data for the model input '" + in.name + "'");
    if (it->second.dtype() != in.dtype)
      throw Error(where + ": input '" + in.name + "' is " + name_of(it->second.dtype()) +
                  ", the model takes " + name_of(in.dtype));
    if (it->second.dtype() == DataType::float32) {
      const auto values = it->second.float_data();
      for (size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
          throw Error(where + ": input '" + in.name + "' holds " +
                      (std::isnan(values[i]) ? "NaN" : "infinity") + " at element " + std::to_string(i));
    }
  }
  for (const auto& [name, tensor] : inputs) {
    (void)tensor;
    bool known = false;
    for (const TensorInfo& in : model.inputs())
      known |= in.name == name;
    if (!known) throw Error(where + ": the model has no input named '" + name + "'");
  }
  return inputs;
}

std::map<std::string, HostTensor> run_sample(Session& session,
                                             const std::map<std::string, HostTensor>& inputs, size_t index,
                                             const char* model) {
  try {
    return session.run(inputs);
  } catch (const Error& e) {
    throw Error("calibration sample " + std::to_string(index) + ": the " + model + " model: " + e.what());
  }
}

}  // namespace

const char* name_of(CalibrationMethod method) {
  return calibration::name_of(to_calibration(method));
}

CalibrationMethod parse_calibration_method(const std::string& name) {
  switch (calibration::parse_method(name)) {
    case calibration::Method::minmax:
      return CalibrationMethod::minmax;
    case calibration::Method::percentile:
      return CalibrationMethod::percentile;
    case calibration::Method::entropy:
      return CalibrationMethod::entropy;
    case calibration::Method::mse:
      return CalibrationMethod::mse;
  }
  return CalibrationMethod::minmax;
}

QuantizeResult quantize(std::span<const std::byte> float_model, const CalibrationData& data,
                        const QuantizeOptions& options) {
  if (data.count == 0 || !data.load) throw Error("quantize: no calibration samples");
  if (!(options.percentile > 0.0 && options.percentile <= 100.0))
    throw Error("quantize: the percentile must lie in (0, 100], got " + std::to_string(options.percentile));
  QuantizeResult result;
  result.samples = data.count;
  const size_t total_runs = 2 * data.count;

  // 1. Calibrate: the float model with every tensor it computes as an output. octet's loader checks the
  // model first: the steps after it (ONNX's version converter among them) assume a well-formed graph.
  const auto calibration_start = Clock::now();
  try {
    (void)Model::load_from_memory(float_model);
  } catch (const Error& e) {
    throw Error(std::string("octet cannot run the float model, so it cannot calibrate it: ") + e.what());
  }
  graph::quantize::PreparedModel prepared = graph::quantize::prepare_float_model(float_model);
  result.original_opset = prepared.original_opset;
  result.folded_batch_norms = prepared.folded_batch_norms;
  const std::vector<std::string> observed = graph::quantize::computed_tensors(prepared.proto);
  const std::vector<std::byte> observing_bytes =
      graph::quantize::serialize_with_outputs(prepared.proto, observed);
  Model float_model_loaded = [&] {
    try {
      return Model::load_from_memory(observing_bytes);
    } catch (const Error& e) {
      throw Error(std::string("octet cannot run the float model, so it cannot calibrate it: ") + e.what());
    }
  }();
  Session float_session(float_model_loaded, {.threads = options.threads});
  std::map<std::string, calibration::TensorStatistics> statistics;
  std::set<std::string> float_tensors;
  // Weights the model computes from constants: taken from the first run and stored as constants, so that
  // their operators quantize like any other.
  const std::vector<std::string> computed_weights =
      graph::quantize::computed_constant_weights(prepared.proto.graph());
  std::map<std::string, graph::quantize::ConstantValue> constant_weights;
  for (size_t s = 0; s < data.count; ++s) {
    const auto inputs = load_sample(data, s, float_model_loaded);
    const auto outputs = run_sample(float_session, inputs, s, "float");
    for (const std::string& name : s == 0 ? computed_weights : std::vector<std::string>{}) {
      const auto it = outputs.find(name);
      if (it == outputs.end() || it->second.dtype() != DataType::float32) continue;
      const auto values = it->second.float_data();
      constant_weights[name] = {it->second.shape(), {values.begin(), values.end()}};
    }
    for (const auto& [name, tensor] : outputs) {
      if (constant_weights.count(name)) continue;  // a weight, not an activation
      if (tensor.dtype() != DataType::float32) continue;
      float_tensors.insert(name);
      statistics[name].add(tensor.float_data(),
                           "calibration sample " + std::to_string(s) + ": tensor '" + name + "'");
    }
    if (options.progress) options.progress(s + 1, total_runs);
  }
  result.calibration_seconds = seconds_since(calibration_start);
  graph::quantize::materialize_constants(*prepared.proto.mutable_graph(), constant_weights);

  // 2. Plan, choose the params, write.
  graph::quantize::PlanOptions plan_options;
  plan_options.per_channel_weights = options.per_channel_weights;
  plan_options.exclude = std::set<std::string>(options.exclude.begin(), options.exclude.end());
  const graph::quantize::QdqPlan plan =
      graph::quantize::plan_qdq(prepared.proto.graph(), float_tensors, plan_options);
  std::map<std::string, calibration::ActivationParams> params;
  std::map<std::string, QuantizedTensorReport> reports;
  const calibration::Method method = to_calibration(options.method);
  for (const std::string& t : plan.quantized_tensors) {
    QuantizedTensorReport r;
    r.name = t;
    const calibration::TensorStatistics& stats = statistics[t];
    r.observed_min = stats.min(), r.observed_max = stats.max();
    calibration::Range range;
    // The planner lists a shared tensor after its source (graph order); were it not, it calibrates alone.
    if (const auto shared = plan.shares_params_of.find(t);
        shared != plan.shares_params_of.end() && params.count(shared->second)) {
      params[t] = params.at(shared->second);
      range = {reports.at(shared->second).range_lo, reports.at(shared->second).range_hi};
      r.params_from = "shared with '" + shared->second + "'";
    } else if (plan.fixed_unit_range.count(t)) {
      range = {0.0, 1.0};
      params[t] = calibration::uint8_params(range);
      r.params_from = "fixed [0, 1]";
    } else {
      range = stats.range(method, options.percentile);
      params[t] = calibration::uint8_params(range);
      r.params_from = "calibrated";
    }
    r.range_lo = range.lo, r.range_hi = range.hi;
    r.scale = params[t].scale, r.zero_point = params[t].zero_point;
    reports[t] = r;
  }
  graph::quantize::QdqModel qdq = graph::quantize::write_qdq(prepared.proto, plan, params);
  result.raised_weight_scales = qdq.raised_weight_scales;
  result.model = serialize(qdq.proto);

  for (size_t i = 0; i < plan.roles.size(); ++i)
    if (plan.roles[i] != graph::quantize::NodeRole::float_op) ++result.quantized_nodes;
  for (const auto& [i, reason] : plan.float_reasons) {
    const onnx::NodeProto& node = prepared.proto.graph().node(i);
    result.float_nodes.push_back({node.name(), node.op_type(), reason});
  }

  // 3. Evaluate: the int8 model, its quantized tensors exposed, against the float model on the same data.
  const auto evaluation_start = Clock::now();
  std::vector<std::string> exposed;
  std::map<std::string, std::string> described_by;  // a dequantized copy is described as its original
  for (const std::string& t : plan.quantized_tensors) {
    exposed.push_back(qdq.dequantized_name.at(t));
    described_by[exposed.back()] = t;
  }
  Model int8_model = [&] {
    try {
      return Model::load_from_memory(
          graph::quantize::serialize_with_outputs(qdq.proto, exposed, described_by));
    } catch (const Error& e) {
      throw Error(
          std::string("octet could not load the quantized model it wrote (a bug; please report it): ") +
          e.what());
    }
  }();
  // Nodes the plan quantized but octet still computes in float (a form its importer does not fold).
  std::set<std::string> reported;
  for (const auto& f : result.float_nodes)
    reported.insert(f.name);
  // The evaluation model is the written one with outputs added (dequantizations, skipped below): its
  // nodes say the same, without loading the model a second time.
  for (const NodeInfo& n : int8_model.nodes()) {
    if (!n.computes_in_float || reported.count(n.name) || n.onnx_op == "QuantizeLinear" ||
        n.onnx_op == "DequantizeLinear")
      continue;
    reported.insert(n.name);
    result.float_nodes.push_back({n.name, n.onnx_op, "octet computes this form in float"});
  }
  Session int8_session(int8_model, {.threads = options.threads});
  std::map<std::string, calibration::Sqnr> sqnr;
  for (size_t s = 0; s < data.count; ++s) {
    const auto inputs = load_sample(data, s, float_model_loaded);
    const auto reference = run_sample(float_session, inputs, s, "float");
    const auto quantized = run_sample(int8_session, inputs, s, "int8");
    for (const std::string& t : plan.quantized_tensors) {
      const auto f = reference.find(t);
      const auto q = quantized.find(qdq.dequantized_name.at(t));
      if (f == reference.end() || q == quantized.end() || q->second.dtype() != DataType::float32) continue;
      // After a data-dependent selection (NonMaxSuppression, NonZero) the two models may select different
      // counts: a tensor of another shape has no element-wise error to measure on this sample.
      if (f->second.shape() != q->second.shape()) continue;
      sqnr[t].add(f->second.float_data(), q->second.float_data());
    }
    if (options.progress) options.progress(data.count + s + 1, total_runs);
  }
  result.evaluation_seconds = seconds_since(evaluation_start);
  for (const std::string& t : plan.quantized_tensors) {
    QuantizedTensorReport r = reports.at(t);
    r.sqnr_db = sqnr.count(t) ? sqnr.at(t).decibels() : std::numeric_limits<double>::quiet_NaN();
    result.tensors.push_back(std::move(r));
  }
  return result;
}

}  // namespace octet
