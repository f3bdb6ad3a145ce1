// ONNX Pad for elements of any type (kernels/reference/movement.h).
//
// Negative pads crop first (as onnxruntime does): the modes then pad the cropped input, whose extent
// along a dimension is n = s + min(begin, 0) + min(end, 0). Output coordinate o of a dimension reads
// cropped coordinate i = o - max(begin, 0) when 0 <= i < n, else by mode:
//   constant: the value;   edge: clamp(i, 0, n - 1);   wrap: i mod n;
//   reflect: the mirror image without repeating the edge, repeated as often as needed (numpy's reflect,
//            ONNX's reference: period 2 (n - 1)), which needs n >= 2.
//
// Trailing dimensions without any pad or crop are folded into one block of elements, so that the work is
// rows of the last padded dimension: a left pad, a contiguous interior (one memcpy) and a right pad.

#include <algorithm>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/movement_copy.h"
#include "kernels/reference/movement_work.h"

namespace octet::ref {
namespace {

struct PaddedDim {
  int64_t in = 0;      // input elements
  int64_t crop = 0;    // input elements removed at the start
  int64_t before = 0;  // elements added at the start
  int64_t extent = 0;  // input elements kept
  int64_t out = 0;     // output elements

  // Whether the output differs from the input along this dimension (a crop at the end included).
  bool changes() const { return crop != 0 || before != 0 || out != in; }

