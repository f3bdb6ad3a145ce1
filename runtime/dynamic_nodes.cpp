#include "runtime/dynamic_nodes.h"

#include <cmath>
#include <cstring>
#include <span>

#include "kernels/error.h"
#include "kernels/selection/compress.h"
#include "kernels/selection/non_max_suppression.h"
#include "kernels/selection/non_zero.h"

namespace octet::runtime {

namespace {

std::string describe(const graph::DynamicNode& node) {
  return "node '" + node.name + "' (" + node.onnx_op + ")";
}

const HostTensor* input(const graph::DynamicNode& node, const std::map<std::string, HostTensor>& values,
                        size_t i) {
  if (i >= node.inputs.size() || node.inputs[i].empty()) return nullptr;
  const auto it = values.find(node.inputs[i]);
  if (it == values.end())
    throw Error("internal: " + describe(node) + ": input '" + node.inputs[i] + "' was not computed");
  return &it->second;
}

// 1 where an element is not zero: NaN counts, -0.0 does not (x != 0, as ONNX Runtime tests it).
template <class T>
void mark_nonzero(std::span<const T> x, std::vector<uint8_t>& nonzero) {
  for (size_t i = 0; i < nonzero.size(); ++i)
    nonzero[i] = x[i] != T{0};
}

HostTensor non_zero(const HostTensor& x) {
  std::vector<uint8_t> nonzero(static_cast<size_t>(x.element_count()));
  switch (x.dtype()) {
    case DataType::float32:
      mark_nonzero(x.float_data(), nonzero);
      break;
    case DataType::uint8:  // ONNX's uint8 integers (the planner refuses int8 ones, held shifted)
      mark_nonzero(x.uint8_data(), nonzero);
      break;
    case DataType::boolean:
      mark_nonzero(x.bool_data(), nonzero);
      break;
    case DataType::int64:
      mark_nonzero(x.int64_data(), nonzero);
      break;
    case DataType::int32:
      mark_nonzero(x.int32_data(), nonzero);
      break;
  }
  std::vector<int64_t> coordinates = selection::non_zero_coordinates(nonzero, x.shape());
  const auto rank = static_cast<int64_t>(std::max<size_t>(x.shape().size(), 1));
  const int64_t count = static_cast<int64_t>(coordinates.size()) / rank;
  return HostTensor::from_int64({rank, count}, std::move(coordinates));
}

// An optional scalar operand: absent or empty means its default.
const HostTensor* scalar_operand(const graph::DynamicNode& node,
                                 const std::map<std::string, HostTensor>& values, size_t i, DataType type,
                                 const char* what) {
  const HostTensor* t = input(node, values, i);
  if (!t || t->element_count() == 0) return nullptr;
  if (t->dtype() != type)
    throw Error(describe(node) + ": " + what + " must be " + name_of(type) + ", got " + name_of(t->dtype()));
  if (t->element_count() != 1)
    throw Error(describe(node) + ": " + what + " must be a single value, got shape " + to_string(t->shape()));
  return t;
}

HostTensor non_max_suppression(const graph::DynamicNode& node,
                               const std::map<std::string, HostTensor>& values) {
  const HostTensor& boxes = *input(node, values, 0);
  const HostTensor& scores = *input(node, values, 1);
  if (boxes.dtype() != DataType::float32 || scores.dtype() != DataType::float32)
    throw Error(describe(node) + ": boxes and scores must be float32");
  const Shape& bs = boxes.shape();
  const Shape& ss = scores.shape();
  if (bs.size() != 3 || ss.size() != 3 || bs[2] != 4 || bs[0] != ss[0] || bs[1] != ss[2])
    throw Error(describe(node) +
                ": boxes must be [batches, boxes, 4] and scores [batches, classes, boxes], got " +
                to_string(bs) + " and " + to_string(ss));
  selection::NmsParams p;
  p.batches = bs[0];
  p.boxes = bs[1];
  p.classes = ss[1];
  p.center_point_box = node.center_point_box == 1;
  if (const HostTensor* t = scalar_operand(node, values, 2, DataType::int64, "max_output_boxes_per_class"))
    p.max_per_class = t->int64_data()[0];
  if (const HostTensor* t = scalar_operand(node, values, 3, DataType::float32, "iou_threshold"))
    p.iou_threshold = t->float_data()[0];
  if (!(p.iou_threshold >= 0.0f && p.iou_threshold <= 1.0f))
    throw Error(describe(node) + ": iou_threshold must be in [0, 1], got " + std::to_string(p.iou_threshold));
  if (const HostTensor* t = scalar_operand(node, values, 4, DataType::float32, "score_threshold"))
    p.score_threshold = t->float_data()[0];
  const auto selected = selection::non_max_suppression(boxes.float_data(), scores.float_data(), p);
  std::vector<int64_t> flat;
  flat.reserve(selected.size() * 3);
  for (const auto& triple : selected)
    flat.insert(flat.end(), triple.begin(), triple.end());
  return HostTensor::from_int64({static_cast<int64_t>(selected.size()), 3}, std::move(flat));
}

HostTensor compress(const graph::DynamicNode& node, const std::map<std::string, HostTensor>& values) {
  const HostTensor& x = *input(node, values, 0);
  const HostTensor& condition = *input(node, values, 1);
  if (condition.dtype() != DataType::boolean || condition.shape().size() != 1)
    throw Error(describe(node) + ": the condition must be a 1-D bool tensor, got " +
                name_of(condition.dtype()) + " of shape " + to_string(condition.shape()));
  Shape shape = x.shape();
  int64_t axis = 0;
  if (node.axis) {
    const auto rank = static_cast<int64_t>(shape.size());
    if (*node.axis < -rank || *node.axis >= rank)
      throw Error(describe(node) + ": axis " + std::to_string(*node.axis) + " is outside rank " +
                  std::to_string(rank));
    axis = *node.axis < 0 ? *node.axis + rank : *node.axis;
  } else {
    shape = {x.element_count()};  // the flattened input
  }
  // A condition longer than the axis: its extra entries select nothing (ONNX Runtime reads only the axis's).
  const size_t element_size =
      x.element_count() == 0 ? 1 : x.bytes().size() / static_cast<size_t>(x.element_count());
  int64_t kept = 0;
  std::vector<std::byte> bytes =
      selection::compress(x.bytes(), shape, element_size, axis, condition.bool_data(), kept);
  shape[static_cast<size_t>(axis)] = kept;
  // A quantized tensor's bytes move with their params.
  return tensor_of(x.dtype(), std::move(shape), bytes, x.scale(), x.zero_point());
}

template <class T>
std::vector<T> elements_of(std::span<const std::byte> bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace

HostTensor tensor_of(DataType type, Shape shape, std::span<const std::byte> bytes, float scale,
                     int32_t zero_point) {
  switch (type) {
    case DataType::float32:
      return HostTensor::from_float(std::move(shape), elements_of<float>(bytes));
    case DataType::int64:
      return HostTensor::from_int64(std::move(shape), elements_of<int64_t>(bytes));
    case DataType::int32:
      return HostTensor::from_int32(std::move(shape), elements_of<int32_t>(bytes));
    case DataType::boolean:
      return HostTensor::from_bool(std::move(shape), elements_of<uint8_t>(bytes));
    case DataType::uint8:
      break;
  }
  return HostTensor::from_uint8(std::move(shape), elements_of<uint8_t>(bytes), scale, zero_point);
}

ElementType element_type_of(DataType t) {
  switch (t) {
    case DataType::float32:
      return ElementType::f32;
    case DataType::uint8:
      return ElementType::u8;
    case DataType::boolean:
      return ElementType::b8;
    case DataType::int64:
    case DataType::int32:
      break;
  }
  return ElementType::s64;
}

std::vector<std::byte> constant_bytes(const HostTensor& t) {
  if (t.dtype() == DataType::int32) {
    const std::vector<int64_t> wide(t.int32_data().begin(), t.int32_data().end());
    const auto bytes = std::as_bytes(std::span(wide));
    return {bytes.begin(), bytes.end()};
  }
  return {t.bytes().begin(), t.bytes().end()};
}

const char* dynamic_op_name(const graph::DynamicNode& node) {
  switch (node.op) {
    case graph::DynamicNode::Op::non_zero:
      return "non_zero";
    case graph::DynamicNode::Op::non_max_suppression:
      return "non_max_suppression";
    case graph::DynamicNode::Op::compress:
      return "compress";
    case graph::DynamicNode::Op::loop:
      return "loop";
    case graph::DynamicNode::Op::if_branch:
      break;
  }
  return "if";
}

HostTensor evaluate(const graph::DynamicNode& node, const std::map<std::string, HostTensor>& values,
                    const std::set<std::string>& channel_last) {
  for (const std::string& name : node.inputs)
    if (channel_last.count(name))
      throw Error(describe(node) + ": reads the image input '" + name +
                  "', which nhwc_io makes channel-last; octet evaluates it on ONNX's layout (load the model "
                  "without nhwc_io)");
  switch (node.op) {
    case graph::DynamicNode::Op::non_zero:
      return non_zero(*input(node, values, 0));
    case graph::DynamicNode::Op::non_max_suppression:
      return non_max_suppression(node, values);
    case graph::DynamicNode::Op::compress:
      return compress(node, values);
    case graph::DynamicNode::Op::if_branch:  // runtime/branches.cpp
    case graph::DynamicNode::Op::loop:       // runtime/loops.cpp
      break;
  }
  throw Error("internal: " + describe(node) + ": unknown operator");
}

}  // namespace octet::runtime
