#include "graph/shapes.h"

#include <set>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/elementwise.h"

namespace octet::graph {

namespace {

std::string where(const Node& n) {
  return "node '" + n.name + "' (" + n.onnx_op + ")";
}

const Shape& input_shape(const Graph& g, const Node& n, size_t i) {
  if (i >= n.inputs.size()) throw Error(where(n) + ": missing input " + std::to_string(i));
  return g.value(n.inputs[i]).shape;
}

const Shape& nhwc_input(const Graph& g, const Node& n) {
  const Value& v = g.value(n.inputs.at(0));
  if (v.layout != Layout::nhwc || v.shape.size() != 4)
    throw Error(where(n) + ": input '" + v.name + "' must be an NHWC image tensor, got " +
                to_string(v.shape));
  return v.shape;
}

template <class T>
const T& attrs_of(const Node& n) {
  const T* a = std::get_if<T>(&n.attrs);
  if (!a) throw Error(where(n) + ": internal error: attributes of the wrong kind");
  return *a;
}

int64_t weight_dim(const Weights& w, size_t i) {
  return std::visit([i](const auto& t) { return t.shape.at(i); }, w);
}

}  // namespace

Shape onnx_shape(const Value& v) {
  if (v.layout == Layout::nhwc) return {v.shape[0], v.shape[3], v.shape[1], v.shape[2]};
  return v.shape;
}

Shape infer_output_shape(const Graph& g, const Node& n, const Value& out) {
  switch (n.kind) {
    case OpKind::quantize:
    case OpKind::dequantize: {
      // These two may change layout on the way (NCHW floats <-> NHWC bytes at the graph boundary).
      const Value& in = g.value(n.inputs.at(0));
      if (in.shape.size() == 4 && in.layout == Layout::plain && out.layout == Layout::nhwc)
        return {in.shape[0], in.shape[2], in.shape[3], in.shape[1]};
      if (in.shape.size() == 4 && in.layout == Layout::nhwc && out.layout == Layout::plain)
        return {in.shape[0], in.shape[3], in.shape[1], in.shape[2]};
      return in.shape;
    }
    case OpKind::requantize:
    case OpKind::lut:
    case OpKind::softmax:
      return input_shape(g, n, 0);
    case OpKind::transpose: {
      const Shape& in = input_shape(g, n, 0);
      const auto& perm = attrs_of<TransposeAttrs>(n).perm;
      if (perm.size() != in.size()) throw Error(where(n) + ": permutation rank does not match the input");
      Shape s;
      for (int64_t p : perm) {
        if (p < 0 || p >= static_cast<int64_t>(in.size())) throw Error(where(n) + ": invalid permutation");
        s.push_back(in[static_cast<size_t>(p)]);
      }
      return s;
    }
    case OpKind::reshape: {
      const Shape& s = attrs_of<ReshapeAttrs>(n).shape;
      if (element_count(s, where(n)) != element_count(input_shape(g, n, 0), where(n)))
        throw Error(where(n) + ": cannot reshape " + to_string(input_shape(g, n, 0)) + " to " + to_string(s));
      return s;
    }
    case OpKind::conv: {
      const Shape& in = nhwc_input(g, n);
      const auto& a = attrs_of<ConvAttrs>(n);
      const int64_t kh = weight_dim(*a.weights, 1), kw = weight_dim(*a.weights, 2),
                    co = weight_dim(*a.weights, 0);
      if (a.transposed) {
        const auto& p = a.transpose;
        return {in[0],
                ref::conv_transpose_output_size("height", in[1], kh, p.stride_h, p.dilation_h, p.pad.top,
                                                p.pad.bottom, p.output_padding_h),
                ref::conv_transpose_output_size("width", in[2], kw, p.stride_w, p.dilation_w, p.pad.left,
                                                p.pad.right, p.output_padding_w),
                co};
      }
      const auto& p = a.conv;
      return {in[0],
              ref::conv_output_size(n.name, "height", in[1], kh, p.stride_h, p.dilation_h, p.pad.top,
                                    p.pad.bottom),
              ref::conv_output_size(n.name, "width", in[2], kw, p.stride_w, p.dilation_w, p.pad.left,
                                    p.pad.right),
              co};
    }
    case OpKind::fully_connected: {
      Shape s = input_shape(g, n, 0);
      const auto& a = attrs_of<FullyConnectedAttrs>(n);
      if (s.empty() || s.back() != weight_dim(*a.weights, 1))
        throw Error(where(n) + ": input " + to_string(s) +
                    " does not end in K = " + std::to_string(weight_dim(*a.weights, 1)));
      s.back() = weight_dim(*a.weights, 0);
      return s;
    }
    case OpKind::max_pool:
    case OpKind::average_pool: {
      const Shape& in = nhwc_input(g, n);
      const auto& p = attrs_of<PoolAttrs>(n).params;
      const char* op = n.kind == OpKind::max_pool ? "max_pool2d" : "average_pool2d";
      return {in[0],
              ref::pool_output_size(op, "height", in[1], p.kernel_h, p.stride_h, p.dilation_h, p.pad.top,
                                    p.pad.bottom, p.ceil_mode),
              ref::pool_output_size(op, "width", in[2], p.kernel_w, p.stride_w, p.dilation_w, p.pad.left,
                                    p.pad.right, p.ceil_mode),
              in[3]};
    }
    case OpKind::global_average_pool: {
      const Shape& in = nhwc_input(g, n);
      return {in[0], 1, 1, in[3]};
    }
    case OpKind::add:
    case OpKind::mul:
      return ref::broadcast_shapes(where(n), input_shape(g, n, 0), input_shape(g, n, 1));
    case OpKind::concat: {
      Shape s = input_shape(g, n, 0);
      const auto axis = static_cast<size_t>(attrs_of<ConcatAttrs>(n).axis);
      if (axis >= s.size()) throw Error(where(n) + ": concat axis out of range");
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        const Shape& t = input_shape(g, n, i);
        if (t.size() != s.size()) throw Error(where(n) + ": inputs of different ranks");
        for (size_t d = 0; d < s.size(); ++d)
          if (d != axis && t[d] != s[d])
            throw Error(where(n) + ": input '" + g.value(n.inputs[i]).name + "' has shape " + to_string(t) +
                        ", which does not match " + to_string(s) + " outside the concatenation axis");
        s[axis] += t[axis];
      }
      return s;
    }
    case OpKind::resize: {
      const Shape& in = nhwc_input(g, n);
      const auto& p = attrs_of<ResizeAttrs>(n).params;
      return {in[0], p.out_h, p.out_w, in[3]};
    }
  }
  (void)out;
  throw Error(where(n) + ": unknown operator kind");
}

