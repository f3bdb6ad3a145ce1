#include "kernels/reference/movement.h"

#include <algorithm>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/movement_copy.h"
#include "kernels/reference/movement_work.h"

namespace octet::ref {

namespace detail {

std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> strides(s.size(), 0);
  if (element_count(s, "strides") == 0) return strides;
  if (!s.empty()) strides.back() = 1;
  for (size_t d = s.size(); d-- > 1;)
    strides[d - 1] = strides[d] * s[d];
  return strides;
}

size_t normalized_axis(int64_t axis, size_t rank, std::string_view what) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    throw Error(std::string(what) + ": axis " + std::to_string(axis) + " is out of range for rank " +
                std::to_string(rank));
  return static_cast<size_t>(axis < 0 ? axis + r : axis);
}

}  // namespace detail

namespace {

using detail::contiguous_strides;
using detail::normalized_axis;

std::string list(const std::vector<int64_t>& v) {
  return to_string(v);
}

}  // namespace

namespace detail {

void check_element_size(size_t element_size, std::string_view what) {
  if (element_size == 0 || element_size > (size_t{1} << 20))
    throw Error(std::string(what) + ": unsupported element size " + std::to_string(element_size));
}

void check_byte_count(int64_t count, size_t element_size, std::string_view what) {
  if (count > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(element_size))
    throw Error(std::string(what) + ": " + std::to_string(count) + " elements of " +
                std::to_string(element_size) + " bytes overflow the address space");
}

namespace {

// The input and output counts every operator checks.
void check_sizes(const Shape& in, const Shape& out, size_t element_size, std::string_view what) {
  check_element_size(element_size, what);
  check_byte_count(element_count(in, what), element_size, what);
  check_byte_count(element_count(out, what), element_size, what);
}

}  // namespace

MovementWork transpose_work(const void* x, const Shape& s, const std::vector<int64_t>& perm,
                            size_t element_size, void* y) {
  const size_t rank = s.size();
  if (perm.size() != rank)
    throw Error("transpose: perm " + list(perm) + " has " + std::to_string(perm.size()) +
                " entries for input shape " + to_string(s));
  std::vector<bool> seen(rank, false);
  for (const int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)])
      throw Error("transpose: perm " + list(perm) + " is not a permutation of the " + std::to_string(rank) +
                  " dimensions of " + to_string(s));
    seen[static_cast<size_t>(p)] = true;
  }
  check_sizes(s, s, element_size, "transpose");
  const std::vector<int64_t> in_strides = contiguous_strides(s);
  std::vector<int64_t> dims(rank), strides(rank);
  for (size_t d = 0; d < rank; ++d) {
    dims[d] = s[static_cast<size_t>(perm[d])];
    strides[d] = in_strides[static_cast<size_t>(perm[d])];
  }
  return strided_copy_work(x, std::move(dims), std::move(strides), 0, element_size, y);
}

MovementWork slice_work(const void* x, const Shape& s, const std::vector<SliceAxis>& axes,
                        size_t element_size, void* y) {
  if (axes.size() != s.size())
    throw Error("slice: " + std::to_string(axes.size()) + " slice axes for input shape " + to_string(s));
  const Shape out = slice_shape(axes);
  check_sizes(s, out, element_size, "slice");
  const std::vector<int64_t> in_strides = contiguous_strides(s);
  std::vector<int64_t> strides(s.size(), 0);
  int64_t base = 0;
  for (size_t d = 0; d < s.size(); ++d) {
    const SliceAxis& a = axes[d];
    if (a.step == 0) throw Error("slice: step 0 in dimension " + std::to_string(d));
    if (a.count == 0) continue;
    int64_t last = 0;
    if (a.start < 0 || a.start >= s[d] || __builtin_mul_overflow(a.count - 1, a.step, &last) ||
        __builtin_add_overflow(last, a.start, &last) || last < 0 || last >= s[d])
      throw Error("slice: " + std::to_string(a.count) + " elements from " + std::to_string(a.start) +
                  " in steps of " + std::to_string(a.step) + " leave dimension " + std::to_string(d) +
                  " of input shape " + to_string(s));
    base += a.start * in_strides[d];
    // A step can be anything when one element is taken; the stride is then unused.
    strides[d] = a.count > 1 ? a.step * in_strides[d] : 0;
  }
  return strided_copy_work(x, out, std::move(strides), base, element_size, y);
}

