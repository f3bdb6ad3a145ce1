// The index-driven operators (kernels/reference/indexing.h) against index arithmetic written here, one
// element at a time: GatherElements, GatherND (with batch dimensions), ScatterElements and ScatterND (every
// reduction, float32 and int64, repeated indices applied in order) on random shapes with zero-size
// dimensions, negative indices and element sizes 1, 3, 4 and 8; the ONNX specification's examples; the
// gathers' prepared work over random partitions and their parallel kernels on 1 and 3 threads; and every
// error (an index out of range must throw before anything is written).

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

#include "kernels/error.h"
#include "kernels/movement/movement.h"
#include "kernels/reference/indexing.h"
#include "movement_check.h"
#include "test_util.h"

namespace octet {
namespace {

using ref::ScatterArithmetic;
using ref::ScatterReduction;
using test::Bytes;

using test::count_of;
using test::ravel;
using test::unravel;

Bytes random_bytes(test::Random& rng, int64_t count, size_t es) {
  Bytes b(static_cast<size_t>(count) * es);
  for (auto& x : b)
    x = static_cast<std::byte>(rng.integer(0, 255));
  return b;
}

Shape random_shape(test::Random& rng, size_t min_rank, size_t max_rank) {
  Shape s(static_cast<size_t>(rng.integer(static_cast<int64_t>(min_rank), static_cast<int64_t>(max_rank))));
  for (auto& d : s)
    d = rng.integer(0, 9) == 0 ? 0 : rng.integer(1, 5);
  return s;
}

int64_t wrapped(int64_t i, int64_t dim) {
  return i < 0 ? i + dim : i;
}

template <class F>
void expect_error(F&& f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << text << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

constexpr size_t kElementSizes[] = {1, 3, 4, 8};

TEST(Indexing, GatherElementsMatchesIndexArithmetic) {
  test::Random rng(501);
  for (int round = 0; round < test::random_trials(300); ++round) {
    const Shape s = random_shape(rng, 1, 4);
    const auto rank = static_cast<int64_t>(s.size());
    const int64_t axis = rng.integer(-rank, rank - 1);
    const auto a = static_cast<size_t>(wrapped(axis, rank));
    Shape index_shape = s;
    for (size_t d = 0; d < s.size(); ++d)
      index_shape[d] = d == a ? (s[a] == 0 ? 0 : rng.integer(1, 6)) : rng.integer(0, s[d]);
    const int64_t n = count_of(index_shape);
    std::vector<int64_t> indices(static_cast<size_t>(n));
    for (auto& i : indices)
      i = rng.integer(-s[a], s[a] - 1);
    const size_t es = kElementSizes[rng.integer(0, 3)];
    const Bytes x = random_bytes(rng, count_of(s), es);
    Bytes expected(static_cast<size_t>(n) * es);
    for (int64_t e = 0; e < n; ++e) {
      std::vector<int64_t> c = unravel(e, index_shape);
      c[a] = wrapped(indices[static_cast<size_t>(e)], s[a]);
      std::memcpy(expected.data() + e * static_cast<int64_t>(es),
                  x.data() + ravel(c, s) * static_cast<int64_t>(es), es);
    }
    SCOPED_TRACE("gather_elements " + to_string(s) + " axis " + std::to_string(axis) + " indices " +
                 to_string(index_shape) + " element size " + std::to_string(es));
    test::check_movement(
        expected,
        [&](void* y) { ref::gather_elements(x.data(), s, axis, indices.data(), index_shape, es, y, "ge"); },
        [&](void* y) {
          return ref::detail::gather_elements_work(x.data(), s, axis, indices.data(), index_shape, es, y,
                                                   "ge");
        },
        [&](void* y) {
          movement::gather_elements(x.data(), s, axis, indices.data(), index_shape, es, y, "ge");
        },
        rng);
  }
}

TEST(Indexing, GatherNdMatchesIndexArithmetic) {
  test::Random rng(502);
  for (int round = 0; round < test::random_trials(300); ++round) {
    Shape s = random_shape(rng, 1, 4);
    const auto r = static_cast<int64_t>(s.size());
    const int64_t batch_dims = rng.integer(0, r - 1);
    const int64_t k = rng.integer(1, r - batch_dims);
    Shape index_shape(s.begin(), s.begin() + batch_dims);
    for (int64_t extra = rng.integer(0, 2); extra > 0; --extra)
      index_shape.push_back(rng.integer(0, 3));
    index_shape.push_back(k);
    // Every addressed dimension needs an element unless there are no tuples to address it.
    bool empty_tuples = false;
    for (size_t d = 0; d + 1 < index_shape.size(); ++d)
      empty_tuples = empty_tuples || index_shape[d] == 0;
    if (!empty_tuples)
      for (int64_t j = 0; j < k; ++j)
        s[static_cast<size_t>(batch_dims + j)] = std::max<int64_t>(s[static_cast<size_t>(batch_dims + j)], 1);
    const int64_t tuples = count_of(index_shape) / k;
    std::vector<int64_t> indices(static_cast<size_t>(count_of(index_shape)));
    for (int64_t t = 0; t < tuples; ++t)
      for (int64_t j = 0; j < k; ++j) {
        const int64_t dim = s[static_cast<size_t>(batch_dims + j)];
        indices[static_cast<size_t>(t * k + j)] = rng.integer(-dim, dim - 1);
      }
    const size_t es = kElementSizes[rng.integer(0, 3)];
    const Bytes x = random_bytes(rng, count_of(s), es);
    const Shape out = ref::gather_nd_shape(s, index_shape, batch_dims, "test");
    const Shape tuple_shape(index_shape.begin(), index_shape.end() - 1);
    const Shape slice_shape(s.begin() + batch_dims + k, s.end());
    const int64_t slice = count_of(slice_shape);
    Bytes expected(static_cast<size_t>(count_of(out)) * es);
    for (int64_t t = 0; t < tuples; ++t) {
      const std::vector<int64_t> tc = unravel(t, tuple_shape);
      std::vector<int64_t> c(s.size(), 0);
      for (int64_t d = 0; d < batch_dims; ++d)
        c[static_cast<size_t>(d)] = tc[static_cast<size_t>(d)];
      for (int64_t j = 0; j < k; ++j)
        c[static_cast<size_t>(batch_dims + j)] =
            wrapped(indices[static_cast<size_t>(t * k + j)], s[static_cast<size_t>(batch_dims + j)]);
      for (int64_t e = 0; e < slice; ++e) {
        const std::vector<int64_t> sc = unravel(e, slice_shape);
        std::copy(sc.begin(), sc.end(), c.begin() + batch_dims + k);
        std::memcpy(expected.data() + (t * slice + e) * static_cast<int64_t>(es),
                    x.data() + ravel(c, s) * static_cast<int64_t>(es), es);
      }
    }
    SCOPED_TRACE("gather_nd " + to_string(s) + " indices " + to_string(index_shape) + " batch_dims " +
                 std::to_string(batch_dims) + " element size " + std::to_string(es));
    test::check_movement(
        expected,
        [&](void* y) { ref::gather_nd(x.data(), s, indices.data(), index_shape, batch_dims, es, y, "gnd"); },
        [&](void* y) {
          return ref::detail::gather_nd_work(x.data(), s, indices.data(), index_shape, batch_dims, es, y,
                                             "gnd");
        },
        [&](void* y) {
          movement::gather_nd(x.data(), s, indices.data(), index_shape, batch_dims, es, y, "gnd");
        },
        rng);
  }
}

TEST(Indexing, ParallelGathersMatchOnLargeOutputs) {
  test::Random rng(503);
  const Shape s = {3, 200, 400};
  const Bytes x = random_bytes(rng, count_of(s), 4);
  const Shape index_shape = {3, 150, 400};
  std::vector<int64_t> indices(static_cast<size_t>(count_of(index_shape)));
  for (auto& i : indices)
    i = rng.integer(-200, 199);
  Bytes expected(indices.size() * 4);
  for (int64_t e = 0; e < count_of(index_shape); ++e) {
    std::vector<int64_t> c = unravel(e, index_shape);
    c[1] = wrapped(indices[static_cast<size_t>(e)], 200);
    std::memcpy(expected.data() + e * 4, x.data() + ravel(c, s) * 4, 4);
  }
  test::check_movement(
      expected,
      [&](void* y) { ref::gather_elements(x.data(), s, 1, indices.data(), index_shape, 4, y, "ge"); },
      [&](void* y) {
        return ref::detail::gather_elements_work(x.data(), s, 1, indices.data(), index_shape, 4, y, "ge");
      },
      [&](void* y) { movement::gather_elements(x.data(), s, 1, indices.data(), index_shape, 4, y, "ge"); },
      rng);
  // GatherND of 3000 rows of 400 elements.
  const Shape rows = {3000, 1};
  std::vector<int64_t> row_indices(3000);
  for (auto& i : row_indices)
    i = rng.integer(-600, 599);
  const Shape table = {600, 400};
  const Bytes t = random_bytes(rng, count_of(table), 4);
  Bytes gathered(3000 * 400 * 4);
  for (size_t r = 0; r < 3000; ++r)
    std::memcpy(gathered.data() + r * 1600, t.data() + wrapped(row_indices[r], 600) * 1600, 1600);
  test::check_movement(
      gathered, [&](void* y) { ref::gather_nd(t.data(), table, row_indices.data(), rows, 0, 4, y, "gnd"); },
      [&](void* y) {
        return ref::detail::gather_nd_work(t.data(), table, row_indices.data(), rows, 0, 4, y, "gnd");
      },
      [&](void* y) { movement::gather_nd(t.data(), table, row_indices.data(), rows, 0, 4, y, "gnd"); }, rng);
}

// The scatters' expectation: the data, then each update combined into its target in order.
template <class T>
T reduce(T old, T update, ScatterReduction r) {
  switch (r) {
    case ScatterReduction::none:
      return update;
    case ScatterReduction::add:
      return old + update;
    case ScatterReduction::mul:
      return old * update;
    case ScatterReduction::max:
      return old < update ? update : old;
    case ScatterReduction::min:
      return update < old ? update : old;
  }
  return update;
}

constexpr ScatterReduction kReductions[] = {ScatterReduction::none, ScatterReduction::add,
                                            ScatterReduction::mul, ScatterReduction::max,
                                            ScatterReduction::min};

template <class T>
void scatter_elements_round(test::Random& rng, ScatterReduction r) {
  const Shape s = random_shape(rng, 1, 4);
  const auto rank = static_cast<int64_t>(s.size());
  const int64_t axis = rng.integer(-rank, rank - 1);
  const auto a = static_cast<size_t>(wrapped(axis, rank));
  Shape index_shape = s;
  for (size_t d = 0; d < s.size(); ++d)
    index_shape[d] = d == a ? (s[a] == 0 ? 0 : rng.integer(1, 6)) : rng.integer(0, s[d]);
  const int64_t n = count_of(index_shape);
  std::vector<int64_t> indices(static_cast<size_t>(n));
  for (auto& i : indices)
    i = rng.integer(-s[a], s[a] - 1);  // repeats are likely: the order of application matters
  std::vector<T> x(static_cast<size_t>(count_of(s))), u(static_cast<size_t>(n));
  for (auto& v : x)
    v = static_cast<T>(rng.integer(-9, 9));
  for (auto& v : u)
    v = static_cast<T>(rng.integer(-9, 9)) / T{2};
  std::vector<T> expected = x;
  for (int64_t e = 0; e < n; ++e) {
    std::vector<int64_t> c = unravel(e, index_shape);
    c[a] = wrapped(indices[static_cast<size_t>(e)], s[a]);
    T& target = expected[static_cast<size_t>(ravel(c, s))];
    target = reduce(target, u[static_cast<size_t>(e)], r);
  }
  const ScatterArithmetic arithmetic = std::is_same_v<T, float>    ? ScatterArithmetic::f32
                                       : std::is_same_v<T, double> ? ScatterArithmetic::f64
                                                                   : ScatterArithmetic::s64;
  std::vector<T> y(x.size(), T{77});
  ref::scatter_elements(x.data(), s, axis, indices.data(), index_shape, u.data(), sizeof(T), r, arithmetic,
                        y.data(), "se");
  ASSERT_EQ(y, expected) << "scatter_elements " << to_string(s) << " axis " << axis << " indices "
                         << to_string(index_shape) << " reduction " << static_cast<int>(r);
  // In place (y == x) gives the same.
  std::vector<T> in_place = x;
  ref::scatter_elements(in_place.data(), s, axis, indices.data(), index_shape, u.data(), sizeof(T), r,
                        arithmetic, in_place.data(), "se");
  ASSERT_EQ(in_place, expected);
}

template <class T>
void scatter_nd_round(test::Random& rng, ScatterReduction r) {
  Shape s = random_shape(rng, 1, 4);
  const auto rank = static_cast<int64_t>(s.size());
  const int64_t k = rng.integer(1, rank);
  Shape index_shape = random_shape(rng, 0, 2);
  index_shape.push_back(k);
  if (count_of(index_shape) > 0)
    for (int64_t j = 0; j < k; ++j)
      s[static_cast<size_t>(j)] = std::max<int64_t>(s[static_cast<size_t>(j)], 1);
  const int64_t tuples = count_of(index_shape) / k;
  std::vector<int64_t> indices(static_cast<size_t>(count_of(index_shape)));
  for (int64_t t = 0; t < tuples; ++t)
    for (int64_t j = 0; j < k; ++j)
      indices[static_cast<size_t>(t * k + j)] =
          rng.integer(-s[static_cast<size_t>(j)], s[static_cast<size_t>(j)] - 1);
  const Shape slice_shape(s.begin() + k, s.end());
  const int64_t slice = count_of(slice_shape);
  std::vector<T> x(static_cast<size_t>(count_of(s))), u(static_cast<size_t>(tuples * slice));
  for (auto& v : x)
    v = static_cast<T>(rng.integer(-9, 9));
  for (auto& v : u)
    v = static_cast<T>(rng.integer(-9, 9)) / T{2};
  std::vector<T> expected = x;
  for (int64_t t = 0; t < tuples; ++t) {
    std::vector<int64_t> c(s.size(), 0);
    for (int64_t j = 0; j < k; ++j)
      c[static_cast<size_t>(j)] = wrapped(indices[static_cast<size_t>(t * k + j)], s[static_cast<size_t>(j)]);
    for (int64_t e = 0; e < slice; ++e) {
      const std::vector<int64_t> sc = unravel(e, slice_shape);
      std::copy(sc.begin(), sc.end(), c.begin() + k);
      T& target = expected[static_cast<size_t>(ravel(c, s))];
      target = reduce(target, u[static_cast<size_t>(t * slice + e)], r);
    }
  }
  const ScatterArithmetic arithmetic = std::is_same_v<T, float>    ? ScatterArithmetic::f32
                                       : std::is_same_v<T, double> ? ScatterArithmetic::f64
                                                                   : ScatterArithmetic::s64;
  std::vector<T> y(x.size(), T{77});
  ref::scatter_nd(x.data(), s, indices.data(), index_shape, u.data(), sizeof(T), r, arithmetic, y.data(),
                  "snd");
  ASSERT_EQ(y, expected) << "scatter_nd " << to_string(s) << " indices " << to_string(index_shape)
                         << " reduction " << static_cast<int>(r);
}

TEST(Indexing, ScattersMatchIndexArithmeticInOrder) {
  test::Random rng(504);
  for (int round = 0; round < test::random_trials(120); ++round)
    for (const ScatterReduction r : kReductions) {
      scatter_elements_round<float>(rng, r);
      scatter_elements_round<int64_t>(rng, r);
      scatter_elements_round<double>(rng, r);
      scatter_nd_round<float>(rng, r);
      scatter_nd_round<int64_t>(rng, r);
      scatter_nd_round<double>(rng, r);
    }
}

TEST(Indexing, ScatterMovesElementsOfAnySize) {
  test::Random rng(505);
  const Shape s = {4, 3};
  const Bytes x = random_bytes(rng, 12, 3);
  const Bytes u = random_bytes(rng, 6, 3);
  const std::vector<int64_t> indices = {-1, 0};  // rows 3 and 0
  Bytes expected = x;
  std::memcpy(expected.data() + 3 * 9, u.data(), 9);
  std::memcpy(expected.data(), u.data() + 9, 9);
  Bytes y(x.size());
  ref::scatter_nd(x.data(), s, indices.data(), {2, 1}, u.data(), 3, ScatterReduction::none,
                  ScatterArithmetic::bytes, y.data(), "snd");
  EXPECT_TRUE(y == expected);
}

// ---- The ONNX specification's examples
// ---------------------------------------------------------------------

TEST(IndexingOnnx, Examples) {
  {  // GatherElements, example 1
    const std::vector<float> data = {1, 2, 3, 4};
    const std::vector<int64_t> indices = {0, 0, 1, 0};
    std::vector<float> y(4);
    ref::gather_elements(data.data(), {2, 2}, 1, indices.data(), {2, 2}, 4, y.data(), "t");
    EXPECT_EQ(y, (std::vector<float>{1, 1, 4, 3}));
  }
  {  // GatherElements, example 2 (fewer rows of indices than of data)
    const std::vector<float> data = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const std::vector<int64_t> indices = {1, 2, 0, 2, 0, 0};
    std::vector<float> y(6);
    ref::gather_elements(data.data(), {3, 3}, 0, indices.data(), {2, 3}, 4, y.data(), "t");
    EXPECT_EQ(y, (std::vector<float>{4, 8, 3, 7, 2, 3}));
  }
  {  // GatherND, example 5: batch_dims 1
    const std::vector<int32_t> data = {0, 1, 2, 3, 4, 5, 6, 7};
    const std::vector<int64_t> indices = {1, 0};
    std::vector<int32_t> y(4);
    ref::gather_nd(data.data(), {2, 2, 2}, indices.data(), {2, 1}, 1, 4, y.data(), "t");
    EXPECT_EQ(y, (std::vector<int32_t>{2, 3, 4, 5}));
  }
  {  // GatherND, example 3: full tuples into a rank-3 tensor
    const std::vector<int32_t> data = {0, 1, 2, 3, 4, 5, 6, 7};
    const std::vector<int64_t> indices = {0, 1, 1, 0};
    std::vector<int32_t> y(4);
    ref::gather_nd(data.data(), {2, 2, 2}, indices.data(), {2, 2}, 0, 4, y.data(), "t");
    EXPECT_EQ(y, (std::vector<int32_t>{2, 3, 4, 5}));
  }
  {  // ScatterND, example 1
    const std::vector<float> data = {1, 2, 3, 4, 5, 6, 7, 8};
    const std::vector<int64_t> indices = {4, 3, 1, 7};
    const std::vector<float> updates = {9, 10, 11, 12};
    std::vector<float> y(8);
    ref::scatter_nd(data.data(), {8}, indices.data(), {4, 1}, updates.data(), 4, ScatterReduction::none,
                    ScatterArithmetic::bytes, y.data(), "t");
    EXPECT_EQ(y, (std::vector<float>{1, 11, 3, 10, 9, 6, 7, 12}));
  }
  {  // ScatterElements with reduction add, a repeated index
    const std::vector<float> data = {1, 2, 3, 4, 5};
    const std::vector<int64_t> indices = {1, 1};
    const std::vector<float> updates = {1.1f, 2.1f};
    std::vector<float> y(5);
    ref::scatter_elements(data.data(), {1, 5}, 1, indices.data(), {1, 2}, updates.data(), 4,
                          ScatterReduction::add, ScatterArithmetic::f32, y.data(), "t");
    EXPECT_EQ(y, (std::vector<float>{1, 2.0f + 1.1f + 2.1f, 3, 4, 5}));
  }
  {  // int64 products wrap around instead of overflowing
    const std::vector<int64_t> data = {int64_t{1} << 62};
    const std::vector<int64_t> indices = {0};
    const std::vector<int64_t> updates = {4};
    std::vector<int64_t> y(1);
    ref::scatter_nd(data.data(), {1}, indices.data(), {1, 1}, updates.data(), 8, ScatterReduction::mul,
                    ScatterArithmetic::s64, y.data(), "t");
    EXPECT_EQ(y[0], 0);
  }
}

// ---- Errors
// ------------------------------------------------------------------------------------------------

TEST(IndexingErrors, IndicesOutOfRangeThrowBeforeWriting) {
  const std::vector<float> data = {1, 2, 3, 4, 5, 6};
  std::vector<float> y(6, -1.0f);
  const std::vector<int64_t> bad = {0, 1, 2, -4};
  expect_error(
      [&] {
        ref::gather_elements(data.data(), {2, 3}, 1, bad.data(), {2, 2}, 4, y.data(), "node ge");
      },
      "node ge: index -4 (element 3 of the indices) is out of range for dimension 1 of size 3");
  expect_error(
      [&] {
        movement::gather_elements(data.data(), {2, 3}, 0, bad.data(), {1, 3}, 4, y.data(), "ge0");
      },
      "index 2 (element 2");
  const std::vector<int64_t> tuples = {1, 2, 2, 0};
  expect_error(
      [&] {
        ref::gather_nd(data.data(), {2, 3}, tuples.data(), {2, 2}, 0, 4, y.data(), "gnd");
      },
      "gnd: index 2 (element 2 of the indices) is out of range for dimension 0 of size 2");
  const std::vector<float> updates = {9, 9, 9, 9, 9, 9};
  expect_error(
      [&] {
        ref::scatter_nd(data.data(), {2, 3}, tuples.data(), {2, 2}, updates.data(), 4, ScatterReduction::none,
                        ScatterArithmetic::bytes, y.data(), "snd");
      },
      "snd: index 2");
  expect_error(
      [&] {
        ref::scatter_elements(data.data(), {2, 3}, 1, bad.data(), {2, 2}, updates.data(), 4,
                              ScatterReduction::add, ScatterArithmetic::f32, y.data(), "se");
      },
      "se: index -4");
  EXPECT_EQ(y, std::vector<float>(6, -1.0f)) << "an error must come before any write";
}

TEST(IndexingErrors, Shapes) {
  expect_error([] { ref::check_gather_elements_shapes({2, 3}, 0, {2}, "a"); }, "do not have the data's rank");
  expect_error([] { ref::check_gather_elements_shapes({2, 3}, 0, {2, 4}, "b"); }, "in dimension 1");
  expect_error([] { ref::check_gather_elements_shapes({2, 3}, 2, {2, 3}, "c"); }, "axis 2 is out of range");
  expect_error([] { ref::gather_nd_shape({2, 3}, {2, 3}, 0, "d"); }, "index tuples of 3 values");
  expect_error([] { ref::gather_nd_shape({2, 3}, {3, 1}, 1, "e"); }, "batch dimension 0 is 3");
  expect_error([] { ref::gather_nd_shape({2, 3}, {2, 1}, 2, "f"); }, "batch_dims 2");
  expect_error([] { ref::check_scatter_nd_shapes({4, 3}, {2, 1}, {2, 4}, "g"); }, "expected [2, 3]");
  const std::vector<std::byte> x(4), u(1);
  const std::vector<int64_t> i = {0};
  std::vector<std::byte> y(4);
  expect_error(
      [&] {
        ref::scatter_nd(x.data(), {4}, i.data(), {1, 1}, u.data(), 1, ScatterReduction::add,
                        ScatterArithmetic::bytes, y.data(), "h");
      },
      "needs float or int64");
}

}  // namespace
}  // namespace octet
