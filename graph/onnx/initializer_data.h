#pragma once

// The initializers' raw data read where it lies in the model file, instead of copied out by protobuf.
//
// Parsing an ONNX file with protobuf copies every TensorProto.raw_data into a string of its own: for a
// resnet18-sized model that is 11.8 MB of memory written for the first time, and on the virtual machines
// octet is measured on the first touch of fresh memory costs about 3 ms per MB (page faults the hypervisor
// backs): more than the parse itself. So before protobuf sees the file, the main graph's initializers'
// raw_data fields are cut out of a copy of the message framing (a few hundred KB), and their bytes are
// read in place from the caller's buffer, which outlives the import.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace octet::graph::onnx_import {

// Per graph.initializer, in the order protobuf lists them: the bytes of the raw_data field protobuf would
// have kept (the last one where a tensor repeats it), or nothing where it has none.
using InitializerRawData = std::vector<std::optional<std::span<const std::byte>>>;

struct SplitModel {
  // The ModelProto's bytes with the raw_data fields of graph.initializer removed (enclosing lengths
  // rewritten); everything else, unknown fields included, as it was.
  std::string framing;
  InitializerRawData raw_data;  // spans of the bytes given to split_initializer_data
};

// Nothing where the bytes are not a wire format this reads (groups, a length past the end, a bad tag):
// the caller then parses the file as it is, and protobuf words the error.
std::optional<SplitModel> split_initializer_data(std::span<const std::byte> model);

}  // namespace octet::graph::onnx_import
