#pragma once
// The first step of post-training quantization: a float ONNX model parsed and put into the form the
// quantizer works on. Constant nodes become initializers (weights are then found in one place), a
// BatchNormalization after a Conv folds into the Conv's weights and bias (as every quantizer does: the
// folded conv quantizes as one operator), and the default-domain opset is raised to 13 where it is older
// (per-channel DequantizeLinear needs 13), with ONNX's own version converter.

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <map>
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
// returns them: how calibration observes every tensor. Those `described_by` names a float32 original for
// (a dequantized copy) are declared as the model's value_info describes that original, where it does.
std::vector<std::byte> serialize_with_outputs(const onnx::ModelProto& model,
                                              const std::vector<std::string>& extra_outputs,
                                              const std::map<std::string, std::string>& described_by = {});

// Every tensor a node of the graph computes that a node (or a subgraph) reads or the graph outputs, and the
// graph inputs, in graph order (candidates to observe).
std::vector<std::string> computed_tensors(const onnx::ModelProto& model);

// The weights and biases (inputs 1 and 2 of Conv, ConvTranspose, Gemm, MatMul) that the model computes from
// constants alone (a weight-normalised conv's g * v / |v|, a Transpose of a stored matrix): float tensors
// that no graph input reaches. Their values are the same on every run.
std::vector<std::string> computed_constant_weights(const onnx::GraphProto& graph);

// Makes each of `values` (name -> shape and float32 values) an initializer and removes the nodes that
// computed them, and any node left computing nothing that is read.
struct ConstantValue {
  std::vector<int64_t> shape;
  std::vector<float> values;
};
void materialize_constants(onnx::GraphProto& graph, const std::map<std::string, ConstantValue>& values);

}  // namespace octet::graph::quantize
