#include "graph/shapes.h"

#include <set>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/integer_elementwise.h"
#include "kernels/reference/integer_reduce.h"

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

// The inputs of n joined along `axis`: they agree everywhere else.
Shape concatenated_shape(const Graph& g, const Node& n, int64_t axis_index) {
  Shape s = input_shape(g, n, 0);
  const auto axis = static_cast<size_t>(axis_index);
  if (axis_index < 0 || axis >= s.size()) throw Error(where(n) + ": concatenation axis out of range");
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

int64_t weight_dim(const Weights& w, size_t i) {
  return std::visit([i](const auto& t) { return t.shape.at(i); }, w);
}

}  // namespace

Shape onnx_shape(const Value& v) {
  if (v.layout == Layout::nhwc) return {v.shape[0], v.shape[3], v.shape[1], v.shape[2]};
  return v.shape;
}

namespace {

Shape output_shape_of(const Graph& g, const Node& n, const Value& out);

}  // namespace

Shape infer_output_shape(const Graph& g, const Node& n, const Value& out) {
  try {
    return output_shape_of(g, n, out);
  } catch (const Error& e) {
    // The kernels' own size checks (a pool window larger than its padded input, a transposed
    // convolution's output padding) word their errors in the kernel's terms: the node is named here.
    const std::string what = e.what(), node = where(n);
    if (what.starts_with(node)) throw;
    throw Error(node + ": " + what);
  }
}

