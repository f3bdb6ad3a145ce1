#pragma once
// The first step of post-training quantization: a float ONNX model parsed and put into the form the
// quantizer works on. Constant nodes become initializers (weights are then found in one place), a
// BatchNormalization after a Conv folds into the Conv's weights and bias (as every quantizer does: the
// folded conv quantizes as one operator), and the default-domain opset is raised to 13 where it is older
// (per-channel DequantizeLinear needs 13), with ONNX's own version converter.

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace octet::graph::quantize {

struct PreparedModel {
  onnx::ModelProto proto;
  int64_t original_opset = 0;
  std::vector<std::string> folded_batch_norms;  // names of the BatchNormalization nodes folded away
};

// Throws octet::Error for bytes that are not an ONNX model, for a model already holding QuantizeLinear /
// DequantizeLinear / QOperator nodes (quantize the float model), and for an opset the converter refuses.
PreparedModel prepare_float_model(std::span<const std::byte> bytes);

// The serialized model, with `extra_outputs` (float tensors by name) added as graph outputs so that a run
// returns them: how calibration observes every tensor.
std::vector<std::byte> serialize_with_outputs(const onnx::ModelProto& model,
                                              const std::vector<std::string>& extra_outputs);

// Every tensor a node of the graph computes, and the graph inputs, in graph order (candidates to observe).
std::vector<std::string> computed_tensors(const onnx::ModelProto& model);

}  // namespace octet::graph::quantize