MovementWork gather_work(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                         const Shape& index_shape, size_t element_size, void* y, std::string_view what) {
  const std::string name(what);
  const size_t a = normalized_axis(axis, s.size(), what);
  Shape out(s.begin(), s.begin() + static_cast<ptrdiff_t>(a));
  out.insert(out.end(), index_shape.begin(), index_shape.end());
  out.insert(out.end(), s.begin() + static_cast<ptrdiff_t>(a) + 1, s.end());
  const int64_t count = element_count(index_shape, what);
  check_sizes(s, out, element_size, what);
  if (count > 0 && indices == nullptr) throw Error(name + ": no indices");
  const int64_t dim = s[a];
  std::vector<int64_t> sources(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t index = indices[i];
    if (index < -dim || index >= dim)
      throw Error(name + ": index " + std::to_string(index) + " (element " + std::to_string(i) +
                  " of the indices) is out of range for dimension " + std::to_string(a) + " of size " +
                  std::to_string(dim));
    sources[static_cast<size_t>(i)] = index < 0 ? index + dim : index;
  }
  const int64_t total = element_count(out, what);
  if (total == 0) return {};
  int64_t inner = 1;
  for (size_t d = a + 1; d < s.size(); ++d)
    inner *= s[d];
  MovementWork work;
  work.units = total;
  work.unit_bytes = static_cast<int64_t>(element_size);
  work.run = [=, sources = std::move(sources)](int64_t first, int64_t last) {
    const auto* in = static_cast<const std::byte*>(x);
    auto* o = static_cast<std::byte*>(y);
    with_element_size(element_size, [&](auto size) {
      const int64_t es = static_cast<int64_t>(static_cast<size_t>(size));
      const int64_t block = first / inner;
      int64_t outer = block / count, k = block % count, column = first % inner;
      for (int64_t e = first; e < last; column = 0) {
        const int64_t n = std::min(inner - column, last - e);
        const std::byte* src = in + ((outer * dim + sources[static_cast<size_t>(k)]) * inner + column) * es;
        if (inner == 1)
          std::memcpy(o + e * es, src, size);  // one element: a constant-size copy
        else
          copy_elements(o + e * es, src, n, size);
        e += n;
        if (++k == count) {
          k = 0;
          ++outer;
        }
      }
    });
  };
  return work;
}

namespace {

// y = x broadcast by `runs` (output element offsets), for Expand and Tile.
MovementWork broadcast_work(const void* x, BroadcastRuns<1> runs, size_t element_size, void* y) {
  const int64_t inner = runs.inner();
  MovementWork work;
  work.units = runs.outer() * inner;
  work.unit_bytes = static_cast<int64_t>(element_size);
  work.run = [=, runs = std::move(runs)](int64_t first, int64_t last) {
    const auto* in = static_cast<const std::byte*>(x);
    auto* out = static_cast<std::byte*>(y);
    const bool advances = runs.step(0) != 0;
    with_element_size(element_size, [&](auto size) {
      const int64_t es = static_cast<int64_t>(static_cast<size_t>(size));
      runs.for_range(first, last, [&](int64_t o, const std::array<int64_t, 1>& from, int64_t length) {
        if (advances)
          copy_elements(out + o * es, in + from[0] * es, length, size);
        else
          fill_elements(out + o * es, in + from[0] * es, length, size);
      });
    });
  };
  return work;
}

}  // namespace

MovementWork expand_work(const void* x, const Shape& s, const Shape& out, size_t element_size, void* y) {
  check_sizes(s, out, element_size, "expand");
  if (broadcast_shape("expand", s, out) != out)
    throw Error("expand: " + to_string(s) + " expanded by " + to_string(out) + " is " +
                to_string(broadcast_shape("expand", s, out)) + ", not " + to_string(out));
  return broadcast_work(x, BroadcastRuns<1>("expand", out, {s}), element_size, y);
}

