#pragma once

#include "graph/ir.h"

namespace octet::graph {

// A channel affine (BatchNormalization, with the clamp and activation it took in) that reads a Concat along
// its channels reads the Concat's inputs instead, each piece with its own channels' scale and shift: DenseNet
// concatenates every earlier feature map before each layer's BatchNormalization, and the copy was a pass of
// its own over the whole tensor, written only to be read once. The same bytes: an element's affine does not
// depend on where the element was stored. Applies where the Concat joins float tensors along the affine's
// axis, which is the innermost one (channels last), and is read by the affine alone (not a graph output).
void fuse_concat_affine(Graph& graph);

}  // namespace octet::graph
