#pragma once

// One-dimensional convolutions and pools (audio, time series and text CNNs: [N, C, L] tensors) as the
// two-dimensional ones octet runs, rewritten in ONNX terms before import: [N, C, L] is [N, C, 1, L].
//
//   x -> Conv1d(w) -> y   becomes   x -> Unsqueeze(2) -> Conv2d(Unsqueeze(w, 2)) -> Squeeze(2) -> y
//
// with the attributes given a leading height entry (kernel 1, stride 1, dilation 1, no padding). The
// Squeeze goes after the chain "[Relu | Clip]* -> QuantizeLinear" that the importer fuses into an int8
// convolution, so that the fusion still sees it; the chain's tensors are renamed (each has the operator as
// its only consumer, or it would not be fused). Unsqueeze of a constant weight folds at import; Unsqueeze
// and Squeeze of a quantized tensor move no data.

#include <onnx/onnx_pb.h>

#include <deque>
#include <vector>

namespace octet::graph::onnx_import {

// The graph's nodes in their order, with each 1-D Conv, ConvTranspose, QLinearConv, MaxPool, AveragePool
// and com.microsoft QLinearAveragePool replaced by its 2-D form and the nodes around it; new and changed
// nodes live in `storage` (kept alive beside the model). A node whose spatial rank cannot be told from its
// attributes or constant weights is left as it is. Global pools have neither: they are lifted where their
// input's rank is 3 by the model's declaration (graph inputs, value_info) or because it comes from a lifted
// operator through operators that keep the rank (activations, QuantizeLinear / DequantizeLinear, Add, ...).
// Resize and Upsample are lifted where their input has rank 3 that way or their constant scales / sizes
// have 3 entries: those operands gain the height's entry (scale 1, size 1, region 0 to 1).
std::vector<const onnx::NodeProto*> lift_one_dimensional(const onnx::GraphProto& graph, int64_t opset,
                                                         std::deque<onnx::NodeProto>& storage);

}  // namespace octet::graph::onnx_import
