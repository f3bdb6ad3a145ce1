#include "graph/quantize/model_edit.h"

#include <cstring>

#include "graph/onnx/constant.h"

namespace octet::graph::quantize {

namespace {

template <class T>
onnx::TensorProto make_tensor(const std::string& name, const std::vector<int64_t>& shape,
                              const std::vector<T>& values, int32_t type) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (const int64_t d : shape)
    t.add_dims(d);
  // raw_data is little-endian by ONNX's definition, which is the host's order (octet checks it at import).
  std::string raw(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  t.set_raw_data(std::move(raw));
  return t;
}

}  // namespace

std::map<std::string, const onnx::TensorProto*> initializers_of(const onnx::GraphProto& graph) {
  std::map<std::string, const onnx::TensorProto*> out;
  for (const auto& init : graph.initializer())
    out.emplace(init.name(), &init);
  return out;
}

std::optional<FloatInitializer> float_initializer(const onnx::GraphProto& graph, const std::string& name) {
  for (const auto& init : graph.initializer()) {
    if (init.name() != name) continue;
    if (init.data_type() != onnx::TensorProto::FLOAT) return std::nullopt;
    const onnx_import::Constant c = onnx_import::decode_tensor(init, "initializer '" + name + "'");
    FloatInitializer f;
    f.shape = c.shape;
    f.values.assign(c.values.begin(), c.values.end());
    return f;
  }
  return std::nullopt;
}

onnx::TensorProto make_float_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<float>& values) {
  return make_tensor(name, shape, values, onnx::TensorProto::FLOAT);
}
onnx::TensorProto make_int8_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                   const std::vector<int8_t>& values) {
  return make_tensor(name, shape, values, onnx::TensorProto::INT8);
}
onnx::TensorProto make_uint8_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<uint8_t>& values) {
  return make_tensor(name, shape, values, onnx::TensorProto::UINT8);
}
onnx::TensorProto make_int32_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<int32_t>& values) {
  return make_tensor(name, shape, values, onnx::TensorProto::INT32);
}

UniqueNames::UniqueNames(const onnx::GraphProto& graph) {
  for (const auto& in : graph.input())
    used_.insert(in.name());
  for (const auto& init : graph.initializer())
    used_.insert(init.name());
  for (const auto& node : graph.node()) {
    used_.insert(node.name());
    for (const auto& o : node.output())
      used_.insert(o);
    for (const auto& i : node.input())
      used_.insert(i);
  }
}

std::string UniqueNames::make(const std::string& wanted) {
  std::string name = wanted;
  for (int i = 1; used_.count(name); ++i)
    name = wanted + "_" + std::to_string(i);
  used_.insert(name);
  return name;
}

// Initializers nothing reads any more (the originals of folded weights) are dropped, from the graph's
// input list too (older models list initializers there).
namespace {

void add_reads(const onnx::GraphProto& graph, std::set<std::string>& names) {
  for (const auto& node : graph.node()) {
    names.insert(node.input().begin(), node.input().end());
    for (const auto& attribute : node.attribute()) {
      if (attribute.has_g()) add_reads(attribute.g(), names);
      for (const auto& g : attribute.graphs())
        add_reads(g, names);
    }
  }
}

}  // namespace

std::set<std::string> names_read_in_subgraphs(const onnx::GraphProto& graph) {
  std::set<std::string> names;
  for (const auto& node : graph.node())
    for (const auto& attribute : node.attribute()) {
      if (attribute.has_g()) add_reads(attribute.g(), names);
      for (const auto& g : attribute.graphs())
        add_reads(g, names);
    }
  return names;
}

void drop_unused_initializers(onnx::GraphProto& graph) {
  // A Loop body or If branch may read an initializer of this graph by name (torch exports a constant used
  // only in a loop so).
  std::set<std::string> used = names_read_in_subgraphs(graph);
  for (const auto& node : graph.node())
    for (const auto& in : node.input())
      used.insert(in);
  for (const auto& o : graph.output())
    used.insert(o.name());
  auto* inits = graph.mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i) {
    if (used.count(inits->Get(i).name())) continue;
    const std::string name = inits->Get(i).name();
    inits->DeleteSubrange(i, 1);
    auto* inputs = graph.mutable_input();
    for (int j = inputs->size() - 1; j >= 0; --j)
      if (inputs->Get(j).name() == name) inputs->DeleteSubrange(j, 1);
  }
}

int64_t default_opset(const onnx::ModelProto& model) {
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  return 0;
}

}  // namespace octet::graph::quantize
