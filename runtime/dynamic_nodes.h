#pragma once

// The data-dependent operators of a staged model (graph/stages.h), evaluated on host tensors between two
// stages.

#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "graph/stages.h"
#include "octet/octet.h"

namespace octet::runtime {

// The element type a tensor crossing between stages has inside octet: int32 is held as int64.
ElementType element_type_of(DataType t);
// A tensor's elements as a constant of that type (int32 widened to int64).
std::vector<std::byte> constant_bytes(const HostTensor& t);
// A tensor of `type` holding `bytes` as its elements (uint8: quantized with these params, 0 for none).
HostTensor tensor_of(DataType type, Shape shape, std::span<const std::byte> bytes, float scale = 0.0f,
                     int32_t zero_point = 0);

// Evaluates `node` on the tensors computed so far (by ONNX name). Throws octet::Error naming the node for
// inputs of the wrong type or shape.
// octet's name for the operator in reports: "non_zero", "non_max_suppression".
const char* dynamic_op_name(const graph::DynamicNode& node);

// `channel_last`: the caller's image inputs that nhwc_io makes NHWC, which the operators here may not read
// (their axes and coordinates are ONNX's).
HostTensor evaluate(const graph::DynamicNode& node, const std::map<std::string, HostTensor>& values,
                    const std::set<std::string>& channel_last);

}  // namespace octet::runtime
