// Einsum as octet's own float operators: each operand's labels that nothing later needs are summed out
// (ReduceSum), and operands are contracted two at a time, left to right, as one batched MatMul: the left
// operand transposed to [batch..., kept..., contracted...] and the right one to [batch..., contracted...,
// kept...], both reshaped to rank batch + 2 so that MatMul's broadcasting matches batch labels of size 1
// against larger ones (an ellipsis's broadcast). A last Transpose puts the result's labels in the output's
// order. Attention blocks and some detection heads export their products this way ("bhqd,bhkd->bhqk",
// "nchw,kc->nkhw"). A label repeated within one operand (a diagonal, "ii->i") is refused.

#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "graph/onnx/importer.h"
#include "kernels/error.h"

namespace octet::graph::onnx_import {

namespace {

// Labels: the 52 letters as 0..51 (A..Z, a..z), ellipsis dimensions as 52 + their position from the left in
// the widest ellipsis (so that ellipses of different ranks align from the right, as broadcasting does).
constexpr int kEllipsisBase = 52;

// In ASCII order (upper case first), the order of an implicit output (numpy's, ONNX's definition).
int letter_label(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -1;
}

struct Term {
  std::vector<int> letters;  // with -1 where the ellipsis stands
  bool ellipsis = false;
};

Term parse_term(const std::string& text, const std::string& what) {
  Term t;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "...") == 0) {
      if (t.ellipsis) throw Error(what + ": more than one ellipsis in '" + text + "'");
      t.ellipsis = true;
      t.letters.push_back(-1);
      i += 2;
      continue;
    }
    const int l = letter_label(text[i]);
    if (l < 0) throw Error(what + ": '" + std::string(1, text[i]) + "' is not a label in '" + text + "'");
    t.letters.push_back(l);
  }
  return t;
}

// The labels of a term for an operand of rank `rank`, its ellipsis taking rank - letters dimensions.
std::vector<int> expand_term(const Term& t, size_t rank, size_t widest, const std::string& what) {
  const size_t letters = t.letters.size() - (t.ellipsis ? 1 : 0);
  if (rank < letters || (!t.ellipsis && rank != letters))
    throw Error(what + ": an operand of rank " + std::to_string(rank) + " for " + std::to_string(letters) +
                " labels");
  std::vector<int> labels;
  for (int l : t.letters) {
    if (l >= 0) {
      labels.push_back(l);
      continue;
    }
    const size_t e = rank - letters;
    for (size_t k = 0; k < e; ++k)
      labels.push_back(kEllipsisBase + static_cast<int>(widest - e + k));
  }
  return labels;
}

std::string label_name(int l) {
  if (l >= kEllipsisBase) return "... dimension " + std::to_string(l - kEllipsisBase);
  return std::string(1, static_cast<char>(l < 26 ? 'A' + l : 'a' + (l - 26)));
}

bool contains(const std::vector<int>& v, int l) {
  return std::find(v.begin(), v.end(), l) != v.end();
}

}  // namespace

