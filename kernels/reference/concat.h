#pragma once

#include <vector>

#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::ref {

// Concatenates uint8 tensors along `axis` (negative counts from the end; channels of NHWC is 3 or -1).
// Every input is requantized to the output's params in `mode` (ref::Rescale; copied unchanged where its
// params already equal them). All other dimensions must match.
TensorU8 concat(const std::vector<const TensorU8*>& inputs, int64_t axis, const QuantParams& output,
                RequantMode mode);

}  // namespace octet::ref
