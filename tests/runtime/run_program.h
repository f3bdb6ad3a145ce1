#pragma once

// For tests that compile programs through the runtime's internal headers (runtime/program.h): a file's
// bytes, and a program run the way a Session runs it (one arena, operators in order) on a float input.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "runtime/memory_plan.h"
#include "runtime/program.h"

namespace octet::test {

inline std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  if (!chars.empty()) std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

// Runs `p` on `input` (its first input, float); returns the bytes of every output.
inline std::vector<std::vector<std::byte>> run_program(const runtime::Program& p,
                                                       const std::vector<float>& input) {
  const graph::Graph& g = p.graph;
  std::vector<std::byte> arena(static_cast<size_t>(p.plan.arena_bytes) + 64);
  std::byte* base = arena.data() + (64 - reinterpret_cast<uintptr_t>(arena.data()) % 64) % 64;
  auto buffer = [&](graph::ValueId id) {
    const graph::Value& v = g.value(id);
    if (v.is_constant()) return const_cast<std::byte*>(v.constant->data());
    return base + p.plan.offsets[static_cast<size_t>(id)];
  };
  std::memcpy(buffer(g.inputs.at(0)), input.data(), input.size() * sizeof(float));
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    std::vector<const std::byte*> inputs;
    for (graph::ValueId id : g.nodes[i].inputs)
      inputs.push_back(buffer(id));
    p.operators[i]->run(inputs, buffer(g.nodes[i].output));
  }
  std::vector<std::vector<std::byte>> outputs;
  for (graph::ValueId out : g.outputs) {
    const std::byte* bytes = buffer(out);
    outputs.emplace_back(bytes, bytes + runtime::byte_size(g.value(out)));
  }
  return outputs;
}

}  // namespace octet::test
