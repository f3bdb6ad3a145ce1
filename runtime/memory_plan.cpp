#include "runtime/memory_plan.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "kernels/error.h"

namespace octet::runtime {

namespace {

constexpr int64_t kAlignment = 64;

// No machine addresses 2^47 bytes of activations; a shape past it comes from a malformed or hostile model.
// Bounding every tensor and the sum of all of them here keeps every later size and offset product in range.
constexpr int64_t kMaxActivationBytes = int64_t{1} << 47;

std::string too_large(const std::string& what, int64_t limit) {
  return what + " needs more than " + std::to_string(limit) + " bytes of memory";
}

int64_t align_up(int64_t n) {
  return (n + kAlignment - 1) / kAlignment * kAlignment;
}

}  // namespace

int64_t byte_size(const graph::Value& value) {
  const int64_t elements = element_count(value.shape, value.name);
  const auto element_bytes = static_cast<int64_t>(size_of(value.type));
  if (element_bytes > 0 && elements > kMaxActivationBytes / element_bytes)
    throw Error(
        too_large("tensor '" + value.name + "' of shape " + to_string(value.shape), kMaxActivationBytes));
  return elements * element_bytes;
}

MemoryPlan plan_memory(const graph::Graph& graph, const std::vector<graph::ValueId>& keep_alive,
                       const std::vector<ValueAlias>& aliases) {
  const size_t n = graph.values.size();
  const int end = static_cast<int>(graph.nodes.size());
  std::vector<int> first(n, end + 1), last(n, -2);
  for (graph::ValueId id : graph.inputs)
    first[static_cast<size_t>(id)] = -1, last[static_cast<size_t>(id)] = -1;
  for (int i = 0; i < end; ++i) {
    const graph::Node& node = graph.nodes[static_cast<size_t>(i)];
    const auto out = static_cast<size_t>(node.output);
    first[out] = std::min(first[out], i);
    last[out] = std::max(last[out], i);
    for (graph::ValueId in : node.inputs)
      last[static_cast<size_t>(in)] = std::max(last[static_cast<size_t>(in)], i);
  }
  for (graph::ValueId id : graph.outputs)
    last[static_cast<size_t>(id)] = end;
  for (graph::ValueId id : keep_alive)
    last[static_cast<size_t>(id)] = end;
  std::vector<bool> aliased(n, false);
  for (const ValueAlias& a : aliases) {
    const auto v = static_cast<size_t>(a.value), into = static_cast<size_t>(a.into);
    first[into] = std::min(first[into], first[v]);
    last[into] = std::max(last[into], last[v]);
    aliased[v] = true;
  }

  MemoryPlan plan;
  plan.offsets.assign(n, 0);
  plan.sizes.assign(n, 0);
  std::vector<size_t> order;
  for (size_t v = 0; v < n; ++v) {
    // Unused, held by the program, or stored inside another value.
    if (last[v] < -1 || graph.values[v].is_constant() || aliased[v]) continue;
    plan.sizes[v] = align_up(std::max<int64_t>(byte_size(graph.values[v]), 1));
    plan.unplanned_bytes += plan.sizes[v];
    if (plan.unplanned_bytes > kMaxActivationBytes)
      throw Error(too_large("the model's activations (at tensor '" + graph.values[v].name + "')",
                            kMaxActivationBytes));
    order.push_back(v);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return plan.sizes[a] > plan.sizes[b]; });
  std::vector<size_t> placed;
  for (size_t v : order) {
    // Collect the intervals already taken during v's lifetime, then take the lowest gap that fits.
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (size_t p : placed)
      if (!(last[p] < first[v] || last[v] < first[p]))
        taken.emplace_back(plan.offsets[p], plan.offsets[p] + plan.sizes[p]);
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0;
    for (const auto& [lo, hi] : taken) {
      if (offset + plan.sizes[v] <= lo) break;
      offset = std::max(offset, hi);
    }
    plan.offsets[v] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + plan.sizes[v]);
    placed.push_back(v);
  }
  for (const ValueAlias& a : aliases)
    plan.offsets[static_cast<size_t>(a.value)] = plan.offsets[static_cast<size_t>(a.into)] + a.offset;
  return plan;
}

}  // namespace octet::runtime
