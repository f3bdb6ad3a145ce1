#pragma once

// Quantized binary elementwise operators (add, mul) as a 65536-entry table: the result depends only on the
// two uint8 inputs, so the table built from the reference operator over every (a, b) pair is exact by
// construction, and the run is one lookup per element. Broadcasting follows ONNX (ranks up to 4 here).

#include <cstdint>
#include <vector>

#include "kernels/quantization/clamp.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/tensor.h"

namespace octet::elementwise {

enum class BinaryOp { add, mul };

struct BinaryTable {
  std::vector<uint8_t> table;  // [a * 256 + b]
};

// In float_scale mode, `a_first` is ref::float_add_a_first of the operands' shapes (add only).
BinaryTable make_binary_table(BinaryOp op, const QuantParams& a, const QuantParams& b,
                              const QuantParams& output, Clamp clamp,
                              RequantMode mode = RequantMode::fixed_point, bool a_first = false);

// out[i] = table[a[ia] * 256 + b[ib]] over the broadcast of shapes `sa` and `sb` (rank <= 4) into `so`.
void run(const BinaryTable& t, const uint8_t* a, const Shape& sa, const uint8_t* b, const Shape& sb,
         uint8_t* out, const Shape& so);

}  // namespace octet::elementwise