bool Importer::lower_einsum(const onnx::NodeProto& node) {
  const Attributes a(node);
  a.expect_only({"equation"});
  const std::string what = describe(node);
  std::string equation;
  for (char c : a.get_string("equation", ""))
    if (c != ' ') equation += c;
  if (equation.empty()) throw Error(what + ": attribute equation is required");
  const size_t arrow = equation.find("->");
  const std::string left = equation.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    const size_t comma = left.find(',', start);
    terms.push_back(parse_term(left.substr(start, comma - start), what));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (static_cast<int>(terms.size()) != node.input_size())
    throw Error(what + ": the equation has " + std::to_string(terms.size()) + " operands, the node " +
                std::to_string(node.input_size()));

  struct Operand {
    ValueId value;
    std::vector<int> labels;
  };
  std::vector<Operand> operands;
  size_t widest = 0;
  for (int i = 0; i < node.input_size(); ++i) {
    const ValueId v = as_plain(float_input(node, i), node);
    operands.push_back({v, {}});
    const size_t letters =
        terms[static_cast<size_t>(i)].letters.size() - (terms[static_cast<size_t>(i)].ellipsis ? 1 : 0);
    if (terms[static_cast<size_t>(i)].ellipsis && graph_.value(v).shape.size() >= letters)
      widest = std::max(widest, graph_.value(v).shape.size() - letters);
  }
  std::map<int, int64_t> sizes;  // the largest size of each label (1 broadcasts against it)
  for (size_t i = 0; i < operands.size(); ++i) {
    Operand& o = operands[i];
    o.labels = expand_term(terms[i], graph_.value(o.value).shape.size(), widest, what);
    for (size_t d = 0; d < o.labels.size(); ++d) {
      if (std::count(o.labels.begin(), o.labels.end(), o.labels[d]) > 1)
        throw Error(what + ": label " + label_name(o.labels[d]) + " repeats within operand " +
                    std::to_string(i) + " (a diagonal), which octet does not compute");
      const int64_t n = graph_.value(o.value).shape[d];
      int64_t& known = sizes.emplace(o.labels[d], n).first->second;
      if (n != known && n != 1 && known != 1)
        throw Error(what + ": label " + label_name(o.labels[d]) + " has sizes " + std::to_string(known) +
                    " and " + std::to_string(n));
      known = std::max(known, n);
    }
  }
  // The output's labels: given, or (implicit form) the ellipsis then the letters used once, alphabetically.
  std::vector<int> output;
  if (arrow != std::string::npos) {
    const Term t = parse_term(equation.substr(arrow + 2), what);
    for (int l : t.letters) {
      if (l >= 0) {
        if (!sizes.count(l)) throw Error(what + ": output label " + label_name(l) + " is in no operand");
        if (contains(output, l)) throw Error(what + ": output label " + label_name(l) + " repeats");
        output.push_back(l);
      } else {
        for (size_t k = 0; k < widest; ++k)
          output.push_back(kEllipsisBase + static_cast<int>(k));
      }
    }
  } else {
    for (size_t k = 0; k < widest; ++k)
      output.push_back(kEllipsisBase + static_cast<int>(k));
    for (int l = 0; l < kEllipsisBase; ++l) {
      int uses = 0;
      for (const Operand& o : operands)
        uses += static_cast<int>(std::count(o.labels.begin(), o.labels.end(), l));
      if (uses == 1) output.push_back(l);
    }
  }

  int step = 0;
  auto suffix = [&](const char* part) {  // "#part<k>", fresh for each node and value added
    std::string s("#");
    s += part;
    s += std::to_string(step++);
    return s;
  };
  auto float_value = [&](ValueId like, const std::string& n) {
    Value v = graph_.value(like);
    v.name = node.output(0);
    v.name += n;
    v.layout = Layout::plain;
    v.constant = nullptr;
    return v;
  };
  auto transpose_to = [&](Operand o, const std::vector<int>& order) {
    if (order == o.labels) return o;
    std::vector<int64_t> perm;
    for (int l : order)
      perm.push_back(std::find(o.labels.begin(), o.labels.end(), l) - o.labels.begin());
    const std::string n = suffix("transpose");
    return Operand{emit(node.name() + n, "Einsum", OpKind::transpose, {o.value}, TransposeAttrs{perm},
                        float_value(o.value, n)),
                   order};
  };
  // Sums out the labels of `o` that neither the output nor `later` operands need.
  auto sum_unneeded = [&](Operand o, const std::vector<int>& needed) {
    std::vector<int64_t> axes;
    std::vector<int> kept;
    Shape kept_shape;
    for (size_t d = 0; d < o.labels.size(); ++d)
      if (contains(needed, o.labels[d])) {
        kept.push_back(o.labels[d]);
        kept_shape.push_back(graph_.value(o.value).shape[d]);
      } else {
        axes.push_back(static_cast<int64_t>(d));
      }
    if (axes.empty()) return o;
    const std::string n = suffix("sum");
    const ValueId summed = emit(node.name() + n, "Einsum", OpKind::reduce, {o.value},
                                ReduceAttrs{ReduceOp::sum, axes}, float_value(o.value, n));
    return Operand{plain_reshape(node, summed, kept_shape, suffix("squeeze")), kept};
  };
  auto needed_after = [&](size_t first) {
    std::vector<int> needed = output;
    for (size_t i = first; i < operands.size(); ++i)
      needed.insert(needed.end(), operands[i].labels.begin(), operands[i].labels.end());
    return needed;
  };

  Operand acc = sum_unneeded(operands[0], needed_after(1));
  for (size_t i = 1; i < operands.size(); ++i) {
    const std::vector<int> later = needed_after(i + 1);
    std::vector<int> with_other = later;
    with_other.insert(with_other.end(), operands[i].labels.begin(), operands[i].labels.end());
    acc = sum_unneeded(acc, with_other);
    std::vector<int> with_acc = later;
    with_acc.insert(with_acc.end(), acc.labels.begin(), acc.labels.end());
    Operand b = sum_unneeded(operands[i], with_acc);
    std::vector<int> batch, contracted, a_kept, b_kept;
    for (int l : acc.labels) {
      if (contains(b.labels, l))
        (contains(later, l) ? batch : contracted).push_back(l);
      else
        a_kept.push_back(l);
    }
    for (int l : b.labels)
      if (!contains(acc.labels, l)) b_kept.push_back(l);
    auto size_in = [&](const Operand& o, int l) {
      return graph_.value(o.value)
          .shape[static_cast<size_t>(std::find(o.labels.begin(), o.labels.end(), l) - o.labels.begin())];
    };
    for (int l : contracted)
      if (size_in(acc, l) != size_in(b, l))
        throw Error(what + ": contracted label " + label_name(l) + " has sizes " +
                    std::to_string(size_in(acc, l)) + " and " + std::to_string(size_in(b, l)));
    auto product = [&](const Operand& o, const std::vector<int>& labels) {
      int64_t p = 1;
      for (int l : labels)
        p *= size_in(o, l);
      return p;
    };
    std::vector<int> a_order = batch, b_order = batch;
    a_order.insert(a_order.end(), a_kept.begin(), a_kept.end());
    a_order.insert(a_order.end(), contracted.begin(), contracted.end());
    b_order.insert(b_order.end(), contracted.begin(), contracted.end());
    b_order.insert(b_order.end(), b_kept.begin(), b_kept.end());
    const Operand at = transpose_to(acc, a_order), bt = transpose_to(b, b_order);
    Shape a_shape, b_shape, result_shape;
    for (int l : batch) {
      a_shape.push_back(size_in(acc, l));
      b_shape.push_back(size_in(b, l));
      result_shape.push_back(std::max(size_in(acc, l), size_in(b, l)));
    }
    a_shape.push_back(product(acc, a_kept));
    a_shape.push_back(product(acc, contracted));
    b_shape.push_back(product(b, contracted));
    b_shape.push_back(product(b, b_kept));
    for (int l : a_kept)
      result_shape.push_back(size_in(acc, l));
    for (int l : b_kept)
      result_shape.push_back(size_in(b, l));
    const ValueId am = plain_reshape(node, at.value, a_shape, suffix("left"));
    const ValueId bm = plain_reshape(node, bt.value, b_shape, suffix("right"));
    const std::string n = suffix("matmul");
    const ValueId product_value =
        emit(node.name() + n, "Einsum", OpKind::matmul, {am, bm}, {}, float_value(am, n));
    std::vector<int> labels = batch;
    labels.insert(labels.end(), a_kept.begin(), a_kept.end());
    labels.insert(labels.end(), b_kept.begin(), b_kept.end());
    acc = Operand{plain_reshape(node, product_value, result_shape, suffix("result")), labels};
  }
  acc = transpose_to(sum_unneeded(acc, output), output);
  Value out = float_value(acc.value, "");
  out.name = node.output(0);
  define_real(node, 0, emit(node, OpKind::unary, {acc.value}, UnaryAttrs{}, out));
  return true;
}

}  // namespace octet::graph::onnx_import
