// Float MatMul and Gemm. A constant right-hand matrix makes a fully connected layer (weights packed once,
// bias and a following Relu / Clip fused); two runtime operands make a NumPy matmul.

#include <algorithm>
#include <cmath>

#include "graph/onnx/axes.h"
#include "graph/onnx/importer.h"
#include "kernels/error.h"
#include "kernels/huge_pages.h"

namespace octet::graph::onnx_import {

namespace {

// A constant B of [K, N] ([N, K] where `n_by_k`) as fully connected weights [N, K], each alpha * b (in
// double, then rounded once: Gemm's alpha taken into the weights; 1 for MatMul). [K, N] is transposed 16
// K rows at a time, so that each row of the result gets 16 consecutive floats while the 16 rows of B it
// reads from are in cache: an element at a time, every write went to another line (ViT-B/16's weights
// took a third of its load time).
std::vector<float> weights_n_by_k(const RealValues& b, int64_t k, int64_t n, bool n_by_k, double alpha) {
  std::vector<float> w;
  resize_large(w, static_cast<size_t>(n * k));
  b.with_reader([&](auto read) {
    if (n_by_k) {
      for (size_t i = 0; i < w.size(); ++i)
        w[i] = static_cast<float>(alpha * read(i));
      return;
    }
    constexpr int64_t kRowsPerLine = 16;
    for (int64_t i0 = 0; i0 < k; i0 += kRowsPerLine) {
      const int64_t i1 = std::min(k, i0 + kRowsPerLine);
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = i0; i < i1; ++i)
          w[static_cast<size_t>(j * k + i)] =
              static_cast<float>(alpha * read(static_cast<size_t>(i * n + j)));
    }
  });
  return w;
}

}  // namespace

ValueId Importer::plain_reshape(const onnx::NodeProto& node, ValueId v, Shape shape,
                                const std::string& suffix) {
  Value out = graph_.value(v);
  out.name += suffix;
  out.layout = Layout::plain;
  out.constant = nullptr;
  return emit(node.name() + suffix, "(reshape)", OpKind::reshape, {v}, ReshapeAttrs{std::move(shape)}, out);
}

ValueId Importer::build_float_matmul_constant(const onnx::NodeProto& node, ValueId x, const Shape& b_shape,
                                              const RealValues& b) {
  x = as_plain(x, node);
  const Shape sa = graph_.value(x).shape;
  const int64_t k = b_shape[0], n = b_shape[1];
  if (sa.empty() || sa.back() != k)
    throw Error(describe(node) + ": cannot multiply " + to_string(sa) + " by " + to_string(b_shape));
  auto reshaped = [&](ValueId v, Shape shape, const std::string& suffix) {
    return plain_reshape(node, v, std::move(shape), suffix);
  };
  // A fully connected layer over the last dimension of x: weights [N, K].
  FloatFullyConnectedAttrs attrs;
  attrs.weights = std::make_shared<TensorF32>(Shape{n, k}, weights_n_by_k(b, k, n, false, 1.0));
  if (sa.size() == 1) x = reshaped(x, {1, k}, "#row");
  Value out = graph_.value(x);
  out.name = node.output(0);
  out.type = ElementType::f32;
  out.layout = Layout::plain;
  out.constant = nullptr;
  ValueId y = emit(node, OpKind::fully_connected, {x}, std::move(attrs), out);
  if (sa.size() == 1) y = reshaped(y, {n}, "#vector");
  return y;
}

