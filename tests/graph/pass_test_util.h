#pragma once

// What the tests of the graph passes share: a model built with onnx_builder.h as the bytes the importer
// reads, a reproducible input for it, and how many nodes of one kind an imported graph has.

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace octet::test {

inline std::vector<std::byte> serialized(const onnx::ModelProto& m) {
  const std::string bytes = m.SerializeAsString();
  std::vector<std::byte> out(bytes.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

// A test model's bytes and the shape (ONNX order) of its one input.
struct BuiltModel {
  std::vector<std::byte> onnx;
  std::vector<int64_t> input_shape;
};

// `count` floats uniform in [lo, hi) from `rng`: a test model's constants (weights, normalization params).
inline std::vector<float> uniform_values(std::mt19937& rng, int64_t count, float lo, float hi) {
  std::uniform_real_distribution<float> real(lo, hi);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& e : v)
    e = real(rng);
  return v;
}

// Floats uniform in [lo, hi) for a tensor of `shape`, the same on every run.
inline std::vector<float> uniform_input(const std::vector<int64_t>& shape, float lo, float hi) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> real(lo, hi);
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  std::vector<float> x(static_cast<size_t>(count));
  for (float& v : x)
    v = real(rng);
  return x;
}

inline int nodes_of_kind(const graph::Graph& g, graph::OpKind kind) {
  int count = 0;
  for (const graph::Node& n : g.nodes)
    count += n.kind == kind;
  return count;
}

}  // namespace octet::test
