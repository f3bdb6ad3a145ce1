#include "kernels/reference/concat.h"

#include <algorithm>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/requantize.h"

namespace octet::ref {

TensorU8 concat(const std::vector<const TensorU8*>& inputs, int64_t axis, const QuantParams& output,
                RequantMode mode) {
  if (inputs.empty()) throw Error("concat: no inputs");
  validate(output, ElementType::u8, {}, "concat output");
  if (!output.is_per_tensor()) throw Error("concat: output must be quantized per tensor");
  const Shape& first = inputs[0]->shape;
  const auto rank = static_cast<int64_t>(first.size());
  if (axis < -rank || axis >= rank)
    throw Error("concat: axis " + std::to_string(axis) + " is outside rank " + std::to_string(rank));
  const auto ax = static_cast<size_t>(axis < 0 ? axis + rank : axis);

  Shape out_shape = first;
  out_shape[ax] = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorU8& t = *inputs[i];
    const std::string name = "concat input " + std::to_string(i);
    check_consistent(t, name);
    validate(t.quant, ElementType::u8, t.shape, name);
    if (!t.quant.is_per_tensor()) throw Error(name + " must be quantized per tensor");
    if (t.rank() != first.size())
      throw Error(name + " has rank " + std::to_string(t.rank()) + ", input 0 has " +
                  std::to_string(first.size()));
    for (size_t d = 0; d < first.size(); ++d)
      if (d != ax && t.shape[d] != first[d])
        throw Error(name + " has shape " + to_string(t.shape) + ", which differs from input 0's " +
                    to_string(first) + " outside the concatenation axis");
    out_shape[ax] += t.shape[ax];
  }

  TensorU8 out(out_shape, output);
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < ax; ++d)
    outer *= out_shape[d];
  for (size_t d = ax + 1; d < out_shape.size(); ++d)
    inner *= out_shape[d];
  const int64_t out_row = out_shape[ax] * inner;
  int64_t column = 0;
  for (const TensorU8* t : inputs) {
    const int64_t row = t->shape[ax] * inner;
    const bool same = t->quant == output;
    const Rescale rescale(t->quant, output, mode);
    for (int64_t o = 0; o < outer; ++o) {
      const uint8_t* src = t->data.data() + o * row;
      uint8_t* dst = out.data.data() + o * out_row + column;
      if (same)
        std::copy(src, src + row, dst);
      else
        std::transform(src, src + row, dst, [&](uint8_t q) { return static_cast<uint8_t>(rescale(q)); });
    }
    column += row;
  }
  return out;
}

}  // namespace octet::ref