const onnx::NodeProto* Importer::take_bias_add(const onnx::NodeProto& matmul, ValueId y) {
  const std::string& product = matmul.output(0);
  const Value& out = graph_.value(y);
  if (out.name != product || is_graph_output(product)) return nullptr;  // (a vector's product is reshaped)
  const auto layer =
      std::find_if(graph_.nodes.rbegin(), graph_.nodes.rend(), [&](const Node& n) { return n.output == y; });
  if (layer == graph_.nodes.rend() || layer->kind != OpKind::fully_connected) return nullptr;
  auto& attrs = std::get<FloatFullyConnectedAttrs>(layer->attrs);
  const int64_t n = attrs.weights->shape[0];
  const auto cs = consumers(product);
  if (cs.size() != 1 || attrs.bias || attrs.addend) return nullptr;
  const onnx::NodeProto& add = *cs[0];
  if (add.op_type() != "Add" || (!add.domain().empty() && add.domain() != "ai.onnx") ||
      add.input_size() != 2 || add.output_size() != 1 || add.attribute_size() != 0 ||
      add.input(0) == add.input(1))
    return nullptr;
  // A constant of N values (or one) along the last axis, adding no rank: added to the finished sums, one
  // more rounding, as the Add computes it.
  const auto it = symbols_.find(add.input(add.input(0) == product ? 1 : 0));
  // float32 only: an Add of another type is refused by its own lowering, which the fusion must not bypass.
  if (it == symbols_.end() || it->second.kind != Symbol::Kind::constant || it->second.quant ||
      it->second.constant.onnx_type != onnx::TensorProto::FLOAT)
    return nullptr;
  const Constant& c = it->second.constant;
  if (c.shape.size() > out.shape.size() || (c.size() != n && c.size() != 1) ||
      (c.size() == n && n > 1 && (c.shape.empty() || c.shape.back() != n)))
    return nullptr;
  const std::vector<double> values = it->second.real_values();
  std::vector<float> bias(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j)
    bias[static_cast<size_t>(j)] =
        static_cast<float>(values[values.size() == 1 ? 0 : static_cast<size_t>(j)]);
  attrs.addend = std::make_shared<TensorF32>(Shape{n}, std::move(bias));
  mark_consumed(&add);
  graph_.value(y).name = add.output(0);
  return &add;
}

