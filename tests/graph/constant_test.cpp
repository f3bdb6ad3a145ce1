// Decoding ONNX tensors into constants (graph/onnx/constant.h): every supported element type, raw and
// typed-field storage, the compact storage each keeps, 8-bit and float32 raw data read in place without a
// copy (float32 at any alignment), widening for writes, the errors a malformed tensor gets, and the real
// values the float layers read their weights through (RealValues: a float32 constant in place, a quantized
// one dequantized).

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "graph/onnx/constant.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {
namespace {

using onnx::TensorProto;

template <class T>
TensorProto raw_tensor(int32_t type, const std::vector<T>& values, std::vector<int64_t> dims) {
  TensorProto t;
  t.set_data_type(type);
  for (int64_t d : dims)
    t.add_dims(d);
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  t.set_raw_data(bytes);
  return t;
}

std::vector<double> read_all(const ConstantValues& v) {
  return {v.begin(), v.end()};
}

TEST(Constant, EveryTypeDecodesToItsValuesFromRawData) {
  EXPECT_EQ(read_all(decode_tensor(raw_tensor<float>(TensorProto::FLOAT, {1.5f, -2.25f}, {2}), "f").values),
            (std::vector<double>{1.5, -2.25}));
  EXPECT_EQ(read_all(decode_tensor(raw_tensor<double>(TensorProto::DOUBLE, {0.1}, {1}), "d").values),
            (std::vector<double>{0.1}));
  EXPECT_EQ(
      read_all(decode_tensor(raw_tensor<int64_t>(TensorProto::INT64, {-7, 1LL << 40}, {2}), "i64").values),
      (std::vector<double>{-7.0, static_cast<double>(1LL << 40)}));
  EXPECT_EQ(
      read_all(
          decode_tensor(raw_tensor<int32_t>(TensorProto::INT32, {-2147483647 - 1, 5}, {2}), "i32").values),
      (std::vector<double>{-2147483648.0, 5.0}));
  EXPECT_EQ(read_all(decode_tensor(raw_tensor<int8_t>(TensorProto::INT8, {-128, 0, 127}, {3}), "i8").values),
            (std::vector<double>{-128.0, 0.0, 127.0}));
  EXPECT_EQ(read_all(decode_tensor(raw_tensor<uint8_t>(TensorProto::UINT8, {0, 128, 255}, {3}), "u8").values),
            (std::vector<double>{0.0, 128.0, 255.0}));
  EXPECT_EQ(read_all(decode_tensor(raw_tensor<uint8_t>(TensorProto::BOOL, {0, 1}, {2}), "b").values),
            (std::vector<double>{0.0, 1.0}));
}

TEST(Constant, TypedFieldsDecodeLikeRawData) {
  TensorProto f;
  f.set_data_type(TensorProto::FLOAT);
  f.add_dims(2);
  f.add_float_data(3.0f);
  f.add_float_data(-0.5f);
  EXPECT_EQ(read_all(decode_tensor(f, "f").values), (std::vector<double>{3.0, -0.5}));
  TensorProto i8;  // ONNX widens 8-bit values into int32_data
  i8.set_data_type(TensorProto::INT8);
  i8.add_dims(3);
  for (int v : {-128, -1, 127})
    i8.add_int32_data(v);
  EXPECT_EQ(read_all(decode_tensor(i8, "w").values), (std::vector<double>{-128.0, -1.0, 127.0}));
  i8.set_int32_data(1, 128);
  try {
    decode_tensor(i8, "initializer 'w'");
    FAIL() << "an int8 value of 128 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("initializer 'w'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("outside its 8-bit type"), std::string::npos) << e.what();
  }
}

TEST(Constant, WeightsKeepTheirOwnElementType) {
  const Constant w = decode_tensor(raw_tensor<int8_t>(TensorProto::INT8, {1, -2, 3, -4}, {2, 2}), "w");
  ASSERT_NE(w.values.stored_as<int8_t>(), nullptr);
  EXPECT_EQ(w.values.stored_as<uint8_t>(), nullptr);
  EXPECT_EQ(w.values.stored_as<int8_t>()[1], -2);
  const Constant f = decode_tensor(raw_tensor<float>(TensorProto::FLOAT, {0.5f}, {1}), "f");
  EXPECT_NE(f.values.stored_as<float>(), nullptr);
  const Constant b = decode_tensor(raw_tensor<int32_t>(TensorProto::INT32, {7}, {1}), "b");
  EXPECT_NE(b.values.stored_as<int32_t>(), nullptr);
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s));
}

