#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/tensor.h"

namespace onnx {
class TensorProto;
}

namespace octet::graph::onnx_import {

// An ONNX initializer or Constant value, decoded. All supported element types (float, double, int8,
// uint8, int32, int64, bool) are held as double: exact for every value they can carry that octet uses
// (8- and 32-bit integers, float32, shape integers below 2^53).
struct Constant {
  int32_t onnx_type = 0;  // onnx::TensorProto_DataType
  Shape shape;
  std::vector<double> values;

  int64_t size() const { return static_cast<int64_t>(values.size()); }
  bool is_scalar() const { return values.size() == 1; }
  bool is_integer() const;
};

// Decodes `proto`, checking that its data matches its shape. Throws octet::Error naming `what`.
Constant decode_tensor(const onnx::TensorProto& proto, const std::string& what);

const char* onnx_type_name(int32_t onnx_type);

}  // namespace octet::graph::onnx_import