  // The input coordinate (of the uncropped input) that output coordinate o reads, or -1 for the value.
  int64_t source(int64_t o, PadMode mode) const {
    const int64_t i = o - before;
    if (i >= 0 && i < extent) return crop + i;
    const auto mod = [](int64_t a, int64_t n) { return (a % n + n) % n; };
    switch (mode) {
      case PadMode::constant:
        return -1;
      case PadMode::edge:
        return crop + std::clamp<int64_t>(i, 0, extent - 1);
      case PadMode::wrap:
        return crop + mod(i, extent);
      case PadMode::reflect: {
        const int64_t period = 2 * (extent - 1);
        const int64_t m = mod(i, period);
        return crop + (m < extent ? m : period - m);
      }
    }
    return -1;
  }
};

std::vector<PaddedDim> padded_dims(const Shape& s, const std::vector<int64_t>& begin,
                                   const std::vector<int64_t>& end, std::string_view what) {
  const std::string name(what);
  if (begin.size() != s.size() || end.size() != s.size())
    throw Error(name + ": pads need " + std::to_string(s.size()) + " begin and end values for input shape " +
                to_string(s) + ", got " + std::to_string(begin.size()) + " and " +
                std::to_string(end.size()));
  element_count(s, what);
  std::vector<PaddedDim> dims(s.size());
  for (size_t d = 0; d < s.size(); ++d) {
    PaddedDim& p = dims[d];
    const int64_t b = begin[d], e = end[d];
    const std::string pads = "pads " + std::to_string(b) + " and " + std::to_string(e) + " of dimension " +
                             std::to_string(d) + " of input shape " + to_string(s);
    int64_t extent = 0, added = 0;
    // s[d] >= 0, so only the second removal can leave int64.
    if (__builtin_add_overflow(s[d] + std::min<int64_t>(b, 0), std::min<int64_t>(e, 0), &extent) ||
        extent < 0)
      throw Error(name + ": " + pads + " remove more elements than it has");
    if (__builtin_add_overflow(std::max<int64_t>(b, 0), std::max<int64_t>(e, 0), &added) ||
        __builtin_add_overflow(extent, added, &p.out))
      throw Error(name + ": " + pads + " make the dimension overflow");
    p.in = s[d];
    p.crop = -std::min<int64_t>(b, 0);
    p.before = std::max<int64_t>(b, 0);
    p.extent = extent;
  }
  return dims;
}

}  // namespace

Shape pad_shape(const Shape& s, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                std::string_view what) {
  Shape out;
  for (const PaddedDim& p : padded_dims(s, begin, end, what))
    out.push_back(p.out);
  element_count(out, what);
  return out;
}

namespace detail {

MovementWork pad_work(const void* x, const Shape& s, const std::vector<int64_t>& begin,
                      const std::vector<int64_t>& end, PadMode mode, const void* value, size_t element_size,
                      void* y, std::string_view what) {
  const std::string name(what);
  check_element_size(element_size, what);
  const std::vector<PaddedDim> dims = padded_dims(s, begin, end, what);
  Shape out_shape;
  for (const PaddedDim& p : dims)
    out_shape.push_back(p.out);
  const int64_t total = element_count(out_shape, what);
  check_byte_count(element_count(s, what), element_size, what);
  check_byte_count(total, element_size, what);
  if (mode != PadMode::constant && mode != PadMode::edge && mode != PadMode::reflect && mode != PadMode::wrap)
    throw Error(name + ": unknown pad mode " + std::to_string(static_cast<int>(mode)));
  for (size_t d = 0; d < dims.size(); ++d) {
    const PaddedDim& p = dims[d];
    if (p.out == p.extent || mode == PadMode::constant) continue;  // nothing added, or the value
    const int64_t needed = mode == PadMode::reflect ? 2 : 1;
    if (p.extent < needed)
      throw Error(name + ": " +
                  (mode == PadMode::reflect ? "reflect"
                   : mode == PadMode::edge  ? "edge"
                                            : "wrap") +
                  " padding of dimension " + std::to_string(d) + " needs at least " + std::to_string(needed) +
                  " input element" + (needed > 1 ? "s" : "") + " after cropping, input shape " +
                  to_string(s) + " keeps " + std::to_string(p.extent));
  }
  if (mode == PadMode::constant && value == nullptr && total > 0)
    throw Error(name + ": no constant pad value");
  if (total == 0) return {};

  // The last dimension with anything to do; the ones after it are a block copied whole.
  size_t k = dims.size();
  while (k > 0 && !dims[k - 1].changes())
    --k;
  if (k == 0) {  // nothing padded or cropped: a plain copy
    MovementWork work;
    work.units = total;
    work.unit_bytes = static_cast<int64_t>(element_size);
    work.run = [=](int64_t first, int64_t last) {
      const int64_t es = static_cast<int64_t>(element_size);
      copy_elements(static_cast<std::byte*>(y) + first * es, static_cast<const std::byte*>(x) + first * es,
                    last - first, element_size);
    };
    return work;
  }
  --k;
  std::vector<int64_t> in_strides(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;)
    in_strides[d - 1] = in_strides[d] * s[d];
  const int64_t block = in_strides[k];
  // Input element offset of each outer output coordinate, -1 where it reads the value.
  std::vector<std::vector<int64_t>> outer_sources(k);
  std::vector<int64_t> outer_dims(k);
  for (size_t d = 0; d < k; ++d) {
    outer_dims[d] = dims[d].out;
    outer_sources[d].resize(static_cast<size_t>(dims[d].out));
    for (int64_t o = 0; o < dims[d].out; ++o) {
      const int64_t i = dims[d].source(o, mode);
      outer_sources[d][static_cast<size_t>(o)] = i < 0 ? -1 : i * in_strides[d];
    }
  }
  const PaddedDim row = dims[k];
  const int64_t row_length = row.out * block;
  const int64_t left_end = row.before * block, right_begin = (row.before + row.extent) * block;

  MovementWork work;
  work.units = total;
  work.unit_bytes = static_cast<int64_t>(element_size);
  work.run = [=](int64_t first, int64_t last) {
    const auto* in = static_cast<const std::byte*>(x);
    auto* out = static_cast<std::byte*>(y);
    const auto* fill = static_cast<const std::byte*>(value);
    with_element_size(element_size, [&](auto size) {
      const int64_t es = static_cast<int64_t>(static_cast<size_t>(size));
      // Row positions [c0, c1) of a pad region, read from the input row at `row_in` by mode.
      const auto pad_region = [&](std::byte* dst, int64_t row_in, int64_t c0, int64_t c1) {
        if (c0 >= c1) return;
        if (mode == PadMode::constant) return fill_elements(dst, fill, c1 - c0, size);
        for (int64_t c = c0; c < c1;) {
          const int64_t q = c / block, stop = std::min(c1, (q + 1) * block);
          copy_elements(dst + (c - c0) * es, in + (row_in + row.source(q, mode) * block + c - q * block) * es,
                        stop - c, size);
          c = stop;
        }
      };
      Odometer<0> position(outer_dims, {}, first / row_length);
      int64_t column = first % row_length;
      for (int64_t e = first; e < last; position.next(), column = 0) {
        const int64_t c1 = std::min(row_length, column + last - e);
        std::byte* dst = out + e * es;
        int64_t row_in = 0;
        for (size_t d = 0; d < k && row_in >= 0; ++d) {
          const int64_t source = outer_sources[d][static_cast<size_t>(position.index()[d])];
          row_in = source < 0 ? -1 : row_in + source;
        }
        if (row_in < 0) {
          fill_elements(dst, fill, c1 - column, size);
        } else {
          const int64_t a = std::min(c1, std::max(column, left_end)),
                        b = std::max(a, std::min(c1, right_begin));
          pad_region(dst, row_in, column, a);
          copy_elements(dst + (a - column) * es, in + (row_in + row.crop * block + a - left_end) * es, b - a,
                        size);
          pad_region(dst + (b - column) * es, row_in, b, c1);
        }
        e += c1 - column;
      }
    });
  };
  return work;
}

}  // namespace detail
}  // namespace octet::ref
