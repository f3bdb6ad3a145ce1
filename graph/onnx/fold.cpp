// Constant folding. octet compiles a program for known input shapes, so the shape arithmetic that exports
// contain (Shape -> Gather -> Cast -> Concat -> Reshape, Range, ConstantOfShape, ...) is all known at load
// time: Shape and Size read a runtime value's shape, and any operator whose inputs are all constants is
// evaluated here, once. Values are doubles (exact for every integer a shape can hold and for float32);
// float results are rounded to float32 as a float runtime would compute them, integer ones follow integer
// semantics (Div truncates).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>

#include "graph/onnx/axes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/indexing.h"
#include "kernels/reference/movement.h"

namespace octet::graph::onnx_import {

namespace {

using onnx::TensorProto;

// Folded constants are shape arithmetic and small tensors; a model that would fold a huge one (a
// ConstantOfShape of an activation's size, say) is refused rather than allocated at load time.
constexpr int64_t kMaxFoldedElements = int64_t{1} << 22;

int64_t checked_size(const onnx::NodeProto& node, const Shape& shape) {
  const int64_t n = element_count(shape, describe(node));
  if (n > kMaxFoldedElements)
    throw Error(describe(node) + ": folding it would make a constant of " + std::to_string(n) +
                " elements (octet folds at most " + std::to_string(kMaxFoldedElements) + ")");
  return n;
}

bool is_float(int32_t t) {
  return t == TensorProto::FLOAT || t == TensorProto::DOUBLE || t == TensorProto::FLOAT16;
}

// Rounds a result to its type: float32 for float types, the integer type's range for integers (wrapping
// as ONNX's integer arithmetic does is not modelled: a shape computation that overflows is an error).
double to_type(const onnx::NodeProto& node, double v, int32_t type) {
  if (type == TensorProto::FLOAT) return static_cast<double>(static_cast<float>(v));
  if (type == TensorProto::DOUBLE) return v;
  if (type == TensorProto::FLOAT16 || type == TensorProto::BFLOAT16)
    throw Error(describe(node) + ": 16-bit float results are not supported");
  if (type == TensorProto::BOOL) return v != 0.0 ? 1.0 : 0.0;
  if (!std::isfinite(v) || std::abs(v) > 0x1p62) {
    std::array<char, 64> text{};
    std::snprintf(text.data(), text.size(), std::isfinite(v) && std::abs(v) < 1e30 ? "%.0f" : "%g", v);
    throw Error(describe(node) + ": integer result " + text.data() +
                " is beyond +-2^62, the integers octet's folding of constants and shapes holds exactly");
  }
  return std::trunc(v);
}

std::optional<BinaryOp> binary_of(const std::string& op, const Attributes& a) {
  static const std::map<std::string, BinaryOp> ops = {
      {"Add", BinaryOp::add},         {"Sub", BinaryOp::sub},
      {"Mul", BinaryOp::mul},         {"Div", BinaryOp::div},
      {"Pow", BinaryOp::pow},         {"Max", BinaryOp::max},
      {"Min", BinaryOp::min},         {"Sum", BinaryOp::add},
      {"PRelu", BinaryOp::prelu},     {"Equal", BinaryOp::equal},
      {"Less", BinaryOp::less},       {"LessOrEqual", BinaryOp::less_equal},
      {"Greater", BinaryOp::greater}, {"GreaterOrEqual", BinaryOp::greater_equal},
      {"And", BinaryOp::logical_and}, {"Or", BinaryOp::logical_or},
      {"Xor", BinaryOp::logical_xor}};
  if (op == "Mod") return a.get_int("fmod", 0) != 0 ? BinaryOp::fmod : BinaryOp::mod;
  const auto it = ops.find(op);
  return it == ops.end() ? std::nullopt : std::optional(it->second);
}

// One binary operation on two integers, exactly.
double integer_binary(const onnx::NodeProto& node, BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::add:
      return a + b;
    case BinaryOp::sub:
      return a - b;
    case BinaryOp::mul:
      return a * b;
    case BinaryOp::div:
      if (b == 0) throw Error(describe(node) + ": integer division by zero");
      return std::trunc(a / b);
    case BinaryOp::mod:
    case BinaryOp::fmod: {
      if (b == 0) throw Error(describe(node) + ": integer modulo by zero");
      const double r = std::fmod(a, b);
      return op == BinaryOp::mod && r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
    }
    case BinaryOp::pow:
      return std::pow(a, b);
    case BinaryOp::min:
      return std::min(a, b);
    case BinaryOp::max:
      return std::max(a, b);
    case BinaryOp::prelu:
      return a >= 0 ? a : a * b;
    default:
      return ref::binary_value(op, static_cast<float>(a), static_cast<float>(b));  // comparisons, logic
  }
}

// a op b with broadcasting; the result has type `type`.
Constant broadcast_binary(const onnx::NodeProto& node, BinaryOp op, const Constant& a, const Constant& b) {
  Constant out;
  out.onnx_type = produces_bool(op) ? TensorProto::BOOL : a.onnx_type;
  out.shape = broadcast_shape(describe(node), a.shape, b.shape);
  out.values.doubles().resize(static_cast<size_t>(checked_size(node, out.shape)));
  std::vector<double>& result = out.values.doubles();
  const BroadcastRuns<2> runs(describe(node), out.shape, {a.shape, b.shape});
  const bool integers = !is_float(a.onnx_type) && !takes_bool(op);
  runs.for_runs(0, runs.outer(), [&](int64_t o, const std::array<int64_t, 2>& in) {
    for (int64_t i = 0; i < runs.inner(); ++i) {
      const double x = a.values[static_cast<size_t>(in[0] + i * runs.step(0))];
      const double y = b.values[static_cast<size_t>(in[1] + i * runs.step(1))];
      const double r = integers ? integer_binary(node, op, x, y)
                                : ref::binary_value(op, static_cast<float>(x), static_cast<float>(y));
      result[static_cast<size_t>(o + i)] = to_type(node, r, out.onnx_type);
    }
  });
  return out;
}

// The same values moved by a ref:: element mover (8-byte elements).
template <class Move>
Constant moved(const onnx::NodeProto& node, const Constant& c, Shape shape, Move move) {
  Constant out;
  out.onnx_type = c.onnx_type;
  out.shape = std::move(shape);
  out.values.doubles().resize(static_cast<size_t>(checked_size(node, out.shape)));
  const std::vector<double> from = c.values.to_doubles();
  move(from.data(), out.values.doubles().data());
  return out;
}

}  // namespace

