// RNN, GRU and LSTM (graph::OpKind::recurrent): the float reference cells on the scalar ISA, the GEMM-based
// kernel (kernels/recurrent/float_recurrent.h, weights packed at load) on the others; the same bytes.

#include "kernels/recurrent/float_recurrent.h"
#include "kernels/reference/float_recurrent.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

using graph::Graph;
using graph::Node;

std::unique_ptr<const Operator> make_recurrent_operator(const Graph&, const Node& node, Isa isa,
                                                        RequantMode) {
  if (node.kind != graph::OpKind::recurrent) return nullptr;
  const auto& a = std::get<graph::RecurrentAttrs>(node.attrs);
  // The inputs after X: the initial states and the lengths, where the model gives them (RecurrentAttrs).
  struct Inputs {
    const float *x, *initial_h, *initial_c;
    const int64_t* lengths;
  };
  auto read = [a](std::span<const std::byte* const> inputs) {
    size_t next = 1;
    Inputs in{as<float>(inputs[0]), nullptr, nullptr, nullptr};
    if (a.initial_h) in.initial_h = as<float>(inputs[next++]);
    if (a.initial_c) in.initial_c = as<float>(inputs[next++]);
    if (a.sequence_lens) in.lengths = as<int64_t>(inputs[next]);
    return in;
  };
  if (isa == Isa::scalar)
    return function([a, read](std::span<const std::byte* const> inputs, std::byte* out) {
      const Inputs in = read(inputs);
      ref::float_recurrent(*a.params, a.output, in.x, in.initial_h, in.initial_c, in.lengths, as<float>(out));
    });
  auto kernel = std::make_shared<const recurrent::FloatRecurrent>(isa, a.params);
  return function(
      [kernel, read, output = a.output](std::span<const std::byte* const> inputs, std::byte* out) {
        const Inputs in = read(inputs);
        kernel->run(output, in.x, in.initial_h, in.initial_c, in.lengths, as<float>(out));
      });
}

}  // namespace octet::runtime
