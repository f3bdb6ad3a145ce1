#include "kernels/quantization/conv_requant.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "kernels/error.h"

namespace octet {

namespace {

std::string named(std::string_view op, std::string_view what) {
  return std::string(op) + ": " + std::string(what);
}

}  // namespace

template <class W>
ConvRequant prepare_conv_requant(std::string_view op, const TensorU8& input, const Tensor<W>& weights,
                                 const TensorS32* bias, const QuantParams& output, Clamp clamp,
                                 int64_t out_channels, int64_t reduction, RequantMode mode) {
  return prepare_conv_requant(op, input, std::span<const W>(weights.data), weights.shape, weights.quant, bias,
                              output, clamp, out_channels, reduction, mode);
}

template <class W>
ConvRequant prepare_conv_requant(std::string_view op, const TensorU8& input, std::span<const W> weights,
                                 const Shape& weight_shape, const QuantParams& weight_params,
                                 const TensorS32* bias, const QuantParams& output, Clamp clamp,
                                 int64_t out_channels, int64_t reduction, RequantMode mode) {
  validate(input.quant, ElementType::u8, input.shape, named(op, "input"));
  if (!input.quant.is_per_tensor()) throw Error(named(op, "input must be quantized per tensor"));
  validate(weight_params, element_type_of<W>(), weight_shape, named(op, "weights"));
  if (!weight_params.is_per_tensor() && weight_params.axis != 0)
    throw Error(named(op, "weights must be quantized per tensor or per output channel (axis 0), got axis ") +
                std::to_string(weight_params.axis));
  validate(output, ElementType::u8, {}, named(op, "output"));
  if (!output.is_per_tensor()) throw Error(named(op, "output must be quantized per tensor"));
  validate(clamp, op);
  if (static_cast<int64_t>(weights.size()) != out_channels * reduction)
    throw Error(named(op, "weights hold ") + std::to_string(weights.size()) + " values, expected " +
                std::to_string(out_channels) + " x " + std::to_string(reduction));

  const double s_in = input.quant.scale();
  if (bias) {
    check_consistent(*bias, named(op, "bias"));
    if (bias->shape != Shape{out_channels})
      throw Error(named(op, "bias shape ") + to_string(bias->shape) + " does not match " +
                  std::to_string(out_channels) + " output channels");
    if (!bias->quant.scales.empty()) {
      validate(bias->quant, ElementType::s32, bias->shape, named(op, "bias"));
      for (int64_t c = 0; c < out_channels; ++c) {
        const double expected = s_in * weight_params.scale(c);
        if (bias->quant.zero_point(c) != 0)
          throw Error(named(op, "bias zero point must be 0, channel ") + std::to_string(c) + " has " +
                      std::to_string(bias->quant.zero_point(c)));
        if (std::abs(bias->quant.scale(c) - expected) > 1e-3 * expected)
          throw Error(named(op, "bias scale of channel ") + std::to_string(c) + " is " +
                      std::to_string(bias->quant.scale(c)) +
                      ", expected input scale x weight scale = " + std::to_string(expected));
      }
    }
  }

  ConvRequant rq;
  rq.input_zero_point = input.quant.zero_point();
  rq.output_zero_point = output.zero_point();
  rq.clamp = clamp;
  rq.mode = mode;
  rq.weight_zero_points.resize(static_cast<size_t>(out_channels));
  rq.multipliers.resize(static_cast<size_t>(out_channels));
  rq.scales.resize(static_cast<size_t>(out_channels));
  const int64_t max_input_dev = std::max(rq.input_zero_point, 255 - rq.input_zero_point);
  rq.max_float_magnitude = 0.0;
  for (int64_t c = 0; c < out_channels; ++c) {
    const int32_t zw = weight_params.zero_point(c);
    rq.weight_zero_points[static_cast<size_t>(c)] = zw;
    rq.multipliers[static_cast<size_t>(c)] = quantize_multiplier(
        s_in * static_cast<double>(weight_params.scale(c)) / static_cast<double>(output.scale()));
    const float scale = float_requant_scale(input.quant.scale(), weight_params.scale(c), output.scale());
    if (mode == RequantMode::float_scale && !(std::isfinite(scale) && scale > 0.0f))
      throw Error(named(op, "output channel ") + std::to_string(c) + ": the float requantization scale " +
                  "input scale x weight scale / output scale is not a positive float32 (" +
                  std::to_string(scale) + "); use the fixed_point requantization");
    rq.scales[static_cast<size_t>(c)] = scale;
    int32_t max_weight_dev = 0;  // int32: the loop vectorises (it runs over every weight at load)
    const W* row = weights.data() + c * reduction;
    for (int64_t k = 0; k < reduction; ++k)
      max_weight_dev = std::max(max_weight_dev, std::abs(static_cast<int32_t>(row[k]) - zw));
    const int64_t bias_mag = bias ? std::abs(static_cast<int64_t>(bias->data[static_cast<size_t>(c)])) : 0;
    // reduction * 255 * 255 < 2^63 for any reduction a tensor can hold, so this bound cannot itself overflow.
    const int64_t bound = reduction * max_input_dev * max_weight_dev + bias_mag;
    if (bound > std::numeric_limits<int32_t>::max())
      throw Error(named(op, "output channel ") + std::to_string(c) + " sums " + std::to_string(reduction) +
                  " products and can overflow the int32 accumulator (worst case " + std::to_string(bound) +
                  ", and accumulators in that range give different outputs): quantize this channel's weights "
                  "with a larger scale or its bias with a smaller magnitude, or split the layer");
    rq.max_float_magnitude = std::max(rq.max_float_magnitude, static_cast<double>(bound) * scale);
  }
  return rq;
}

template ConvRequant prepare_conv_requant(std::string_view, const TensorU8&, const Tensor<int8_t>&,
                                          const TensorS32*, const QuantParams&, Clamp, int64_t, int64_t,
                                          RequantMode);
template ConvRequant prepare_conv_requant(std::string_view, const TensorU8&, const Tensor<uint8_t>&,
                                          const TensorS32*, const QuantParams&, Clamp, int64_t, int64_t,
                                          RequantMode);

template ConvRequant prepare_conv_requant(std::string_view, const TensorU8&, std::span<const int8_t>,
                                          const Shape&, const QuantParams&, const TensorS32*,
                                          const QuantParams&, Clamp, int64_t, int64_t, RequantMode);
template ConvRequant prepare_conv_requant(std::string_view, const TensorU8&, std::span<const uint8_t>,
                                          const Shape&, const QuantParams&, const TensorS32*,
                                          const QuantParams&, Clamp, int64_t, int64_t, RequantMode);

}  // namespace octet
