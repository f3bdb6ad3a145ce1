// A Loop (graph/stages.h): its body runs as a model of its own, loaded from the ONNX model the planner
// wrote for it, with a session like the caller's, once per iteration. Loop-carried values go from one
// iteration's outputs to the next one's inputs; scan outputs are stacked along a new first axis. The body
// is compiled for each new set of input shapes and kept (a body whose carried values keep their shapes
// compiles once).

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "kernels/error.h"
#include "runtime/dynamic_nodes.h"
#include "runtime/session_impl.h"
#include "runtime/subgraph_models.h"

namespace octet {

namespace {

std::string describe(const graph::DynamicNode& node) {
  return "node '" + node.name + "' (Loop)";
}

const HostTensor& read(const graph::DynamicNode& node, const std::map<std::string, HostTensor>& values,
                       const std::string& name) {
  const auto it = values.find(name);
  if (it == values.end()) throw Error("internal: " + describe(node) + ": '" + name + "' was not computed");
  return it->second;
}

// M and cond: each absent (""), or a single value of its type.
const HostTensor* control_input(const graph::DynamicNode& node,
                                const std::map<std::string, HostTensor>& values, size_t i, DataType type) {
  if (node.inputs.at(i).empty()) return nullptr;
  const HostTensor& t = read(node, values, node.inputs[i]);
  if (t.dtype() != type || t.element_count() != 1)
    throw Error(describe(node) + ": " + (i == 0 ? "the trip count M '" : "the condition '") + node.inputs[i] +
                "' must be one " + name_of(type) + ", got " + name_of(t.dtype()) + " of shape " +
                to_string(t.shape()));
  return &t;
}

// The body with its iteration number as a constant instead of an input: a body that sets a shape from it
// (Slice(x, i, i + 1), a Range up to i) compiles only so, once per iteration number.
graph::DynamicNode::Branch with_constant_iteration(const graph::DynamicNode::Branch& body) {
  graph::DynamicNode::Branch b = body;
  b.constant_inputs.insert(b.constant_inputs.begin(), b.inputs.at(0));
  b.inputs.erase(b.inputs.begin());
  return b;
}

// The enclosing tensors the body reads (after its own inputs), by name: copied once per run of the Loop and
// lent to each iteration's inputs (body_inputs, reclaim).
std::map<std::string, HostTensor> enclosing_inputs(const graph::DynamicNode& node,
                                                   const std::map<std::string, HostTensor>& values,
                                                   const std::set<std::string>& channel_last) {
  std::map<std::string, HostTensor> outer;
  for (size_t i = 2 + node.loop_carried; i < node.body.inputs.size(); ++i) {
    const std::string& name = node.body.inputs[i];
    if (channel_last.count(name))
      throw Error(describe(node) + ": its body reads the image input '" + name +
                  "', which nhwc_io makes channel-last; octet runs a Loop's body on ONNX's layout (load the "
                  "model without nhwc_io)");
    outer.insert_or_assign(name, read(node, values, name));
  }
  return outer;
}

// The body's inputs for one iteration: its own (iteration number, condition, loop-carried values, moved in
// from `carried`), then the enclosing tensors it reads, moved in from `outer`; `reclaim` gives both back.
// (A carried tensor that grows every iteration, as Mask R-CNN's pasted masks do, would otherwise be copied
// once more per iteration.) `constant_iteration`: the iteration number as a constant.
runtime::SubgraphInputs body_inputs(const graph::DynamicNode& node, int64_t iteration, bool cond,
                                    std::vector<HostTensor>& carried,
                                    std::map<std::string, HostTensor>& outer,
                                    const std::map<std::string, HostTensor>& values,
                                    bool constant_iteration) {
  const graph::DynamicNode::Branch& body = node.body;
  runtime::SubgraphInputs in;
  if (constant_iteration)
    in.add_constant(body.inputs.at(0), HostTensor::from_int64({}, {iteration}));
  else
    in.add(body.inputs.at(0), HostTensor::from_int64({}, {iteration}));
  in.add(body.inputs.at(1), HostTensor::from_bool({}, {static_cast<uint8_t>(cond)}));
  for (size_t i = 0; i < carried.size(); ++i)
    in.add(body.inputs.at(2 + i), std::move(carried[i]));
  for (size_t i = 2 + carried.size(); i < body.inputs.size(); ++i)
    in.declare(outer.at(body.inputs[i]));
  in.inputs.merge(outer);
  for (const std::string& name : body.constant_inputs)
    in.add_constant(name, read(node, values, name));
  return in;
}

// Gives the loop-carried values and the enclosing tensors that body_inputs lent to `in` back to `carried`
// and `outer`.
void reclaim(const graph::DynamicNode& node, runtime::SubgraphInputs& in, std::vector<HostTensor>& carried,
             std::map<std::string, HostTensor>& outer) {
  for (size_t i = 0; i < carried.size(); ++i)
    if (auto lent = in.inputs.extract(node.body.inputs.at(2 + i))) carried[i] = std::move(lent.mapped());
  for (size_t i = 2 + node.loop_carried; i < node.body.inputs.size(); ++i)
    if (auto lent = in.inputs.extract(node.body.inputs[i])) outer.insert(std::move(lent));
}

// The initial loop-carried values (not a caller's image that nhwc_io makes channel-last: the body runs on
// ONNX's layout).
std::vector<HostTensor> initial_values(const graph::DynamicNode& node,
                                       const std::map<std::string, HostTensor>& values,
                                       const std::set<std::string>& channel_last) {
  std::vector<HostTensor> carried;
  for (size_t i = 0; i < node.loop_carried; ++i) {
    const std::string& name = node.inputs.at(2 + i);
    if (channel_last.count(name))
      throw Error(describe(node) + ": loop-carried value " + std::to_string(i) + " is the image input '" +
                  name +
                  "', which nhwc_io makes channel-last; octet runs a Loop's body on ONNX's layout (load the "
                  "model without nhwc_io)");
    carried.push_back(read(node, values, name));
  }
  return carried;
}

// int32 values are computed as int64 inside octet (octet.h), and a stage's int32 result that the model
// does not declare comes back as int64: the two are one type for loop-carried values.
bool integers(DataType t) {
  return t == DataType::int32 || t == DataType::int64;
}

HostTensor as_int64(HostTensor next) {
  if (next.dtype() != DataType::int32) return next;
  return HostTensor::from_int64(next.shape(), {next.int32_data().begin(), next.int32_data().end()});
}

// An int64 tensor given back as int32, wrapping as ONNX's int32 arithmetic does.
HostTensor as_int32(HostTensor next) {
  if (next.dtype() != DataType::int64) return next;
  std::vector<int32_t> narrow(next.int64_data().size());
  for (size_t e = 0; e < narrow.size(); ++e)
    narrow[e] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(next.int64_data()[e])));
  return HostTensor::from_int32(next.shape(), std::move(narrow));
}