MovementWork tile_work(const void* x, const Shape& s, const std::vector<int64_t>& repeats,
                       size_t element_size, void* y) {
  if (repeats.size() != s.size())
    throw Error("tile: " + std::to_string(repeats.size()) + " repeats " + list(repeats) +
                " for input shape " + to_string(s));
  // Tiling is broadcasting [1, s0, 1, s1, ...] to [r0, s0, r1, s1, ...]: the same bytes in the same order.
  Shape in_view, out_view, out;
  for (size_t d = 0; d < s.size(); ++d) {
    int64_t tiled = 0;
    if (repeats[d] < 0 || (s[d] >= 0 && __builtin_mul_overflow(repeats[d], s[d], &tiled)))
      throw Error("tile: repeats " + list(repeats) + " for input shape " + to_string(s) +
                  " must be >= 0 and keep every dimension in int64");
    in_view.insert(in_view.end(), {1, s[d]});
    out_view.insert(out_view.end(), {repeats[d], s[d]});
    out.push_back(tiled);
  }
  check_sizes(s, out, element_size, "tile");
  return broadcast_work(x, BroadcastRuns<1>("tile", out_view, {in_view}), element_size, y);
}

MovementWork concat_work(const std::vector<const void*>& xs, const std::vector<Shape>& shapes, int64_t axis,
                         size_t element_size, void* y) {
  if (shapes.empty() || xs.size() != shapes.size())
    throw Error("concat: " + std::to_string(xs.size()) + " inputs with " + std::to_string(shapes.size()) +
                " shapes (at least one of each, as many of each)");
  const Shape& first_shape = shapes.front();
  const size_t a = normalized_axis(axis, first_shape.size(), "concat");
  Shape out = first_shape;
  out[a] = 0;
  for (const Shape& s : shapes) {
    bool agrees = s.size() == first_shape.size();
    for (size_t d = 0; agrees && d < s.size(); ++d)
      agrees = d == a || s[d] == first_shape[d];
    if (!agrees)
      throw Error("concat: input shapes " + to_string(first_shape) + " and " + to_string(s) +
                  " differ outside axis " + std::to_string(axis));
    check_sizes(s, s, element_size, "concat");
    if (__builtin_add_overflow(out[a], s[a], &out[a]))
      throw Error("concat: the concatenated dimension " + std::to_string(axis) + " overflows");
  }
  check_sizes(out, out, element_size, "concat");
  const int64_t total = element_count(out, "concat");
  if (total == 0) return {};
  int64_t inner = 1;
  for (size_t d = a + 1; d < out.size(); ++d)
    inner *= out[d];
  // Each output row (one index of the dimensions before `axis`) is the inputs' rows one after another.
  std::vector<int64_t> row_starts, row_lengths;
  std::vector<const std::byte*> inputs;
  int64_t row_length = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const int64_t length = shapes[i][a] * inner;
    if (length == 0) continue;
    if (xs[i] == nullptr) throw Error("concat: input " + std::to_string(i) + " has no data");
    row_starts.push_back(row_length);
    row_lengths.push_back(length);
    inputs.push_back(static_cast<const std::byte*>(xs[i]));
    row_length += length;
  }
  MovementWork work;
  work.units = total;
  work.unit_bytes = static_cast<int64_t>(element_size);
  work.run = [=](int64_t first, int64_t last) {
    const int64_t es = static_cast<int64_t>(element_size);
    int64_t row = first / row_length, column = first % row_length;
    // The input whose part of the row holds `column`.
    size_t i = static_cast<size_t>(std::upper_bound(row_starts.begin(), row_starts.end(), column) -
                                   row_starts.begin() - 1);
    for (int64_t e = first; e < last;) {
      const int64_t offset = column - row_starts[i];
      const int64_t n = std::min(row_lengths[i] - offset, last - e);
      copy_elements(static_cast<std::byte*>(y) + e * es, inputs[i] + (row * row_lengths[i] + offset) * es, n,
                    element_size);
      e += n;
      column += n;
      if (++i == inputs.size()) {
        i = 0;
        column = 0;
        ++row;
      }
    }
  };
  return work;
}

