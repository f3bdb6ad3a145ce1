#pragma once

// A quantized convolution for the kernel tests: its operands, parameters and requantization, and what the
// scalar reference conv2d gives for it (the kernels are checked against that, byte for byte).

#include <variant>

#include "kernels/reference/conv2d.h"
#include "test_util.h"

namespace octet::test {

struct ConvCase {
  TensorU8 input;
  std::variant<TensorS8, TensorU8> weights;
  TensorS32 bias;
  bool use_bias = false;
  ref::Conv2dParams params;
  QuantParams output;
  Clamp clamp;
  RequantMode mode = RequantMode::fixed_point;  // for the reference and the kernel alike
};

inline TensorU8 reference(const ConvCase& c) {
  return std::visit(
      [&](const auto& w) {
        return ref::conv2d(c.input, w, c.use_bias ? &c.bias : nullptr, c.params, c.output, c.clamp, c.mode);
      },
      c.weights);
}

// Weights of `shape` (0: int8 symmetric, 1: int8 asymmetric, 2: uint8 asymmetric; per tensor or per
// channel by coin), a bias (used or not), output params from tiny to large multipliers, and no clamp or a
// random one.
inline void randomize_weights_and_output(Random& rng, ConvCase& c, const Shape& shape, int weight_kind) {
  if (weight_kind == 0)
    c.weights = random_weights<int8_t>(rng, shape, rng.coin(), false);
  else if (weight_kind == 1)
    c.weights = random_weights<int8_t>(rng, shape, rng.coin(), true);
  else
    c.weights = random_weights<uint8_t>(rng, shape, rng.coin(), true);
  std::visit([&](const auto& w) { c.bias = random_bias(rng, shape.at(0), c.input.quant, w, 50000); },
             c.weights);
  c.use_bias = rng.coin();
  c.output = QuantParams::per_tensor(rng.scale(1e-5, 5.0), static_cast<int32_t>(rng.integer(0, 255)));
  c.clamp = rng.coin() ? Clamp{}
                       : Clamp{static_cast<int32_t>(rng.integer(0, 100)),
                               static_cast<int32_t>(rng.integer(150, 255))};
}

}  // namespace octet::test
