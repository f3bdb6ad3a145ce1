#pragma once

// The state of a Session (octet.h): what runs a model's programs. session.cpp runs one program;
// staged_run.cpp runs the stages of a model with data-dependent shapes.

#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "runtime/model_impl.h"

namespace octet {

namespace runtime {

// A 64-byte aligned byte buffer that grows on demand and never shrinks. Its bytes are not initialized:
// every operator writes its output before anything reads it, and zeroing would touch every page of a new
// buffer before its first use. It grows by half again at least (up to `limit`, where one is set), so that a
// session whose shapes creep up run by run (a Loop's body appending to a carried tensor, one new shape
// per iteration) reallocates a logarithmic number of times instead of on every run.
class Arena {
 public:
  std::byte* reserve(int64_t bytes, int64_t limit = 0) {
    if (bytes > capacity_) {
      int64_t grown = capacity_ > 0 ? capacity_ + capacity_ / 2 : bytes;
      if (limit > 0) grown = std::min(grown, limit);
      // The old bytes are not kept: freed before asking for more. Until the new ones come, the arena is
      // empty, so that a failed allocation (std::bad_alloc reaches the caller) leaves a usable session.
      storage_.reset();
      capacity_ = -1;
      int64_t capacity = std::max(bytes, grown);
      try {
        storage_ = allocate(capacity);
      } catch (const std::bad_alloc&) {
        if (capacity == bytes) throw;
        capacity = bytes;  // the margin did not fit; what this run needs may
        storage_ = allocate(capacity);
      }
      capacity_ = capacity;
    }
    auto address = reinterpret_cast<uintptr_t>(storage_.get());
    return storage_.get() + ((kAlignment - address % kAlignment) % kAlignment);
  }

 private:
  static constexpr int64_t kAlignment = 64;
  static std::unique_ptr<std::byte[]> allocate(int64_t bytes) {
    return std::make_unique_for_overwrite<std::byte[]>(static_cast<size_t>(bytes + kAlignment));
  }
  std::unique_ptr<std::byte[]> storage_;
  int64_t capacity_ = -1;
};

}  // namespace runtime

// A branch's compiled model and session, by its If (its first output's name), the branch, the element types
// and ranks of its inputs and the bytes of its constant inputs.
using BranchKey = std::tuple<std::string, bool, std::vector<std::pair<ElementType, size_t>>,
                             std::vector<std::vector<std::byte>>>;

struct Session::Impl {
  std::shared_ptr<const Model::Impl> model;
  SessionOptions options;
  Isa isa;
  tbb::task_arena workers;
  runtime::Arena arena;
  // Profiled runs: (node index, clock reading just before it ran), then one reading after the last node.
  // Kept between runs so that a warm profiled run allocates nothing.
  std::vector<std::pair<size_t, std::chrono::steady_clock::time_point>> marks;

  Impl(std::shared_ptr<const Model::Impl> m, const SessionOptions& o)
      : model(std::move(m)),
        options(o),
        isa(isa_of_session(o.isa)),
        workers(o.threads > 0 ? o.threads : tbb::task_arena::automatic) {
    if (o.threads < 0) throw Error("SessionOptions: threads must be >= 0, got " + std::to_string(o.threads));
    if (o.max_arena_bytes < 0) throw Error("SessionOptions: max_arena_bytes must be >= 0");
    if (o.max_loop_iterations < 0) throw Error("SessionOptions: max_loop_iterations must be >= 0");
    // With placeholder sizes the load-time plan is not what runs: shapes are checked when they are known.
    if (!model->placeholder_shapes()) {
      check_arena(*model->declared);
      // Another requantization mode or ISA than the load's: prepare it now, so that the first run is not
      // slow and a model this mode cannot run fails here.
      (void)model->program_for(model->declared_shapes(), requant_mode_of(o.requantization), isa);
    }
  }

  void check_arena(const runtime::Program& p) const {
    if (options.max_arena_bytes > 0 && p.plan.arena_bytes > options.max_arena_bytes)
      throw Error("the model needs " + std::to_string(p.plan.arena_bytes) +
                  " bytes of activation memory for these "
                  "input shapes, more than the session's limit of " +
                  std::to_string(options.max_arena_bytes));
  }

