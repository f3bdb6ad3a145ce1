// The element-moving operators (kernels/reference/movement.h, kernels/movement/movement.h) against index
// arithmetic written here, one output element at a time: random shapes of rank 0..6 with zero-size
// dimensions, element sizes 1, 2, 3, 4, 8 and 12 (3 and 12 take the generic-size paths), negative axes, steps
// and pads, the ONNX specification's own examples, and every validation error. The prepared work of each
// operator is also run over random partitions of its units, and the parallel kernels on 1 and 3 threads
// over outputs large enough to be split: all must write exactly the expected bytes.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <string>

#include "kernels/error.h"
#include "kernels/movement/movement.h"
#include "kernels/reference/movement.h"
#include "kernels/reference/movement_work.h"
#include "movement_check.h"
#include "test_util.h"

namespace octet {
namespace {

using ref::PadMode;
using ref::detail::MovementWork;
using test::Bytes;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr size_t kElementSizes[] = {1, 2, 3, 4, 8, 12};

// ---- Index arithmetic --------------------------------------------------------------------------------

using test::count_of;
using test::ravel;
using test::unravel;

void put(Bytes& out, int64_t o, const Bytes& in, int64_t i, size_t es) {
  std::memcpy(out.data() + o * static_cast<int64_t>(es), in.data() + i * static_cast<int64_t>(es), es);
}

// Output element o of `out_shape` reads input element source(coordinates) (or `fill` when it returns -1).
template <class Source>
Bytes each_output(const Shape& out_shape, const Bytes& in, size_t es, Source source,
                  const std::byte* fill = nullptr) {
  const int64_t n = count_of(out_shape);
  Bytes out(static_cast<size_t>(n) * es);
  std::vector<int64_t> c(out_shape.size(), 0);
  for (int64_t o = 0; o < n; ++o) {
    const int64_t i = source(c);  // c: the coordinates of output element o
    const std::byte* src = i < 0 ? fill : in.data() + i * static_cast<int64_t>(es);
    if (src != nullptr) std::memcpy(out.data() + o * static_cast<int64_t>(es), src, es);
    for (size_t d = c.size(); d-- > 0 && ++c[d] == out_shape[d];)
      c[d] = 0;
  }
  return out;
}

Bytes expected_transpose(const Bytes& in, const Shape& s, const std::vector<int64_t>& perm, size_t es) {
  Shape out(s.size());
  for (size_t d = 0; d < s.size(); ++d)
    out[d] = s[static_cast<size_t>(perm[d])];
  return each_output(out, in, es, [&](const std::vector<int64_t>& c) {
    std::vector<int64_t> ic(s.size());
    for (size_t d = 0; d < s.size(); ++d)
      ic[static_cast<size_t>(perm[d])] = c[d];
    return ravel(ic, s);
  });
}

// ONNX Slice by enumeration: the spec's clamped start and end, then start, start + step, ... while short of
// end (steps that would leave int64 end it).
std::vector<std::vector<int64_t>> slice_indices(const Shape& s, const std::vector<int64_t>& starts,
                                                const std::vector<int64_t>& ends,
                                                const std::vector<int64_t>& axes,
                                                const std::vector<int64_t>& steps) {
  std::vector<std::vector<int64_t>> picked(s.size());
  for (size_t d = 0; d < s.size(); ++d) {
    picked[d].resize(static_cast<size_t>(s[d]));
    std::iota(picked[d].begin(), picked[d].end(), 0);
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = axes.empty() ? static_cast<int64_t>(i) : axes[i];
    if (axis < 0) axis += static_cast<int64_t>(s.size());
    const int64_t dim = s[static_cast<size_t>(axis)];
    const int64_t step = steps.empty() ? 1 : steps[i];
    int64_t start = starts[i], end = ends[i];
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    if (step > 0) {
      start = std::min(std::max<int64_t>(start, 0), dim);
      end = std::min(std::max<int64_t>(end, 0), dim);
    } else {
      start = std::min(std::max<int64_t>(start, 0), dim - 1);
      end = std::min(std::max<int64_t>(end, -1), dim - 1);
    }
    std::vector<int64_t>& p = picked[static_cast<size_t>(axis)];
    p.clear();
    // Stepping stops at end, or where the next index would leave int64 (far past any end).
    for (int64_t k = start; dim > 0 && (step > 0 ? k < end : k > end);) {
      p.push_back(k);
      if (__builtin_add_overflow(k, step, &k)) break;
    }
  }
  return picked;
}

Bytes expected_slice(const Bytes& in, const Shape& s, const std::vector<std::vector<int64_t>>& picked,
                     size_t es) {
  Shape out;
  for (const auto& p : picked)
    out.push_back(static_cast<int64_t>(p.size()));
  return each_output(out, in, es, [&](const std::vector<int64_t>& c) {
    std::vector<int64_t> ic(s.size());
    for (size_t d = 0; d < s.size(); ++d)
      ic[d] = picked[d][static_cast<size_t>(c[d])];
    return ravel(ic, s);
  });
}

// Pad in the input's own coordinates: output o reads t = o - begin, which must fall in the kept range
// [lo, hi] (what negative pads leave); outside it the modes fold t back by repeated mirroring, clamping or
// whole periods.
Bytes expected_pad(const Bytes& in, const Shape& s, const std::vector<int64_t>& begin,
                   const std::vector<int64_t>& end, PadMode mode, const std::byte* value, size_t es) {
  Shape out(s.size());
  for (size_t d = 0; d < s.size(); ++d)
    out[d] = s[d] + begin[d] + end[d];
  return each_output(
      out, in, es,
      [&](const std::vector<int64_t>& c) {
        std::vector<int64_t> ic(s.size());
        for (size_t d = 0; d < s.size(); ++d) {
          const int64_t lo = std::max<int64_t>(0, -begin[d]), hi = s[d] - std::max<int64_t>(0, -end[d]) - 1;
          int64_t t = c[d] - begin[d];
          if (t < lo || t > hi) {
            switch (mode) {
              case PadMode::constant:
                return int64_t{-1};
              case PadMode::edge:
                t = std::clamp(t, lo, hi);
                break;
              case PadMode::reflect:
                while (t < lo || t > hi)
                  t = t < lo ? 2 * lo - t : 2 * hi - t;
                break;
              case PadMode::wrap:
                while (t < lo)
                  t += hi - lo + 1;
                while (t > hi)
                  t -= hi - lo + 1;
                break;
            }
          }
          ic[d] = t;
        }
        return ravel(ic, s);
      },
      value);
}

Bytes expected_gather(const Bytes& in, const Shape& s, int64_t axis, const std::vector<int64_t>& indices,
                      const Shape& index_shape, size_t es) {
  const auto a = static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(s.size()) : axis);
  Shape out(s.begin(), s.begin() + static_cast<ptrdiff_t>(a));
  out.insert(out.end(), index_shape.begin(), index_shape.end());
  out.insert(out.end(), s.begin() + static_cast<ptrdiff_t>(a) + 1, s.end());
  return each_output(out, in, es, [&](const std::vector<int64_t>& c) {
    std::vector<int64_t> ic(c.begin(), c.begin() + static_cast<ptrdiff_t>(a));
    const std::vector<int64_t> which(c.begin() + static_cast<ptrdiff_t>(a),
                                     c.begin() + static_cast<ptrdiff_t>(a + index_shape.size()));
    int64_t index = indices[static_cast<size_t>(ravel(which, index_shape))];
    ic.push_back(index < 0 ? index + s[a] : index);
    ic.insert(ic.end(), c.begin() + static_cast<ptrdiff_t>(a + index_shape.size()), c.end());
    return ravel(ic, s);
  });
}

Bytes expected_expand(const Bytes& in, const Shape& s, const Shape& out, size_t es) {
  return each_output(out, in, es, [&](const std::vector<int64_t>& c) {
    std::vector<int64_t> ic(s.size());
    for (size_t d = 0; d < s.size(); ++d)
      ic[d] = s[d] == 1 ? 0 : c[d + out.size() - s.size()];
    return ravel(ic, s);
  });
}

Bytes expected_tile(const Bytes& in, const Shape& s, const std::vector<int64_t>& repeats, size_t es) {
  Shape out(s.size());
  for (size_t d = 0; d < s.size(); ++d)
    out[d] = s[d] * repeats[d];
  return each_output(out, in, es, [&](const std::vector<int64_t>& c) {
    std::vector<int64_t> ic(s.size());
    for (size_t d = 0; d < s.size(); ++d)
      ic[d] = c[d] % s[d];
    return ravel(ic, s);
  });
}

Bytes expected_concat(const std::vector<Bytes>& ins, const std::vector<Shape>& shapes, int64_t axis,
                      size_t es) {
  const auto a = static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(shapes[0].size()) : axis);
  Shape out = shapes[0];
  out[a] = 0;
  for (const Shape& s : shapes)
    out[a] += s[a];
  const int64_t n = count_of(out);
  Bytes result(static_cast<size_t>(n) * es);
  for (int64_t o = 0; o < n; ++o) {
    std::vector<int64_t> c = unravel(o, out);
    size_t i = 0;
    while (c[a] >= shapes[i][a])
      c[a] -= shapes[i++][a];
    put(result, o, ins[i], ravel(c, shapes[i]), es);
  }
  return result;
}