TEST(Constant, EightBitRawDataIsBorrowedWithoutACopy) {
  // The raw data given apart from the tensor, as the importer gives the bytes in the model file.
  const TensorProto shape_only = raw_tensor<int8_t>(TensorProto::INT8, {}, {4});
  const std::string file_bytes("\x80\xff\x00\x7f", 4);
  const Constant c = decode_tensor_borrowing_data(shape_only, bytes_of(file_bytes), "w");
  ASSERT_NE(c.values.stored_as<int8_t>(), nullptr);
  EXPECT_EQ(c.values.stored_as<uint8_t>(), nullptr);
  EXPECT_EQ(static_cast<const void*>(c.values.stored_as<int8_t>()),
            static_cast<const void*>(file_bytes.data()))
      << "the values should be read in place";
  EXPECT_EQ(read_all(c.values), (std::vector<double>{-128.0, -1.0, 0.0, 127.0}));
  EXPECT_EQ(c.values.back(), 127.0);

  const TensorProto u = raw_tensor<uint8_t>(TensorProto::UINT8, {}, {3});
  const std::string u_bytes("\x00\xc8\xff", 3);
  const Constant cu = decode_tensor_borrowing_data(u, bytes_of(u_bytes), "z");
  ASSERT_NE(cu.values.stored_as<uint8_t>(), nullptr);
  EXPECT_EQ(read_all(cu.values), (std::vector<double>{0.0, 200.0, 255.0}));

  // Writing widens into storage of its own and leaves the borrowed bytes alone.
  Constant written = c;
  written.values.doubles()[0] = 5.0;
  EXPECT_EQ(written.values[0], 5.0);
  EXPECT_EQ(file_bytes[0], '\x80');
  EXPECT_EQ(c.values[0], -128.0);

  // Other types are decoded from the given bytes into storage of their own.
  const int32_t two = 2;
  std::string i_bytes(sizeof two, '\0');
  std::memcpy(i_bytes.data(), &two, sizeof two);
  const TensorProto i = raw_tensor<int32_t>(TensorProto::INT32, {}, {1});
  const Constant ci = decode_tensor_borrowing_data(i, bytes_of(i_bytes), "i");
  ASSERT_NE(ci.values.stored_as<int32_t>(), nullptr);
  EXPECT_NE(static_cast<const void*>(ci.values.stored_as<int32_t>()),
            static_cast<const void*>(i_bytes.data()));
  EXPECT_EQ(read_all(ci.values), (std::vector<double>{2.0}));

  // Without raw data, the tensor's typed fields.
  TensorProto typed;
  typed.set_data_type(TensorProto::INT8);
  typed.add_dims(2);
  typed.add_int32_data(-3);
  typed.add_int32_data(4);
  EXPECT_EQ(read_all(decode_tensor_borrowing_data(typed, std::nullopt, "t").values),
            (std::vector<double>{-3.0, 4.0}));
}