  std::map<std::string, HostTensor> run(const std::map<std::string, HostTensor>& inputs,
                                        const RunOptions& run_options);
  // As run, but `inputs` lends its tensors to the run: a later stage of a staged model reads them where they
  // are instead of a copy (a Loop's carried tensor that grows every iteration was copied once more per
  // iteration). They are back in `inputs`, unchanged, when it returns or throws.
  std::map<std::string, HostTensor> run_lending(std::map<std::string, HostTensor>& inputs,
                                                const RunOptions& run_options);
  // Both of the above; `lender`: `inputs` itself when it lends its tensors, else null.
  std::map<std::string, HostTensor> run(const std::map<std::string, HostTensor>& inputs,
                                        const RunOptions& run_options,
                                        std::map<std::string, HostTensor>* lender);
  // The caller's inputs checked against the model's: their shapes in ONNX order, one per graph input.
  std::vector<Shape> input_shapes(const std::map<std::string, HostTensor>& inputs) const;
  // Runs one program on `inputs` (one per graph input, in order) and returns its outputs in order, each
  // quantized where `quantized_outputs` asks and the program has that form. `infos`: per input, the
  // caller's view of it, whose type and params are checked, or null for a tensor octet computed (a stage's
  // output, passed on). With `profile`, leaves the clock readings in `marks`.
  std::vector<HostTensor> execute(const runtime::Program& program, std::span<const HostTensor* const> inputs,
                                  std::span<const TensorInfo* const> infos,
                                  const std::vector<bool>& quantized_outputs, bool profile);
  // The If branches this session has run (runtime/branches.cpp), each a model of its own with a session.
  std::map<BranchKey, std::unique_ptr<Impl>> branches;
  // A model with data-dependent shapes (graph/stages.h): stage 0 is `first`; the rest are compiled for the
  // sizes the data-dependent operators produce (runtime/staged_run.cpp).
  // `lender`: where `inputs` point, when the caller lends them (run_lending); else null.
  std::map<std::string, HostTensor> run_stages(const runtime::Program& first,
                                               std::span<const HostTensor* const> inputs,
                                               const RunOptions& run_options,
                                               std::map<std::string, HostTensor>* lender);

  // Turns `marks` into the caller's NodeTiming entries, reusing their strings and vectors: assigning into
  // warm entries copies characters but allocates nothing.
  void fill_profile(const graph::Graph& g, std::vector<NodeTiming>& profile) const {
    using Seconds = std::chrono::duration<double>;
    const size_t n = marks.empty() ? 0 : marks.size() - 1;
    profile.resize(n);
    for (size_t k = 0; k < n; ++k) {
      const graph::Node& node = g.nodes[marks[k].first];
      NodeTiming& t = profile[k];
      t.node = marks[k].first;
      t.name = node.name;
      t.op = graph::op_name(node);
      t.onnx_op = node.onnx_op;
      t.output_shape = g.value(node.output).shape;
      t.macs = graph::mac_count(g, node);
      t.bytes = graph::bytes_moved(g, node);
      t.computes_in_float = graph::computes_in_float(g, node);
      t.start_seconds = Seconds(marks[k].second - marks[0].second).count();
      t.seconds = Seconds(marks[k + 1].second - marks[k].second).count();
    }
  }
};

using BranchSessions = std::map<BranchKey, std::unique_ptr<Session::Impl>>;

// Runs the branch of an If (graph/stages.h) that its condition picks, on the tensors computed so far (by ONNX
// name), as a model of its own compiled on first use and kept in `branches` with a session of `options`.
// `channel_last`: the caller's image inputs that nhwc_io makes NHWC (a branch may not read them). Returns
// the If's outputs in order. Throws octet::Error naming the node.
std::vector<HostTensor> run_if(const graph::DynamicNode& node,
                               const std::map<std::string, HostTensor>& values, const SessionOptions& options,
                               const std::set<std::string>& channel_last, BranchSessions& branches);

// What an If gives, without running it: both branches compiled for the tensors they read (so that an
// operator octet cannot run is an error at load, whichever branch holds it), their outputs' types (which
// must agree) and shapes (-1 where they differ or depend on data). Where the branches' ranks differ (a
// Squeeze taken only where a dimension is 1), the branch the placeholder condition picks gives the rank,
// every dimension -1, and `rank_follows_condition` is set: what follows compiles for the rank the run gives.
std::vector<TensorInfo> describe_if(const graph::DynamicNode& node,
                                    const std::map<std::string, HostTensor>& values,
                                    Requantization requantization, const std::set<std::string>& channel_last,
                                    bool* rank_follows_condition = nullptr);

// Runs a Loop (graph/stages.h) on the tensors computed so far: its body, a model of its own compiled on first
// use for each set of input types and ranks and kept in `bodies`, once per iteration while the iteration
// number is below M and the condition holds. Returns the loop-carried values' last values, then the scan
// outputs (each iteration's stacked along a new first axis). Throws octet::Error naming the node.
std::vector<HostTensor> run_loop(const graph::DynamicNode& node,
                                 const std::map<std::string, HostTensor>& values,
                                 const SessionOptions& options, const std::set<std::string>& channel_last,
                                 BranchSessions& bodies);

// What a Loop gives, without running it: its body compiled for the initial values (an operator octet cannot
// run is an error at load), the outputs' types, and their shapes: -1 where a loop-carried value's dimension
// changes in the body, and for the scan outputs' iteration axis.
std::vector<TensorInfo> describe_loop(const graph::DynamicNode& node,
                                      const std::map<std::string, HostTensor>& values,
                                      Requantization requantization,
                                      const std::set<std::string>& channel_last);

}  // namespace octet
