// Cutting the initializers' raw data out of an ONNX file before protobuf parses it (graph/onnx/
// initializer_data.h): the framing must parse to exactly the model protobuf reads from the whole file, less
// those raw_data fields, and each span must hold the bytes protobuf would have kept; on merged graphs,
// repeated raw_data, unknown fields, a known field number with another wire type, and on every truncation
// and thousands of corruptions of a model, where the framing parses exactly when the file does.

#include <google/protobuf/io/coded_stream.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <random>
#include <string>

#include "graph/onnx/initializer_data.h"

namespace octet::graph::onnx_import {
namespace {

using onnx::ModelProto;
using onnx::TensorProto;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s));
}

void add_raw_tensor(onnx::GraphProto& g, const std::string& name, int32_t type, const std::string& raw) {
  TensorProto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  t->add_dims(static_cast<int64_t>(raw.size()));
  t->set_raw_data(raw);
}

// A model with every kind of initializer storage and fields around them on each level.
ModelProto sample_model() {
  ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("initializer_data_test");
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  g.set_name("g");
  onnx::NodeProto& n = *g.add_node();
  n.set_op_type("Add");
  n.add_input("x");
  n.add_input("w");
  n.add_output("y");
  add_raw_tensor(g, "w", TensorProto::INT8, std::string("\x01\x80\x7f\xff", 4));
  add_raw_tensor(g, "big", TensorProto::UINT8, std::string(70000, '\x5a'));
  add_raw_tensor(g, "empty", TensorProto::UINT8, "");
  TensorProto* typed = g.add_initializer();  // no raw data: typed fields
  typed->set_name("typed");
  typed->set_data_type(TensorProto::INT32);
  typed->add_dims(2);
  typed->add_int32_data(7);
  typed->add_int32_data(-7);
  const float f = 0.25f;
  std::string f_raw(sizeof f, '\0');
  std::memcpy(f_raw.data(), &f, sizeof f);
  add_raw_tensor(g, "f", TensorProto::FLOAT, f_raw);
  g.add_input()->set_name("x");
  g.add_output()->set_name("y");
  g.set_doc_string("after the initializers");
  auto* meta = m.add_metadata_props();
  meta->set_key("k");
  meta->set_value("v");
  return m;
}

// Tag and length of a length-delimited field, then its body.
std::string length_delimited(uint32_t field, const std::string& body) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(field << 3 | 2);
    coded.WriteVarint32(static_cast<uint32_t>(body.size()));
    coded.WriteString(body);
  }
  return out;
}

std::string varint_field(uint32_t field, uint64_t value) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(field << 3);
    coded.WriteVarint64(value);
  }
  return out;
}

bool parses(const std::string& bytes, ModelProto& m) {
  return m.ParseFromString(bytes);
}

// `file` split: framing parses exactly when the whole file does, and then to the same model less the
// initializers' raw data, which the spans hold, read in place from `file`.
void expect_split_matches_protobuf(const std::string& file, bool must_split) {
  ModelProto whole;
  const bool whole_parses = parses(file, whole);
  const auto split = split_initializer_data(bytes_of(file));
  if (!split) {
    EXPECT_FALSE(must_split) << "a valid model was not split";
    return;
  }
  ModelProto framed;
  const bool framed_parses = parses(split->framing, framed);
  ASSERT_EQ(framed_parses, whole_parses) << "the framing and the file disagree on being a valid model";
  if (!whole_parses) return;
  ASSERT_EQ(split->raw_data.size(), static_cast<size_t>(whole.graph().initializer_size()));
  for (int i = 0; i < whole.graph().initializer_size(); ++i) {
    SCOPED_TRACE("initializer " + std::to_string(i));
    const TensorProto& t = whole.graph().initializer(i);
    const auto& raw = split->raw_data[static_cast<size_t>(i)];
    ASSERT_EQ(raw.has_value(), t.has_raw_data());
    EXPECT_FALSE(framed.graph().initializer(i).has_raw_data());
    if (!raw) continue;
    EXPECT_TRUE(std::string(reinterpret_cast<const char*>(raw->data()), raw->size()) == t.raw_data())
        << "the span holds other bytes than protobuf's raw_data";
    EXPECT_TRUE(raw->empty() || (raw->data() >= bytes_of(file).data() &&
                                 raw->data() + raw->size() <= bytes_of(file).data() + file.size()))
        << "the raw data should be read in place from the file";
  }
  ModelProto stripped = whole;
  if (stripped.has_graph())  // mutable_graph() would add one
    for (auto& t : *stripped.mutable_graph()->mutable_initializer())
      t.clear_raw_data();
  // Compared as bytes, printed only as sizes (the model holds 70 KB).
  const std::string framed_bytes = framed.SerializeAsString(), stripped_bytes = stripped.SerializeAsString();
  EXPECT_TRUE(framed_bytes == stripped_bytes)
      << "the framing parses to another model: " << framed_bytes.size() << " against "
      << stripped_bytes.size() << " bytes serialized";
}

