#include "kernels/quantization/quantize.h"

#include "kernels/error.h"

namespace octet {

AxisWalk axis_walk(const Shape& shape, const QuantParams& params) {
  if (params.is_per_tensor()) return {1, 1};
  AxisWalk walk;
  walk.length = shape.at(static_cast<size_t>(params.axis));
  for (size_t d = static_cast<size_t>(params.axis) + 1; d < shape.size(); ++d)
    walk.inner *= shape[d];
  return walk;
}

template <class T>
Tensor<T> quantize(const TensorF32& input, const QuantParams& params) {
  check_consistent(input, "quantize input");
  constexpr ElementType type = element_type_of<T>();
  validate(params, type, input.shape, "quantize output");
  Tensor<T> out(input.shape, params);
  const AxisWalk walk = axis_walk(input.shape, params);
  const IntRange range = range_of(type);
  for (int64_t i = 0; i < input.size(); ++i) {
    const int64_t c = walk.index_of(i);
    out.data[static_cast<size_t>(i)] = static_cast<T>(
        quantize_value(input.data[static_cast<size_t>(i)], params.scale(c), params.zero_point(c), range));
  }
  return out;
}

template <class T>
TensorF32 dequantize(const Tensor<T>& input) {
  check_consistent(input, "dequantize input");
  validate(input.quant, element_type_of<T>(), input.shape, "dequantize input");
  TensorF32 out(input.shape);
  const AxisWalk walk = axis_walk(input.shape, input.quant);
  for (int64_t i = 0; i < input.size(); ++i) {
    const int64_t c = walk.index_of(i);
    out.data[static_cast<size_t>(i)] =
        dequantize_value(input.data[static_cast<size_t>(i)], input.quant.scale(c), input.quant.zero_point(c));
  }
  return out;
}

template Tensor<uint8_t> quantize(const TensorF32&, const QuantParams&);
template Tensor<int8_t> quantize(const TensorF32&, const QuantParams&);
template TensorF32 dequantize(const Tensor<uint8_t>&);
template TensorF32 dequantize(const Tensor<int8_t>&);
template TensorF32 dequantize(const Tensor<int32_t>&);

}  // namespace octet