// ONNX DepthToSpace written out per output pixel: output (n, c, y, x) reads channel
// ((y % b) * b + x % b) * C/b^2 + c (DCR) or (c * b + y % b) * b + x % b (CRD) at pixel (y / b, x / b).
Bytes expected_depth_to_space(const Bytes& in, const Shape& s, int64_t b, bool crd, size_t es) {
  const int64_t cb = s[1] / (b * b);
  return each_output({s[0], cb, s[2] * b, s[3] * b}, in, es, [&](const std::vector<int64_t>& c) {
    const int64_t row = c[2] % b, column = c[3] % b;
    const int64_t channel = crd ? (c[1] * b + row) * b + column : (row * b + column) * cb + c[1];
    return ravel({c[0], channel, c[2] / b, c[3] / b}, s);
  });
}

// ONNX SpaceToDepth: output channel (row * b + column) * C + c holds pixel (y * b + row, x * b + column).
Bytes expected_space_to_depth(const Bytes& in, const Shape& s, int64_t b, size_t es) {
  return each_output({s[0], s[1] * b * b, s[2] / b, s[3] / b}, in, es, [&](const std::vector<int64_t>& c) {
    const int64_t block = c[1] / s[1], channel = c[1] % s[1];
    return ravel({c[0], channel, c[2] * b + block / b, c[3] * b + block % b}, s);
  });
}

// ---- Random cases --------------------------------------------------------------------------------------

Bytes random_bytes(test::Random& rng, int64_t count, size_t es) {
  Bytes b(static_cast<size_t>(count) * es);
  for (auto& v : b)
    v = static_cast<std::byte>(rng.integer(0, 255));
  return b;
}

// Rank 0..6, dimensions 0..5 (zero one time in 16), at most about `budget` elements.
Shape random_shape(test::Random& rng, int64_t budget = 3000, size_t max_rank = 6) {
  const auto rank = static_cast<size_t>(rng.integer(0, static_cast<int64_t>(max_rank)));
  Shape s;
  int64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    int64_t dim = rng.integer(0, 15) == 0 ? 0 : rng.integer(1, 5);
    if (count * std::max<int64_t>(dim, 1) > budget) dim = 1;
    count *= std::max<int64_t>(dim, 1);
    s.push_back(dim);
  }
  return s;
}

size_t random_element_size(test::Random& rng) {
  return kElementSizes[static_cast<size_t>(rng.integer(0, std::size(kElementSizes) - 1))];
}

// One operator call: the bytes it must write, and the three ways to run it.
struct Case {
  Case(std::string what, size_t size, Bytes bytes)
      : label(std::move(what)), element_size(size), expected(std::move(bytes)) {}

  std::string label;
  size_t element_size = 1;
  Bytes expected;
  std::function<void(void*)> reference, parallel;
  std::function<MovementWork(void*)> work;
};

// The operator call checked three ways (movement_check.h).
void check(const Case& c, test::Random& rng) {
  SCOPED_TRACE(c.label);
  test::check_movement(c.expected, c.reference, c.work, c.parallel, rng);
}

std::string describe(const std::string& op, const Shape& s, size_t es, const std::string& more = "") {
  return op + " " + to_string(s) + " x " + std::to_string(es) + " bytes " + more;
}

Case transpose_case(test::Random& rng, const Shape& s, std::vector<int64_t> perm, size_t es) {
  auto x = std::make_shared<Bytes>(random_bytes(rng, count_of(s), es));
  Case c{describe("transpose", s, es, "perm " + to_string(perm)), es, expected_transpose(*x, s, perm, es)};
  c.reference = [=](void* y) { ref::transpose(x->data(), s, perm, es, y); };
  c.parallel = [=](void* y) { movement::transpose(x->data(), s, perm, es, y); };
  c.work = [=](void* y) { return ref::detail::transpose_work(x->data(), s, perm, es, y); };
  return c;
}

Case random_transpose(test::Random& rng) {
  const Shape s = random_shape(rng);
  std::vector<int64_t> perm(s.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng.engine());
  return transpose_case(rng, s, perm, random_element_size(rng));
}

Case slice_case(test::Random& rng, const Shape& s, const std::vector<int64_t>& starts,
                const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                const std::vector<int64_t>& steps, size_t es) {
  auto x = std::make_shared<Bytes>(random_bytes(rng, count_of(s), es));
  const std::vector<ref::SliceAxis> a = ref::slice_axes(s, starts, ends, axes, steps, "test slice");
  const auto picked = slice_indices(s, starts, ends, axes, steps);
  Case c{describe("slice", s, es,
                  "starts " + to_string(starts) + " ends " + to_string(ends) + " axes " + to_string(axes) +
                      " steps " + to_string(steps)),
         es, expected_slice(*x, s, picked, es)};
  c.reference = [=](void* y) { ref::slice(x->data(), s, a, es, y); };
  c.parallel = [=](void* y) { movement::slice(x->data(), s, a, es, y); };
  c.work = [=](void* y) { return ref::detail::slice_work(x->data(), s, a, es, y); };
  return c;
}

// Mostly inside [-dim - 1, dim + 1]; sometimes far outside, or INT64_MAX / INT64_MIN.
int64_t random_bound(test::Random& rng, int64_t dim) {
  switch (rng.integer(0, 9)) {
    case 0:
      return kMax;
    case 1:
      return kMin;
    case 2:
      return rng.integer(-3 * dim - 3, 3 * dim + 3);
    default:
      return rng.integer(-dim - 1, dim + 1);
  }
}