TEST(Constant, FloatRawDataIsBorrowedWhereverItLies) {
  // The raw data of a float32 initializer lies at any offset in the model file: each of the four
  // alignments, with values whose bits a conversion could change (negative zero, a subnormal, infinity,
  // a NaN with a payload).
  std::vector<float> values = {1.5f, -0.0f, 1e-40f, -INFINITY, std::numeric_limits<float>::max()};
  uint32_t nan_bits = 0x7fc01234;
  float nan;
  std::memcpy(&nan, &nan_bits, sizeof nan);
  values.push_back(nan);
  const size_t bytes = values.size() * sizeof(float);
  const TensorProto f = raw_tensor<float>(TensorProto::FLOAT, {}, {static_cast<int64_t>(values.size())});
  for (size_t offset = 0; offset < 4; ++offset) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    std::string file(offset + bytes, '\x5a');
    std::memcpy(file.data() + offset, values.data(), bytes);
    const auto raw = std::as_bytes(std::span(file)).subspan(offset);
    const Constant c = decode_tensor_borrowing_data(f, raw, "f");
    ASSERT_EQ(c.values.size(), values.size());
    EXPECT_EQ(static_cast<const void*>(c.values.float32_bytes().data()), static_cast<const void*>(raw.data()))
        << "the values should be read in place";
    EXPECT_EQ(c.values.float32_bytes().size(), bytes);
    // Not as a float pointer: the bytes need not be aligned for one.
    EXPECT_EQ(c.values.stored_as<float>(), nullptr);
    for (size_t j = 0; j < values.size(); ++j) {
      const float got = static_cast<float>(c.values[j]);
      EXPECT_EQ(std::memcmp(&got, &values[j], sizeof got), 0) << "element " << j;
      const float read = ConstantValues::read_float32(c.values.float32_bytes().data(), j);
      EXPECT_EQ(std::memcmp(&read, &values[j], sizeof read), 0) << "element " << j;
    }
    // Writing widens into storage of its own and leaves the file's bytes alone.
    Constant written = c;
    written.values.doubles()[0] = 5.0;
    EXPECT_EQ(written.values[0], 5.0);
    EXPECT_TRUE(written.values.float32_bytes().empty());
    EXPECT_EQ(c.values[0], 1.5);
    EXPECT_EQ(std::memcmp(file.data() + offset, values.data(), bytes), 0);
  }
  // Held floats (a tensor's float_data) give their bytes too.
  TensorProto typed;
  typed.set_data_type(TensorProto::FLOAT);
  typed.add_dims(2);
  typed.add_float_data(0.5f);
  typed.add_float_data(-2.0f);
  const Constant held = decode_tensor_borrowing_data(typed, std::nullopt, "t");
  ASSERT_EQ(held.values.float32_bytes().size(), 2 * sizeof(float));
  EXPECT_EQ(ConstantValues::read_float32(held.values.float32_bytes().data(), 1), -2.0f);
  EXPECT_TRUE(
      decode_tensor(raw_tensor<int8_t>(TensorProto::INT8, {1}, {1}), "b").values.float32_bytes().empty());
}

TEST(Constant, BorrowedDataIsCheckedAgainstTheShapeAndNamesTheTensor) {
  const TensorProto t = raw_tensor<int8_t>(TensorProto::INT8, {}, {4});
  const std::string three = "abc";
  try {
    decode_tensor_borrowing_data(t, bytes_of(three), "initializer 'conv.w'");
    FAIL() << "3 bytes for 4 elements were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("initializer 'conv.w'"), std::string::npos) << e.what();
  }
  const TensorProto f = raw_tensor<float>(TensorProto::FLOAT, {}, {2});
  EXPECT_THROW(decode_tensor_borrowing_data(f, bytes_of(three), "f"), Error);
  TensorProto external = raw_tensor<int8_t>(TensorProto::INT8, {}, {3});
  external.set_data_location(TensorProto::EXTERNAL);
  EXPECT_THROW(decode_tensor_borrowing_data(external, bytes_of(three), "e"), Error);
}

TEST(Constant, WritingWidensOnceAndKeepsTheValues) {
  Constant c = decode_tensor(raw_tensor<uint8_t>(TensorProto::UINT8, {1, 2, 255}, {3}), "u");
  std::vector<double>& d = c.values.doubles();
  EXPECT_EQ(d, (std::vector<double>{1.0, 2.0, 255.0}));
  d[0] = 0.5;
  EXPECT_EQ(c.values.stored_as<uint8_t>(), nullptr);
  EXPECT_EQ(c.values[0], 0.5);
  EXPECT_EQ(&c.values.doubles(), &d) << "a second write access must not copy again";
  const std::vector<double> copy = c.values;  // reads like the vector it was
  EXPECT_EQ(copy, (std::vector<double>{0.5, 2.0, 255.0}));
}

// Large enough (8 MiB) that its storage is advised to huge pages before it is filled (kernels/huge_pages.h).
TEST(Constant, LargeFloatRawDataDecodesExactly) {
  std::vector<float> values(size_t{2} << 20);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i) * 0.25f - 1000.0f;
  const Constant c = decode_tensor(
      raw_tensor<float>(TensorProto::FLOAT, values, {2, static_cast<int64_t>(values.size() / 2)}), "big");
  const float* stored = c.values.stored_as<float>();
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(std::memcmp(stored, values.data(), values.size() * sizeof(float)), 0);
}

