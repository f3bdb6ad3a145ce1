#pragma once
// Small helpers to read and build ONNX graph pieces for the quantizer: initializers as float values, new
// initializers, names that do not collide.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace octet::graph::quantize {

// A float initializer decoded: its shape and values.
struct FloatInitializer {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// The initializers of a graph by name.
std::map<std::string, const onnx::TensorProto*> initializers_of(const onnx::GraphProto& graph);

// A float32 initializer's shape and values, or nullopt when `name` is not a float32 initializer.
std::optional<FloatInitializer> float_initializer(const onnx::GraphProto& graph, const std::string& name);

onnx::TensorProto make_float_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<float>& values);
onnx::TensorProto make_int8_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                   const std::vector<int8_t>& values);
onnx::TensorProto make_uint8_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<uint8_t>& values);
onnx::TensorProto make_int32_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<int32_t>& values);

// Hands out names not yet used by any tensor or node of the graph.
class UniqueNames {
 public:
  explicit UniqueNames(const onnx::GraphProto& graph);
  std::string make(const std::string& wanted);

 private:
  std::set<std::string> used_;
};

// Every name a node inside one of the graph's subgraphs (If branches, Loop and Scan bodies, nested) reads:
// the tensors of the enclosing scope among them, which a rewrite of the graph must keep under their names.
std::set<std::string> names_read_in_subgraphs(const onnx::GraphProto& graph);

// Removes the initializers nothing reads, subgraphs included (also from the graph's input list, where older
// models list them).
void drop_unused_initializers(onnx::GraphProto& graph);

// The default-domain opset of a model (0 when it declares none).
int64_t default_opset(const onnx::ModelProto& model);

}  // namespace octet::graph::quantize