namespace {

Shape output_shape_of(const Graph& g, const Node& n, const Value& out) {
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
      bool transposed = false;
      ref::Conv2dParams conv;
      ref::ConvTranspose2dParams transpose;
      Shape w;
      if (const auto* f = std::get_if<FloatConvAttrs>(&n.attrs)) {
        transposed = f->transposed, conv = f->conv, transpose = f->transpose, w = f->weights->shape;
      } else {
        const auto& a = attrs_of<ConvAttrs>(n);
        transposed = a.transposed, conv = a.conv, transpose = a.transpose;
        w = std::visit([](const auto& t) { return t.shape; }, *a.weights);
      }
      if (w.size() != 4) throw Error(where(n) + ": weights must be [C_out, KH, KW, C_in / groups]");
      const int64_t kh = w[1], kw = w[2], co = w[0];
      if (transposed) {
        const auto& p = transpose;
        return {in[0],
                ref::conv_transpose_output_size("height", in[1], kh, p.stride_h, p.dilation_h, p.pad.top,
                                                p.pad.bottom, p.output_padding_h),
                ref::conv_transpose_output_size("width", in[2], kw, p.stride_w, p.dilation_w, p.pad.left,
                                                p.pad.right, p.output_padding_w),
                co};
      }
      const auto& p = conv;
      return {in[0],
              ref::conv_output_size("conv2d", "height", in[1], kh, p.stride_h, p.dilation_h, p.pad.top,
                                    p.pad.bottom),
              ref::conv_output_size("conv2d", "width", in[2], kw, p.stride_w, p.dilation_w, p.pad.left,
                                    p.pad.right),
              co};
    }
    case OpKind::fully_connected: {
      Shape s = input_shape(g, n, 0);
      int64_t k = 0, cout = 0;
      if (const auto* f = std::get_if<FloatFullyConnectedAttrs>(&n.attrs)) {
        k = f->weights->shape.at(1), cout = f->weights->shape.at(0);
      } else {
        const auto& a = attrs_of<FullyConnectedAttrs>(n);
        k = weight_dim(*a.weights, 1), cout = weight_dim(*a.weights, 0);
      }
      if (s.empty() || s.back() != k)
        throw Error(where(n) + ": input " + to_string(s) + " does not end in K = " + std::to_string(k));
      s.back() = cout;
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
    case OpKind::binary:
      return broadcast_shape(where(n), input_shape(g, n, 0), input_shape(g, n, 1));
    case OpKind::where:
      return broadcast_shape(where(n), broadcast_shape(where(n), input_shape(g, n, 0), input_shape(g, n, 1)),
                             input_shape(g, n, 2));
    case OpKind::normalize: {
      const NormAttrs& a = attrs_of<NormAttrs>(n);
      const Shape& first = input_shape(g, n, 0);
      if (a.axis < 0 || a.axis >= static_cast<int64_t>(first.size()))
        throw Error(where(n) + ": normalization axis out of range");
      // A channel affine reading a Concat's pieces (graph/passes/fuse_concat_affine.h): their concatenation,
      // along the innermost axis, which is where the kernel reads pieces.
      if (n.inputs.size() > 1 &&
          (a.kind != NormKind::channel_affine || a.axis != static_cast<int64_t>(first.size()) - 1))
        throw Error(where(n) + ": only a channel affine along the innermost axis reads several inputs");
      const Shape s = n.inputs.size() > 1 ? concatenated_shape(g, n, a.axis) : first;
      // A channel affine's scale and shift have one value per channel (the kernels read that many).
      const auto channels = static_cast<size_t>(s[static_cast<size_t>(a.axis)]);
      if (a.kind == NormKind::channel_affine &&
          (!a.scale || !a.shift || a.scale->data.size() != channels || a.shift->data.size() != channels))
        throw Error(where(n) + ": the channel affine needs " + std::to_string(channels) +
                    " scale and shift values");
      return s;
    }
    case OpKind::unary:
    case OpKind::cast:
      return input_shape(g, n, 0);
    case OpKind::reduce: {
      Shape s = input_shape(g, n, 0);
      for (int64_t axis : attrs_of<ReduceAttrs>(n).axes) {
        if (axis < 0 || axis >= static_cast<int64_t>(s.size()))
          throw Error(where(n) + ": reduce axis out of range");
        s[static_cast<size_t>(axis)] = 1;
      }
      return s;
    }
    case OpKind::arg_reduce: {
      Shape s = input_shape(g, n, 0);
      const int64_t axis = attrs_of<ArgReduceAttrs>(n).axis;
      if (axis < 0 || axis >= static_cast<int64_t>(s.size())) throw Error(where(n) + ": axis out of range");
      if (s[static_cast<size_t>(axis)] == 0) throw Error(where(n) + ": ArgMax / ArgMin over an empty axis");
      s[static_cast<size_t>(axis)] = 1;
      return s;
    }
    case OpKind::dynamic_quantize:
      return attrs_of<DynamicQuantizeAttrs>(n).scale ? Shape{} : input_shape(g, n, 0);
    case OpKind::top_k: {
      Shape s = input_shape(g, n, 0);
      const TopKAttrs& a = attrs_of<TopKAttrs>(n);
      if (a.axis < 0 || a.axis >= static_cast<int64_t>(s.size()))
        throw Error(where(n) + ": axis out of range");
      if (a.k < 0 || a.k > s[static_cast<size_t>(a.axis)])
        throw Error(where(n) + ": k = " + std::to_string(a.k) + " exceeds the axis's " +
                    std::to_string(s[static_cast<size_t>(a.axis)]) + " elements");
      s[static_cast<size_t>(a.axis)] = a.k;
      return s;
    }
    case OpKind::matmul: {
      const Shape& a = input_shape(g, n, 0);
      const Shape& b = input_shape(g, n, 1);
      if (a.size() < 2 || b.size() < 2) throw Error(where(n) + ": matmul operands need rank >= 2");
      if (a.back() != b[b.size() - 2])
        throw Error(where(n) + ": cannot multiply " + to_string(a) + " by " + to_string(b));
      Shape s = broadcast_shape(where(n), Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
      s.push_back(a[a.size() - 2]);
      s.push_back(b.back());
      return s;
    }
    case OpKind::slice:
      return ref::slice_shape(attrs_of<SliceAttrs>(n).axes);
    case OpKind::pad: {
      const auto& a = attrs_of<PadAttrs>(n);
      return ref::pad_shape(input_shape(g, n, 0), a.begin, a.end, where(n));
    }
    case OpKind::gather: {
      const Shape& in = input_shape(g, n, 0);
      const auto& a = attrs_of<GatherAttrs>(n);
      if (a.axis < 0 || a.axis >= static_cast<int64_t>(in.size()))
        throw Error(where(n) + ": axis out of range");
      if (!a.indices && input_shape(g, n, 1) != a.index_shape)
        throw Error(where(n) + ": the indices' shape " + to_string(input_shape(g, n, 1)) + " is not " +
                    to_string(a.index_shape));
      Shape s(in.begin(), in.begin() + a.axis);
      s.insert(s.end(), a.index_shape.begin(), a.index_shape.end());
      s.insert(s.end(), in.begin() + a.axis + 1, in.end());
      return s;
    }
    case OpKind::recurrent: {
      const RecurrentAttrs& a = attrs_of<RecurrentAttrs>(n);
      if (!a.params) throw Error(where(n) + ": no recurrent parameters");
      const ref::RecurrentParams& p = *a.params;
      const int64_t G = p.gates(), H = p.hidden_size, D = p.directions;
      if (p.steps < 0 || p.batch < 0 || p.input_size < 0 || H < 1 || (D != 1 && D != 2) ||
          static_cast<int64_t>(p.activations.size()) != D * p.functions() ||
          static_cast<int64_t>(p.w.size()) != D * G * H * p.input_size ||
          static_cast<int64_t>(p.r.size()) != D * G * H * H ||
          static_cast<int64_t>(p.b.size()) != D * 2 * G * H ||
          (p.cell == ref::RecurrentCell::lstm && static_cast<int64_t>(p.p.size()) != D * 3 * H))
        throw Error(where(n) + ": inconsistent recurrent parameters");
      const size_t states = size_t{a.initial_h} + size_t{a.initial_c};
      const size_t inputs = 1 + states + size_t{a.sequence_lens};
      if (n.inputs.size() != inputs)
        throw Error(where(n) + ": expects " + std::to_string(inputs) + " inputs");
      const Shape x =
          p.batch_first ? Shape{p.batch, p.steps, p.input_size} : Shape{p.steps, p.batch, p.input_size};
      if (input_shape(g, n, 0) != x)
        throw Error(where(n) + ": X has shape " + to_string(input_shape(g, n, 0)) + ", expected " +
                    to_string(x));
      const Shape state = p.batch_first ? Shape{p.batch, D, H} : Shape{D, p.batch, H};
      for (size_t i = 1; i <= states; ++i)
        if (input_shape(g, n, i) != state)
          throw Error(where(n) + ": an initial state has shape " + to_string(input_shape(g, n, i)) +
                      ", expected " + to_string(state));
      if (a.sequence_lens && input_shape(g, n, inputs - 1) != Shape{p.batch})
        throw Error(where(n) + ": sequence_lens has shape " + to_string(input_shape(g, n, inputs - 1)) +
                    ", expected [" + std::to_string(p.batch) + "]");
      return ref::recurrent_output_shape(p, a.output);
    }
    case OpKind::roi_align: {
      if (n.inputs.size() != 3) throw Error(where(n) + ": takes X, rois and batch_indices");
      const Shape& x = input_shape(g, n, 0);
      const Shape& rois = input_shape(g, n, 1);
      const Shape& batch = input_shape(g, n, 2);
      if (x.size() != 4) throw Error(where(n) + ": X must have rank 4, got " + to_string(x));
      if (rois.size() != 2 || rois[1] != 4)
        throw Error(where(n) + ": rois must be [num_rois, 4], got " + to_string(rois));
      if (batch != Shape{rois[0]})
        throw Error(where(n) + ": batch_indices must be [" + std::to_string(rois[0]) + "], got " +
                    to_string(batch));
      const ref::RoiAlignParams& p = attrs_of<RoiAlignAttrs>(n).params;
      return {rois[0], p.output_h, p.output_w, x[3]};
    }
    case OpKind::cumulative_sum: {
      const Shape& in = input_shape(g, n, 0);
      const int64_t axis = attrs_of<CumSumAttrs>(n).axis;
      if (axis < 0 || axis >= static_cast<int64_t>(in.size())) throw Error(where(n) + ": axis out of range");
      return in;
    }
    case OpKind::gather_elements:
      ref::check_gather_elements_shapes(input_shape(g, n, 0), attrs_of<IndexingAttrs>(n).axis,
                                        input_shape(g, n, 1), where(n));
      return input_shape(g, n, 1);
    case OpKind::gather_nd:
      return ref::gather_nd_shape(input_shape(g, n, 0), input_shape(g, n, 1),
                                  attrs_of<IndexingAttrs>(n).batch_dims, where(n));
    case OpKind::scatter_elements:
      ref::check_gather_elements_shapes(input_shape(g, n, 0), attrs_of<IndexingAttrs>(n).axis,
                                        input_shape(g, n, 1), where(n));
      if (input_shape(g, n, 2) != input_shape(g, n, 1))
        throw Error(where(n) + ": updates of shape " + to_string(input_shape(g, n, 2)) +
                    " for indices of shape " + to_string(input_shape(g, n, 1)));
      return input_shape(g, n, 0);
    case OpKind::scatter_nd:
      ref::check_scatter_nd_shapes(input_shape(g, n, 0), input_shape(g, n, 1), input_shape(g, n, 2),
                                   where(n));
      return input_shape(g, n, 0);
    case OpKind::expand: {
      const Shape& s = attrs_of<ReshapeAttrs>(n).shape;
      if (broadcast_shape(where(n), input_shape(g, n, 0), s) != s)
        throw Error(where(n) + ": cannot expand " + to_string(input_shape(g, n, 0)) + " to " + to_string(s));
      return s;
    }
    case OpKind::tile: {
      Shape s = input_shape(g, n, 0);
      const auto& r = attrs_of<TileAttrs>(n).repeats;
      if (r.size() != s.size()) throw Error(where(n) + ": one repeat count per dimension is needed");
      for (size_t d = 0; d < s.size(); ++d) {
        if (r[d] < 0) throw Error(where(n) + ": negative repeat count");
        if (__builtin_mul_overflow(s[d], r[d], &s[d]))
          throw Error(where(n) + ": dimension " + std::to_string(d) + " repeated " + std::to_string(r[d]) +
                      " times overflows");
      }
      element_count(s, where(n));
      return s;
    }
    case OpKind::channel_shuffle: {
      const Shape& in = input_shape(g, n, 0);
      const int64_t groups = attrs_of<ChannelShuffleAttrs>(n).groups;
      if (in.empty() || groups < 1 || in.back() % groups != 0)
        throw Error(where(n) + ": " + std::to_string(groups) + " groups do not divide the channels of " +
                    to_string(in));
      return in;
    }
    case OpKind::depth_to_space: {
      const Shape& in = input_shape(g, n, 0);
      const auto& a = attrs_of<DepthToSpaceAttrs>(n);
      if (in.size() != 4 || a.block < 1)
        throw Error(where(n) + ": needs a rank-4 NCHW tensor and block >= 1");
      int64_t bb = 0;
      if (__builtin_mul_overflow(a.block, a.block, &bb)) throw Error(where(n) + ": blocksize^2 overflows");
      Shape out;
      if (a.to_space) {
        if (in[1] % bb != 0) throw Error(where(n) + ": channels are not a multiple of blocksize^2");
        out = {in[0], in[1] / bb, 0, 0};
        if (__builtin_mul_overflow(in[2], a.block, &out[2]) ||
            __builtin_mul_overflow(in[3], a.block, &out[3]))
          throw Error(where(n) + ": height or width times blocksize overflows");
      } else {
        if (in[2] % a.block != 0 || in[3] % a.block != 0)
          throw Error(where(n) + ": height and width must be multiples of blocksize");
        out = {in[0], 0, in[2] / a.block, in[3] / a.block};
        if (__builtin_mul_overflow(in[1], bb, &out[1]))
          throw Error(where(n) + ": channels times blocksize^2 overflows");
      }
      element_count(out, where(n));
      return out;
    }
    case OpKind::concat:
      return concatenated_shape(g, n, attrs_of<ConcatAttrs>(n).axis);
    case OpKind::resize: {
      const Shape& in = nhwc_input(g, n);
      const auto& p = attrs_of<ResizeAttrs>(n).params.base;
      return {in[0], p.out_h, p.out_w, in[3]};
    }
  }
  (void)out;
  throw Error(where(n) + ": unknown operator kind");
}

// Operators that only move or select elements: they take any element type and keep uint8 params.
bool moves_elements(OpKind kind) {
  switch (kind) {
    case OpKind::max_pool:
    case OpKind::reshape:
    case OpKind::transpose:
    case OpKind::resize:
    case OpKind::slice:
    case OpKind::pad:
    case OpKind::gather:
    case OpKind::gather_elements:
    case OpKind::gather_nd:
    case OpKind::scatter_elements:
    case OpKind::scatter_nd:
    case OpKind::expand:
    case OpKind::tile:
    case OpKind::depth_to_space:
    case OpKind::channel_shuffle:
      return true;
    default:
      return false;
  }
}

// The element types an operator takes and gives, checked here once so that the kernels can trust them.
void check_types(const Graph& g, const Node& n) {
  const Value& out = g.value(n.output);
  auto type_of = [&](size_t i) { return g.value(n.inputs.at(i)).type; };
  auto expect = [&](ElementType got, ElementType want, const std::string& role) {
    if (got != want)
      throw Error(where(n) + ": " + role + " must be " + std::string(name_of(want)) + ", got " +
                  std::string(name_of(got)));
  };
  auto all_inputs = [&](ElementType want) {
    for (size_t i = 0; i < n.inputs.size(); ++i)
      expect(type_of(i), want, "input '" + g.value(n.inputs[i]).name + "'");
  };
  const bool float_weights = std::holds_alternative<FloatConvAttrs>(n.attrs) ||
                             std::holds_alternative<FloatFullyConnectedAttrs>(n.attrs);
  switch (n.kind) {
    case OpKind::quantize:
      all_inputs(ElementType::f32);
      return expect(out.type, ElementType::u8, "output");
    case OpKind::dequantize:
      all_inputs(ElementType::u8);
      return expect(out.type, ElementType::f32, "output");
    case OpKind::conv:
    case OpKind::fully_connected:
      all_inputs(float_weights ? ElementType::f32 : ElementType::u8);
      return expect(out.type, float_weights ? ElementType::f32 : ElementType::u8, "output");
    case OpKind::add:
    case OpKind::mul:
    case OpKind::requantize:
    case OpKind::lut:
      all_inputs(ElementType::u8);
      return expect(out.type, ElementType::u8, "output");
    case OpKind::softmax:
      if (type_of(0) == ElementType::f32) return expect(out.type, ElementType::f32, "output");
      expect(type_of(0), ElementType::u8, "input");
      if (out.type != ElementType::u8 && out.type != ElementType::f32)
        throw Error(where(n) + ": output must be uint8 or float32");
      return;
    case OpKind::reduce:
      if (type_of(0) == ElementType::s64 && ref::int64_reduces(attrs_of<ReduceAttrs>(n).op))
        return expect(out.type, ElementType::s64, "output");
      all_inputs(ElementType::f32);
      return expect(out.type, ElementType::f32, "output");
    case OpKind::matmul:
      // Float, or two uint8 activations with a uint8 result (a QDQ MatMul of activations).
      if (type_of(0) == ElementType::u8) {
        all_inputs(ElementType::u8);
        return expect(out.type, ElementType::u8, "output");
      }
      all_inputs(ElementType::f32);
      return expect(out.type, ElementType::f32, "output");
    case OpKind::normalize:
      // A channel affine with its Dequantize and Quantize folded in (graph/passes/fold_affine_quantization.h)
      // reads and writes uint8, along the innermost axis.
      if (type_of(0) == ElementType::u8) {
        const NormAttrs& a = attrs_of<NormAttrs>(n);
        if (a.kind != NormKind::channel_affine ||
            a.axis != static_cast<int64_t>(g.value(n.inputs[0]).shape.size()) - 1)
          throw Error(where(n) + ": only a channel affine along the innermost axis takes uint8");
        // Several inputs: a Concat's pieces (graph/passes/fuse_concat_affine.h), dequantized with its params.
        if (n.inputs.size() > 1 && (a.joined_quant.scales.empty() || !a.joined_quant.is_per_tensor()))
          throw Error(where(n) +
                      ": a uint8 channel affine of several inputs needs the joined per-tensor params");
        all_inputs(ElementType::u8);
        return expect(out.type, ElementType::u8, "output");
      }
      all_inputs(ElementType::f32);
      return expect(out.type, ElementType::f32, "output");
    case OpKind::unary:
      all_inputs(ElementType::f32);
      return expect(out.type, ElementType::f32, "output");
    case OpKind::binary: {
      const BinaryOp op = attrs_of<BinaryAttrs>(n).op;
      // int64 operands (index arithmetic) where the operator has an integer form; float32 otherwise.
      const ElementType operand = takes_bool(op) ? ElementType::b8
                                  : type_of(0) == ElementType::s64 && ref::int64_computes(op)
                                      ? ElementType::s64
                                      : ElementType::f32;
      all_inputs(operand);
      return expect(out.type, produces_bool(op) ? ElementType::b8 : operand, "output");
    }
    case OpKind::arg_reduce:
      all_inputs(ElementType::f32);
      return expect(out.type, ElementType::s64, "output");
    case OpKind::dynamic_quantize:
      all_inputs(ElementType::f32);
      return expect(out.type, ElementType::f32, "output");
    case OpKind::top_k:
      all_inputs(ElementType::f32);
      return expect(out.type, attrs_of<TopKAttrs>(n).indices ? ElementType::s64 : ElementType::f32, "output");
    case OpKind::where:
      expect(type_of(0), ElementType::b8, "condition");
      expect(type_of(1), out.type, "input X");
      return expect(type_of(2), out.type, "input Y");
    case OpKind::cast:
      return expect(out.type, attrs_of<CastAttrs>(n).to, "output");
    case OpKind::recurrent: {
      const RecurrentAttrs& a = attrs_of<RecurrentAttrs>(n);
      for (size_t i = 0; i < n.inputs.size(); ++i)
        expect(type_of(i), a.sequence_lens && i + 1 == n.inputs.size() ? ElementType::s64 : ElementType::f32,
               "input '" + g.value(n.inputs[i]).name + "'");
      return expect(out.type, ElementType::f32, "output");
    }
    case OpKind::roi_align:
      expect(type_of(0), ElementType::f32, "input X");
      expect(type_of(1), ElementType::f32, "rois");
      expect(type_of(2), ElementType::s64, "batch_indices");
      return expect(out.type, ElementType::f32, "output");
    case OpKind::cumulative_sum:
      if (out.type != ElementType::f32 && out.type != ElementType::s64)
        throw Error(where(n) + ": sums float32 or int64 tensors, got " + std::string(name_of(out.type)));
      return all_inputs(out.type);
    case OpKind::gather:
    case OpKind::gather_elements:
    case OpKind::gather_nd:
    case OpKind::scatter_elements:
    case OpKind::scatter_nd: {
      const bool indexed = n.kind != OpKind::gather || !attrs_of<GatherAttrs>(n).indices;
      const size_t inputs = n.kind == OpKind::scatter_elements || n.kind == OpKind::scatter_nd ? 3
                            : indexed                                                          ? 2
                                                                                               : 1;
      if (n.inputs.size() != inputs)
        throw Error(where(n) + ": expects " + std::to_string(inputs) + " input(s), has " +
                    std::to_string(n.inputs.size()));
      expect(type_of(0), out.type, "data");
      if (indexed) expect(type_of(1), ElementType::s64, "indices");
      if (inputs == 3) {
        expect(type_of(2), out.type, "updates");
        if (attrs_of<IndexingAttrs>(n).reduction != ref::ScatterReduction::none &&
            out.type != ElementType::f32 && out.type != ElementType::s64)
          throw Error(where(n) + ": a scatter reduction needs float32 or int64 data, got " +
                      std::string(name_of(out.type)));
      }
      return;
    }
    case OpKind::pad: {
      const auto& a = attrs_of<PadAttrs>(n);
      if (a.mode == ref::PadMode::constant && a.value.size() != size_of(out.type))
        throw Error(where(n) + ": the pad value does not match the element type");
      [[fallthrough]];
    }
    default:  // pooling, concat, resize and the element movers keep their input's type
      for (size_t i = 0; i < n.inputs.size(); ++i)
        expect(type_of(i), out.type, "input '" + g.value(n.inputs[i]).name + "'");
      if ((n.kind == OpKind::average_pool || n.kind == OpKind::global_average_pool ||
           n.kind == OpKind::resize) &&
          out.type != ElementType::u8 && out.type != ElementType::f32)
        throw Error(where(n) + ": takes uint8 or float32 tensors");
      return;
  }
}

// A quantized convolution reads its input, and with a fused residual add (ResidualAddAttrs) also the add's
// other operand: a per-tensor uint8 tensor of the output's shape, as the add's own params are.
void check_residual(const Graph& g, const Node& n, const ConvAttrs& a) {
  const size_t inputs = a.residual ? 2 : 1;
  if (n.inputs.size() != inputs)
    throw Error(where(n) + ": expects " + std::to_string(inputs) + " input(s), has " +
                std::to_string(n.inputs.size()));
  if (!a.residual) return;
  const Value& out = g.value(n.output);
  const Value& other = g.value(n.inputs[1]);
  if (other.shape != out.shape)
    throw Error(where(n) + ": residual input '" + other.name + "' has shape " + to_string(other.shape) +
                ", the output " + to_string(out.shape));
  validate(a.residual->conv_output, ElementType::u8, out.shape, where(n) + " convolution output");
  for (const QuantParams* q : {&a.residual->conv_output, &other.quant, &out.quant})
    if (!q->is_per_tensor()) throw Error(where(n) + ": the fused add's params must be per tensor");
  validate(a.residual->clamp, where(n));
}

// A float convolution reads its input, and with a fused residual add also the add's other operand: a
// tensor of the output's shape (its float32 type is check_types').
void check_float_residual(const Graph& g, const Node& n, const FloatConvAttrs& a) {
  const size_t inputs = a.residual ? 2 : 1;
  if (n.inputs.size() != inputs)
    throw Error(where(n) + ": expects " + std::to_string(inputs) + " input(s), has " +
                std::to_string(n.inputs.size()));
  if (a.residual && a.transposed) throw Error(where(n) + ": a transposed convolution adds no residual");
  if (a.residual && g.value(n.inputs[1]).shape != g.value(n.output).shape)
    throw Error(where(n) + ": residual input '" + g.value(n.inputs[1]).name + "' has shape " +
                to_string(g.value(n.inputs[1]).shape) + ", the output " + to_string(g.value(n.output).shape));
}

}  // namespace