namespace {

// The NCHW dimensions and block of DepthToSpace / SpaceToDepth, checked.
struct BlockDims {
  int64_t n, c, h, w, b;
};

BlockDims block_dims(const Shape& nchw, int64_t block, size_t element_size, std::string_view what) {
  const std::string name(what);
  if (nchw.size() != 4)
    throw Error(name + ": expected an NCHW tensor of rank 4, got shape " + to_string(nchw));
  check_sizes(nchw, nchw, element_size, what);
  int64_t square = 0;
  if (block < 1 || __builtin_mul_overflow(block, block, &square))
    throw Error(name + ": block size " + std::to_string(block) + " must be >= 1");
  return {nchw[0], nchw[1], nchw[2], nchw[3], block};
}

}  // namespace

MovementWork depth_to_space_work(const void* x, const Shape& nchw, int64_t block, bool crd,
                                 size_t element_size, void* y) {
  const auto [n, c, h, w, b] = block_dims(nchw, block, element_size, "depth_to_space");
  if (c % (b * b) != 0)
    throw Error("depth_to_space: block size " + std::to_string(b) + " does not divide the channels of " +
                to_string(nchw) + " into blocks of " + std::to_string(b) + " x " + std::to_string(b));
  int64_t wide = 0, tall = 0;
  if (__builtin_mul_overflow(h, b, &tall) || __builtin_mul_overflow(w, b, &wide))
    throw Error("depth_to_space: the output of " + to_string(nchw) + " with block size " + std::to_string(b) +
                " overflows");
  const int64_t cb = c / (b * b), hw = h * w;
  // Output [n, cb, h, b (row in block), w, b (column in block)]; the input channel of (cb, row, column) is
  // (row * b + column) * cb + cb_index in DCR order, (cb_index * b + row) * b + column in CRD order.
  const int64_t row_stride = (crd ? b : b * cb) * hw, column_stride = (crd ? 1 : cb) * hw;
  const int64_t channel_stride = (crd ? b * b : 1) * hw;
  return strided_copy_work(x, {n, cb, h, b, w, b}, {c * hw, channel_stride, w, row_stride, 1, column_stride},
                           0, element_size, y);
}

MovementWork space_to_depth_work(const void* x, const Shape& nchw, int64_t block, size_t element_size,
                                 void* y) {
  const auto [n, c, h, w, b] = block_dims(nchw, block, element_size, "space_to_depth");
  if (h % b != 0 || w % b != 0)
    throw Error("space_to_depth: block size " + std::to_string(b) +
                " does not divide the height and width of " + to_string(nchw));
  int64_t deep = 0;
  if (__builtin_mul_overflow(c, b * b, &deep))
    throw Error("space_to_depth: the output of " + to_string(nchw) + " with block size " + std::to_string(b) +
                " overflows");
  // Output [n, b (row in block), b (column in block), c, h / b, w / b]: channel (row * b + column) * c + ci.
  return strided_copy_work(x, {n, b, b, c, h / b, w / b}, {c * h * w, w, 1, h * w, b * w, b}, 0, element_size,
                           y);
}

}  // namespace detail