// Scan outputs: the iterations' tensors stacked along a new first axis (all of one type and shape).
HostTensor stack(const std::vector<HostTensor>& parts, const TensorInfo& declared) {
  Shape shape = parts.empty() ? declared.shape : parts.front().shape();
  for (int64_t& d : shape)
    d = std::max<int64_t>(d, 0);  // no iteration: a dimension the body leaves open has size 0
  shape.insert(shape.begin(), static_cast<int64_t>(parts.size()));
  std::vector<std::byte> bytes;
  for (const HostTensor& p : parts)
    bytes.insert(bytes.end(), p.bytes().begin(), p.bytes().end());
  if (parts.empty())
    return runtime::tensor_of(declared.dtype, std::move(shape), bytes, declared.scale, declared.zero_point);
  return runtime::tensor_of(parts.front().dtype(), std::move(shape), bytes, parts.front().scale(),
                            parts.front().zero_point());
}

// A loop-carried value that the body only appends to (graph::DynamicNode::appended_by): the Loop keeps
// its bytes and shape and appends each iteration's piece along axis 0, as the body's Concat would have,
// without copying what it holds so far (the bytes grow geometrically). The body is given the initial value,
// which it no longer reads, so its shapes stay those of the first iteration.
class Appended {
 public:
  Appended(const graph::DynamicNode& node, size_t k, const HostTensor& initial)
      : node_(node),
        k_(k),
        initial_(initial),
        shape_(initial.shape()),
        bytes_(initial.bytes().begin(), initial.bytes().end()) {
    if (shape_.empty())
      throw Error(describe(node) + ": its body's Concat '" + node.appended_by.at(k) +
                  "' appends to loop-carried value " + std::to_string(k) +
                  ", a scalar (Concat needs rank 1 or more)");
  }