Case random_slice(test::Random& rng) {
  const Shape s = random_shape(rng);
  std::vector<int64_t> dims(s.size());
  std::iota(dims.begin(), dims.end(), 0);
  std::shuffle(dims.begin(), dims.end(), rng.engine());
  dims.resize(static_cast<size_t>(rng.integer(0, static_cast<int64_t>(s.size()))));
  const bool with_axes = rng.coin() || dims.size() < s.size();
  std::vector<int64_t> starts, ends, axes, steps;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = with_axes ? dims[i] : static_cast<int64_t>(i);
    const int64_t dim = s[static_cast<size_t>(d)];
    starts.push_back(random_bound(rng, dim));
    ends.push_back(random_bound(rng, dim));
    axes.push_back(rng.coin() ? d : d - static_cast<int64_t>(s.size()));
    const int64_t magnitude = rng.integer(0, 7) == 0 ? kMax : rng.integer(1, 3);
    steps.push_back(rng.coin() ? magnitude : (magnitude == kMax && rng.coin() ? kMin : -magnitude));
  }
  if (!with_axes) axes.clear();
  if (rng.integer(0, 3) == 0 && std::all_of(steps.begin(), steps.end(), [](int64_t v) { return v == 1; }))
    steps.clear();
  return slice_case(rng, s, starts, ends, axes, steps, random_element_size(rng));
}

Case pad_case(test::Random& rng, const Shape& s, const std::vector<int64_t>& begin,
              const std::vector<int64_t>& end, PadMode mode, size_t es) {
  auto x = std::make_shared<Bytes>(random_bytes(rng, count_of(s), es));
  auto value = std::make_shared<Bytes>(random_bytes(rng, 1, es));
  Case c{describe("pad", s, es,
                  "begin " + to_string(begin) + " end " + to_string(end) + " mode " +
                      std::to_string(static_cast<int>(mode))),
         es, expected_pad(*x, s, begin, end, mode, value->data(), es)};
  c.reference = [=](void* y) { ref::pad(x->data(), s, begin, end, mode, value->data(), es, y, "test pad"); };
  c.parallel = [=](void* y) {
    movement::pad(x->data(), s, begin, end, mode, value->data(), es, y, "test pad");
  };
  c.work = [=](void* y) {
    return ref::detail::pad_work(x->data(), s, begin, end, mode, value->data(), es, y, "test pad");
  };
  return c;
}

// Whether `mode` can pad (after cropping) every dimension: edge and wrap need one kept element, reflect two.
bool pad_possible(const Shape& s, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                  PadMode mode) {
  for (size_t d = 0; d < s.size(); ++d) {
    const int64_t kept = s[d] + std::min<int64_t>(begin[d], 0) + std::min<int64_t>(end[d], 0);
    const bool pads = begin[d] > 0 || end[d] > 0;
    if (pads && mode != PadMode::constant && kept < (mode == PadMode::reflect ? 2 : 1)) return false;
  }
  return true;
}

// ---- Reference against index arithmetic, random ----------------------------------------------------------

TEST(Movement, TransposeMatchesIndexArithmetic) {
  test::Random rng(101);
  for (int round = 0; round < test::random_trials(400); ++round)
    check(random_transpose(rng), rng);
}

TEST(Movement, TransposeTilesAndBlocks) {
  test::Random rng(102);
  for (const size_t es : kElementSizes) {
    check(transpose_case(rng, {67, 131}, {1, 0}, es), rng);                 // 2-D, ragged tiles
    check(transpose_case(rng, {2, 5, 9, 37}, {0, 2, 3, 1}, es), rng);       // NCHW -> NHWC
    check(transpose_case(rng, {2, 9, 37, 5}, {0, 3, 1, 2}, es), rng);       // NHWC -> NCHW
    check(transpose_case(rng, {3, 4, 6, 5, 7}, {1, 0, 2, 3, 4}, es), rng);  // trailing block in place
    check(transpose_case(rng, {3, 1, 4, 1, 6}, {4, 3, 2, 1, 0}, es), rng);  // size-1 dimensions
    check(transpose_case(rng, {2, 3, 4, 5, 6, 2}, {5, 1, 3, 0, 4, 2}, es), rng);
    check(transpose_case(rng, {3, 200}, {1, 0}, es), rng);              // short side 3
    check(transpose_case(rng, {2, 3, 40, 50}, {0, 2, 3, 1}, es), rng);  // RGB images to channels-last
    check(transpose_case(rng, {200, 2}, {1, 0}, es), rng);
  }
}

// Transposes that keep the last dimension whole (attention's heads: [windows, tokens, 3, heads, dim] to
// [3, windows, heads, tokens, dim]): rows of 1 to 240 bytes, short ones copied inline, copied in runs
// along the innermost outer dimension, with task ranges that cut rows and runs (check's partitions).
TEST(Movement, TransposeKeepingRowsWhole) {
  test::Random rng(106);
  for (const size_t es : kElementSizes)
    for (int64_t last = 1; last <= 20; ++last) {
      check(transpose_case(rng, {4, 7, 3, 2, last}, {2, 0, 3, 1, 4}, es), rng);
      check(transpose_case(rng, {3, 5, 7, last}, {0, 2, 1, 3}, es), rng);
    }
}

// Channels-last outputs with fewer channels than a block: 2-4 (compile-time column counts) and the
// others up to a block, alone or as the ragged last tile of wide channels (67: columns 64-66 or 32-66).
TEST(Movement, TransposeFewOutputColumns) {
  test::Random rng(105);
  for (const size_t es : kElementSizes) {
    for (int64_t channels = 1; channels <= 17; ++channels)
      check(transpose_case(rng, {2, channels, 13, 29}, {0, 2, 3, 1}, es), rng);
    check(transpose_case(rng, {2, 67, 5, 7}, {0, 2, 3, 1}, es), rng);
    check(transpose_case(rng, {1, 3, 1, 1000}, {0, 2, 3, 1}, es), rng);  // a single row of pixels
  }
}

TEST(Movement, SliceMatchesEnumeration) {
  test::Random rng(103);
  for (int round = 0; round < test::random_trials(1500); ++round)
    check(random_slice(rng), rng);
}

TEST(Movement, PadMatchesIndexArithmetic) {
  test::Random rng(104);
  int padded = 0, refused = 0;
  for (int round = 0; round < test::random_trials(800); ++round) {
    const Shape s = random_shape(rng, 1500);
    std::vector<int64_t> begin, end;
    for (const int64_t dim : s) {
      // Crop up to the whole dimension (split between the two sides) or pad up to three periods.
      const int64_t crop = rng.integer(0, dim), left = rng.integer(0, crop);
      begin.push_back(rng.coin() ? -left : rng.integer(0, 2 * dim + 2));
      end.push_back(rng.coin() ? -(crop - left) : rng.integer(0, 2 * dim + 2));
    }
    const auto mode = static_cast<PadMode>(rng.integer(0, 3));
    const size_t es = random_element_size(rng);
    if (count_of(ref::pad_shape(s, begin, end, "test pad")) > 20000) continue;
    if (!pad_possible(s, begin, end, mode)) {
      ++refused;
      Bytes x(static_cast<size_t>(count_of(s)) * es), value(es), y(1 << 16);
      EXPECT_THROW(ref::pad(x.data(), s, begin, end, mode, value.data(), es, y.data(), "test pad"), Error);
      continue;
    }
    ++padded;
    Shape out(s.size());
    for (size_t d = 0; d < s.size(); ++d)
      out[d] = s[d] + begin[d] + end[d];
    EXPECT_EQ(ref::pad_shape(s, begin, end, "test pad"), out);
    check(pad_case(rng, s, begin, end, mode, es), rng);
  }
  EXPECT_GT(padded, test::random_trials(500));
  EXPECT_GT(refused, test::random_trials(10));
}

