#pragma once

// NumPy / ONNX multidirectional broadcasting as runs of contiguous work, for every operator that
// broadcasts (binary arithmetic, Where, Expand, the quantized add / mul): the output is walked in row-major
// order as `outer()` runs of `inner()` elements; within a run every input either advances with the output
// (step 1) or repeats one element (step 0). Kernels loop over a run with plain pointers, so the walking
// costs one step per run, not per element, and a range of runs is an independent piece of work for a
// parallel loop.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/tensor.h"

namespace octet {

// The broadcast shape of `a` and `b`; throws octet::Error naming `op` if they are incompatible.
Shape broadcast_shape(std::string_view op, const Shape& a, const Shape& b);

template <size_t N>
class BroadcastRuns {
 public:
  // `out` must be the broadcast of all `inputs` (checked: throws octet::Error naming `op`).
  BroadcastRuns(std::string_view op, const Shape& out, const std::array<Shape, N>& inputs);

  int64_t outer() const { return outer_; }
  int64_t inner() const { return inner_; }
  // Whether input k advances along a run (1) or repeats one element (0).
  int64_t step(size_t k) const { return steps_[k]; }

  // Calls f(out_offset, in_offsets) for runs [first, last): in_offsets[k] is input k's element offset at
  // the run's first element.
  template <class F>
  void for_runs(int64_t first, int64_t last, F&& f) const {
    if (first >= last) return;
    const size_t rank = dims_.size();
    std::vector<int64_t> index(rank, 0);
    std::array<int64_t, N> offsets{};
    int64_t rest = first;
    for (size_t d = rank; d-- > 0;) {
      index[d] = rest % dims_[d];
      rest /= dims_[d];
      for (size_t k = 0; k < N; ++k)
        offsets[k] += index[d] * strides_[k][d];
    }
    for (int64_t run = first; run < last; ++run) {
      f(run * inner_, offsets);
      for (size_t d = rank; d-- > 0;) {
        for (size_t k = 0; k < N; ++k)
          offsets[k] += strides_[k][d];
        if (++index[d] < dims_[d]) break;
        for (size_t k = 0; k < N; ++k)
          offsets[k] -= strides_[k][d] * dims_[d];
        index[d] = 0;
      }
    }
  }

  // Calls f(out_offset, in_offsets, length) for the pieces of runs that cover output elements [first, last)
  // (a parallel task's range, which may cut runs): within a piece, input k starts at in_offsets[k] and
  // advances by step(k).
  template <class F>
  void for_range(int64_t first, int64_t last, F&& f) const {
    if (first >= last) return;
    for_runs(first / inner_, (last + inner_ - 1) / inner_, [&](int64_t o, std::array<int64_t, N> in) {
      const int64_t begin = std::max(first, o), end = std::min(last, o + inner_);
      for (size_t k = 0; k < N; ++k)
        in[k] += (begin - o) * steps_[k];
      f(begin, in, end - begin);
    });
  }

 private:
  int64_t outer_ = 1, inner_ = 1;
  std::array<int64_t, N> steps_{};
  // The outer dimensions (adjacent ones merged where every input treats them alike) and each input's
  // element stride along them (0 where it is broadcast).
  std::vector<int64_t> dims_;
  std::array<std::vector<int64_t>, N> strides_;
};

extern template class BroadcastRuns<1>;
extern template class BroadcastRuns<2>;
extern template class BroadcastRuns<3>;

}  // namespace octet
