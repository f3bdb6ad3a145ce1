#pragma once

// Building small ONNX models in C++ for the importer's tests: initializers, nodes, attributes and the
// graph's inputs and outputs, on onnx::ModelProto.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace octet::test::onnx_builder {

using onnx::TensorProto;

inline void add_ints(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values)
    a->add_ints(v);
}

inline void add_int(onnx::NodeProto& node, const std::string& name, int64_t value) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

inline void add_string(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

inline TensorProto& add_tensor(onnx::GraphProto& g, const std::string& name, int32_t type,
                               std::vector<int64_t> dims, const std::string& raw) {
  TensorProto& t = *g.add_initializer();
  t.set_name(name);
  t.set_data_type(type);
  for (int64_t d : dims)
    t.add_dims(d);
  t.set_raw_data(raw);
  return t;
}

inline std::string float_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

inline onnx::NodeProto& add_node(onnx::GraphProto& g, const std::string& op, const std::string& name,
                                 const std::vector<std::string>& inputs, const std::string& output) {
  onnx::NodeProto& n = *g.add_node();
  n.set_op_type(op);
  n.set_name(name);
  for (const auto& in : inputs)
    n.add_input(in);
  n.add_output(output);
  return n;
}

inline void add_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& list, const std::string& name,
                      const std::vector<int64_t>& dims) {
  onnx::ValueInfoProto& v = *list.Add();
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(TensorProto::FLOAT);
  for (int64_t d : dims)
    t->mutable_shape()->add_dim()->set_dim_value(d);
}

}  // namespace octet::test::onnx_builder
