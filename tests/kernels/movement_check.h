#pragma once

// The check every element mover's test applies (movement_test.cpp, indexing_test.cpp): a kernel that moves
// bytes has a reference, prepared work whose units may run in any partition and order (how the parallel
// kernel splits it), and the parallel kernel itself; all three must write the same bytes.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <numeric>
#include <vector>

#include "kernels/reference/movement_work.h"
#include "test_util.h"

namespace octet::test {

using Bytes = std::vector<std::byte>;

// Runs the reference, the prepared work over a random partition of its units in a random order, and the
// parallel kernel on 1 and 3 threads, each into a buffer pre-filled with garbage: each must write
// `expected`, and the work must have units exactly when there are bytes to write.
inline void check_movement(const Bytes& expected, const std::function<void(void*)>& reference,
                           const std::function<ref::detail::MovementWork(void*)>& work,
                           const std::function<void(void*)>& parallel, Random& rng) {
  const auto run_into = [&](const std::function<void(void*)>& f) {
    Bytes out(expected.size(), std::byte{0xA5});
    f(out.empty() ? nullptr : out.data());
    return out;
  };
  ASSERT_TRUE(run_into(reference) == expected) << "reference";
  const Bytes pieces = run_into([&](void* y) {
    const ref::detail::MovementWork w = work(y);
    ASSERT_EQ(w.units == 0, expected.empty());
    std::vector<int64_t> cuts = {0, w.units};
    for (int64_t i = rng.integer(0, 6); i > 0 && w.units > 1; --i)
      cuts.push_back(rng.integer(1, w.units - 1));
    std::sort(cuts.begin(), cuts.end());
    std::vector<size_t> order(cuts.size() - 1);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng.engine());
    for (const size_t k : order)
      if (cuts[k] < cuts[k + 1]) w.run(cuts[k], cuts[k + 1]);
  });
  ASSERT_TRUE(pieces == expected) << "work over a random partition";
  for (const int threads : {1, 3}) {
    Bytes out;
    tbb::task_arena(threads).execute([&] { out = run_into(parallel); });
    ASSERT_TRUE(out == expected) << "parallel on " << threads << " threads";
  }
}

}  // namespace octet::test
