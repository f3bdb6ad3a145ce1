#include "graph/onnx/initializer_data.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <cstdint>

namespace octet::graph::onnx_import {

namespace {

using Bytes = std::span<const std::byte>;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

// Protobuf's wire types, and the fields of onnx.proto on the path to the data.
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;
constexpr uint32_t kModelGraph = onnx::ModelProto::kGraphFieldNumber;
constexpr uint32_t kGraphInitializer = onnx::GraphProto::kInitializerFieldNumber;
constexpr uint32_t kTensorRawData = onnx::TensorProto::kRawDataFieldNumber;

struct Field {
  uint32_t number = 0, wire_type = 0;
  Bytes whole;    // tag, length and payload, as they lie in the message
  Bytes payload;  // of a length-delimited field
};

// Calls `visit(field)` on each field of the message in `message`, in order. False where the bytes are not
// fields this reads or where `visit` returns false.
template <class Visit>
bool for_each_field(Bytes message, Visit&& visit) {
  if (message.size() > static_cast<size_t>(INT_MAX)) return false;
  const int size = static_cast<int>(message.size());
  CodedInputStream in(reinterpret_cast<const uint8_t*>(message.data()), size);
  while (in.CurrentPosition() < size) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    Field f;
    f.number = tag >> 3, f.wire_type = tag & 7;
    if (f.number == 0) return false;
    switch (f.wire_type) {
      case kVarint: {
        uint64_t ignored = 0;
        if (!in.ReadVarint64(&ignored)) return false;
        break;
      }
      case kFixed64:
        if (!in.Skip(8)) return false;
        break;
      case kFixed32:
        if (!in.Skip(4)) return false;
        break;
      case kLengthDelimited: {
        uint32_t length = 0;
        if (!in.ReadVarint32(&length)) return false;
        const int at = in.CurrentPosition();
        if (length > static_cast<uint32_t>(size - at)) return false;
        f.payload = message.subspan(static_cast<size_t>(at), length);
        if (!in.Skip(static_cast<int>(length))) return false;
        break;
      }
      default:  // groups (long deprecated, not in onnx.proto) or not a wire type at all
        return false;
    }
    f.whole = message.subspan(static_cast<size_t>(start), static_cast<size_t>(in.CurrentPosition() - start));
    if (!visit(f)) return false;
  }
  return true;
}

void append(std::string& out, Bytes bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void append_varint(std::string& out, uint32_t value) {
  uint8_t buffer[5];
  const uint8_t* end = CodedOutputStream::WriteVarint32ToArray(value, buffer);
  out.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(end - buffer));
}

void append_message(std::string& out, uint32_t number, const std::string& body) {
  append_varint(out, number << 3 | kLengthDelimited);
  append_varint(out, static_cast<uint32_t>(body.size()));  // no longer than the field it came from
  out += body;
}

bool strip_tensor(Bytes tensor, std::string& out, std::optional<Bytes>& raw_data) {
  return for_each_field(tensor, [&](const Field& f) {
    if (f.number == kTensorRawData && f.wire_type == kLengthDelimited)
      raw_data = f.payload;  // protobuf keeps the last of repeated occurrences
    else
      append(out, f.whole);
    return true;
  });
}

bool strip_graph(Bytes graph, std::string& out, InitializerRawData& raw_data) {
  return for_each_field(graph, [&](const Field& f) {
    // A known field number with another wire type is an unknown field to protobuf: kept as it is.
    if (f.number != kGraphInitializer || f.wire_type != kLengthDelimited) return append(out, f.whole), true;
    std::string tensor;
    std::optional<Bytes> data;
    if (!strip_tensor(f.payload, tensor, data)) return false;
    append_message(out, kGraphInitializer, tensor);
    raw_data.push_back(data);
    return true;
  });
}

}  // namespace

std::optional<SplitModel> split_initializer_data(std::span<const std::byte> model) {
  SplitModel split;
  // A repeated `graph` field merges into one GraphProto whose initializers follow in file order, which
  // is the order they are collected in here.
  const bool read = for_each_field(model, [&](const Field& f) {
    if (f.number != kModelGraph || f.wire_type != kLengthDelimited)
      return append(split.framing, f.whole), true;
    std::string graph;
    if (!strip_graph(f.payload, graph, split.raw_data)) return false;
    append_message(split.framing, kModelGraph, graph);
    return true;
  });
  if (!read) return std::nullopt;
  return split;
}

}  // namespace octet::graph::onnx_import