TEST(Movement, GatherMatchesIndexArithmetic) {
  test::Random rng(105);
  for (int round = 0; round < test::random_trials(400); ++round) {
    Shape s = random_shape(rng, 600);
    if (s.empty()) s = {static_cast<int64_t>(rng.integer(1, 4))};
    const auto axis = rng.integer(-static_cast<int64_t>(s.size()), static_cast<int64_t>(s.size()) - 1);
    const int64_t dim = s[static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(s.size()) : axis)];
    Shape index_shape = random_shape(rng, 12, 3);
    if (dim == 0 && count_of(index_shape) > 0) index_shape.push_back(0);
    std::vector<int64_t> indices(static_cast<size_t>(count_of(index_shape)));
    for (auto& i : indices)
      i = rng.integer(-dim, dim - 1);
    const size_t es = random_element_size(rng);
    auto x = std::make_shared<Bytes>(random_bytes(rng, count_of(s), es));
    Case c{describe("gather", s, es, "axis " + std::to_string(axis) + " indices " + to_string(index_shape)),
           es, expected_gather(*x, s, axis, indices, index_shape, es)};
    c.reference = [=](void* y) { ref::gather(x->data(), s, axis, indices.data(), index_shape, es, y, "g"); };
    c.parallel = [=](void* y) {
      movement::gather(x->data(), s, axis, indices.data(), index_shape, es, y, "g");
    };
    c.work = [=](void* y) {
      return ref::detail::gather_work(x->data(), s, axis, indices.data(), index_shape, es, y, "g");
    };
    check(c, rng);
  }
}

Case expand_case(test::Random& rng, const Shape& s, const Shape& out, size_t es) {
  auto x = std::make_shared<Bytes>(random_bytes(rng, count_of(s), es));
  Case c{describe("expand", s, es, "to " + to_string(out)), es, expected_expand(*x, s, out, es)};
  c.reference = [=](void* y) { ref::expand(x->data(), s, out, es, y); };
  c.parallel = [=](void* y) { movement::expand(x->data(), s, out, es, y); };
  c.work = [=](void* y) { return ref::detail::expand_work(x->data(), s, out, es, y); };
  return c;
}

TEST(Movement, ExpandMatchesIndexArithmetic) {
  test::Random rng(106);
  for (int round = 0; round < test::random_trials(400); ++round) {
    Shape s = random_shape(rng, 200, 5);
    for (auto& d : s)
      if (rng.integer(0, 2) == 0) d = 1;
    Shape out;
    for (int64_t lead = rng.integer(0, 2); lead > 0; --lead)
      out.push_back(rng.integer(0, 4) == 0 ? 1 : rng.integer(0, 3));
    for (const int64_t d : s)
      out.push_back(d == 1 ? rng.integer(0, 4) : d);
    if (count_of(out) > 5000) continue;
    check(expand_case(rng, s, out, random_element_size(rng)), rng);
  }
}

Case tile_case(test::Random& rng, const Shape& s, const std::vector<int64_t>& repeats, size_t es) {
  auto x = std::make_shared<Bytes>(random_bytes(rng, count_of(s), es));
  Case c{describe("tile", s, es, "repeats " + to_string(repeats)), es, expected_tile(*x, s, repeats, es)};
  c.reference = [=](void* y) { ref::tile(x->data(), s, repeats, es, y); };
  c.parallel = [=](void* y) { movement::tile(x->data(), s, repeats, es, y); };
  c.work = [=](void* y) { return ref::detail::tile_work(x->data(), s, repeats, es, y); };
  return c;
}

TEST(Movement, TileMatchesIndexArithmetic) {
  test::Random rng(107);
  for (int round = 0; round < test::random_trials(400); ++round) {
    const Shape s = random_shape(rng, 300);
    std::vector<int64_t> repeats;
    for (size_t d = 0; d < s.size(); ++d)
      repeats.push_back(rng.integer(0, 8) == 0 ? 0 : rng.integer(1, 3));
    Shape out(s.size());
    for (size_t d = 0; d < s.size(); ++d)
      out[d] = s[d] * repeats[d];
    if (count_of(out) > 5000) continue;
    check(tile_case(rng, s, repeats, random_element_size(rng)), rng);
  }
}

Case concat_case(test::Random& rng, const std::vector<Shape>& shapes, int64_t axis, size_t es) {
  std::vector<Bytes> ins;
  for (const Shape& s : shapes)
    ins.push_back(random_bytes(rng, count_of(s), es));
  auto data = std::make_shared<std::vector<Bytes>>(ins);
  const auto pointers = [data] {
    std::vector<const void*> p;
    for (const Bytes& b : *data)
      p.push_back(b.empty() ? nullptr : b.data());
    return p;
  };
  std::string label = "axis " + std::to_string(axis) + " of";
  for (const Shape& s : shapes)
    label += " " + to_string(s);
  Case c{describe("concat", {}, es, label), es, expected_concat(ins, shapes, axis, es)};
  c.reference = [=](void* y) { ref::concat(pointers(), shapes, axis, es, y); };
  c.parallel = [=](void* y) { movement::concat(pointers(), shapes, axis, es, y); };
  c.work = [=](void* y) { return ref::detail::concat_work(pointers(), shapes, axis, es, y); };
  return c;
}

TEST(Movement, ConcatMatchesIndexArithmetic) {
  test::Random rng(108);
  for (int round = 0; round < test::random_trials(400); ++round) {
    Shape s = random_shape(rng, 300);
    if (s.empty()) s = {2};
    const auto axis = rng.integer(-static_cast<int64_t>(s.size()), static_cast<int64_t>(s.size()) - 1);
    const auto a = static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(s.size()) : axis);
    std::vector<Shape> shapes;
    for (int64_t i = rng.integer(1, 5); i > 0; --i) {
      shapes.push_back(s);
      shapes.back()[a] = rng.integer(0, 4) == 0 ? 0 : rng.integer(1, 4);
    }
    check(concat_case(rng, shapes, axis, random_element_size(rng)), rng);
  }
}

Case depth_to_space_case(test::Random& rng, const Shape& s, int64_t b, bool crd, size_t es) {
  auto x = std::make_shared<Bytes>(random_bytes(rng, count_of(s), es));
  Case c{describe(crd ? "depth_to_space CRD" : "depth_to_space DCR", s, es, "block " + std::to_string(b)), es,
         expected_depth_to_space(*x, s, b, crd, es)};
  c.reference = [=](void* y) { ref::depth_to_space(x->data(), s, b, crd, es, y); };
  c.parallel = [=](void* y) { movement::depth_to_space(x->data(), s, b, crd, es, y); };
  c.work = [=](void* y) { return ref::detail::depth_to_space_work(x->data(), s, b, crd, es, y); };
  return c;
}

Case space_to_depth_case(test::Random& rng, const Shape& s, int64_t b, size_t es) {
  auto x = std::make_shared<Bytes>(random_bytes(rng, count_of(s), es));
  Case c{describe("space_to_depth", s, es, "block " + std::to_string(b)), es,
         expected_space_to_depth(*x, s, b, es)};
  c.reference = [=](void* y) { ref::space_to_depth(x->data(), s, b, es, y); };
  c.parallel = [=](void* y) { movement::space_to_depth(x->data(), s, b, es, y); };
  c.work = [=](void* y) { return ref::detail::space_to_depth_work(x->data(), s, b, es, y); };
  return c;
}

