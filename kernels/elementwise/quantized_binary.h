#pragma once

// Quantized (uint8, per-tensor params) Add and Mul with ONNX broadcasting, bit-exact with ref::add / ref::mul
// on every ISA and thread count. Prepared once per layer (constants, kernel, broadcast schedule), then run
// any number of times on raw NHWC buffers, in parallel (oneTBB) over independent output ranges.
//
// Kernels, by ISA and constants:
//   - `Isa::scalar`: the reference operator itself (ref::add / ref::mul, copying the operands).
//   - in float_scale mode (ONNX Runtime's arithmetic, ref::float_add_value / ref::float_mul_value), the float
//     row kernels of quantized_add.h / quantized_mul.h (AVX-512, AVX2, NEON), else the table;
//   - in fixed_point mode, an add whose bytes the float mode's arithmetic gives with some constants (checked
//     on all 65536 byte pairs: float_equivalent_add.h) on the float row kernel, about three times faster;
//   - otherwise the vector row kernels of quantized_add.h / quantized_mul.h where they take these constants
//     (add_rows_supported / mul_rows_supported), else the 65536-entry table of binary_table.h, one lookup per
//     element. Both run under the same broadcast driver.
// Broadcasting (kernels/reference/broadcast.h): the output is cut into runs in which each operand advances or
// repeats one element. Runs that are long go to the row kernel one by one. Short runs (C <= kMaxRepeatedRow)
// in which both operands advance, grouped into stretches of pixels where one operand is the same row of C
// values again and again (the [N,H,W,C] x [N,1,1,C] of squeeze-excitation, or a per-channel [1,1,1,C]
// constant), go to BinaryRows::against_row a stretch at a time: long rows against copies of that row in a
// small buffer (with the row's share of the arithmetic done once, where the kernel can).
// Not specially handled: short runs with a repeated scalar (x * s with s of shape [N,H,W,1], or
// [H,W,1] x [1,1,C]) run one row kernel call per run of C elements.

#include <cstdint>
#include <memory>
#include <optional>

#include "kernels/elementwise/binary_rows.h"
#include "kernels/elementwise/binary_table.h"
#include "kernels/isa.h"
#include "kernels/quantization/clamp.h"
#include "kernels/quantization/requant_mode.h"
#include "kernels/reference/broadcast.h"
#include "kernels/tensor.h"

namespace octet::elementwise {

// The row kernel QuantizedBinary runs on `isa` (not scalar) for these params: the vector kernel where the
// ISA has one for these constants, else the table. For callers that apply the operator to pieces of a
// tensor as they are produced (a convolution's fused residual add, a tile at a time): operands of the same
// shape give the same bytes as QuantizedBinary on the whole tensors. `a_first`: ref::float_add_a_first of
// the operands' shapes (false for operands of one shape). Throws octet::Error for unusable params.
std::unique_ptr<const BinaryRows> make_binary_rows(BinaryOp op, const QuantParams& a, const QuantParams& b,
                                                   const QuantParams& output, Clamp clamp, Isa isa,
                                                   RequantMode mode, bool a_first = false);

class QuantizedBinary {
 public:
  // float_equivalent: a fixed-point add on the float mode's vector kernel, with constants checked at
  // preparation to give the fixed-point bytes for every byte pair (float_equivalent_add.h).
  enum class Path { reference, vector, table, float_equivalent };

  // Throws octet::Error unless the params are per-tensor uint8 params, the clamp lies in [0, 255] and
  // `output` is the broadcast of `a` and `b` (any rank; zero-size dimensions allowed).
  QuantizedBinary(BinaryOp op, const QuantParams& a, const QuantParams& b, const QuantParams& output,
                  Clamp clamp, const Shape& a_shape, const Shape& b_shape, const Shape& output_shape, Isa isa,
                  RequantMode mode = RequantMode::fixed_point);
  QuantizedBinary(QuantizedBinary&&) noexcept;
  QuantizedBinary& operator=(QuantizedBinary&&) noexcept;
  ~QuantizedBinary();

  // out = a (op) b over the shapes given at preparation. `a`, `b` and `out` hold that many elements each (a
  // zero-size operand may be null); `out` must not overlap the inputs. Safe to call from several threads on
  // distinct buffers.
  void run(const uint8_t* a, const uint8_t* b, uint8_t* out) const;

  Path path() const { return path_; }
  // Whether the short-run "repeated row" schedule (see above) is used for these shapes.
  bool repeats_rows() const { return pixels_.has_value(); }

 private:
  void run_reference(const uint8_t* a, const uint8_t* b, uint8_t* out) const;
  void run_runs(const uint8_t* a, const uint8_t* b, uint8_t* out) const;
  void run_repeated_rows(const uint8_t* a, const uint8_t* b, uint8_t* out) const;

  BinaryOp op_;
  QuantParams a_params_, b_params_, out_params_;
  Clamp clamp_;
  RequantMode mode_ = RequantMode::fixed_point;
  Shape a_shape_, b_shape_, out_shape_;
  int64_t total_ = 0;
  Path path_ = Path::reference;
  std::unique_ptr<const BinaryRows> rows_;  // the vector or table kernel (null for the reference)
  std::optional<BroadcastRuns<2>> runs_;
  // The repeated-row schedule: runs of pixels (C = row_ elements each, the output's trailing run) in which
  // operand `advancing_` advances by a pixel and the other repeats one row.
  std::optional<BroadcastRuns<2>> pixels_;
  int64_t row_ = 0;
  size_t advancing_ = 0;
};

}  // namespace octet::elementwise
