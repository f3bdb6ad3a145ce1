#include "kernels/reference/fully_connected.h"

#include <string>

#include "kernels/error.h"
#include "kernels/quantization/conv_requant.h"
#include "kernels/quantization/fixed_point.h"

namespace octet::ref {

template <class W>
TensorU8 fully_connected(const TensorU8& input, const Tensor<W>& weights, const TensorS32* bias,
                         const QuantParams& output, Clamp clamp, RequantMode mode) {
  check_consistent(input, "fully_connected input");
  check_consistent(weights, "fully_connected weights");
  if (input.rank() < 1) throw Error("fully_connected: input must have rank >= 1");
  if (weights.rank() != 2)
    throw Error("fully_connected: weights must be [C_out, K], got " + to_string(weights.shape));
  const int64_t k = input.shape.back();
  const int64_t cout = weights.dim(0);
  if (weights.dim(1) != k)
    throw Error("fully_connected: input has K = " + std::to_string(k) + " but weights are " +
                to_string(weights.shape));
  if (k < 1 || cout < 1) throw Error("fully_connected: K and C_out must be >= 1");
  const ConvRequant rq =
      prepare_conv_requant("fully_connected", input, weights, bias, output, clamp, cout, k, mode);

  Shape out_shape = input.shape;
  out_shape.back() = cout;
  TensorU8 out(out_shape, output);
  const int64_t rows = input.size() / k;
  const int32_t za = rq.input_zero_point;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t oc = 0; oc < cout; ++oc) {
      const int32_t zw = rq.weight_zero_points[static_cast<size_t>(oc)];
      int32_t acc = bias ? bias->data[static_cast<size_t>(oc)] : 0;
      const uint8_t* a = &input.data[static_cast<size_t>(r * k)];
      const W* w = &weights.data[static_cast<size_t>(oc * k)];
      for (int64_t i = 0; i < k; ++i)
        acc += (a[i] - za) * (w[i] - zw);
      out.data[static_cast<size_t>(r * cout + oc)] = static_cast<uint8_t>(rq.requantize(acc, oc));
    }
  return out;
}

template TensorU8 fully_connected(const TensorU8&, const Tensor<int8_t>&, const TensorS32*,
                                  const QuantParams&, Clamp, RequantMode);
template TensorU8 fully_connected(const TensorU8&, const Tensor<uint8_t>&, const TensorS32*,
                                  const QuantParams&, Clamp, RequantMode);

}  // namespace octet::ref
