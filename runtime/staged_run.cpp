// Running a model with data-dependent shapes (graph/stages.h): stage 0, the data-dependent operators on
// its outputs, the next stage compiled for the sizes they produced, and so on.

#include <algorithm>
#include <set>

#include "runtime/dynamic_nodes.h"
#include "runtime/session_impl.h"

namespace octet {

std::map<std::string, HostTensor> Session::Impl::run_stages(const runtime::Program& first,
                                                            std::span<const HostTensor* const> inputs,
                                                            const RunOptions& run_options,
                                                            std::map<std::string, HostTensor>* lender) {
  using Clock = std::chrono::steady_clock;
  const graph::StagePlan& plan = model->stages;
  const RequantMode requant = requant_mode_of(options.requantization);
  // What is read after each stage: a stage's output that a later stage or a data-dependent operator
  // reads goes on as octet computed it, even where the caller asked for quantized outputs.
  std::vector<std::set<std::string>> read_after(plan.stages.size());
  std::set<std::string> read_later;
  for (size_t k = plan.stages.size(); k-- > 0;) {
    for (const graph::DynamicNode& d : plan.stages[k].dynamic_nodes)
      read_later.insert(d.inputs.begin(), d.inputs.end());
    read_after[k] = read_later;
    read_later.insert(plan.stages[k].inputs.begin(), plan.stages[k].inputs.end());
    read_later.insert(plan.stages[k].constant_inputs.begin(), plan.stages[k].constant_inputs.end());
  }
  const std::set<std::string> model_outputs(plan.outputs.begin(), plan.outputs.end());

  std::map<std::string, HostTensor> values;
  // Tensors a lender lent (run_lending): they sit in `values` during the run and go back, whatever happens.
  // (Declared after `values`, so destroyed before it.)
  std::vector<std::string> lent;
  struct GiveBack {
    std::map<std::string, HostTensor>* lender;
    std::map<std::string, HostTensor>& values;
    const std::vector<std::string>& names;
    ~GiveBack() {
      for (const std::string& name : names)
        if (const auto it = values.find(name); it != values.end()) (*lender)[name] = std::move(it->second);
    }
  } give_back{lender, values, lent};
  std::vector<const HostTensor*> given(inputs.begin(), inputs.end());
  // The caller's inputs that later stages read or that are outputs themselves. A float input given as
  // quantized uint8 is dequantized here (in float32, as DequantizeLinear), as its float readers expect.
  std::map<std::string, const TensorInfo*> caller_infos;
  for (size_t i = 0; i < model->inputs.size(); ++i) {
    const TensorInfo& info = model->inputs[i];
    caller_infos[info.name] = &info;
    if (!read_after[0].count(info.name) && !model_outputs.count(info.name)) continue;
    const HostTensor& t = *given[i];
    if (info.dtype == DataType::float32 && t.dtype() == DataType::uint8) {
      const float scale = t.scale() != 0.0f ? t.scale() : info.scale;
      const int32_t zero_point = t.scale() != 0.0f ? t.zero_point() : info.zero_point;
      std::vector<float> real(t.uint8_data().size());
      for (size_t e = 0; e < real.size(); ++e)
        real[e] = static_cast<float>(static_cast<int32_t>(t.uint8_data()[e]) - zero_point) * scale;
      values.insert_or_assign(info.name, HostTensor::from_float(t.shape(), std::move(real)));
    } else if (lender && !values.count(info.name)) {
      lent.push_back(info.name);  // first: should the insertion throw, the tensor is still the lender's
      HostTensor& borrowed =
          values.insert_or_assign(info.name, std::move(lender->at(info.name))).first->second;
      given[i] = &borrowed;  // stage 0 reads it here now
    } else {
      values.insert_or_assign(info.name, t);
    }
  }
  std::set<std::string> channel_last;  // the caller's image inputs that nhwc_io makes NHWC
  for (graph::ValueId in : first.graph.inputs)
    if (first.graph.value(in).layout == graph::Layout::nhwc) channel_last.insert(first.graph.value(in).name);
  std::vector<const TensorInfo*> first_infos;
  for (const TensorInfo& info : model->inputs)
    first_infos.push_back(&info);

  std::vector<NodeTiming>* profile = run_options.profile;
  if (profile) profile->clear();
  std::vector<NodeTiming> stage_profile;
  const Clock::time_point run_start = Clock::now();
  size_t node_offset = 0;
  for (size_t k = 0; k < plan.stages.size(); ++k) {
    const graph::Stage& stage = plan.stages[k];
    std::shared_ptr<const runtime::Program> later;
    const runtime::Program* program = &first;
    std::vector<const HostTensor*> stage_inputs = given;
    std::vector<const TensorInfo*> stage_infos = first_infos;
    if (k > 0) {
      if (!stage.outputs.empty()) {
        later = model->stage_program(k, values, requant, isa);
        program = later.get();
      } else {
        program = nullptr;
      }
      stage_inputs.clear();
      stage_infos.clear();
      for (const std::string& name : stage.inputs) {
        stage_inputs.push_back(&values.at(name));
        // The caller's own inputs are checked as in stage 0; tensors octet passes on are not.
        const auto it = caller_infos.find(name);
        stage_infos.push_back(it == caller_infos.end() ? nullptr : it->second);
      }
    }
    if (program) {
      std::vector<bool> quantized(stage.outputs.size(), false);
      for (size_t i = 0; i < stage.outputs.size(); ++i)
        quantized[i] = run_options.quantized_outputs && model_outputs.count(stage.outputs[i]) &&
                       !read_after[k].count(stage.outputs[i]);
      std::vector<HostTensor> results =
          execute(*program, stage_inputs, stage_infos, quantized, profile != nullptr);
      if (profile && !marks.empty()) {
        fill_profile(program->graph, stage_profile);
        const double stage_start = std::chrono::duration<double>(marks.front().second - run_start).count();
        for (NodeTiming& t : stage_profile) {
          t.node += node_offset;
          t.start_seconds += stage_start;
          profile->push_back(std::move(t));
        }
      }
      node_offset += program->graph.nodes.size();
      for (size_t i = 0; i < results.size(); ++i)
        values.insert_or_assign(stage.outputs[i], std::move(results[i]));
    }
    for (const graph::DynamicNode& d : stage.dynamic_nodes) {
      const Clock::time_point start = Clock::now();
      std::vector<HostTensor> results;
      if (d.op == graph::DynamicNode::Op::if_branch)
        results = run_if(d, values, options, channel_last, branches);
      else if (d.op == graph::DynamicNode::Op::loop)
        results = run_loop(d, values, options, channel_last, branches);
      else
        results.push_back(runtime::evaluate(d, values, channel_last));
      if (profile) {
        NodeTiming t;
        t.node = node_offset;
        t.name = d.name;
        t.op = runtime::dynamic_op_name(d);
        t.onnx_op = d.onnx_op;
        t.output_shape = results.at(0).shape();
        for (const HostTensor& r : results)
          t.bytes += static_cast<int64_t>(r.bytes().size());
        t.computes_in_float = d.op == graph::DynamicNode::Op::non_max_suppression;
        t.start_seconds = std::chrono::duration<double>(start - run_start).count();
        t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        profile->push_back(std::move(t));
      }
      ++node_offset;
      for (size_t i = 0; i < d.outputs.size() && i < results.size(); ++i)
        if (!d.outputs[i].empty()) values.insert_or_assign(d.outputs[i], std::move(results[i]));
    }
  }
  std::map<std::string, HostTensor> outputs;
  for (const std::string& name : plan.outputs) {
    if (outputs.count(name)) continue;  // an output named twice: moved out already
    const auto it = values.find(name);
    if (it == values.end()) throw Error("internal: output '" + name + "' was not computed");
    // `values` ends here: its tensors move out, except those lent, which go back.
    if (std::find(lent.begin(), lent.end(), name) != lent.end())
      outputs.emplace(name, it->second);
    else
      outputs.emplace(name, std::move(it->second));
  }
  return outputs;
}

}  // namespace octet
