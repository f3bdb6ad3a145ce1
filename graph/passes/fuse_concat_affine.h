#pragma once

#include "graph/ir.h"

namespace octet::graph {

// A channel affine (BatchNormalization, with the clamp and activation it took in) that reads a Concat along
// its channels reads the Concat's inputs instead, each piece with its own channels' scale and shift: DenseNet
// concatenates every earlier feature map before each layer's BatchNormalization, and the copy was a pass of
// its own over the whole tensor, written only to be read once. The same bytes: an element's affine does not
// depend on where the element was stored. Applies where the Concat joins float tensors along the affine's
// axis, which is the innermost one (channels last), and is read by the affine alone (not a graph output).
// Also on uint8, after fold_affine_quantization, where every piece and the Concat have per-tensor params:
// the affine then requantizes each piece's bytes to the Concat's params as the Concat did (a table per
// piece whose params differ), in L1, and dequantizes them with the Concat's params (NormAttrs::joined_quant).
void fuse_concat_affine(Graph& graph);

}  // namespace octet::graph
