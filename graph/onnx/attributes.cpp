#include "graph/onnx/attributes.h"

#include <onnx/onnx_pb.h>

#include <algorithm>

#include "kernels/error.h"

namespace octet::graph::onnx_import {

namespace {

const onnx::AttributeProto* find(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

}  // namespace

std::string describe(const onnx::NodeProto& node) {
  const std::string domain = node.domain().empty() || node.domain() == "ai.onnx" ? "" : node.domain() + ".";
  // Unnamed nodes (names are optional in ONNX) are named by their first output the model uses.
  if (node.name().empty() && node.output_size() > 0) {
    const auto used =
        std::find_if(node.output().begin(), node.output().end(), [](const auto& o) { return !o.empty(); });
    return "node producing '" + (used == node.output().end() ? std::string() : *used) + "' (" + domain +
           node.op_type() + ")";
  }
  return "node '" + node.name() + "' (" + domain + node.op_type() + ")";
}

Attributes::Attributes(const onnx::NodeProto& node) : node_(node) {}

bool Attributes::has(const std::string& name) const {
  return find(node_, name) != nullptr;
}

int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  const auto* a = find(node_, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INT)
    throw Error(describe(node_) + ": attribute '" + name + "' must be an integer");
  return a->i();
}

float Attributes::get_float(const std::string& name, float fallback) const {
  const auto* a = find(node_, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT)
    throw Error(describe(node_) + ": attribute '" + name + "' must be a float");
  return a->f();
}

std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  const auto* a = find(node_, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::STRING)
    throw Error(describe(node_) + ": attribute '" + name + "' must be a string");
  return a->s();
}

std::vector<int64_t> Attributes::get_ints(const std::string& name, std::vector<int64_t> fallback) const {
  const auto* a = find(node_, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INTS)
    throw Error(describe(node_) + ": attribute '" + name + "' must be a list of integers");
  return {a->ints().begin(), a->ints().end()};
}

std::vector<float> Attributes::get_floats(const std::string& name) const {
  const auto* a = find(node_, name);
  if (!a) return {};
  if (a->type() != onnx::AttributeProto::FLOATS)
    throw Error(describe(node_) + ": attribute '" + name + "' must be a list of floats");
  return {a->floats().begin(), a->floats().end()};
}

void Attributes::expect_only(std::initializer_list<const char*> known) const {
  for (const auto& a : node_.attribute())
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return a.name() == k; }))
      throw Error(describe(node_) + ": attribute '" + a.name() + "' is not supported");
}

}  // namespace octet::graph::onnx_import
