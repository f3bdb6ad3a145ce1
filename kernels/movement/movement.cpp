#include "kernels/movement/movement.h"

#include <cstring>
#include <string>

#include "kernels/error.h"
#include "kernels/parallel.h"
#include "kernels/reference/movement_work.h"

namespace octet::movement {
namespace {

// Every unit is written by the same code whichever range it falls in, so any partition writes the same
// bytes (the references run the one range [0, units)).
void run_parallel(const ref::detail::MovementWork& work) {
  parallel_ranges(work.units, grain(work.unit_bytes, kTaskBytes),
                  [&](int64_t first, int64_t last) { work.run(first, last); });
}

// Rows of channels shuffled element by element; two groups (ShuffleNet's) as an interleave of the row's
// halves, which the compiler turns into vector unpacks.
template <class T>
void shuffle_rows(const T* x, int64_t first, int64_t last, int64_t groups, int64_t per_group, T* y) {
  const int64_t c = groups * per_group;
  for (int64_t p = first; p < last; ++p) {
    const T* in = x + p * c;
    T* out = y + p * c;
    if (groups == 2) {
      const T* high = in + per_group;
      for (int64_t j = 0; j < per_group; ++j) {
        out[2 * j] = in[j];
        out[2 * j + 1] = high[j];
      }
      continue;
    }
    for (int64_t j = 0; j < per_group; ++j)
      for (int64_t i = 0; i < groups; ++i)
        out[j * groups + i] = in[i * per_group + j];
  }
}

struct Bytes8 {
  uint64_t v;
};
struct Bytes2 {
  uint16_t v;
};

}  // namespace

void channel_shuffle(const void* x, int64_t pixels, int64_t groups, int64_t per_group, size_t element_size,
                     void* y) {
  if (pixels < 0 || groups < 1 || per_group < 0)
    throw Error("channel_shuffle: invalid geometry " + std::to_string(pixels) + " x " +
                std::to_string(groups) + " x " + std::to_string(per_group));
  const int64_t row_bytes = groups * per_group * static_cast<int64_t>(element_size);
  if (row_bytes == 0 || pixels == 0) return;
  parallel_ranges(pixels, grain(row_bytes, kTaskBytes), [&](int64_t first, int64_t last) {
    switch (element_size) {
      case 1:
        return shuffle_rows(static_cast<const uint8_t*>(x), first, last, groups, per_group,
                            static_cast<uint8_t*>(y));
      case 2:
        return shuffle_rows(static_cast<const Bytes2*>(x), first, last, groups, per_group,
                            static_cast<Bytes2*>(y));
      case 4:
        return shuffle_rows(static_cast<const uint32_t*>(x), first, last, groups, per_group,
                            static_cast<uint32_t*>(y));
      case 8:
        return shuffle_rows(static_cast<const Bytes8*>(x), first, last, groups, per_group,
                            static_cast<Bytes8*>(y));
      default:
        for (int64_t p = first; p < last; ++p)
          for (int64_t j = 0; j < per_group; ++j)
            for (int64_t i = 0; i < groups; ++i)
              std::memcpy(
                  static_cast<std::byte*>(y) + p * row_bytes + (j * groups + i) * element_size,
                  static_cast<const std::byte*>(x) + p * row_bytes + (i * per_group + j) * element_size,
                  element_size);
    }
  });
}

void transpose(const void* x, const Shape& s, const std::vector<int64_t>& perm, size_t element_size,
               void* y) {
  run_parallel(ref::detail::transpose_work(x, s, perm, element_size, y));
}

void slice(const void* x, const Shape& s, const std::vector<ref::SliceAxis>& axes, size_t element_size,
           void* y) {
  run_parallel(ref::detail::slice_work(x, s, axes, element_size, y));
}

void pad(const void* x, const Shape& s, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
         ref::PadMode mode, const void* value, size_t element_size, void* y, std::string_view what) {
  run_parallel(ref::detail::pad_work(x, s, begin, end, mode, value, element_size, y, what));
}

void gather(const void* x, const Shape& s, int64_t axis, const int64_t* indices, const Shape& index_shape,
            size_t element_size, void* y, std::string_view what) {
  run_parallel(ref::detail::gather_work(x, s, axis, indices, index_shape, element_size, y, what));
}

void gather_elements(const void* x, const Shape& s, int64_t axis, const int64_t* indices,
                     const Shape& index_shape, size_t element_size, void* y, std::string_view what) {
  run_parallel(ref::detail::gather_elements_work(x, s, axis, indices, index_shape, element_size, y, what));
}

void gather_nd(const void* x, const Shape& s, const int64_t* indices, const Shape& index_shape,
               int64_t batch_dims, size_t element_size, void* y, std::string_view what) {
  run_parallel(ref::detail::gather_nd_work(x, s, indices, index_shape, batch_dims, element_size, y, what));
}

void expand(const void* x, const Shape& s, const Shape& out, size_t element_size, void* y) {
  run_parallel(ref::detail::expand_work(x, s, out, element_size, y));
}

void tile(const void* x, const Shape& s, const std::vector<int64_t>& repeats, size_t element_size, void* y) {
  run_parallel(ref::detail::tile_work(x, s, repeats, element_size, y));
}

void concat(const std::vector<const void*>& xs, const std::vector<Shape>& shapes, int64_t axis,
            size_t element_size, void* y) {
  run_parallel(ref::detail::concat_work(xs, shapes, axis, element_size, y));
}

void depth_to_space(const void* x, const Shape& nchw, int64_t block, bool crd, size_t element_size, void* y) {
  run_parallel(ref::detail::depth_to_space_work(x, nchw, block, crd, element_size, y));
}

void space_to_depth(const void* x, const Shape& nchw, int64_t block, size_t element_size, void* y) {
  run_parallel(ref::detail::space_to_depth_work(x, nchw, block, element_size, y));
}

}  // namespace octet::movement
