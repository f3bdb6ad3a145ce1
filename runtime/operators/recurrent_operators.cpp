// RNN, GRU and LSTM (graph::OpKind::recurrent): the float reference cells, one task per direction and batch
// entry. Each task runs its own sequence and writes only its part of the output, so the bytes do not depend
// on the thread count.

#include "kernels/parallel.h"
#include "kernels/reference/float_recurrent.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

using graph::Graph;
using graph::Node;

std::unique_ptr<const Operator> make_recurrent_operator(const Graph&, const Node& node, Isa, RequantMode) {
  if (node.kind != graph::OpKind::recurrent) return nullptr;
  const auto& a = std::get<graph::RecurrentAttrs>(node.attrs);
  return function([a](std::span<const std::byte* const> inputs, std::byte* out) {
    const ref::RecurrentParams& p = *a.params;
    size_t next = 1;
    const float* initial_h = a.initial_h ? as<float>(inputs[next++]) : nullptr;
    const float* initial_c = a.initial_c ? as<float>(inputs[next++]) : nullptr;
    const int64_t* lengths = a.sequence_lens ? as<int64_t>(inputs[next]) : nullptr;
    // Every length is checked before any task runs: an error leaves no half-written output behind.
    std::vector<int64_t> steps(static_cast<size_t>(p.batch));
    for (int64_t n = 0; n < p.batch; ++n)
      steps[static_cast<size_t>(n)] = ref::recurrent_length(p, lengths, n);
    const float* x = as<float>(inputs[0]);
    float* y = as<float>(out);
    parallel_ranges(p.directions * p.batch, 1, [&](int64_t first, int64_t last) {
      for (int64_t k = first; k < last; ++k) {
        const int64_t d = k / p.batch, n = k % p.batch;
        ref::float_recurrent_entry(p, d, n, x, initial_h, initial_c, steps[static_cast<size_t>(n)], y);
      }
    });
  });
}

}  // namespace octet::runtime