  void append(HostTensor piece) {
    const DataType type = initial_.dtype();
    if (integers(type) && integers(piece.dtype()))
      piece = type == DataType::int32 ? as_int32(std::move(piece)) : as_int64(std::move(piece));
    if (piece.dtype() != type)
      throw Error(describe(node_) + ": loop-carried value " + std::to_string(k_) + " comes in as " +
                  name_of(type) + " and its body's Concat '" + node_.appended_by[k_] + "' appends " +
                  name_of(piece.dtype()));
    const Shape& p = piece.shape();
    if (p.size() != shape_.size() || !std::equal(p.begin() + 1, p.end(), shape_.begin() + 1))
      throw Error(describe(node_) + ": its body's Concat '" + node_.appended_by[k_] +
                  "' appends a tensor of shape " + to_string(p) + " to loop-carried value " +
                  std::to_string(k_) + " of shape " + to_string(shape_) +
                  " along axis 0: their other dimensions must agree");
    bytes_.insert(bytes_.end(), piece.bytes().begin(), piece.bytes().end());
    shape_[0] += p[0];
  }

  // The value after the last iteration. (uint8: ONNX's Concat joins the bytes; they keep the initial
  // value's params.)
  HostTensor value() const {
    return runtime::tensor_of(initial_.dtype(), shape_, bytes_, initial_.scale(), initial_.zero_point());
  }

 private:
  const graph::DynamicNode& node_;
  size_t k_;
  const HostTensor& initial_;
  Shape shape_;
  std::vector<std::byte> bytes_;
};

}  // namespace

