#pragma once

// How the float reduction / pooling dispatchers split work between threads (oneTBB): ranges of
// independent outputs. Every output is computed by the same code whichever range it falls in, so the
// results do not depend on the partitioning or the thread count.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdint>

namespace octet::reduce {

// Enough elements per task to pay for scheduling it.
inline constexpr int64_t kElementsPerTask = int64_t{1} << 14;

// Outputs per task when each reads `elements_per_output` input elements.
inline int64_t grain_for(int64_t elements_per_output) {
  return std::max<int64_t>(1, kElementsPerTask / std::max<int64_t>(1, elements_per_output));
}

// f(first, last) over [0, n) in ranges of at least `grain` (the last may be shorter).
template <class F>
void parallel_ranges(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                    [&](const tbb::blocked_range<int64_t>& r) { f(r.begin(), r.end()); });
}

// Column work (reductions over a strided axis): `outer` blocks of `lanes` independent columns, each
// `count` elements long, handed out as f(o, first_lane, last_lane) with at most kColumnChunk lanes.
inline constexpr int64_t kColumnChunk = 64;

template <class F>
void parallel_columns(int64_t outer, int64_t lanes, int64_t count, F&& f) {
  const int64_t chunks = (lanes + kColumnChunk - 1) / kColumnChunk;
  parallel_ranges(outer * chunks, grain_for(count * std::min(lanes, kColumnChunk)),
                  [&](int64_t t0, int64_t t1) {
                    for (int64_t t = t0; t < t1; ++t) {
                      const int64_t o = t / chunks, l0 = (t % chunks) * kColumnChunk;
                      f(o, l0, std::min(lanes, l0 + kColumnChunk));
                    }
                  });
}

}  // namespace octet::reduce
