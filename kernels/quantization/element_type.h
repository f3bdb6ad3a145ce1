#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace octet {

// Element types of tensors. u8 / s8 / s32 are the quantized types; f32 is float data; b8 (bool, one byte
// holding 0 or 1) and s64 (int64) appear where a model computes in float around its quantized layers
// (comparisons, Where, ArgMax, Cast).
enum class ElementType { u8, s8, s32, f32, b8, s64 };

constexpr size_t size_of(ElementType t) {
  switch (t) {
    case ElementType::u8:
    case ElementType::s8:
    case ElementType::b8:
      return 1;
    case ElementType::s32:
    case ElementType::f32:
      return 4;
    case ElementType::s64:
      return 8;
  }
  return 1;
}

constexpr std::string_view name_of(ElementType t) {
  switch (t) {
    case ElementType::u8:
      return "uint8";
    case ElementType::s8:
      return "int8";
    case ElementType::s32:
      return "int32";
    case ElementType::f32:
      return "float32";
    case ElementType::b8:
      return "bool";
    case ElementType::s64:
      return "int64";
  }
  return "?";
}

// The representable range of a quantized integer type.
struct IntRange {
  int32_t min;
  int32_t max;
};

constexpr IntRange range_of(ElementType t) {
  switch (t) {
    case ElementType::u8:
      return {0, 255};
    case ElementType::s8:
      return {-128, 127};
    case ElementType::s32:
      return {INT32_MIN, INT32_MAX};
    case ElementType::b8:
      return {0, 1};
    case ElementType::f32:
    case ElementType::s64:
      break;
  }
  return {0, 0};
}

template <class T>
constexpr ElementType element_type_of();
template <>
constexpr ElementType element_type_of<uint8_t>() {
  return ElementType::u8;
}
template <>
constexpr ElementType element_type_of<int8_t>() {
  return ElementType::s8;
}
template <>
constexpr ElementType element_type_of<int32_t>() {
  return ElementType::s32;
}
template <>
constexpr ElementType element_type_of<float>() {
  return ElementType::f32;
}
template <>
constexpr ElementType element_type_of<int64_t>() {
  return ElementType::s64;
}

}  // namespace octet