TEST(Movement, DepthToSpaceAndBackMatchIndexArithmetic) {
  test::Random rng(109);
  for (int round = 0; round < test::random_trials(300); ++round) {
    const int64_t b = rng.integer(1, 3);
    const size_t es = random_element_size(rng);
    const auto dim = [&](int64_t most) { return rng.integer(0, 15) == 0 ? 0 : rng.integer(1, most); };
    const Shape d2s = {dim(2), b * b * dim(3), dim(4), dim(5)};
    check(depth_to_space_case(rng, d2s, b, rng.coin(), es), rng);
    const Shape s2d = {dim(2), dim(3), b * dim(4), b * dim(4)};
    check(space_to_depth_case(rng, s2d, b, es), rng);
  }
  // SpaceToDepth undoes DCR DepthToSpace.
  const Shape s = {2, 12, 3, 5};
  const Bytes x = random_bytes(rng, count_of(s), 4);
  Bytes spread(x.size()), back(x.size());
  ref::depth_to_space(x.data(), s, 2, false, 4, spread.data());
  ref::space_to_depth(spread.data(), {2, 3, 6, 10}, 2, 4, back.data());
  EXPECT_TRUE(back == x);
}

TEST(Movement, ChannelShuffleIsTheTransposeOfEachPixelsGroups) {
  // The channel shuffle against the reference transpose of [pixels, groups, per_group] to
  // [pixels, per_group, groups], every element size, 1 and 3 threads, tasks of several pixels.
  test::Random rng(110);
  for (int round = 0; round < test::random_trials(200); ++round) {
    const size_t es = kElementSizes[static_cast<size_t>(round) % std::size(kElementSizes)];
    const int64_t pixels = round % 20 == 0 ? 0 : rng.integer(1, round % 3 == 0 ? 3000 : 40);
    const int64_t groups = rng.integer(1, 5), per_group = rng.integer(round % 17 == 0 ? 0 : 1, 70);
    SCOPED_TRACE(std::to_string(pixels) + " pixels, " + std::to_string(groups) + " x " +
                 std::to_string(per_group) + ", element size " + std::to_string(es));
    const Shape view{pixels, groups, per_group};
    const Bytes x = random_bytes(rng, count_of(view), es);
    Bytes want(x.size()), got(x.size(), std::byte{0xAB});
    ref::transpose(x.data(), view, {0, 2, 1}, es, want.data());
    for (int threads : {1, 3}) {
      tbb::task_arena(threads).execute(
          [&] { movement::channel_shuffle(x.data(), pixels, groups, per_group, es, got.data()); });
      ASSERT_TRUE(got == want) << threads << " threads";
    }
  }
  Bytes none;
  EXPECT_THROW(movement::channel_shuffle(none.data(), 1, 0, 4, 4, none.data()), Error);
  EXPECT_THROW(movement::channel_shuffle(none.data(), -1, 2, 4, 4, none.data()), Error);
}

// ---- The ONNX specification's examples -----------------------------------------------------------------