std::vector<SliceAxis> slice_axes(const Shape& s, const std::vector<int64_t>& starts,
                                  const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                                  const std::vector<int64_t>& steps, std::string_view what) {
  const std::string name(what);
  const size_t count = starts.size();
  if (ends.size() != count || (!axes.empty() && axes.size() != count) ||
      (!steps.empty() && steps.size() != count))
    throw Error(name + ": slice starts " + list(starts) + ", ends " + list(ends) + ", axes " + list(axes) +
                " and steps " + list(steps) + " differ in length");
  if (axes.empty() && count > s.size())
    throw Error(name + ": " + std::to_string(count) + " slice starts for input shape " + to_string(s));
  std::vector<SliceAxis> result(s.size());
  for (size_t d = 0; d < s.size(); ++d)
    result[d] = {0, 1, s[d]};
  std::vector<bool> seen(s.size(), false);
  for (size_t i = 0; i < count; ++i) {
    const size_t axis = axes.empty() ? i : normalized_axis(axes[i], s.size(), what);
    if (seen[axis]) throw Error(name + ": slice axes " + list(axes) + " repeat an axis");
    seen[axis] = true;
    const int64_t step = steps.empty() ? 1 : steps[i];
    if (step == 0) throw Error(name + ": slice step 0 for axis " + std::to_string(axis));
    const int64_t dim = s[axis];
    if (dim < 0) throw Error(name + ": negative dimension in shape " + to_string(s));
    // ONNX: negative starts and ends count from the end, then both are clamped to [0, dim] for positive
    // steps and to [0, dim - 1] (start) and [-1, dim - 1] (end) for negative ones. Adding dim to a negative
    // value cannot overflow.
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    // Distances below are at most dim + 1; a step's magnitude is taken unsigned (|INT64_MIN| fits).
    uint64_t distance = 0, magnitude = 0;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      distance = end > start ? static_cast<uint64_t>(end - start) : 0;
      magnitude = static_cast<uint64_t>(step);
    } else {
      start = std::clamp<int64_t>(start, 0, std::max<int64_t>(dim - 1, 0));
      end = std::clamp<int64_t>(end, -1, dim - 1);
      distance = dim > 0 && start > end ? static_cast<uint64_t>(start - end) : 0;
      magnitude = uint64_t{0} - static_cast<uint64_t>(step);
    }
    const auto taken = static_cast<int64_t>(distance == 0 ? 0 : 1 + (distance - 1) / magnitude);
    result[axis] = {taken > 0 ? start : 0, step, taken};
  }
  return result;
}

Shape slice_shape(const std::vector<SliceAxis>& axes) {
  Shape out;
  for (const SliceAxis& a : axes) {
    if (a.count < 0) throw Error("slice: negative element count " + std::to_string(a.count));
    out.push_back(a.count);
  }
  return out;
}

void transpose(const void* x, const Shape& s, const std::vector<int64_t>& perm, size_t element_size,
               void* y) {
  detail::transpose_work(x, s, perm, element_size, y).run_all();
}

void slice(const void* x, const Shape& s, const std::vector<SliceAxis>& axes, size_t element_size, void* y) {
  detail::slice_work(x, s, axes, element_size, y).run_all();
}

void pad(const void* x, const Shape& s, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
         PadMode mode, const void* value, size_t element_size, void* y, std::string_view what) {
  detail::pad_work(x, s, begin, end, mode, value, element_size, y, what).run_all();
}

void gather(const void* x, const Shape& s, int64_t axis, const int64_t* indices, const Shape& index_shape,
            size_t element_size, void* y, std::string_view what) {
  detail::gather_work(x, s, axis, indices, index_shape, element_size, y, what).run_all();
}

void expand(const void* x, const Shape& s, const Shape& out, size_t element_size, void* y) {
  detail::expand_work(x, s, out, element_size, y).run_all();
}

void tile(const void* x, const Shape& s, const std::vector<int64_t>& repeats, size_t element_size, void* y) {
  detail::tile_work(x, s, repeats, element_size, y).run_all();
}

void concat(const std::vector<const void*>& xs, const std::vector<Shape>& shapes, int64_t axis,
            size_t element_size, void* y) {
  detail::concat_work(xs, shapes, axis, element_size, y).run_all();
}

void depth_to_space(const void* x, const Shape& nchw, int64_t block, bool crd, size_t element_size, void* y) {
  detail::depth_to_space_work(x, nchw, block, crd, element_size, y).run_all();
}

void space_to_depth(const void* x, const Shape& nchw, int64_t block, size_t element_size, void* y) {
  detail::space_to_depth_work(x, nchw, block, element_size, y).run_all();
}

}  // namespace octet::ref
