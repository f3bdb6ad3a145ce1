#include "kernels/tensor.h"

#include <limits>

#include "kernels/error.h"

namespace octet {

int64_t element_count(const Shape& shape, std::string_view what) {
  int64_t count = 1;
  for (const int64_t d : shape) {
    if (d < 0) throw Error(std::string(what) + ": negative dimension in shape " + to_string(shape));
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d)
      throw Error(std::string(what) + ": element count of shape " + to_string(shape) + " overflows");
    count *= d;
  }
  return count;
}

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

template <class T>
void check_consistent(const Tensor<T>& t, std::string_view name) {
  const int64_t expected = element_count(t.shape, name);
  if (expected != t.size())
    throw Error(std::string(name) + ": shape " + to_string(t.shape) + " needs " + std::to_string(expected) +
                " elements but the tensor holds " + std::to_string(t.size()));
}

template <class T>
void check_nhwc(const Tensor<T>& t, std::string_view name) {
  if (t.rank() != 4)
    throw Error(std::string(name) + ": expected an NHWC tensor of rank 4, got shape " + to_string(t.shape));
  for (const int64_t d : t.shape)
    if (d < 1) throw Error(std::string(name) + ": NHWC dimensions must be >= 1, got " + to_string(t.shape));
  check_consistent(t, name);
}

template void check_consistent(const Tensor<uint8_t>&, std::string_view);
template void check_consistent(const Tensor<int8_t>&, std::string_view);
template void check_consistent(const Tensor<int32_t>&, std::string_view);
template void check_consistent(const Tensor<float>&, std::string_view);
template void check_nhwc(const Tensor<uint8_t>&, std::string_view);
template void check_nhwc(const Tensor<int8_t>&, std::string_view);
template void check_nhwc(const Tensor<float>&, std::string_view);

}  // namespace octet