template <class T>
Bytes bytes_of(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

template <class T>
std::vector<T> values_of(const Bytes& b) {
  std::vector<T> v(b.size() / sizeof(T));
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

std::vector<float> iota_floats(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

std::vector<float> onnx_slice(const std::vector<float>& x, const Shape& s, const std::vector<int64_t>& starts,
                              const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                              const std::vector<int64_t>& steps, Shape* out_shape = nullptr) {
  const auto a = ref::slice_axes(s, starts, ends, axes, steps, "Slice");
  const Shape out = ref::slice_shape(a);
  if (out_shape) *out_shape = out;
  std::vector<float> y(static_cast<size_t>(count_of(out)));
  ref::slice(x.data(), s, a, sizeof(float), y.data());
  std::vector<float> z(y.size());
  movement::slice(x.data(), s, a, sizeof(float), z.data());
  EXPECT_EQ(y, z);
  return y;
}

TEST(MovementOnnx, SliceExamples) {
  const std::vector<float> data = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(onnx_slice(data, {2, 4}, {1, 0}, {2, 3}, {0, 1}, {1, 2}), (std::vector<float>{5, 7}));
  EXPECT_EQ(onnx_slice(data, {2, 4}, {0, 1}, {-1, 1000}, {}, {}), (std::vector<float>{2, 3, 4}));

  // The backend test cases on x of shape (20, 10, 5) and their numpy equivalents.
  const Shape s = {20, 10, 5};
  const std::vector<float> x = iota_floats(1000);
  const auto at = [&](int64_t i, int64_t j, int64_t k) {
    return x[static_cast<size_t>((i * 10 + j) * 5 + k)];
  };
  Shape out;
  std::vector<float> y = onnx_slice(x, s, {0, 0}, {3, 10}, {0, 1}, {1, 1}, &out);  // x[0:3, 0:10]
  EXPECT_EQ(out, (Shape{3, 10, 5}));
  EXPECT_EQ(y, std::vector<float>(x.begin(), x.begin() + 150));
  y = onnx_slice(x, s, {20, 10, 4}, {0, 0, 1}, {0, 1, 2}, {-1, -3, -2}, &out);  // x[20:0:-1, 10:0:-3, 4:1:-2]
  EXPECT_EQ(out, (Shape{19, 3, 2}));
  EXPECT_EQ(y[0], at(19, 9, 4));
  EXPECT_EQ(y[1], at(19, 9, 2));
  EXPECT_EQ(y[2], at(19, 6, 4));
  EXPECT_EQ(y.back(), at(1, 3, 2));
  y = onnx_slice(x, s, {0, 0, 3}, {20, 10, 4}, {0, -2, -1}, {}, &out);  // negative axes: x[:, :, 3:4]
  EXPECT_EQ(out, (Shape{20, 10, 1}));
  EXPECT_EQ(y[7], at(0, 7, 3));
  y = onnx_slice(x, s, {1}, {1000}, {1}, {1}, &out);  // end out of bounds: x[:, 1:1000]
  EXPECT_EQ(out, (Shape{20, 9, 5}));
  EXPECT_EQ(y[0], at(0, 1, 0));
  y = onnx_slice(x, s, {1000}, {1000}, {1}, {1}, &out);  // start out of bounds: x[:, 1000:1000]
  EXPECT_EQ(out, (Shape{20, 0, 5}));
  y = onnx_slice(x, s, {0, 0, 3}, {20, 10, 4}, {}, {}, &out);  // default axes and steps
  EXPECT_EQ(out, (Shape{20, 10, 1}));
  y = onnx_slice(x, s, {0}, {-1}, {1}, {1}, &out);  // x[:, 0:-1]
  EXPECT_EQ(out, (Shape{20, 9, 5}));
  y = onnx_slice(x, s, {-1}, {kMin}, {1}, {-1}, &out);  // x[:, ::-1]: INT64_MIN end slices to the start
  EXPECT_EQ(out, (Shape{20, 10, 5}));
  EXPECT_EQ(y[0], at(0, 9, 0));
  y = onnx_slice(x, s, {2}, {kMax}, {0}, {kMax}, &out);  // one element, the step never taken
  EXPECT_EQ(out, (Shape{1, 10, 5}));
  EXPECT_EQ(y[0], at(2, 0, 0));
  y = onnx_slice(x, s, {kMax}, {kMin}, {2}, {kMin}, &out);  // from the clamped last element, one step
  EXPECT_EQ(out, (Shape{20, 10, 1}));
  EXPECT_EQ(y[0], at(0, 0, 4));
  // Negative stepping clamps the start to [0, dim - 1]: a start before the beginning takes element 0.
  y = onnx_slice(x, s, {-100}, {kMin}, {2}, {-1}, &out);
  EXPECT_EQ(out, (Shape{20, 10, 1}));
  EXPECT_EQ(y[0], at(0, 0, 0));
}

std::vector<float> onnx_pad(const std::vector<float>& x, const Shape& s, const std::vector<int64_t>& pads,
                            PadMode mode, float value = 0.0f) {
  const std::vector<int64_t> begin(pads.begin(), pads.begin() + static_cast<ptrdiff_t>(s.size()));
  const std::vector<int64_t> end(pads.begin() + static_cast<ptrdiff_t>(s.size()), pads.end());
  const Shape out = ref::pad_shape(s, begin, end, "Pad");
  std::vector<float> y(static_cast<size_t>(count_of(out))), z(y.size());
  ref::pad(x.data(), s, begin, end, mode, &value, sizeof(float), y.data(), "Pad");
  movement::pad(x.data(), s, begin, end, mode, &value, sizeof(float), z.data(), "Pad");
  EXPECT_EQ(y, z);
  return y;
}

TEST(MovementOnnx, PadExamples) {
  const std::vector<float> x = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};
  EXPECT_EQ(onnx_pad(x, {3, 2}, {0, 2, 0, 0}, PadMode::constant),
            (std::vector<float>{0.0f, 0.0f, 1.0f, 1.2f, 0.0f, 0.0f, 2.3f, 3.4f, 0.0f, 0.0f, 4.5f, 5.7f}));
  // Reflecting by 2 a dimension of 2 mirrors twice.
  EXPECT_EQ(onnx_pad(x, {3, 2}, {0, 2, 0, 0}, PadMode::reflect),
            (std::vector<float>{1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f}));
  EXPECT_EQ(onnx_pad(x, {3, 2}, {0, 2, 0, 0}, PadMode::edge),
            (std::vector<float>{1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f}));
  EXPECT_EQ(onnx_pad(x, {3, 2}, {2, 1, 1, 1}, PadMode::wrap),
            (std::vector<float>{3.4f, 2.3f, 3.4f, 2.3f, 5.7f, 4.5f, 5.7f, 4.5f, 1.2f, 1.0f, 1.2f, 1.0f,
                                3.4f, 2.3f, 3.4f, 2.3f, 5.7f, 4.5f, 5.7f, 4.5f, 1.2f, 1.0f, 1.2f, 1.0f}));
  // numpy's documented examples (ONNX's reference implementation is np.pad).
  const std::vector<float> a = {1, 2, 3, 4, 5};
  EXPECT_EQ(onnx_pad(a, {5}, {2, 3}, PadMode::reflect), (std::vector<float>{3, 2, 1, 2, 3, 4, 5, 4, 3, 2}));
  EXPECT_EQ(onnx_pad(a, {5}, {2, 3}, PadMode::wrap), (std::vector<float>{4, 5, 1, 2, 3, 4, 5, 1, 2, 3}));
  EXPECT_EQ(onnx_pad(a, {5}, {2, 3}, PadMode::edge), (std::vector<float>{1, 1, 1, 2, 3, 4, 5, 5, 5, 5}));
  EXPECT_EQ(onnx_pad(a, {5}, {2, 3}, PadMode::constant, 4.0f),
            (std::vector<float>{4, 4, 1, 2, 3, 4, 5, 4, 4, 4}));
  // Negative pads crop first; the mode then pads what is left.
  EXPECT_EQ(onnx_pad(a, {5}, {-1, 2}, PadMode::reflect), (std::vector<float>{2, 3, 4, 5, 4, 3}));
  EXPECT_EQ(onnx_pad(a, {5}, {2, -2}, PadMode::wrap), (std::vector<float>{2, 3, 1, 2, 3}));
  EXPECT_EQ(onnx_pad(a, {5}, {-2, -3}, PadMode::constant), (std::vector<float>{}));
}

TEST(MovementOnnx, GatherExamples) {
  const std::vector<float> data = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};
  std::vector<float> y(8);
  const std::vector<int64_t> rows = {0, 1, 1, 2};
  ref::gather(data.data(), {3, 2}, 0, rows.data(), {2, 2}, sizeof(float), y.data(), "Gather");
  EXPECT_EQ(y, (std::vector<float>{1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f}));

  const std::vector<float> data2 = {1.0f, 1.2f, 1.9f, 2.3f, 3.4f, 3.9f, 4.5f, 5.7f, 5.9f};
  const std::vector<int64_t> columns = {0, 2};
  y.assign(6, 0.0f);
  ref::gather(data2.data(), {3, 3}, 1, columns.data(), {1, 2}, sizeof(float), y.data(), "Gather");
  EXPECT_EQ(y, (std::vector<float>{1.0f, 1.9f, 2.3f, 3.9f, 4.5f, 5.9f}));

  // gather_negative_indices: arange(10)[[0, -9, -10]].
  const std::vector<float> ten = iota_floats(10);
  const std::vector<int64_t> negative = {0, -9, -10};
  y.assign(3, 0.0f);
  movement::gather(ten.data(), {10}, 0, negative.data(), {3}, sizeof(float), y.data(), "Gather");
  EXPECT_EQ(y, (std::vector<float>{0, 1, 0}));

  // A scalar index removes the dimension.
  const std::vector<int64_t> one = {-1};
  y.assign(3, 0.0f);
  ref::gather(data2.data(), {3, 3}, -1, one.data(), {}, sizeof(float), y.data(), "Gather");
  EXPECT_EQ(y, (std::vector<float>{1.9f, 3.9f, 5.9f}));
}

TEST(MovementOnnx, DepthToSpaceExamples) {
  // x: (1, 8, 2, 3), channel c holding 9 c + [0, 1, 2, 3, 4, 5] (the spec writes it out).
  std::vector<float> x;
  for (int c = 0; c < 8; ++c)
    for (int i = 0; i < 6; ++i)
      x.push_back(static_cast<float>(9 * c + i));
  std::vector<float> y(48);
  ref::depth_to_space(x.data(), {1, 8, 2, 3}, 2, false, sizeof(float), y.data());
  EXPECT_EQ(y, (std::vector<float>{0,  18, 1,  19, 2,  20, 36, 54, 37, 55, 38, 56, 3,  21, 4,  22,
                                   5,  23, 39, 57, 40, 58, 41, 59, 9,  27, 10, 28, 11, 29, 45, 63,
                                   46, 64, 47, 65, 12, 30, 13, 31, 14, 32, 48, 66, 49, 67, 50, 68}));
  movement::depth_to_space(x.data(), {1, 8, 2, 3}, 2, true, sizeof(float), y.data());
  EXPECT_EQ(y, (std::vector<float>{0,  9,  1,  10, 2,  11, 18, 27, 19, 28, 20, 29, 3,  12, 4,  13,
                                   5,  14, 21, 30, 22, 31, 23, 32, 36, 45, 37, 46, 38, 47, 54, 63,
                                   55, 64, 56, 65, 39, 48, 40, 49, 41, 50, 57, 66, 58, 67, 59, 68}));
  // SpaceToDepth of the DCR result gives x back.
  std::vector<float> back(48);
  ref::depth_to_space(x.data(), {1, 8, 2, 3}, 2, false, sizeof(float), y.data());
  ref::space_to_depth(y.data(), {1, 2, 4, 6}, 2, sizeof(float), back.data());
  EXPECT_EQ(back, x);
}

// ---- Parallel kernels on outputs large enough to be split ------------------------------------------------

TEST(Movement, ParallelMatchesOnLargeOutputs) {
  test::Random rng(110);
  // Every case with every element size in a plain build. Under a sanitizer each case takes one size, the
  // sizes in turn from case to case, so that all four still run (each size's copy loops, each case's
  // partition): every case four times made this the longest test of CI's ASan + UBSan run (42 s).
  constexpr std::array<size_t, 4> kElementSizes = {1, 4, 8, 3};
  for (size_t round = 0; round < kElementSizes.size(); ++round) {
    const size_t es = kElementSizes[round];
    size_t case_index = 0;
    const auto runs_next_case = [&] {
      return !test::kSanitized || case_index++ % kElementSizes.size() == round;
    };
    if (runs_next_case()) check(transpose_case(rng, {311, 509}, {1, 0}, es), rng);
    if (runs_next_case()) check(transpose_case(rng, {2, 24, 61, 67}, {0, 2, 3, 1}, es), rng);
    if (runs_next_case()) check(transpose_case(rng, {2, 61, 67, 24}, {0, 3, 1, 2}, es), rng);
    if (runs_next_case()) check(transpose_case(rng, {40, 3, 4000}, {1, 0, 2}, es), rng);
    if (runs_next_case()) check(transpose_case(rng, {1, 300000}, {1, 0}, es), rng);
    if (runs_next_case())
      check(slice_case(rng, {300, 1001}, {-1, 3}, {kMin, kMax}, {0, 1}, {-2, 1}, es), rng);
    if (runs_next_case()) check(slice_case(rng, {600, 1000}, {1}, {kMax}, {1}, {3}, es), rng);
    if (runs_next_case()) check(slice_case(rng, {1, 500000}, {1}, {-1}, {1}, {1}, es), rng);
    for (const auto mode : {PadMode::constant, PadMode::reflect, PadMode::edge, PadMode::wrap}) {
      if (runs_next_case()) check(pad_case(rng, {3, 130, 250}, {1, 3, -2}, {0, -4, 5}, mode, es), rng);
      if (runs_next_case()) check(pad_case(rng, {2, 100000}, {0, 70000}, {1, 123}, mode, es), rng);
    }
    if (runs_next_case()) check(expand_case(rng, {300, 1, 7}, {2, 300, 64, 7}, es), rng);
    if (runs_next_case()) check(expand_case(rng, {1}, {400000}, es), rng);
    if (runs_next_case()) check(tile_case(rng, {5, 3, 100}, {40, 2, 11}, es), rng);
    if (runs_next_case())
      check(concat_case(rng, {{30, 50, 41}, {30, 7, 41}, {30, 0, 41}, {30, 123, 41}}, -2, es), rng);
    if (runs_next_case()) check(concat_case(rng, {{200000}, {1}, {150000}}, 0, es), rng);
    if (runs_next_case()) check(depth_to_space_case(rng, {2, 64, 40, 60}, 4, false, es), rng);
    if (runs_next_case()) check(depth_to_space_case(rng, {2, 36, 50, 70}, 3, true, es), rng);
    if (runs_next_case()) check(space_to_depth_case(rng, {2, 5, 120, 160}, 2, es), rng);
  }
  auto x = std::make_shared<Bytes>(random_bytes(rng, 1000 * 700, 2));
  const std::vector<int64_t> indices = [&] {
    std::vector<int64_t> v(400);
    for (auto& i : v)
      i = rng.integer(-700, 699);
    return v;
  }();
  for (const int64_t axis : {0, 1}) {
    const Shape s = axis == 0 ? Shape{700, 1000} : Shape{1000, 700};
    const Shape index_shape = {20, 20};
    Case c{"large gather axis " + std::to_string(axis), 2,
           expected_gather(*x, s, axis, indices, index_shape, 2)};
    c.reference = [=](void* y) { ref::gather(x->data(), s, axis, indices.data(), index_shape, 2, y, "g"); };
    c.parallel = [=](void* y) {
      movement::gather(x->data(), s, axis, indices.data(), index_shape, 2, y, "g");
    };
    c.work = [=](void* y) {
      return ref::detail::gather_work(x->data(), s, axis, indices.data(), index_shape, 2, y, "g");
    };
    check(c, rng);
  }
}

// ---- Validation ------------------------------------------------------------------------------------------

// Runs `f`, which must throw octet::Error with a message containing `text`.
template <class F>
void expect_error(F&& f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << text << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(MovementErrors, Transpose) {
  Bytes x(64), y(64);
  expect_error([&] { ref::transpose(x.data(), {2, 3}, {0}, 4, y.data()); }, "transpose");
  expect_error([&] { ref::transpose(x.data(), {2, 3}, {0, 0}, 4, y.data()); }, "not a permutation");
  expect_error([&] { ref::transpose(x.data(), {2, 3}, {0, 2}, 4, y.data()); }, "not a permutation");
  expect_error([&] { movement::transpose(x.data(), {2, 3}, {-1, 0}, 4, y.data()); }, "not a permutation");
  expect_error([&] { ref::transpose(x.data(), {2, 3}, {1, 0}, 0, y.data()); }, "element size");
  expect_error([&] { ref::transpose(x.data(), {2, -3}, {1, 0}, 4, y.data()); }, "negative dimension");
  expect_error([&] { ref::transpose(x.data(), {kMax, 3}, {1, 0}, 1, y.data()); }, "overflows");
  expect_error([&] { ref::transpose(x.data(), {int64_t{1} << 61}, {0}, 8, y.data()); }, "overflow");
}

TEST(MovementErrors, Slice) {
  const Shape s = {4, 5};
  expect_error([&] { ref::slice_axes(s, {0}, {1, 2}, {}, {}, "MySlice"); }, "MySlice");
  expect_error([&] { ref::slice_axes(s, {0}, {1}, {0, 1}, {}, "MySlice"); }, "differ in length");
  expect_error([&] { ref::slice_axes(s, {0}, {1}, {}, {0}, "MySlice"); }, "step 0");
  expect_error([&] { ref::slice_axes(s, {0}, {1}, {2}, {}, "MySlice"); }, "out of range");
  expect_error([&] { ref::slice_axes(s, {0}, {1}, {-3}, {}, "MySlice"); }, "out of range");
  expect_error([&] { ref::slice_axes(s, {0, 0}, {1, 1}, {1, -1}, {}, "MySlice"); }, "repeat");
  expect_error([&] { ref::slice_axes(s, {0, 0, 0}, {1, 1, 1}, {}, {}, "MySlice"); }, "MySlice");
  Bytes x(80), y(80);
  const std::vector<ref::SliceAxis> ok = {{0, 1, 4}, {0, 1, 5}};
  expect_error([&] { ref::slice(x.data(), s, {ok[0]}, 4, y.data()); }, "slice");
  expect_error([&] { ref::slice(x.data(), s, {{0, 1, 4}, {0, 0, 5}}, 4, y.data()); }, "step 0");
  expect_error([&] { ref::slice(x.data(), s, {{0, 1, 4}, {1, 1, 5}}, 4, y.data()); }, "leave dimension");
  expect_error([&] { ref::slice(x.data(), s, {{0, 1, 4}, {4, -1, 6}}, 4, y.data()); }, "leave dimension");
  expect_error([&] { movement::slice(x.data(), s, {{0, 1, 4}, {5, 1, 1}}, 4, y.data()); }, "leave dimension");
  expect_error([&] { ref::slice(x.data(), s, {{0, 1, 4}, {0, kMax, 2}}, 4, y.data()); }, "leave dimension");
  expect_error([&] { ref::slice(x.data(), s, {{0, 1, 4}, {0, 1, -1}}, 4, y.data()); }, "negative");
}

TEST(MovementErrors, Pad) {
  Bytes x(64), y(256), v(4);
  expect_error([&] { ref::pad_shape({2, 3}, {1}, {1, 1}, "MyPad"); }, "MyPad");
  expect_error([&] { ref::pad_shape({2, 3}, {-2, 0}, {-1, 0}, "MyPad"); }, "remove more");
  expect_error([&] { ref::pad_shape({2, 3}, {kMin, 0}, {kMin, 0}, "MyPad"); }, "remove more");
  expect_error([&] { ref::pad_shape({2, 3}, {kMax, 0}, {1, 0}, "MyPad"); }, "overflow");
  expect_error(
      [&] {
        ref::pad_shape({2, 3}, {int64_t{1} << 40, 0}, {0, int64_t{1} << 40}, "MyPad");
      },
      "overflows");
  const auto pad = [&](const Shape& s, std::vector<int64_t> b, std::vector<int64_t> e, PadMode m) {
    return [=, &x, &y, &v] { ref::pad(x.data(), s, b, e, m, v.data(), 4, y.data(), "MyPad"); };
  };
  expect_error(pad({2, 1}, {0, 1}, {0, 0}, PadMode::reflect), "reflect");
  expect_error(pad({2, 3}, {0, -2}, {0, 1}, PadMode::reflect), "reflect");
  expect_error(pad({2, 0}, {0, 1}, {0, 0}, PadMode::edge), "edge");
  expect_error(pad({2, 0}, {0, 0}, {0, 1}, PadMode::wrap), "wrap");
  expect_error(pad({2, 3}, {0, 0}, {0, 0}, static_cast<PadMode>(7)), "mode");
  expect_error([&] { ref::pad(x.data(), {2}, {1}, {0}, PadMode::constant, nullptr, 4, y.data(), "MyPad"); },
               "value");
  // Constant padding of an empty dimension is fine; so are the other modes where nothing is added.
  std::fill(y.begin(), y.end(), std::byte{0});
  const float one = 1.0f;
  ref::pad(x.data(), {2, 0}, {0, 1}, {0, 1}, PadMode::constant, &one, 4, y.data(), "MyPad");
  EXPECT_EQ(values_of<float>(Bytes(y.begin(), y.begin() + 16)), (std::vector<float>{1, 1, 1, 1}));
  ref::pad(x.data(), {2, 1}, {0, 0}, {0, -1}, PadMode::reflect, nullptr, 4, y.data(), "MyPad");
}

TEST(MovementErrors, Gather) {
  const std::vector<float> x(12);
  std::vector<float> y(64);
  const std::vector<int64_t> idx = {0, 2, -3, 3};
  expect_error(
      [&] {
        ref::gather(x.data(), {3, 4}, 0, idx.data(), {4}, 4, y.data(), "MyGather");
      },
      "index 3");
  expect_error(
      [&] {
        ref::gather(x.data(), {3, 4}, 0, idx.data(), {4}, 4, y.data(), "MyGather");
      },
      "MyGather");
  const std::vector<int64_t> low = {-4};
  expect_error([&] { movement::gather(x.data(), {3, 4}, 0, low.data(), {1}, 4, y.data(), "G"); }, "index -4");
  expect_error([&] { ref::gather(x.data(), {3, 4}, 2, idx.data(), {1}, 4, y.data(), "G"); }, "axis 2");
  expect_error([&] { ref::gather(x.data(), {3, 4}, -3, idx.data(), {1}, 4, y.data(), "G"); }, "axis -3");
  expect_error([&] { ref::gather(x.data(), {}, 0, idx.data(), {1}, 4, y.data(), "G"); }, "axis 0");
  expect_error([&] { ref::gather(x.data(), {0, 4}, 0, idx.data(), {1}, 4, y.data(), "G"); }, "out of range");
  expect_error([&] { ref::gather(x.data(), {3, 4}, 0, nullptr, {1}, 4, y.data(), "G"); }, "G");
  expect_error([&] { ref::gather(x.data(), {3, 4}, 0, idx.data(), {-1}, 4, y.data(), "G"); }, "negative");
  ref::gather(x.data(), {0, 4}, 0, nullptr, {0}, 4, nullptr, "G");  // nothing to gather from nothing
}

TEST(MovementErrors, ExpandTileConcatDepthToSpace) {
  Bytes x(256), y(4096);
  expect_error([&] { ref::expand(x.data(), {2, 3}, {3}, 4, y.data()); }, "expand");
  expect_error([&] { ref::expand(x.data(), {2, 3}, {4, 3}, 4, y.data()); }, "expand");
  expect_error([&] { ref::expand(x.data(), {3}, {2, 1}, 4, y.data()); }, "not [2, 1]");
  expect_error([&] { movement::expand(x.data(), {1, 3}, {0, 4}, 4, y.data()); }, "expand");
  expect_error([&] { ref::tile(x.data(), {2, 3}, {2}, 4, y.data()); }, "tile");
  expect_error([&] { ref::tile(x.data(), {2, 3}, {2, -1}, 4, y.data()); }, ">= 0");
  expect_error([&] { ref::tile(x.data(), {0, 3}, {1, kMax}, 4, y.data()); }, "int64");
  expect_error(
      [&] {
        ref::tile(x.data(), {2, 3}, {int64_t{1} << 40, int64_t{1} << 40}, 1, y.data());
      },
      "overflows");
  const std::vector<const void*> two = {x.data(), x.data()};
  expect_error([&] { ref::concat({}, {}, 0, 4, y.data()); }, "concat");
  expect_error([&] { ref::concat(two, {{2, 3}}, 0, 4, y.data()); }, "concat");
  expect_error([&] { ref::concat(two, {{2, 3}, {2, 4}}, 0, 4, y.data()); }, "differ outside axis");
  expect_error([&] { ref::concat(two, {{2, 3}, {2, 3, 1}}, 0, 4, y.data()); }, "differ outside axis");
  expect_error([&] { ref::concat(two, {{2, 3}, {2, 3}}, 2, 4, y.data()); }, "axis 2");
  expect_error([&] { ref::concat(two, {{}, {}}, 0, 4, y.data()); }, "axis 0");
  expect_error([&] { ref::concat(two, {{2, kMax}, {2, kMax}}, 1, 1, y.data()); }, "overflow");
  expect_error([&] { ref::concat({x.data(), nullptr}, {{2, 3}, {2, 3}}, 0, 4, y.data()); }, "no data");
  expect_error([&] { ref::depth_to_space(x.data(), {1, 8, 2}, 2, false, 4, y.data()); }, "rank 4");
  expect_error([&] { ref::depth_to_space(x.data(), {1, 8, 2, 2}, 0, false, 4, y.data()); }, "block size 0");
  expect_error([&] { ref::depth_to_space(x.data(), {1, 6, 2, 2}, 2, true, 4, y.data()); }, "does not divide");
  expect_error([&] { ref::depth_to_space(x.data(), {1, 8, 2, 2}, kMax, true, 4, y.data()); }, "block size");
  expect_error([&] { ref::depth_to_space(x.data(), {1, 0, kMax, 2}, 2, true, 4, y.data()); }, "overflows");
  expect_error([&] { ref::space_to_depth(x.data(), {1, 2, 3, 4}, 2, 4, y.data()); }, "does not divide");
  expect_error([&] { movement::space_to_depth(x.data(), {1, 2, 4, 4}, -2, 4, y.data()); }, "space_to_depth");
}

}  // namespace
}  // namespace octet
