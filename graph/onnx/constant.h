#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "kernels/tensor.h"

namespace onnx {
class TensorProto;
}

namespace octet::graph::onnx_import {

// The element values of a constant. Read as double: exact for every value the supported element types
// carry that octet uses (8- and 32-bit integers, float32, shape integers below 2^53). Stored in the
// model's own element type where that is narrower (int8, uint8, int32, float32), because weights are
// most of a model's bytes: widening them all to double made loading a resnet18-sized model spend most of
// its time writing and page-faulting 8 bytes per weight. Writing (constant folding, BatchNormalization
// folded into weights) goes through doubles(), which widens the storage once.
class ConstantValues {
 public:
  ConstantValues() = default;
  ConstantValues(std::vector<double> values) : data_(std::move(values)) {}  // NOLINT: implicit on purpose
  ConstantValues(std::initializer_list<double> values) : data_(std::vector<double>(values)) {}
  template <class T>
  requires(std::is_same_v<T, float> || std::is_same_v<T, int32_t> || std::is_same_v<T, int8_t> ||
           std::is_same_v<T, uint8_t>) explicit ConstantValues(std::vector<T> values)
      : data_(std::move(values)) {}

  size_t size() const {
    return std::visit([](const auto& v) { return size_of(v); }, data_);
  }
  bool empty() const { return size() == 0; }
  double operator[](size_t i) const {
    switch (data_.index()) {
      case 0:
        return std::get<0>(data_)[i];
      case 1:
        return std::get<1>(data_)[i];
      case 2:
        return std::get<2>(data_)[i];
      case 3:
        return std::get<3>(data_)[i];
      case 4:
        return std::get<4>(data_)[i];
      default: {
        const BorrowedBytes& b = std::get<5>(data_);
        if (b.element == Borrowed::f32) return read_float32(b.bytes.data(), i);
        const auto byte = static_cast<unsigned char>(b.bytes[i]);
        return b.element == Borrowed::s8 ? static_cast<double>(static_cast<int8_t>(byte))
                                         : static_cast<double>(byte);
      }
    }
  }
  double front() const { return (*this)[0]; }
  double back() const { return (*this)[size() - 1]; }

  // The stored elements when they are held as T (nullptr otherwise): a fast path for code that copies
  // integer weights without converting them. Borrowed float32 elements are not given as floats (their
  // bytes may lie at any address in the file): float32_bytes() gives them.
  template <class T>
  const T* stored_as() const {
    if (const auto* v = std::get_if<std::vector<T>>(&data_)) return v->data();
    if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
      // Bytes may be read through any character type, so the borrowed bytes serve as T directly.
      const auto* borrowed = std::get_if<BorrowedBytes>(&data_);
      if (borrowed && borrowed->element == (std::is_signed_v<T> ? Borrowed::s8 : Borrowed::u8))
        return reinterpret_cast<const T*>(borrowed->bytes.data());
    }
    return nullptr;
  }

  // The elements' float32 bytes (little-endian, at any alignment: read_float32) where they are stored as
  // float32, held or borrowed; else an empty span.
  std::span<const std::byte> float32_bytes() const {
    if (const auto* v = std::get_if<std::vector<float>>(&data_)) return std::as_bytes(std::span(*v));
    const auto* borrowed = std::get_if<BorrowedBytes>(&data_);
    return borrowed && borrowed->element == Borrowed::f32 ? borrowed->bytes : std::span<const std::byte>();
  }
  // Element i of float32 bytes (a float32_bytes() span): a memcpy, one load, wherever the bytes lie.
  static float read_float32(const std::byte* bytes, size_t i) {
    float v;
    std::memcpy(&v, bytes + i * sizeof(float), sizeof(float));
    return v;
  }

  // The element types read in place from a model file's bytes.
  enum class Borrowed { s8, u8, f32 };
  // Elements read in place from `bytes` (an initializer's raw data in the model file; float32 as ONNX
  // stores it, little-endian), which must outlive these values and every copy of them: the import's
  // constants, never the graph's. `bytes` holds a whole number of elements.
  static ConstantValues borrow_bytes(std::span<const std::byte> bytes, Borrowed element) {
    ConstantValues v;
    v.data_ = BorrowedBytes{bytes, element};
    return v;
  }

  std::vector<double> to_doubles() const;
  operator std::vector<double>() const { return to_doubles(); }  // NOLINT: reads like the vector it was

  // Mutable access, as float64 storage (widened on first use).
  std::vector<double>& doubles();

  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = double;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = double;
    const_iterator() = default;
    const_iterator(const ConstantValues* values, size_t i) : values_(values), i_(i) {}
    double operator*() const { return (*values_)[i_]; }
    double operator[](difference_type n) const { return (*values_)[i_ + static_cast<size_t>(n)]; }
    const_iterator& operator++() { return ++i_, *this; }
    const_iterator operator++(int) {
      auto old = *this;
      ++i_;
      return old;
    }
    const_iterator& operator--() { return --i_, *this; }
    const_iterator operator--(int) {
      auto old = *this;
      --i_;
      return old;
    }
    const_iterator& operator+=(difference_type n) { return i_ += static_cast<size_t>(n), *this; }
    const_iterator& operator-=(difference_type n) { return i_ -= static_cast<size_t>(n), *this; }
    friend const_iterator operator+(const_iterator it, difference_type n) { return it += n; }
    friend const_iterator operator+(difference_type n, const_iterator it) { return it += n; }
    friend const_iterator operator-(const_iterator it, difference_type n) { return it -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) { return a.i_ <=> b.i_; }

   private:
    const ConstantValues* values_ = nullptr;
    size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

 private:
  struct BorrowedBytes {
    std::span<const std::byte> bytes;
    Borrowed element = Borrowed::u8;
  };
  template <class V>
  static size_t size_of(const V& v) {
    if constexpr (std::is_same_v<V, BorrowedBytes>)
      return v.element == Borrowed::f32 ? v.bytes.size() / sizeof(float) : v.bytes.size();
    else
      return v.size();
  }
  std::variant<std::vector<double>, std::vector<float>, std::vector<int32_t>, std::vector<int8_t>,
               std::vector<uint8_t>, BorrowedBytes>
      data_;
};

// An ONNX initializer or Constant value, decoded.
struct Constant {
  int32_t onnx_type = 0;  // onnx::TensorProto_DataType
  Shape shape;
  ConstantValues values;

  int64_t size() const { return static_cast<int64_t>(values.size()); }
  bool is_scalar() const { return values.size() == 1; }
  bool is_integer() const;
};

// Decodes `proto`, checking that its data matches its shape. Throws octet::Error naming `what`.
Constant decode_tensor(const onnx::TensorProto& proto, const std::string& what);
// The same with the tensor's raw data given apart from `proto` (initializer_data.h: read where it lies in
// the model file; nothing where the tensor has none), and 8-bit and float32 raw data, the bulk of a
// quantized and of a float model, borrowed instead of copied: `raw_data` must outlive the constant
// (ConstantValues::borrow_bytes).
Constant decode_tensor_borrowing_data(const onnx::TensorProto& proto,
                                      std::optional<std::span<const std::byte>> raw_data,
                                      const std::string& what);

const char* onnx_type_name(int32_t onnx_type);

}  // namespace octet::graph::onnx_import