bool Importer::lower_float_matmul(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  const Attributes a(node);
  auto reshaped = [&](ValueId v, Shape shape, const std::string& suffix) {
    return plain_reshape(node, v, std::move(shape), suffix);
  };
  auto float_output = [&](ValueId like, const std::string& name) {
    Value out = graph_.value(like);
    out.name = name;
    out.type = ElementType::f32;
    out.layout = Layout::plain;
    out.constant = nullptr;
    return out;
  };
  // A fully connected layer over the last dimension of x: weights [N, K], bias [N] or empty.
  auto fully_connected = [&](ValueId x, std::vector<float> weights, int64_t n, int64_t k,
                             std::vector<float> bias, const std::string& name) {
    FloatFullyConnectedAttrs attrs;
    attrs.weights = std::make_shared<TensorF32>(Shape{n, k}, std::move(weights));
    if (!bias.empty()) attrs.bias = std::make_shared<TensorF32>(Shape{n}, std::move(bias));
    return emit(node, OpKind::fully_connected, {x}, std::move(attrs), float_output(x, name));
  };

  if (op == "MatMul") {
    a.expect_only({});
    ValueId x = as_plain(float_input(node, 0), node);
    const Shape sa = graph_.value(x).shape;
    if (sa.empty()) throw Error(describe(node) + ": MatMul of a scalar");
    const Symbol& bs = symbol(node, 1);
    if (bs.kind == Symbol::Kind::constant && bs.constant.shape.size() == 2) {
      const ValueId y = build_float_matmul_constant(node, x, bs.constant.shape, RealValues(bs));
      if (const onnx::NodeProto* add = take_bias_add(node, y)) {
        define_real(*add, 0, y);
        return true;
      }
      define_real(node, 0, y);
      return true;
    }
    ValueId b = as_plain(float_input(node, 1), node);
    const Shape sb = graph_.value(b).shape;
    if (sb.empty()) throw Error(describe(node) + ": MatMul of a scalar");
    // NumPy's rank-1 rules: a vector on the left is a row, on the right a column, and the added dimension
    // is removed from the result.
    if (sa.size() == 1) x = reshaped(x, {1, sa[0]}, "#row");
    if (sb.size() == 1) b = reshaped(b, {sb[0], 1}, "#column");
    ValueId y = emit(node, OpKind::matmul, {x, b}, {}, float_output(x, node.output(0)));
    if (sa.size() == 1 || sb.size() == 1) {
      Shape s = graph_.value(y).shape;
      if (sb.size() == 1) s.pop_back();
      if (sa.size() == 1) s.erase(s.end() - (sb.size() == 1 ? 1 : 2));
      y = reshaped(y, s, "#squeeze");
    }
    define_real(node, 0, y);
    return true;
  }

  // Gemm: Y = alpha * A' B' + beta * C with A' = A or A^T, B' = B or B^T; A and B are matrices.
  a.expect_only({"alpha", "beta", "transA", "transB", "broadcast"});
  const float alpha = a.get_float("alpha", 1.0f), beta = a.get_float("beta", 1.0f);
  const bool trans_a = a.get_int("transA", 0) != 0, trans_b = a.get_int("transB", 0) != 0;
  ValueId x = as_plain(float_input(node, 0), node);
  if (graph_.value(x).shape.size() != 2) throw Error(describe(node) + ": A must be a matrix");
  if (trans_a) {
    Value t = float_output(x, node.output(0) + "#transposed");
    x = emit(node.name() + "#transpose_a", "(transpose)", OpKind::transpose, {x}, TransposeAttrs{{1, 0}}, t);
  }
  const int64_t k = graph_.value(x).shape[1];
  const Symbol& bs = symbol(node, 1);
  ValueId y = -1;
  bool bias_done = false;
  if (bs.kind == Symbol::Kind::constant) {
    const Shape& sb = bs.constant.shape;
    if (sb.size() != 2 || sb[trans_b ? 1 : 0] != k)
      throw Error(describe(node) + ": B of shape " + to_string(sb) +
                  " does not fit A with K = " + std::to_string(k));
    const int64_t n = sb[trans_b ? 0 : 1];
    std::vector<float> w = weights_n_by_k(RealValues(bs), k, n, trans_b, alpha);
    // C of [N] (or one value): the layer's bias.
    std::vector<float> bias;
    if (has_input(node, 2) && symbol(node, 2).kind == Symbol::Kind::constant) {
      const Constant& c = symbol(node, 2).constant;
      const bool per_column = c.values.size() == 1 || (c.shape.size() >= 1 && c.shape.back() == n &&
                                                       static_cast<int64_t>(c.values.size()) == n);
      if (per_column) {
        const std::vector<double> cv = symbol(node, 2).real_values();
        for (int64_t j = 0; j < n; ++j)
          bias.push_back(static_cast<float>(beta * cv[cv.size() == 1 ? 0 : static_cast<size_t>(j)]));
        bias_done = true;
      }
    }
    y = fully_connected(x, std::move(w), n, k, std::move(bias), node.output(0));
  } else {
    ValueId b = as_plain(float_input(node, 1), node);
    if (trans_b) {
      Value t = float_output(b, node.output(0) + "#b_transposed");
      b = emit(node.name() + "#transpose_b", "(transpose)", OpKind::transpose, {b}, TransposeAttrs{{1, 0}},
               t);
    }
    y = emit(node, OpKind::matmul, {x, b}, {}, float_output(x, node.output(0)));
    if (alpha != 1.0f) {
      Constant s{onnx::TensorProto::FLOAT, {}, {alpha}};
      y = emit(node.name() + "#alpha", "Gemm (alpha)", OpKind::binary,
               {y, constant_value(node.output(0) + "#alpha", s)}, BinaryAttrs{BinaryOp::mul},
               float_output(y, node.output(0) + "#scaled"));
    }
  }
  if (has_input(node, 2) && !bias_done) {
    ValueId c = as_plain(float_input(node, 2), node);
    if (beta != 1.0f) {
      Constant s{onnx::TensorProto::FLOAT, {}, {beta}};
      c = emit(node.name() + "#beta", "Gemm (beta)", OpKind::binary,
               {c, constant_value(node.output(0) + "#beta", s)}, BinaryAttrs{BinaryOp::mul},
               float_output(c, node.output(0) + "#c"));
    }
    y = emit(node.name() + "#c", "Gemm (C)", OpKind::binary, {y, c}, BinaryAttrs{BinaryOp::add},
             float_output(y, node.output(0) + "#sum"));
  }
  define_real(node, 0, y);
  return true;
}

}  // namespace octet::graph::onnx_import