void check_graph(const Graph& g) {
  std::set<ValueId> defined(g.inputs.begin(), g.inputs.end());
  for (size_t id = 0; id < g.values.size(); ++id)
    if (g.values[id].is_constant()) {
      const Value& v = g.values[id];
      if (static_cast<int64_t>(v.constant->size()) !=
          element_count(v.shape, v.name) * static_cast<int64_t>(size_of(v.type)))
        throw Error("constant '" + v.name + "': its data does not match its shape " + to_string(v.shape));
      defined.insert(static_cast<ValueId>(id));
    }
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
    check_types(g, n);
    // Operators that only move bytes accept raw uint8 data without quantization params (a uint8 model
    // input that is reshaped or max-pooled, say); every other one needs valid params.
    const bool moves_bytes = moves_elements(n.kind);
    auto check_params = [&](const Value& v, const std::string& role) {
      // Cast reads and writes uint8 tensors as the integers they hold.
      if (v.type != ElementType::u8 || ((moves_bytes || n.kind == OpKind::cast) && v.quant.scales.empty()))
        return;
      validate(v.quant, ElementType::u8, v.shape, where(n) + " " + role + " '" + v.name + "'");
    };
    check_params(out, "output");
    for (ValueId id : n.inputs)
      check_params(g.value(id), "input");
    if (infer_output_shape(g, n, out) != out.shape)
      throw Error(where(n) + ": output '" + out.name + "' has shape " + to_string(out.shape) +
                  " but its inputs imply " + to_string(infer_output_shape(g, n, out)));
    // Operators that move values without arithmetic must keep the quantization params exactly (a Resize of
    // real values may requantize into its QuantizeLinear's params).
    const bool requantizing_resize = n.kind == OpKind::resize && attrs_of<ResizeAttrs>(n).real_values;
    if (moves_bytes && !requantizing_resize && g.value(n.inputs[0]).type == ElementType::u8 &&
        !(g.value(n.inputs[0]).quant == out.quant))
      throw Error(where(n) + ": output '" + out.name + "' must keep the quantization params of input '" +
                  g.value(n.inputs[0]).name + "'");
    if (const auto* conv = std::get_if<ConvAttrs>(&n.attrs)) check_residual(g, n, *conv);
    if (const auto* conv = std::get_if<FloatConvAttrs>(&n.attrs)) check_float_residual(g, n, *conv);
  }
  for (ValueId id : g.outputs) {
    check_id(id, "graph output");
    if (!defined.count(id)) throw Error("graph output '" + g.value(id).name + "' is never computed");
  }
}

}  // namespace octet::graph
