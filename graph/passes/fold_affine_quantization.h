#pragma once

#include "graph/ir.h"

namespace octet::graph {

// Dequantize -> channel affine (a BatchNormalization that no convolution absorbed, with its fused Relu /
// Clip and activation) -> Quantize becomes the affine node alone, reading the uint8 input and writing the
// uint8 output (reduce::u8_channel_affine): DenseNet's and pre-activation ResNets' blocks, where quantizers
// leave the normalization in float between a DequantizeLinear and a QuantizeLinear. The runtime computes it
// block by block with the three operators' own kernels, so the bytes are the same as running them one by
// one, without the float tensor in memory. Only where the float values are read by nothing else (and are
// no graph output), the affine runs along the innermost axis with one input, both uint8 values have
// per-tensor params, and no layout changes along the way.
// A byte table (OpKind::lut) that alone reads such a folded affine's bytes then goes into it too
// (NormAttrs::output_table): DenseNet's Relu after each normalization, requantized to its own params, was a
// pass of its own over the tensor; the affine maps each block of bytes while they are in L1.
void fold_affine_quantization(Graph& graph);

}  // namespace octet::graph
