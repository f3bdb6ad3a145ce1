#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "kernels/quantization/requant_mode.h"

namespace octet::graph {

// A part of a model to import instead of its whole graph: one stage of a model with data-dependent shapes
// (graph/stages.h).
struct ImportCut {
  std::vector<int> nodes;  // indices into the ONNX graph's node list
  // The part's run-time inputs. The model's own graph inputs keep their declarations; other tensors are
  // declared with the type `input_types` gives and the shape ImportOptions::input_shapes gives (which may
  // have empty dimensions: a selection of nothing).
  std::vector<std::string> inputs;
  std::map<std::string, ElementType> input_types;
  // Tensors the part takes as constants (shape arithmetic computed by an earlier part).
  struct ConstantTensor {
    std::string name;
    ElementType type = ElementType::s64;
    Shape shape;
    std::vector<std::byte> data;  // the elements, plain order
  };
  std::vector<ConstantTensor> constants;
  // The part's outputs: the model's own graph outputs keep their declarations.
  std::vector<std::string> outputs;
  // The tensors passed between parts: in ONNX order even with nhwc_io (a rank-4 one is converted to plain
  // order where it leaves and stays plain where it enters), so that operators between parts see ONNX's
  // layout. The inputs among them are the ones input_types names.
  std::vector<std::string> passed_outputs;
};

struct ImportOptions {
  // The caller's image tensors are already channel-last: no layout change at the graph inputs / outputs.
  bool nhwc_io = false;
  // Size given to symbolic (dynamic) dimensions when the graph is compiled.
  int64_t dynamic_dim = 1;
  // Compile for these input shapes (ONNX order) instead of the declared ones; fixed dimensions must match.
  std::map<std::string, Shape> input_shapes;
  // input_shapes of the image inputs (rank-4 float32 / uint8, the ones nhwc_io makes channel-last) are in
  // NHWC order: an nhwc_io caller's. Other inputs' shapes are in ONNX order either way.
  bool input_shapes_nhwc = false;
  // The requantization arithmetic that tables built at import (fused byte maps, a quantized add or mul of a
  // scalar constant) follow, so that they equal the operators they replace.
  RequantMode requant = RequantMode::fixed_point;
  // Residual adds fused into the convolutions that feed them (graph/passes/fuse_residual_add.h); off where
  // tests and benchmarks/residual_add_bench compare the fused graph with the unfused one.
  bool fuse_residual_adds = true;
  // Zero Pads folded into the convolutions and average pools that read them (graph/passes/fold_pads.h); off
  // where tests compare the folded graph with the unfolded one.
  bool fold_pads = true;
  // A BatchNormalization that reads a Concat reads its pieces (graph/passes/fuse_concat_affine.h); off where
  // tests compare the fused graph with the unfused one.
  bool fuse_concat_affines = true;
  // Dequantize -> channel affine -> Quantize as the affine on uint8
  // (graph/passes/fold_affine_quantization.h); off where tests compare the folded graph with the unfolded
  // one.
  bool fold_affine_quantization = true;
  // Graph inputs may have empty dimensions (the inputs of an If's branch: a selection of nothing).
  bool allow_empty_inputs = false;
  // Import only this part of the graph (null: all of it).
  std::shared_ptr<const ImportCut> cut;
};

// Parses an ONNX model (QDQ or QOperator form) and lowers it to octet's quantized IR. Throws octet::Error
// naming the node (or tensor) for anything malformed or unsupported.
Graph import_onnx(std::span<const std::byte> bytes, const ImportOptions& options = {});

// Whether some graph input of the model has a dynamic dimension that options.input_shapes does not fix
// (false for bytes that do not parse).
bool has_dynamic_inputs(std::span<const std::byte> bytes, const ImportOptions& options);

}  // namespace octet::graph