TEST(RealValues, AFloatConstantIsReadInPlaceAndAQuantizedOneIsDequantized) {
  Symbol f;
  f.constant = decode_tensor(raw_tensor<float>(TensorProto::FLOAT, {1.5f, -0.1f, 3e38f}, {3}), "f");
  const RealValues in_place(f);
  EXPECT_TRUE(in_place.reads_in_place());
  ASSERT_EQ(in_place.size(), 3u);
  EXPECT_EQ(in_place[0], 1.5);
  EXPECT_EQ(in_place[1], static_cast<double>(-0.1f));
  EXPECT_EQ(in_place[2], static_cast<double>(3e38f));
  EXPECT_EQ(f.real_values(), (std::vector<double>{in_place[0], in_place[1], in_place[2]}));

  // Per output channel (axis 0 of [2, 2]): (q - zero point) * scale, in double.
  Symbol q;
  q.constant = decode_tensor(raw_tensor<int8_t>(TensorProto::INT8, {-128, 127, 3, -3}, {2, 2}), "q");
  q.quant = QuantParams::per_axis({0.5f, 0.1f}, {0, 1}, 0);
  const RealValues dequantized(q);
  EXPECT_FALSE(dequantized.reads_in_place());
  ASSERT_EQ(dequantized.size(), 4u);
  EXPECT_EQ(dequantized[0], -64.0);
  EXPECT_EQ(dequantized[1], 63.5);
  EXPECT_EQ(dequantized[2], 2.0 * static_cast<double>(0.1f));
  EXPECT_EQ(dequantized[3], -4.0 * static_cast<double>(0.1f));
}

TEST(RealValues, WritingWidensACopyAndLeavesTheConstantAlone) {
  Symbol f;
  f.constant = decode_tensor(raw_tensor<float>(TensorProto::FLOAT, {2.0f, -0.5f}, {2}), "f");
  RealValues v(f);
  std::vector<double>& d = v.doubles();
  EXPECT_FALSE(v.reads_in_place());
  EXPECT_EQ(d, (std::vector<double>{2.0, -0.5}));
  d[1] = 7.0;
  EXPECT_EQ(v[1], 7.0);
  EXPECT_EQ(&v.doubles(), &d) << "a second write access must not copy again";
  EXPECT_EQ(f.constant.values[1], -0.5) << "the symbol's constant is read, never written";
  const RealValues from_doubles(std::vector<double>{4.0, 8.0});
  EXPECT_EQ(from_doubles.size(), 2u);
  EXPECT_EQ(from_doubles[1], 8.0);
}

TEST(RealValues, BorrowedFloatsAreReadInPlaceAtAnyAlignment) {
  const std::vector<float> values = {0.25f, -3.5f, 1e-40f, 6e37f};
  const size_t bytes = values.size() * sizeof(float);
  const TensorProto f = raw_tensor<float>(TensorProto::FLOAT, {}, {4});
  for (size_t offset = 0; offset < 4; ++offset) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    std::string file(offset + bytes, '\0');
    std::memcpy(file.data() + offset, values.data(), bytes);
    Symbol s;
    s.constant = decode_tensor_borrowing_data(f, std::as_bytes(std::span(file)).subspan(offset), "f");
    RealValues v(s);
    EXPECT_TRUE(v.reads_in_place());
    ASSERT_EQ(v.size(), values.size());
    const std::vector<double> read_one_by_one = {v[0], v[1], v[2], v[3]};
    const std::vector<double> read_in_a_loop = v.with_reader([&](auto read) {
      std::vector<double> out;
      for (size_t i = 0; i < values.size(); ++i)
        out.push_back(read(i));
      return out;
    });
    const std::vector<double> want(values.begin(), values.end());
    EXPECT_EQ(read_one_by_one, want);
    EXPECT_EQ(read_in_a_loop, want);
    EXPECT_EQ(v.doubles(), want);
    EXPECT_FALSE(v.reads_in_place());
    v.doubles()[0] = 9.0;
    EXPECT_EQ(std::memcmp(file.data() + offset, values.data(), bytes), 0)
        << "the file's bytes are never written";
  }
}

TEST(Constant, MalformedTensorsAreErrorsThatNameThem) {
  TensorProto huge;
  huge.set_data_type(TensorProto::FLOAT);
  huge.add_dims(1LL << 20);
  huge.add_dims(1LL << 20);
  EXPECT_THROW(decode_tensor(huge, "t"), Error);
  TensorProto wrong = raw_tensor<float>(TensorProto::FLOAT, {1.0f, 2.0f}, {3});
  EXPECT_THROW(decode_tensor(wrong, "t"), Error);
  TensorProto unsupported = raw_tensor<uint16_t>(TensorProto::UINT16, {1}, {1});
  try {
    decode_tensor(unsupported, "initializer 'x'");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("uint16"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace octet::graph::onnx_import