bool Importer::fold_constants(const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") return false;
  const std::string& op = node.op_type();
  const Attributes a(node);

  // Shape and Size read only their input's shape, whatever the input is.
  if (op == "Shape" || op == "Size") {
    const Symbol& x = symbol(node, 0);
    const Shape s = x.kind == Symbol::Kind::constant ? x.constant.shape : onnx_shape(graph_.value(x.value));
    Constant out;
    out.onnx_type = TensorProto::INT64;
    if (op == "Size") {
      a.expect_only({});
      out.values = {static_cast<double>(element_count(s, describe(node)))};
    } else {
      a.expect_only({"start", "end"});
      const auto rank = static_cast<int64_t>(s.size());
      auto clamp_index = [&](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
      const int64_t start = clamp_index(a.get_int("start", 0)), end = clamp_index(a.get_int("end", rank));
      for (int64_t d = start; d < end; ++d)
        out.values.doubles().push_back(static_cast<double>(s[static_cast<size_t>(d)]));
      out.shape = {static_cast<int64_t>(out.values.size())};
    }
    define(node.output(0), Symbol{Symbol::Kind::constant, -1, std::move(out), std::nullopt});
    return true;
  }
  // Everything else folds when every input it has is a constant. QuantizeLinear / DequantizeLinear of
  // constants keep their quantization (lower_qdq.cpp), so they are not folded here.
  if (op == "QuantizeLinear" || op == "DequantizeLinear" || op == "Constant") return false;
  // Every operator folded below reads its first input. Without one (an empty name) the node is left to its
  // lowering, whose symbol() says which input is missing; folded, it read an empty constant's shape.
  if (!has_input(node, 0)) return false;
  std::vector<Constant> in;
  for (int i = 0; i < node.input_size(); ++i) {
    if (!has_input(node, i)) {
      in.emplace_back();
      continue;
    }
    const Symbol& s = symbol(node, i);
    if (s.kind != Symbol::Kind::constant) return false;
    Constant c = s.constant;
    if (s.quant) {
      c.values = s.real_values();
      c.onnx_type = TensorProto::FLOAT;
    }
    in.push_back(std::move(c));
  }
  auto input = [&](size_t i, const char* what) -> const Constant& {
    if (i >= in.size() || (in[i].values.empty() && in[i].shape.empty() && in[i].onnx_type == 0))
      throw Error(describe(node) + ": " + what + " is missing");
    return in[i];
  };
  auto result = [&](Constant c, int output = 0) {
    if (output >= node.output_size())
      throw Error(describe(node) + ": missing output " + std::to_string(output));
    define(node.output(output), Symbol{Symbol::Kind::constant, -1, std::move(c), std::nullopt});
    return true;
  };
  const Constant& x = in[0];

  // A fill too large to hold as a constant (Mask R-CNN's zeros for every region's pooled features: 1000 x
  // 256 x 7 x 7) is made when the model runs instead, as an Expand of its one value, planned in the
  // activation arena like any tensor.
  if (op == "ConstantOfShape") {
    const Shape shape = int_values(node, x, "dimension");
    if (element_count(shape, describe(node)) > kMaxFoldedElements) {
      Constant fill;
      fill.onnx_type = TensorProto::FLOAT;
      fill.values = {0.0};
      for (const auto& attr : node.attribute())
        if (attr.name() == "value") {
          fill = decode_tensor(attr.t(), describe(node) + " value");
          if (fill.values.size() != 1) throw Error(describe(node) + ": value must hold one element");
        }
      fill.shape = Shape(shape.size(), 1);
      const ValueId one = constant_value(node.output(0) + "#value", fill);
      Value out = graph_.value(one);
      out.name = node.output(0);
      out.shape = shape;
      define_real(node, 0, emit(node, OpKind::expand, {one}, ReshapeAttrs{shape}, out));
      return true;
    }
  }

  if (auto bop = binary_of(op, a)) {
    if (op == "Max" || op == "Min" || op == "Sum") {
      Constant acc = x;
      for (size_t i = 1; i < in.size(); ++i)
        acc = broadcast_binary(node, *bop, acc, in[i]);
      return result(std::move(acc));
    }
    return result(broadcast_binary(node, *bop, x, input(1, "second operand")));
  }
  if (op == "Not") {
    Constant out = x;
    for (double& v : out.values.doubles())
      v = v == 0.0 ? 1.0 : 0.0;
    return result(std::move(out));
  }
  if (op == "Neg" || op == "Abs" || op == "Sign" || op == "Floor" || op == "Ceil" || op == "Round" ||
      op == "Sqrt" || op == "Exp" || op == "Log" || op == "Reciprocal" || op == "Relu" || op == "Sigmoid" ||
      op == "Tanh" || op == "Erf" || op == "Identity") {
    Constant out = x;
    if (op == "Identity") return result(std::move(out));
    if (!is_float(x.onnx_type)) {
      for (double& v : out.values.doubles())
        v = op == "Neg"    ? -v
            : op == "Abs"  ? std::abs(v)
            : op == "Sign" ? (v > 0) - (v < 0)
            : op == "Relu" ? std::max(v, 0.0)
                           : v;
      if (op != "Neg" && op != "Abs" && op != "Sign" && op != "Relu" && op != "Floor" && op != "Ceil" &&
          op != "Round")
        throw Error(describe(node) + ": " + op + " of an integer tensor");
      return result(std::move(out));
    }
    static const std::map<std::string, UnaryOp> unary = {
        {"Neg", UnaryOp::neg},   {"Abs", UnaryOp::abs},
        {"Sign", UnaryOp::sign}, {"Floor", UnaryOp::floor},
        {"Ceil", UnaryOp::ceil}, {"Round", UnaryOp::round},
        {"Sqrt", UnaryOp::sqrt}, {"Exp", UnaryOp::exp},
        {"Log", UnaryOp::log},   {"Reciprocal", UnaryOp::reciprocal},
        {"Relu", UnaryOp::relu}, {"Sigmoid", UnaryOp::sigmoid},
        {"Tanh", UnaryOp::tanh}, {"Erf", UnaryOp::erf}};
    const UnaryParams p{unary.at(op), 0.0f, 0.0f, 0.0f};
    for (double& v : out.values.doubles())
      v = ref::unary_value(p, static_cast<float>(v));
    return result(std::move(out));
  }
  if (op == "Cast" || op == "CastLike") {
    const int32_t to = op == "Cast" ? static_cast<int32_t>(a.get_int("to", 0)) : input(1, "target").onnx_type;
    if (to == TensorProto::STRING || to == 0) throw Error(describe(node) + ": cannot cast to this type");
    Constant out = x;
    out.onnx_type = to;
    // int32 as the runtime cast makes it (CastAttrs::int32): a float truncated (out of range or NaN:
    // INT32_MIN), an integer wrapped modulo 2^32.
    const bool from_float = x.onnx_type == TensorProto::FLOAT || x.onnx_type == TensorProto::DOUBLE ||
                            x.onnx_type == TensorProto::FLOAT16 || x.onnx_type == TensorProto::BFLOAT16;
    for (double& v : out.values.doubles()) {
      if (to != TensorProto::INT32) {
        v = to_type(node, v, to);
      } else if (from_float) {
        v = std::isfinite(v) && std::abs(v) < 0x1p31 ? std::trunc(v) : static_cast<double>(INT32_MIN);
      } else {
        const auto wide = v >= 0x1p63 ? INT64_MAX : static_cast<int64_t>(v);  // int64 constants as doubles
        v = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(wide)));
      }
    }
    return result(std::move(out));
  }
  if (op == "Where") {
    const Constant &cond = x, &yes = input(1, "X"), &no = input(2, "Y");
    Constant out;
    out.onnx_type = yes.onnx_type;
    out.shape =
        broadcast_shape(describe(node), broadcast_shape(describe(node), cond.shape, yes.shape), no.shape);
    std::vector<double>& chosen = out.values.doubles();
    chosen.resize(static_cast<size_t>(checked_size(node, out.shape)));
    const BroadcastRuns<3> runs(describe(node), out.shape, {cond.shape, yes.shape, no.shape});
    runs.for_runs(0, runs.outer(), [&](int64_t o, const std::array<int64_t, 3>& at) {
      for (int64_t i = 0; i < runs.inner(); ++i) {
        const bool c = cond.values[static_cast<size_t>(at[0] + i * runs.step(0))] != 0.0;
        chosen[static_cast<size_t>(o + i)] = c ? yes.values[static_cast<size_t>(at[1] + i * runs.step(1))]
                                               : no.values[static_cast<size_t>(at[2] + i * runs.step(2))];
      }
    });
    return result(std::move(out));
  }
  if (op == "ConstantOfShape") {
    Constant out;
    out.shape = int_values(node, x, "dimension");
    out.onnx_type = TensorProto::FLOAT;
    double fill = 0.0;
    for (const auto& attr : node.attribute())
      if (attr.name() == "value") {
        const Constant v = decode_tensor(attr.t(), describe(node) + " value");
        if (v.values.size() != 1) throw Error(describe(node) + ": value must hold one element");
        out.onnx_type = v.onnx_type;
        fill = v.values[0];
      }
    out.values.doubles().assign(static_cast<size_t>(checked_size(node, out.shape)), fill);
    return result(std::move(out));
  }
  if (op == "Range") {
    const Constant &limit = input(1, "limit"), &delta = input(2, "delta");
    if (x.values.size() != 1 || limit.values.size() != 1 || delta.values.size() != 1)
      throw Error(describe(node) + ": start, limit and delta must be scalars");
    const double start = x.values[0], step = delta.values[0];
    if (step == 0) throw Error(describe(node) + ": delta must not be 0");
    const double count = std::max(std::ceil((limit.values[0] - start) / step), 0.0);
    // (A limit of -inf with a positive delta is an empty range, as in ONNX Runtime.)
    if (!(count <= static_cast<double>(kMaxFoldedElements))) {
      if (!std::isfinite(start) || !std::isfinite(limit.values[0]) || !std::isfinite(step))
        throw Error(describe(node) + ": start, limit and delta must be finite, got " + std::to_string(start) +
                    ", " + std::to_string(limit.values[0]) + ", " + std::to_string(step));
      throw Error(describe(node) +
                  ": the range has too many elements to fold (octet computes it as a constant)");
    }
    Constant out;
    out.onnx_type = x.onnx_type;
    out.shape = {static_cast<int64_t>(count)};
    for (int64_t i = 0; i < out.shape[0]; ++i)
      out.values.doubles().push_back(to_type(node, start + static_cast<double>(i) * step, x.onnx_type));
    return result(std::move(out));
  }
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {
    Constant out = x;
    out.shape = reshaped_shape(node, x.shape);
    if (element_count(out.shape, describe(node)) != x.size())
      throw Error(describe(node) + ": cannot reshape " + to_string(x.shape) + " to " + to_string(out.shape));
    return result(std::move(out));
  }
  if (op == "Transpose") {
    const std::vector<int64_t> perm = transpose_perm(node, static_cast<int64_t>(x.shape.size()));
    Shape s;
    for (int64_t p : perm)
      s.push_back(x.shape[static_cast<size_t>(p)]);
    return result(moved(node, x, s, [&](const double* from, double* to) {
      ref::transpose(from, x.shape, perm, sizeof(double), to);
    }));
  }
  if (op == "Concat") {
    a.expect_only({"axis"});
    std::vector<std::vector<double>> widened;
    std::vector<const void*> data;
    std::vector<Shape> shapes;
    Shape s = x.shape;
    const int64_t axis = normalize_axis(node, a.get_int("axis", 0), static_cast<int64_t>(s.size()));
    s[static_cast<size_t>(axis)] = 0;
    for (const Constant& c : in) {
      if (c.shape.size() != s.size()) throw Error(describe(node) + ": inputs of different ranks");
      widened.push_back(c.values.to_doubles());
      data.push_back(widened.back().data());
      shapes.push_back(c.shape);
      s[static_cast<size_t>(axis)] += c.shape[static_cast<size_t>(axis)];
    }
    return result(moved(
        node, x, s, [&](const double*, double* to) { ref::concat(data, shapes, axis, sizeof(double), to); }));
  }
  if (op == "Gather") {
    a.expect_only({"axis"});
    const Constant& idx = input(1, "indices");
    const int64_t axis = normalize_axis(node, a.get_int("axis", 0), static_cast<int64_t>(x.shape.size()));
    const std::vector<int64_t> indices = int_values(node, idx, "index");
    Shape s(x.shape.begin(), x.shape.begin() + axis);
    s.insert(s.end(), idx.shape.begin(), idx.shape.end());
    s.insert(s.end(), x.shape.begin() + axis + 1, x.shape.end());
    return result(moved(node, x, s, [&](const double* from, double* to) {
      ref::gather(from, x.shape, axis, indices.data(), idx.shape, sizeof(double), to, describe(node));
    }));
  }
  if (op == "GatherElements" || op == "GatherND") {
    const Constant& idx = input(1, "indices");
    const std::vector<int64_t> indices = int_values(node, idx, "index");
    if (op == "GatherND") {
      a.expect_only({"batch_dims"});
      const int64_t batch_dims = a.get_int("batch_dims", 0);
      return result(moved(node, x, ref::gather_nd_shape(x.shape, idx.shape, batch_dims, describe(node)),
                          [&](const double* from, double* to) {
                            ref::gather_nd(from, x.shape, indices.data(), idx.shape, batch_dims,
                                           sizeof(double), to, describe(node));
                          }));
    }
    a.expect_only({"axis"});
    const int64_t axis = normalize_axis(node, a.get_int("axis", 0), static_cast<int64_t>(x.shape.size()));
    return result(moved(node, x, idx.shape, [&](const double* from, double* to) {
      ref::gather_elements(from, x.shape, axis, indices.data(), idx.shape, sizeof(double), to,
                           describe(node));
    }));
  }
  if (op == "ScatterElements" || op == "Scatter" || op == "ScatterND") {
    const Constant& idx = input(1, "indices");
    const std::vector<int64_t> indices = int_values(node, idx, "index");
    const std::vector<double> updates = input(2, "updates").values.to_doubles();
    const bool nd = op == "ScatterND";
    if (nd)
      a.expect_only({"reduction"});
    else if (op == "Scatter")
      a.expect_only({"axis"});
    else
      a.expect_only({"axis", "reduction"});
    const std::string reduction = a.get_string("reduction", "none");
    const ref::ScatterReduction r = reduction == "add"   ? ref::ScatterReduction::add
                                    : reduction == "mul" ? ref::ScatterReduction::mul
                                    : reduction == "max" ? ref::ScatterReduction::max
                                    : reduction == "min" ? ref::ScatterReduction::min
                                                         : ref::ScatterReduction::none;
    if (r == ref::ScatterReduction::none && reduction != "none")
      throw Error(describe(node) + ": unknown reduction '" + reduction + "'");
    if (nd)
      ref::check_scatter_nd_shapes(x.shape, idx.shape, in[2].shape, describe(node));
    else if (in[2].shape != idx.shape)
      throw Error(describe(node) + ": updates of shape " + to_string(in[2].shape) + " for indices of shape " +
                  to_string(idx.shape));
    const int64_t axis =
        nd ? 0 : normalize_axis(node, a.get_int("axis", 0), static_cast<int64_t>(x.shape.size()));
    if (in[2].onnx_type != x.onnx_type)
      throw Error(describe(node) + ": updates of another element type than the data");
    // Folded in the data's own arithmetic (float32, or int64 wrapping around), as the operator runs: the
    // constant's float64 values converted to it and back.
    const bool is_float = x.onnx_type == TensorProto::FLOAT || x.onnx_type == TensorProto::DOUBLE ||
                          x.onnx_type == TensorProto::FLOAT16;
    auto scatter = [&](const auto* from, const auto* with, auto* to, ref::ScatterArithmetic arithmetic) {
      const size_t size = sizeof(*from);
      if (nd)
        ref::scatter_nd(from, x.shape, indices.data(), idx.shape, with, size, r, arithmetic, to,
                        describe(node));
      else
        ref::scatter_elements(from, x.shape, axis, indices.data(), idx.shape, with, size, r, arithmetic, to,
                              describe(node));
    };
    return result(moved(node, x, x.shape, [&](const double* from, double* to) {
      const size_t n = x.values.size();
      if (is_float) {
        std::vector<float> data(from, from + n), with(updates.begin(), updates.end()), out(n);
        scatter(data.data(), with.data(), out.data(), ref::ScatterArithmetic::f32);
        std::copy(out.begin(), out.end(), to);
      } else {
        const std::vector<int64_t> data = int_values(node, x, "data value"),
                                   with = int_values(node, in[2], "update");
        std::vector<int64_t> out(n);
        scatter(data.data(), with.data(), out.data(), ref::ScatterArithmetic::s64);
        std::transform(out.begin(), out.end(), to, [](int64_t v) { return static_cast<double>(v); });
      }
    }));
  }
  if (op == "Slice") {
    std::vector<int64_t> starts, ends, axes, steps;
    if (opset_ < 10) {  // Slice-1: attributes, no steps
      a.expect_only({"starts", "ends", "axes"});
      if (!a.has("starts") || !a.has("ends"))
        throw Error(describe(node) + ": attributes starts and ends are required");
      starts = a.get_ints("starts"), ends = a.get_ints("ends"), axes = a.get_ints("axes", {});
    } else {
      starts = slice_bounds(node, input(1, "starts"), "start");
      ends = slice_bounds(node, input(2, "ends"), "end");
      if (in.size() > 3 && !in[3].values.empty()) axes = int_values(node, in[3], "axis");
      if (in.size() > 4 && !in[4].values.empty()) steps = int_values(node, in[4], "step");
    }
    const auto slices = ref::slice_axes(x.shape, starts, ends, axes, steps, describe(node));
    return result(moved(node, x, ref::slice_shape(slices), [&](const double* from, double* to) {
      ref::slice(from, x.shape, slices, sizeof(double), to);
    }));
  }
  if (op == "Expand") {
    const Shape s =
        broadcast_shape(describe(node), x.shape, int_values(node, input(1, "shape"), "dimension"));
    return result(moved(node, x, s, [&](const double* from, double* to) {
      ref::expand(from, x.shape, s, sizeof(double), to);
    }));
  }
  if (op == "Tile") {
    const std::vector<int64_t> repeats = int_values(node, input(1, "repeats"), "repeat");
    if (repeats.size() != x.shape.size())
      throw Error(describe(node) + ": one repeat count per dimension is needed");
    Shape s = x.shape;
    for (size_t d = 0; d < s.size(); ++d) {
      if (repeats[d] < 0) throw Error(describe(node) + ": negative repeat count");
      s[d] *= repeats[d];
    }
    return result(moved(node, x, s, [&](const double* from, double* to) {
      ref::tile(from, x.shape, repeats, sizeof(double), to);
    }));
  }
  if (op == "ReduceProd" || op == "ReduceSum" || op == "ReduceMin" || op == "ReduceMax") {
    // Small integer reductions of shape arithmetic (the element count of a shape, say); over all axes or
    // one axis list, with keepdims.
    const bool axes_input = reduce_axes_are_input(node, a);
    std::vector<int64_t> axes =
        axes_input ? (in.size() > 1 && !in[1].values.empty() ? int_values(node, in[1], "axis")
                                                             : std::vector<int64_t>{})
                   : a.get_ints("axes", {});
    const auto rank = static_cast<int64_t>(x.shape.size());
    for (int64_t& axis : axes)
      axis = normalize_axis(node, axis, rank);
    if (axes.empty()) {
      if (a.get_int("noop_with_empty_axes", 0) != 0) return result(x);
      axes.resize(static_cast<size_t>(rank));
      std::iota(axes.begin(), axes.end(), int64_t{0});
    }
    Shape kept = x.shape;
    for (int64_t axis : axes)
      kept[static_cast<size_t>(axis)] = 1;
    Constant out;
    out.onnx_type = x.onnx_type;
    out.shape = kept;
    const double identity = op == "ReduceProd"  ? 1.0
                            : op == "ReduceSum" ? 0.0
                            : op == "ReduceMin" ? INFINITY
                                                : -INFINITY;
    std::vector<double>& reduced = out.values.doubles();
    reduced.assign(static_cast<size_t>(element_count(kept, describe(node))), identity);
    std::vector<int64_t> index(x.shape.size(), 0);
    for (size_t i = 0; i < x.values.size(); ++i) {
      int64_t o = 0;
      for (size_t d = 0; d < index.size(); ++d)
        o = o * kept[d] + (kept[d] == 1 ? 0 : index[d]);
      double& r = reduced[static_cast<size_t>(o)];
      const double v = x.values[i];
      r = op == "ReduceProd"  ? r * v
          : op == "ReduceSum" ? r + v
          : op == "ReduceMin" ? std::min(r, v)
                              : std::max(r, v);
      for (size_t d = index.size(); d-- > 0;)
        if (++index[d] < x.shape[d])
          break;
        else
          index[d] = 0;
    }
    for (double& v : out.values.doubles())
      v = to_type(node, v, out.onnx_type);
    if (a.get_int("keepdims", 1) == 0) {
      Shape s;
      for (size_t d = 0; d < kept.size(); ++d)
        if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) == axes.end()) s.push_back(kept[d]);
      out.shape = s;
    }
    return result(std::move(out));
  }
  if (op == "Split") {
    const int64_t axis = normalize_axis(node, a.get_int("axis", 0), static_cast<int64_t>(x.shape.size()));
    std::vector<int64_t> sizes = a.get_ints("split", {});
    if (in.size() > 1 && !in[1].values.empty()) sizes = int_values(node, in[1], "split size");
    const int64_t extent = x.shape[static_cast<size_t>(axis)], parts = node.output_size();
    if (sizes.empty()) {
      if (parts < 1 || extent % parts != 0)
        throw Error(describe(node) + ": cannot split " + std::to_string(extent) + " into " +
                    std::to_string(parts));
      sizes.assign(static_cast<size_t>(parts), extent / parts);
    }
    if (static_cast<int64_t>(sizes.size()) != parts ||
        std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != extent)
      throw Error(describe(node) + ": split sizes do not match the dimension or the outputs");
    int64_t start = 0;
    for (int64_t i = 0; i < parts; ++i) {
      std::vector<ref::SliceAxis> slices;
      for (int64_t d : x.shape)
        slices.push_back({0, 1, d});
      slices[static_cast<size_t>(axis)] = {start, 1, sizes[static_cast<size_t>(i)]};
      start += sizes[static_cast<size_t>(i)];
      if (node.output(static_cast<int>(i)).empty()) continue;
      result(moved(node, x, ref::slice_shape(slices),
                   [&](const double* from, double* to) {
                     ref::slice(from, x.shape, slices, sizeof(double), to);
                   }),
             static_cast<int>(i));
    }
    return true;
  }
  return false;  // not foldable here: the operator's own lowering decides (and reports) what to do
}

}  // namespace octet::graph::onnx_import
