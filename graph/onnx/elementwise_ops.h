#pragma once

#include <set>
#include <string>

namespace octet::graph::onnx_import {

// The elementwise operators the importer evaluates into 256-entry lookup tables when they compute from
// one quantized tensor (lower_elementwise.cpp); the quantizer (graph/quantize/) groups the same ones.
const std::set<std::string>& table_elementwise_ops();

}  // namespace octet::graph::onnx_import
