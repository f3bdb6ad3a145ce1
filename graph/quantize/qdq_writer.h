#pragma once
// Writes the QDQ form of a prepared float model: a QuantizeLinear / DequantizeLinear pair (uint8, per
// tensor) on every tensor the plan quantizes, int8 weights per output channel (or per tensor) and int32
// biases behind DequantizeLinear. The result is standard ONNX (opset 13) that octet and ONNX Runtime run.

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <vector>

#include "graph/quantize/qdq_plan.h"
#include "kernels/quantization/calibration.h"

namespace octet::graph::quantize {

struct QdqModel {
  onnx::ModelProto proto;
  // Each quantized tensor -> the tensor of the new model holding its dequantized values (for comparing
  // the int8 model's tensors with the float model's).
  std::map<std::string, std::string> dequantized_name;
  // Weighted node name -> output channels whose weight scale was raised so that the bias fits int32.
  std::map<std::string, std::vector<int64_t>> raised_weight_scales;
};

// `params`: the uint8 params of every tensor in plan.quantized_tensors.
QdqModel write_qdq(const onnx::ModelProto& prepared, const QdqPlan& plan,
                   const std::map<std::string, calibration::ActivationParams>& params);

}  // namespace octet::graph::quantize