TEST(InitializerData, SplitsAModelIntoFramingAndItsRawData) {
  const std::string file = sample_model().SerializeAsString();
  expect_split_matches_protobuf(file, true);
  const auto split = split_initializer_data(bytes_of(file));
  ASSERT_TRUE(split);
  EXPECT_LT(split->framing.size() + 70000, file.size()) << "the big tensor's bytes stay out of the framing";
  ASSERT_EQ(split->raw_data.size(), 5u);
  EXPECT_TRUE(split->raw_data[2].has_value()) << "empty raw data is still raw data";
  EXPECT_FALSE(split->raw_data[3].has_value()) << "typed-field storage has none";
}

TEST(InitializerData, MergedGraphsAndRepeatedRawDataFollowProtobuf) {
  // Two serialized models one after the other are one model to protobuf: its graph's initializers are
  // both graphs' in order.
  ModelProto second;
  add_raw_tensor(*second.mutable_graph(), "later", TensorProto::INT8, "\x03\x04");
  expect_split_matches_protobuf(sample_model().SerializeAsString() + second.SerializeAsString(), true);

  // A tensor repeating raw_data keeps the last one.
  TensorProto t;
  t.set_name("twice");
  t.set_data_type(TensorProto::UINT8);
  t.add_dims(3);
  const std::string tensor = t.SerializeAsString() +
                             length_delimited(TensorProto::kRawDataFieldNumber, "abc") +
                             length_delimited(TensorProto::kRawDataFieldNumber, "xyz");
  const std::string file = length_delimited(
      ModelProto::kGraphFieldNumber, length_delimited(onnx::GraphProto::kInitializerFieldNumber, tensor));
  expect_split_matches_protobuf(file, true);
  const auto split = split_initializer_data(bytes_of(file));
  ASSERT_TRUE(split && split->raw_data.size() == 1 && split->raw_data[0]);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(split->raw_data[0]->data()), 3), "xyz");
}

TEST(InitializerData, UnknownFieldsAndOtherWireTypesStayInTheFraming) {
  ModelProto m = sample_model();
  std::string graph = m.graph().SerializeAsString();
  // An unknown varint, an "initializer" with the varint wire type (an unknown field to protobuf) and an
  // unknown length-delimited field, in the graph and in a tensor.
  graph += varint_field(900, 12345) + varint_field(onnx::GraphProto::kInitializerFieldNumber, 9) +
           length_delimited(901, "opaque");
  TensorProto t;
  t.set_name("u");
  t.set_data_type(TensorProto::INT8);
  t.add_dims(1);
  graph += length_delimited(onnx::GraphProto::kInitializerFieldNumber,
                            t.SerializeAsString() + varint_field(902, 1) +
                                length_delimited(TensorProto::kRawDataFieldNumber, "\x7f"));
  m.clear_graph();
  const std::string file =
      m.SerializeAsString() + length_delimited(ModelProto::kGraphFieldNumber, graph) + varint_field(903, 1);
  expect_split_matches_protobuf(file, true);
}

TEST(InitializerData, EveryTruncationAndCorruptionAgreesWithProtobuf) {
  const std::string file = sample_model().SerializeAsString();
  for (size_t size = 0; size < file.size(); size += size < 400 ? 1 : 997) {
    SCOPED_TRACE("first " + std::to_string(size) + " bytes");
    expect_split_matches_protobuf(file.substr(0, size), false);
  }
  std::mt19937 rng(5);
  for (int trial = 0; trial < 3000; ++trial) {
    SCOPED_TRACE("corruption " + std::to_string(trial));
    std::string bad = file;
    const int changes = 1 + static_cast<int>(rng() % 3);
    for (int c = 0; c < changes; ++c) {
      // Mostly in the framing around the big tensor, where the structure is.
      const size_t at = rng() % 2 ? rng() % 200 : rng() % bad.size();
      bad[at] = static_cast<char>(rng() % 4 == 0 ? 0xff : rng());
    }
    expect_split_matches_protobuf(bad, false);
  }
}

}  // namespace
}  // namespace octet::graph::onnx_import
