#pragma once

#include "graph/ir.h"

namespace octet::graph {

// Folds a Pad that adds zeros around an image into the convolution or average pool that reads it, as their
// own padding: TensorFlow exports pad explicitly before "VALID" convolutions, and PyTorch exports
// avg_pool2d(padding=1) as Pad then AveragePool. The fused node reads the Pad's input, which saves the pass
// that copies the whole tensor into a larger one, and gives the same bytes:
//  - a convolution multiplies its padding taps as real zeros (the float kernels +0.0f, the integer ones the
//    input's zero point), which is what the Pad stored; not transposed convolutions;
//  - an average pool sums from +0.0f (or in integers), so explicit zeros add nothing, and it counts them:
//    the fused pool counts its padding (count_include_pad), which it may only do where its own padding was
//    counted too or it had none; not with ceil_mode, whose last window the two would count differently, nor
//    where the padding would reach the window's extent (which a pool's own padding may not).
// Applies where the Pad is constant mode, pads only the height and width of a channel-last image by >= 0,
// its value is +0.0f for float data or the zero point of per-tensor uint8 data, and the convolution or pool
// is its only reader. Several such Pads in a row (each read only by the next) fold together.
void fold_pads(Graph& graph);

}  // namespace octet::graph