void check_graph(const Graph& g) {
  std::set<ValueId> defined(g.inputs.begin(), g.inputs.end());
  auto check_id = [&](ValueId id, const std::string& context) {
    if (id < 0 || static_cast<size_t>(id) >= g.values.size())
      throw Error(context + ": refers to a missing value");
  };
  for (const Node& n : g.nodes) {
    for (ValueId id : n.inputs) {
      check_id(id, where(n));
      if (!defined.count(id))
        throw Error(where(n) + ": input '" + g.value(id).name + "' is used before it is computed");
    }
    check_id(n.output, where(n));
    if (!defined.insert(n.output).second)
      throw Error(where(n) + ": output '" + g.value(n.output).name + "' is computed twice");
    const Value& out = g.value(n.output);
    // Operators that only move bytes accept raw uint8 data without quantization params (a uint8 model
    // input that is reshaped or max-pooled, say); every other one needs valid params.
    const bool moves_bytes = n.kind == OpKind::max_pool || n.kind == OpKind::reshape ||
                             n.kind == OpKind::transpose || n.kind == OpKind::resize;
    auto check_params = [&](const Value& v, const std::string& role) {
      if (v.type != ElementType::u8 || (moves_bytes && v.quant.scales.empty())) return;
      validate(v.quant, ElementType::u8, v.shape, where(n) + " " + role + " '" + v.name + "'");
    };
    check_params(out, "output");
    for (ValueId id : n.inputs)
      check_params(g.value(id), "input");
    if (infer_output_shape(g, n, out) != out.shape)
      throw Error(where(n) + ": output '" + out.name + "' has shape " + to_string(out.shape) +
                  " but its inputs imply " + to_string(infer_output_shape(g, n, out)));
    // Operators that move values without arithmetic must keep the quantization params exactly.
    const bool passes_through = n.kind == OpKind::max_pool || n.kind == OpKind::reshape ||
                                n.kind == OpKind::transpose || n.kind == OpKind::resize;
    if (passes_through && g.value(n.inputs[0]).type == ElementType::u8 &&
        !(g.value(n.inputs[0]).quant == out.quant))
      throw Error(where(n) + ": output '" + out.name + "' must keep the quantization params of input '" +
                  g.value(n.inputs[0]).name + "'");
  }
  for (ValueId id : g.outputs) {
    check_id(id, "graph output");
    if (!defined.count(id)) throw Error("graph output '" + g.value(id).name + "' is never computed");
  }
}

}  // namespace octet::graph
