#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "graph/stages.h"
#include "octet/octet.h"
#include "runtime/file_bytes.h"
#include "runtime/frequency_cache.h"
#include "runtime/program.h"

namespace octet {

// What a Model shares among its Sessions: the ONNX bytes, the program compiled for the declared shapes
// (in LoadOptions::requantization), and programs compiled on demand for other input shapes (dynamic batch)
// or another requantization mode, cached. Logically immutable.

// The kernels' name for the public mode.
RequantMode requant_mode_of(Requantization mode);
// The instruction set SessionOptions::isa names ("" : active_isa()); throws unless this CPU runs it.
Isa isa_of_session(const std::string& name);
struct Model::Impl {
  runtime::ByteBuffer onnx;
  LoadOptions options;
  std::shared_ptr<const runtime::Program> declared;
  std::vector<TensorInfo> inputs, outputs;

  // The program for these input shapes (ONNX order, one per graph input), requantization mode and ISA.
  std::shared_ptr<const runtime::Program> program_for(const std::vector<Shape>& shapes, RequantMode requant,
                                                      Isa isa) const;
  // The shapes `declared` was compiled for, in ONNX order.
  std::vector<Shape> declared_shapes() const;

  // A model with data-dependent shapes runs in stages (graph/stages.h); `declared` and program_for are its
  // stage 0. Empty for every other model.
  graph::StagePlan stages;
  // Each stage's part of the graph; a later stage's compile adds its input types and constants.
  std::vector<std::shared_ptr<const graph::ImportCut>> stage_cuts;
  // Stages 1 and on, compiled at load for placeholder sizes of the data-dependent tensors: what
  // Model::nodes() lists. Index k - 1 for stage k.
  std::vector<std::shared_ptr<const runtime::Program>> later_stages_at_load;
  // An If's branch run as a model of its own (runtime/branches.cpp): its inputs may be empty.
  bool allow_empty_inputs = false;
  // While a subgraph model loads (load_subgraph): the values it is loaded for, by input name. Its stages are
  // described from them instead of placeholder zeros, so that a stage compiled for a value its shape
  // operand reads (a Loop body reshaping to a carried shape) is the one that will run. Not owned.
  const std::map<std::string, HostTensor>* describing_inputs = nullptr;
  // The import options of stage 0 (of the whole model where it has no stages).
  graph::ImportOptions import_options() const;
  // Stage k >= 1 compiled for the tensors it reads (by ONNX name, among `values`), cached by their types
  // and shapes and the constants' values.
  std::shared_ptr<const runtime::Program> stage_program(size_t k,
                                                        const std::map<std::string, HostTensor>& values,
                                                        RequantMode requant, Isa isa) const;
  // For a staged model, after `declared`: compiles the later stages for placeholder sizes and describes
  // the model's outputs from them (dimensions that depend on the data are -1).
  void prepare_stages();
  // Whether `declared` was compiled with placeholder sizes for some dynamic dimension.
  bool placeholder_shapes() const;

 private:
  mutable std::mutex mutex_;
  // Programs for other shapes, modes and ISAs, with the use count at their last use.
  static constexpr size_t kMaxCompiledShapes = 64;
  mutable std::map<std::tuple<RequantMode, Isa, std::vector<Shape>>,
                   std::pair<std::shared_ptr<const runtime::Program>, uint64_t>>
      compiled_;
  mutable uint64_t compiled_uses_ = 0;
  // Later stages by (stage, mode, ISA, the types and shapes of the tensors and constants it reads, the
  // constants' bytes). A detector's selection size differs from image to image, a loop's shape operand may
  // take a value per iteration; a stage is small (the post-processing after the selection, a loop body's
  // tail) and compiles in milliseconds. 64 kept (frequency_cache.h: which).
  using StageKey = std::tuple<size_t, RequantMode, Isa, std::vector<std::pair<DataType, Shape>>,
                              std::vector<std::vector<std::byte>>>;
  mutable runtime::FrequencyCache<StageKey, std::shared_ptr<const runtime::Program>> stage_cache_{64};
};

// Compiles `model.onnx` for `options` and describes its inputs and outputs: what Model::load does with the
// bytes it read.
void prepare_model(Model::Impl& model, const LoadOptions& options);

}  // namespace octet