std::vector<HostTensor> run_loop(const graph::DynamicNode& node,
                                 const std::map<std::string, HostTensor>& values,
                                 const SessionOptions& options, const std::set<std::string>& channel_last,
                                 BranchSessions& sessions) {
  try {
    const HostTensor* trip = control_input(node, values, 0, DataType::int64);
    const HostTensor* cond_in = control_input(node, values, 1, DataType::boolean);
    // A negative trip count runs no iteration, as `for (i = 0; i < M; ++i)` would.
    const int64_t trip_count = trip ? trip->int64_data()[0] : std::numeric_limits<int64_t>::max();
    bool cond = cond_in ? cond_in->bool_data()[0] != 0 : true;
    std::vector<HostTensor> carried = initial_values(node, values, channel_last);
    std::vector<std::optional<Appended>> appended(carried.size());
    for (size_t k = 0; k < carried.size(); ++k)
      if (!node.appended_by.at(k).empty())
        appended[k].emplace(node, k, read(node, values, node.inputs.at(2 + k)));
    const size_t scan_count = node.outputs.size() - node.loop_carried;
    std::vector<std::vector<HostTensor>> scans(scan_count);
    std::optional<graph::DynamicNode::Branch> constant_body;  // written when first needed
    bool constant_iteration = false;
    Session::Impl* body = nullptr;
    std::vector<std::pair<ElementType, size_t>> signature;
    int64_t i = 0;
    // The body compiled for one iteration's inputs. It is looked up again only when their types or ranks
    // change (its session compiles each new set of shapes itself), or, with a constant iteration number,
    // every iteration. A body that does not compile with the iteration number as an input is remembered
    // (a null session) and compiled with it as a constant, kept for 64 iteration numbers at most.
    std::map<std::string, HostTensor> outer = enclosing_inputs(node, values, channel_last);
    constexpr size_t kMaxKeptByValue = 64;
    size_t kept_by_value =
        static_cast<size_t>(std::count_if(sessions.begin(), sessions.end(), [&](const auto& e) {
          return std::get<0>(e.first) == node.outputs[0] && std::get<1>(e.first);
        }));
    std::unique_ptr<Session::Impl> transient;  // a body compiled for one iteration number, not kept
    auto body_for = [&](int64_t iteration, std::vector<HostTensor>& state,
                        runtime::SubgraphInputs& in) -> Session::Impl& {
      for (;;) {
        reclaim(node, in, state, outer);
        in = body_inputs(node, iteration, cond, state, outer, values, constant_iteration);
        if (body && !constant_iteration && in.signature() == signature) return *body;
        const BranchKey key{node.outputs.at(0), constant_iteration, in.signature(), in.constant_key()};
        if (const auto found = sessions.find(key); found != sessions.end()) {
          if (found->second) {
            body = found->second.get();
            signature = in.signature();
            return *body;
          }
          constant_iteration = true;
          continue;
        }
        std::shared_ptr<Model::Impl> model;
        try {
          if (constant_iteration && !constant_body) constant_body = with_constant_iteration(node.body);
          model = runtime::load_subgraph(constant_iteration ? *constant_body : node.body, in,
                                         options.requantization);
        } catch (const Error&) {
          if (constant_iteration) throw;
          sessions.emplace(key, nullptr);
          constant_iteration = true;
          continue;
        }
        auto session = std::make_unique<Session::Impl>(std::move(model), options);
        if (constant_iteration && kept_by_value >= kMaxKeptByValue) {
          // The first 64 iteration numbers stay compiled, the rest compile on every run: for a loop longer
          // than the cache, keeping the most recent would keep none of the next run's.
          transient = std::move(session);
          body = transient.get();
        } else {
          kept_by_value += constant_iteration ? 1 : 0;
          body = sessions.emplace(key, std::move(session)).first->second.get();
        }
        signature = in.signature();
        return *body;
      }
    };
    for (; i < trip_count && cond; ++i) {
      if (options.max_loop_iterations > 0 && i >= options.max_loop_iterations)
        throw Error(describe(node) + ": runs more than " + std::to_string(options.max_loop_iterations) +
                    " iterations, the session's limit (SessionOptions::max_loop_iterations)");
      runtime::SubgraphInputs in;
      Session::Impl& session = body_for(i, carried, in);
      std::map<std::string, HostTensor> out = session.run_lending(in.inputs, {});
      reclaim(node, in, carried, outer);  // the old carried values, replaced below
      const std::vector<TensorInfo>& declared = session.model->outputs;
      auto take = [&](size_t k) {
        const auto value = out.find(declared.at(k).name);
        if (value == out.end()) throw Error("internal: the body gave no '" + declared[k].name + "'");
        return std::move(value->second);
      };
      const HostTensor next_cond = take(0);
      if (cond_in) {  // without a cond input, the body's condition is not read (ONNX)
        if (next_cond.dtype() != DataType::boolean || next_cond.element_count() != 1)
          throw Error(describe(node) + ": its body's condition output must be one bool, got " +
                      name_of(next_cond.dtype()) + " of shape " + to_string(next_cond.shape()));
        cond = next_cond.bool_data()[0] != 0;
      }
      for (size_t k = 0; k < carried.size(); ++k) {
        HostTensor next = take(1 + k);
        if (appended[k]) {  // carried[k] stays the initial value, which the body does not read
          appended[k]->append(std::move(next));
          continue;
        }
        if (integers(carried[k].dtype()) && integers(next.dtype()))
          next =
              carried[k].dtype() == DataType::int32 ? as_int32(std::move(next)) : as_int64(std::move(next));
        if (next.dtype() != carried[k].dtype())
          throw Error(describe(node) + ": loop-carried value " + std::to_string(k) + " comes in as " +
                      name_of(carried[k].dtype()) + " and its body gives " + name_of(next.dtype()));
        carried[k] = std::move(next);
      }
      for (size_t k = 0; k < scan_count; ++k) {
        HostTensor part = take(1 + carried.size() + k);
        if (!scans[k].empty() &&
            (part.dtype() != scans[k][0].dtype() || part.shape() != scans[k][0].shape() ||
             part.scale() != scans[k][0].scale() || part.zero_point() != scans[k][0].zero_point()))
          throw Error(describe(node) + ": scan output " + std::to_string(k) + " is " +
                      name_of(scans[k][0].dtype()) + " of shape " + to_string(scans[k][0].shape()) +
                      " in iteration 0 and " + name_of(part.dtype()) + " of shape " +
                      to_string(part.shape()) + " in iteration " + std::to_string(i) +
                      " (or quantized with other params); its iterations must agree");
        scans[k].push_back(std::move(part));
      }
    }
    std::vector<HostTensor> results = std::move(carried);
    if (scan_count > 0) {
      // With no iteration run, the scan outputs' type and shape come from the body compiled for the initial
      // values.
      const std::vector<TensorInfo>* declared = nullptr;
      runtime::SubgraphInputs in;
      if (i == 0) {
        declared = &body_for(0, results, in).model->outputs;
        reclaim(node, in, results, outer);
      }
      for (size_t k = 0; k < scan_count; ++k)
        results.push_back(stack(scans[k], declared ? declared->at(1 + node.loop_carried + k) : TensorInfo{}));
    }
    for (size_t k = 0; k < appended.size(); ++k)
      if (appended[k]) results[k] = appended[k]->value();
    for (size_t k = 0; k < results.size(); ++k)
      if (node.int32_outputs.at(k)) results[k] = as_int32(std::move(results[k]));
    return results;
  } catch (const std::exception&) {
    runtime::rethrow_naming(describe(node), "body");
  }
}

