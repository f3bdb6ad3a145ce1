#pragma once

// What the operator families (runtime/operators/*.cpp) share: an operator that is one function of whole
// buffers, typed views of the buffers, the reference kernels' tensor copies, and the family factories
// that runtime/operators.cpp dispatches to. Each family binds its graph operators, uint8 and float, to the
// kernels of the active ISA (the scalar references when the ISA is `scalar` or no fast kernel applies).

#include <functional>
#include <memory>
#include <span>

#include "graph/ir.h"
#include "kernels/elementwise/byte_map.h"
#include "kernels/isa.h"
#include "kernels/quantization/requant_mode.h"
#include "runtime/copy_bytes.h"
#include "runtime/operators.h"

namespace octet::runtime {

// Any operator that is one call on whole buffers.
class FunctionOperator final : public Operator {
 public:
  using Function = std::function<void(std::span<const std::byte* const>, std::byte*)>;
  explicit FunctionOperator(Function f) : f_(std::move(f)) {}
  void run(std::span<const std::byte* const> inputs, std::byte* output) const override { f_(inputs, output); }

 private:
  Function f_;
};

inline std::unique_ptr<const Operator> function(FunctionOperator::Function f) {
  return std::make_unique<FunctionOperator>(std::move(f));
}

template <class T>
const T* as(const std::byte* p) {
  return reinterpret_cast<const T*>(p);
}
template <class T>
T* as(std::byte* p) {
  return reinterpret_cast<T*>(p);
}

// The scalar reference kernels take and return owning tensors: a copy in, a copy out.
template <class T>
Tensor<T> load(const std::byte* data, const graph::Value& v) {
  Tensor<T> t(v.shape, v.quant);
  copy_bytes(t.data.data(), data, t.data.size() * sizeof(T));
  return t;
}
template <class T>
void store(const Tensor<T>& t, std::byte* out) {
  copy_bytes(out, t.data.data(), t.data.size() * sizeof(T));
}

// The reference requantization (in `mode`) of every byte value from `from` to `to`, as a table.
elementwise::ByteTable byte_table(const QuantParams& from, const QuantParams& to, Clamp clamp,
                                  RequantMode mode);

// The family factories. Each returns null for an operator kind that is not its own. `requant`: how the
// operators that requantize an int32 accumulator round (conv family and, by their own definitions, the rest).
std::unique_ptr<const Operator> make_conv_operator(const graph::Graph& g, const graph::Node& node, Isa isa,
                                                   RequantMode requant);
std::unique_ptr<const Operator> make_pooling_operator(const graph::Graph& g, const graph::Node& node, Isa isa,
                                                      RequantMode requant);
std::unique_ptr<const Operator> make_elementwise_operator(const graph::Graph& g, const graph::Node& node,
                                                          Isa isa, RequantMode requant);
std::unique_ptr<const Operator> make_movement_operator(const graph::Graph& g, const graph::Node& node,
                                                       Isa isa, RequantMode requant);
std::unique_ptr<const Operator> make_reduce_operator(const graph::Graph& g, const graph::Node& node, Isa isa,
                                                     RequantMode requant);
std::unique_ptr<const Operator> make_recurrent_operator(const graph::Graph& g, const graph::Node& node,
                                                        Isa isa, RequantMode requant);
std::unique_ptr<const Operator> make_detection_operator(const graph::Graph& g, const graph::Node& node,
                                                        Isa isa, RequantMode requant);

// A convolution (takes_output_stride) storing its output pixels `output_stride` bytes apart.
std::unique_ptr<const Operator> make_strided_conv_operator(const graph::Graph& g, const graph::Node& node,
                                                           Isa isa, RequantMode requant,
                                                           int64_t output_stride);
// A Concat that copies only the inputs not marked in `in_place` (empty: all of them).
std::unique_ptr<const Operator> make_concat_operator(const graph::Graph& g, const graph::Node& node, Isa isa,
                                                     RequantMode requant, const std::vector<bool>& in_place);

}  // namespace octet::runtime
