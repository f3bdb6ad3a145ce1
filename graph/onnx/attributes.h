#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class NodeProto;
}

namespace octet::graph::onnx_import {

// Typed access to a node's attributes; every error names the node and the attribute.
class Attributes {
 public:
  explicit Attributes(const onnx::NodeProto& node);

  bool has(const std::string& name) const;
  int64_t get_int(const std::string& name, int64_t fallback) const;
  float get_float(const std::string& name, float fallback) const;
  std::string get_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> get_floats(const std::string& name) const;

  // Throws naming the node unless every attribute it has is one of `known`: an attribute octet does not
  // understand must never be silently ignored.
  void expect_only(std::initializer_list<const char*> known) const;

 private:
  const onnx::NodeProto& node_;
};

// "node 'conv1' (Conv)": how every import error names a node.
std::string describe(const onnx::NodeProto& node);

}  // namespace octet::graph::onnx_import
