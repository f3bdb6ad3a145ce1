#pragma once

// A channel affine map (BatchNormalization, with its clamp and activation) between a Dequantize and a
// Quantize, on uint8 in and out (graph/passes/fold_affine_quantization.h):
//   y = QuantizeLinear(activation(clamp(fma(DequantizeLinear(x), scale[c], shift[c]))))
// over `rows` rows of `channels` channels (channels last), with the bytes of the three separate operators
// (dequantize_row, the float affine rows, quantize_row) on every ISA and thread count, while the float tensor
// between them, four times the bytes, never goes to memory. Without an activation, the ISA's one-pass loop
// does each vector's steps in registers (u8_affine_simd.h); with one, or on the reference, a block of rows
// at a time goes through the three operators' own kernels in L1. Per-tensor params in and out.

#include <cstdint>
#include <span>

#include "kernels/elementwise/byte_map.h"
#include "kernels/isa.h"
#include "kernels/reference/float_elementwise.h"

namespace octet::reduce {

struct U8AffineQuantization {
  float in_scale = 1.0f;
  int32_t in_zero_point = 0;
  float out_scale = 1.0f;
  int32_t out_zero_point = 0;
};

// output_table: where not null, each output byte then goes through it (a byte map after the Quantize,
// folded in), while a block of them is in L1.
void u8_channel_affine(Isa isa, const uint8_t* x, int64_t rows, int64_t channels, const float* scale,
                       const float* shift, FloatClamp clamp, const UnaryParams& activation,
                       const U8AffineQuantization& quantization, uint8_t* y,
                       const elementwise::ByteTable* output_table = nullptr);

// The same over the pieces of a Concat along the channels (graph/passes/fuse_concat_affine.h): x is their
// concatenation, each piece's bytes first mapped to the Concat's params by its requantization table (null:
// they have them already), as the Concat itself maps them. y is dense, [rows, sum of the pieces' channels].
struct U8ChannelPiece {
  const uint8_t* x = nullptr;  // [rows, channels]
  int64_t channels = 0;
  const elementwise::ByteTable* table = nullptr;
};
void u8_channel_affine_pieces(Isa isa, std::span<const U8ChannelPiece> pieces, int64_t rows,
                              const float* scale, const float* shift, FloatClamp clamp,
                              const UnaryParams& activation, const U8AffineQuantization& quantization,
                              uint8_t* y, const elementwise::ByteTable* output_table = nullptr);

}  // namespace octet::reduce
