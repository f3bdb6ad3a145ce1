#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/huge_pages.h"
#include "kernels/quantization/quant_params.h"

namespace octet {

using Shape = std::vector<int64_t>;

// Number of elements of a shape; throws if a dimension is negative or the product overflows int64.
int64_t element_count(const Shape& shape, std::string_view what);

std::string to_string(const Shape& shape);

// A dense row-major tensor that owns its data, with its quantization parameters. This is the currency of the
// reference operators: simple and obviously correct, not fast. Image tensors are NHWC.
template <class T>
struct Tensor {
  Shape shape;
  std::vector<T> data;
  QuantParams quant;  // ignored for float tensors

  Tensor() = default;
  Tensor(Shape s, QuantParams q = {}) : shape(std::move(s)), quant(std::move(q)) {
    resize_large(data, static_cast<size_t>(element_count(shape, "tensor")));
  }
  Tensor(Shape s, std::vector<T> values, QuantParams q = {})
      : shape(std::move(s)), data(std::move(values)), quant(std::move(q)) {}

  int64_t dim(size_t i) const { return shape.at(i); }
  size_t rank() const { return shape.size(); }
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

using TensorU8 = Tensor<uint8_t>;
using TensorS8 = Tensor<int8_t>;
using TensorS32 = Tensor<int32_t>;
using TensorF32 = Tensor<float>;

// Throws unless t.data holds exactly as many elements as t.shape says.
template <class T>
void check_consistent(const Tensor<T>& t, std::string_view name);

// Throws unless `t` is a rank-4 NHWC tensor whose dimensions are all >= 1.
template <class T>
void check_nhwc(const Tensor<T>& t, std::string_view name);

}  // namespace octet
