#include "kernels/reference/indexing.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/reference/movement_copy.h"

namespace octet::ref {
namespace {

using detail::contiguous_strides;
using detail::MovementWork;
using detail::normalized_axis;
using detail::Odometer;
using detail::with_element_size;

void check_counts(const Shape& s, const Shape& other, size_t element_size, std::string_view what) {
  detail::check_element_size(element_size, what);
  detail::check_byte_count(element_count(s, what), element_size, what);
  detail::check_byte_count(element_count(other, what), element_size, what);
}

// `index` (element `position` of the indices) made non-negative, or an error naming it.
int64_t checked_index(int64_t index, int64_t extent, int64_t position, size_t dimension,
                      std::string_view what) {
  if (index < -extent || index >= extent)
    throw Error(std::string(what) + ": index " + std::to_string(index) + " (element " +
                std::to_string(position) + " of the indices) is out of range for dimension " +
                std::to_string(dimension) + " of size " + std::to_string(extent));
  return index < 0 ? index + extent : index;
}

// For the element-wise forms: the offset in x of every index position, checked.
std::vector<int64_t> element_sources(const Shape& s, size_t axis, const int64_t* indices,
                                     const Shape& index_shape, std::string_view what) {
  const int64_t count = element_count(index_shape, what);
  std::vector<int64_t> sources(static_cast<size_t>(count));
  if (count == 0) return sources;
  if (indices == nullptr) throw Error(std::string(what) + ": no indices");
  std::vector<int64_t> strides = contiguous_strides(s);
  const int64_t axis_stride = strides[axis], extent = s[axis];
  strides[axis] = 0;
  // The odometer steps once per row of the last dimension, whose positions are a plain loop (a RoI pooling
  // scatters millions of elements: a step and a call per element were most of its time).
  const size_t last = index_shape.size() - 1;
  const int64_t inner = index_shape[last], inner_stride = strides[last];
  Odometer<1> rows(Shape(index_shape.begin(), index_shape.end() - 1),
                   {std::vector<int64_t>(strides.begin(), strides.end() - 1)}, 0);
  for (int64_t first = 0; first < count; first += inner, rows.next()) {
    const int64_t base = rows.offset(0);
    for (int64_t j = 0; j < inner; ++j) {
      int64_t index = indices[first + j];
      if (index < 0 || index >= extent) index = checked_index(index, extent, first + j, axis, what);
      sources[static_cast<size_t>(first + j)] = base + j * inner_stride + index * axis_stride;
    }
  }
  return sources;
}

// For the ND forms: the offset in x of the slice each index tuple addresses, checked. The first
// `batch_dims` dimensions of the indices walk x's too.
std::vector<int64_t> tuple_sources(const Shape& s, const int64_t* indices, const Shape& index_shape,
                                   int64_t batch_dims, std::string_view what) {
  const auto b = static_cast<size_t>(batch_dims);
  const auto k = static_cast<size_t>(index_shape.back());
  const std::vector<int64_t> strides = contiguous_strides(s);
  const Shape tuple_dims(index_shape.begin(), index_shape.end() - 1);
  const int64_t tuples = element_count(tuple_dims, what);
  std::vector<int64_t> sources(static_cast<size_t>(tuples));
  if (tuples == 0) return sources;
  if (indices == nullptr && k > 0) throw Error(std::string(what) + ": no indices");
  std::vector<int64_t> batch_strides(tuple_dims.size(), 0);
  for (size_t d = 0; d < b; ++d)
    batch_strides[d] = strides[d];
  Odometer<1> walk(tuple_dims, {batch_strides}, 0);
  for (int64_t t = 0; t < tuples; ++t, walk.next()) {
    int64_t offset = walk.offset(0);
    for (size_t j = 0; j < k; ++j) {
      const int64_t position = t * static_cast<int64_t>(k) + static_cast<int64_t>(j);
      offset += checked_index(indices[position], s[b + j], position, b + j, what) * strides[b + j];
    }
    sources[static_cast<size_t>(t)] = offset;
  }
  return sources;
}

template <class T>
T combined(T old, T update, ScatterReduction reduction) {
  switch (reduction) {
    case ScatterReduction::none:
      return update;
    case ScatterReduction::add:
      if constexpr (std::is_integral_v<T>)
        return static_cast<T>(static_cast<uint64_t>(old) + static_cast<uint64_t>(update));  // wraps
      else
        return old + update;
    case ScatterReduction::mul:
      if constexpr (std::is_integral_v<T>)
        return static_cast<T>(static_cast<uint64_t>(old) * static_cast<uint64_t>(update));
      else
        return old * update;
    case ScatterReduction::max:
      return std::max(old, update);
    case ScatterReduction::min:
      return std::min(old, update);
  }
  return update;
}

// y = x, then `count` runs of `run` elements of the updates land at element offsets `targets`, in order.
void scatter_runs(const void* x, int64_t total, const std::vector<int64_t>& targets, int64_t run,
                  const void* updates, size_t element_size, ScatterReduction reduction,
                  ScatterArithmetic arithmetic, void* y, std::string_view what) {
  const size_t expected = arithmetic == ScatterArithmetic::f32     ? 4
                          : arithmetic == ScatterArithmetic::bytes ? 0
                                                                   : 8;
  if (expected != 0 && element_size != expected)
    throw Error(std::string(what) + ": the reduction's element type does not match the element size");
  if (arithmetic == ScatterArithmetic::bytes && reduction != ScatterReduction::none)
    throw Error(std::string(what) + ": a scatter reduction needs float or int64 elements");
  auto* out = static_cast<std::byte*>(y);
  if (y != x) detail::copy_elements(out, static_cast<const std::byte*>(x), total, element_size);
  const auto* in = static_cast<const std::byte*>(updates);
  if (reduction == ScatterReduction::none) {
    if (run == 1) {
      // Single elements (ScatterElements): a memcpy of a constant size is one load and one store, where a
      // call per element of the run-length copy cost ten times as much (torchvision's RoI pooling scatters
      // 150 x 256 x 7 x 7 of them).
      detail::with_element_size(element_size, [&](auto size) {
        const size_t bytes = size;
        for (size_t t = 0; t < targets.size(); ++t)
          std::memcpy(out + targets[t] * static_cast<int64_t>(bytes), in + static_cast<int64_t>(t * bytes),
                      bytes);
      });
      return;
    }
    for (size_t t = 0; t < targets.size(); ++t)
      detail::copy_elements(out + targets[t] * static_cast<int64_t>(element_size),
                            in + static_cast<int64_t>(t) * run * static_cast<int64_t>(element_size), run,
                            element_size);
    return;
  }
  auto apply = [&](auto zero) {
    using T = decltype(zero);
    for (size_t t = 0; t < targets.size(); ++t)
      for (int64_t e = 0; e < run; ++e) {
        T old, update;
        std::byte* at = out + (targets[t] + e) * static_cast<int64_t>(sizeof(T));
        std::memcpy(&old, at, sizeof(T));
        std::memcpy(&update, in + (static_cast<int64_t>(t) * run + e) * static_cast<int64_t>(sizeof(T)),
                    sizeof(T));
        const T value = combined(old, update, reduction);
        std::memcpy(at, &value, sizeof(T));
      }
  };
  if (arithmetic == ScatterArithmetic::f32)
    apply(float{});
  else if (arithmetic == ScatterArithmetic::f64)
    apply(double{});
  else
    apply(int64_t{});
}

}  // namespace

void check_gather_elements_shapes(const Shape& s, int64_t axis, const Shape& index_shape,
                                  std::string_view what) {
  if (index_shape.size() != s.size())
    throw Error(std::string(what) + ": indices of shape " + to_string(index_shape) +
                " do not have the data's rank (shape " + to_string(s) + ")");
  const size_t a = normalized_axis(axis, s.size(), what);
  for (size_t d = 0; d < s.size(); ++d)
    if (d != a && index_shape[d] > s[d])
      throw Error(std::string(what) + ": indices of shape " + to_string(index_shape) + " exceed the data's " +
                  to_string(s) + " in dimension " + std::to_string(d));
}

Shape gather_nd_shape(const Shape& s, const Shape& index_shape, int64_t batch_dims, std::string_view what) {
  const std::string name(what);
  if (s.empty() || index_shape.empty()) throw Error(name + ": GatherND needs data and indices of rank >= 1");
  const auto r = static_cast<int64_t>(s.size()), q = static_cast<int64_t>(index_shape.size());
  if (batch_dims < 0 || batch_dims >= std::min(r, q))
    throw Error(name + ": batch_dims " + std::to_string(batch_dims) + " must be below both ranks (" +
                std::to_string(r) + ", " + std::to_string(q) + ")");
  const int64_t k = index_shape.back();
  if (k < 1 || k > r - batch_dims)
    throw Error(name + ": index tuples of " + std::to_string(k) + " values for data of rank " +
                std::to_string(r) + " with " + std::to_string(batch_dims) + " batch dimensions");
  for (int64_t d = 0; d < batch_dims; ++d)
    if (index_shape[static_cast<size_t>(d)] != s[static_cast<size_t>(d)])
      throw Error(name + ": batch dimension " + std::to_string(d) + " is " +
                  std::to_string(index_shape[static_cast<size_t>(d)]) + " in the indices and " +
                  std::to_string(s[static_cast<size_t>(d)]) + " in the data");
  Shape out(index_shape.begin(), index_shape.end() - 1);
  out.insert(out.end(), s.begin() + batch_dims + k, s.end());
  return out;
}

void check_scatter_nd_shapes(const Shape& s, const Shape& index_shape, const Shape& update_shape,
                             std::string_view what) {
  const std::string name(what);
  if (s.empty() || index_shape.empty()) throw Error(name + ": ScatterND needs data and indices of rank >= 1");
  const int64_t k = index_shape.back();
  if (k < 1 || k > static_cast<int64_t>(s.size()))
    throw Error(name + ": index tuples of " + std::to_string(k) + " values for data of rank " +
                std::to_string(s.size()));
  Shape expected(index_shape.begin(), index_shape.end() - 1);
  expected.insert(expected.end(), s.begin() + k, s.end());
  if (update_shape != expected)
    throw Error(name + ": updates of shape " + to_string(update_shape) + " for indices " +
                to_string(index_shape) + " into data " + to_string(s) + " (expected " + to_string(expected) +
                ")");
}

namespace detail {

MovementWork gather_elements_work(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                                  const Shape& index_shape, size_t element_size, void* y,
                                  std::string_view what) {
  check_gather_elements_shapes(s, axis, index_shape, what);
  check_counts(s, index_shape, element_size, what);
  const size_t a = normalized_axis(axis, s.size(), what);
  std::vector<int64_t> sources = element_sources(s, a, indices, index_shape, what);
  MovementWork work;
  work.units = static_cast<int64_t>(sources.size());
  work.unit_bytes = static_cast<int64_t>(element_size);
  work.run = [=, sources = std::move(sources)](int64_t first, int64_t last) {
    const auto* in = static_cast<const std::byte*>(x);
    auto* o = static_cast<std::byte*>(y);
    with_element_size(element_size, [&](auto size) {
      const auto es = static_cast<int64_t>(static_cast<size_t>(size));
      for (int64_t e = first; e < last; ++e)
        std::memcpy(o + e * es, in + sources[static_cast<size_t>(e)] * es, size);
    });
  };
  return work;
}

MovementWork gather_nd_work(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
                            int64_t batch_dims, size_t element_size, void* y, std::string_view what) {
  const Shape out = gather_nd_shape(s, index_shape, batch_dims, what);
  check_counts(s, out, element_size, what);
  std::vector<int64_t> sources = tuple_sources(s, indices, index_shape, batch_dims, what);
  const int64_t slice = element_count(Shape(s.begin() + batch_dims + index_shape.back(), s.end()), what);
  MovementWork work;
  if (slice == 0) return work;
  work.units = static_cast<int64_t>(sources.size());
  work.unit_bytes = slice * static_cast<int64_t>(element_size);
  work.run = [=, sources = std::move(sources)](int64_t first, int64_t last) {
    const auto* in = static_cast<const std::byte*>(x);
    auto* o = static_cast<std::byte*>(y);
    const auto es = static_cast<int64_t>(element_size);
    for (int64_t t = first; t < last; ++t)
      copy_elements(o + t * slice * es, in + sources[static_cast<size_t>(t)] * es, slice, element_size);
  };
  return work;
}

}  // namespace detail

void gather_elements(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                     const Shape& index_shape, size_t element_size, void* y, std::string_view what) {
  detail::gather_elements_work(x, s, axis, indices, index_shape, element_size, y, what).run_all();
}

void gather_nd(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
               int64_t batch_dims, size_t element_size, void* y, std::string_view what) {
  detail::gather_nd_work(x, s, indices, index_shape, batch_dims, element_size, y, what).run_all();
}

void scatter_elements(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                      const Shape& index_shape, const void* updates, size_t element_size,
                      ScatterReduction reduction, ScatterArithmetic arithmetic, void* y,
                      std::string_view what) {
  check_gather_elements_shapes(s, axis, index_shape, what);
  check_counts(s, index_shape, element_size, what);
  const std::vector<int64_t> targets =
      element_sources(s, normalized_axis(axis, s.size(), what), indices, index_shape, what);
  scatter_runs(x, element_count(s, what), targets, 1, updates, element_size, reduction, arithmetic, y, what);
}

void scatter_nd(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
                const void* updates, size_t element_size, ScatterReduction reduction,
                ScatterArithmetic arithmetic, void* y, std::string_view what) {
  if (index_shape.empty()) throw Error(std::string(what) + ": ScatterND needs indices of rank >= 1");
  Shape update_shape(index_shape.begin(), index_shape.end() - 1);
  if (index_shape.back() >= 1 && index_shape.back() <= static_cast<int64_t>(s.size()))
    update_shape.insert(update_shape.end(), s.begin() + index_shape.back(), s.end());
  check_scatter_nd_shapes(s, index_shape, update_shape, what);
  check_counts(s, update_shape, element_size, what);
  const std::vector<int64_t> targets = tuple_sources(s, indices, index_shape, 0, what);
  const int64_t run = element_count(Shape(s.begin() + index_shape.back(), s.end()), what);
  scatter_runs(x, element_count(s, what), targets, run, updates, element_size, reduction, arithmetic, y,
               what);
}

}  // namespace octet::ref
