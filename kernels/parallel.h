#pragma once

// How the kernels split work between threads (oneTBB): fixed ranges of independent outputs. Every output is
// computed by the same code whichever range it falls in, and the ranges depend on the sizes alone, never on
// how many threads run them, so neither do the results.

#include <tbb/info.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdint>

namespace octet {

// A task's worth of work: streaming this many elements (or bytes) pays for scheduling it, and a few MiB
// still spread over every core.
inline constexpr int64_t kTaskElements = int64_t{1} << 14;
inline constexpr int64_t kTaskBytes = kTaskElements * 4;

// Items per range when each costs `per_item` elements of the `per_task` a task should have.
inline int64_t grain(int64_t per_item, int64_t per_task = kTaskElements) {
  return std::max<int64_t>(1, per_task / std::max<int64_t>(1, per_item));
}

// f(first, last) for the ranges [k * grain, min(n, (k + 1) * grain)) of [0, n): in parallel when there is
// more than one, on the calling thread when there is one.
template <class F>
void parallel_ranges(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  if (n <= grain) return f(int64_t{0}, n);
  tbb::parallel_for(int64_t{0}, (n + grain - 1) / grain, [&](int64_t k) {
    const int64_t first = k * grain;
    f(first, std::min(n, first + grain));
  });
}

// Work down strided columns (reductions over an outer axis): `outer` blocks of `lanes` independent columns,
// each `count` elements long, as f(o, first_lane, last_lane) with at most kColumnChunk lanes at a time.
inline constexpr int64_t kColumnChunk = 64;

template <class F>
void parallel_columns(int64_t outer, int64_t lanes, int64_t count, F&& f) {
  const int64_t chunks = (lanes + kColumnChunk - 1) / kColumnChunk;
  parallel_ranges(outer * chunks, grain(count * std::min(lanes, kColumnChunk)), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / chunks, l0 = (t % chunks) * kColumnChunk;
      f(o, l0, std::min(lanes, l0 + kColumnChunk));
    }
  });
}

// How many groups to split `columns` column blocks (GEMM panels) into when there are only `tasks` tasks
// otherwise, so that every core gets a few tasks (late layers: few rows, many columns). Sized by the
// machine's core count, fixed for the process, not by the calling arena's threads.
inline int64_t column_split(int64_t tasks, int64_t columns) {
  static const int64_t cores = tbb::info::default_concurrency();
  if (cores <= 1 || tasks < 1 || tasks >= 4 * cores) return 1;
  return std::clamp<int64_t>((4 * cores + tasks - 1) / tasks, 1, std::max<int64_t>(columns, 1));
}

}  // namespace octet