std::vector<TensorInfo> describe_loop(const graph::DynamicNode& node,
                                      const std::map<std::string, HostTensor>& values,
                                      Requantization requantization,
                                      const std::set<std::string>& channel_last) {
  std::vector<TensorInfo> body_outputs;
  std::vector<HostTensor> initial = initial_values(node, values, channel_last);
  bool constant_iteration = false;
  try {
    (void)control_input(node, values, 0, DataType::int64);
    (void)control_input(node, values, 1, DataType::boolean);
    std::map<std::string, HostTensor> outer = enclosing_inputs(node, values, channel_last);
    runtime::SubgraphInputs in = body_inputs(node, 0, true, initial, outer, values, false);
    try {
      body_outputs = runtime::load_subgraph(node.body, in, requantization)->outputs;
    } catch (const Error&) {  // as run_loop does: the iteration number as a constant
      reclaim(node, in, initial, outer);
      in = body_inputs(node, 0, true, initial, outer, values, true);
      body_outputs = runtime::load_subgraph(with_constant_iteration(node.body), in, requantization)->outputs;
      constant_iteration = true;
    }
    reclaim(node, in, initial, outer);
  } catch (const std::exception&) {
    runtime::rethrow_naming(describe(node), "body");
  }
  if (body_outputs.size() != 1 + node.outputs.size())
    throw Error(describe(node) + ": its body gives " + std::to_string(body_outputs.size()) +
                " outputs, for " + std::to_string(node.outputs.size()) + " Loop outputs and the condition");
  if (body_outputs[0].dtype != DataType::boolean)
    throw Error(describe(node) + ": its body's condition output is " + name_of(body_outputs[0].dtype) +
                ", not bool");
  std::vector<TensorInfo> outputs;
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    const TensorInfo& b = body_outputs[1 + k];
    TensorInfo t{node.outputs[k], b.dtype, b.shape, {}, 0.0f, 0};
    if (k < node.loop_carried) {
      const HostTensor& in = initial[k];
      t.dtype = in.dtype();  // what run_loop gives: the body's integers at the initial value's width
      if (b.dtype != in.dtype() && !(integers(b.dtype) && integers(in.dtype())))
        throw Error(describe(node) + ": loop-carried value " + std::to_string(k) + " comes in as " +
                    name_of(in.dtype()) + " and its body gives " + name_of(b.dtype));
      // What follows a Loop is planned for one rank: a body that changes a value's rank is refused.
      if (b.shape.size() != in.shape().size())
        throw Error(describe(node) + ": loop-carried value " + std::to_string(k) + " comes in with rank " +
                    std::to_string(in.shape().size()) + " and its body gives rank " +
                    std::to_string(b.shape.size()) + "; octet plans what follows a Loop for one rank");
      // A dimension that changes from one iteration to the next; with the iteration number compiled in,
      // iteration 0 says nothing of the others, so any dimension may. A value the Loop appends to grows
      // along axis 0 (its body gives the piece, which may have as many rows as the initial value).
      for (size_t d = 0; d < t.shape.size(); ++d)
        if (constant_iteration || t.shape[d] != in.shape()[d] || (d == 0 && !node.appended_by.at(k).empty()))
          t.shape[d] = -1;
    } else {
      if (constant_iteration) std::fill(t.shape.begin(), t.shape.end(), -1);
      t.shape.insert(t.shape.begin(), -1);  // one row per iteration
    }
    if (node.int32_outputs.at(k) && t.dtype == DataType::int64) t.dtype = DataType::int32;
    outputs.push_back(std::move(t));
  }
  return outputs;
}

}  // namespace octet
