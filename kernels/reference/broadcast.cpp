#include "kernels/reference/broadcast.h"

#include <string>

#include "kernels/error.h"

namespace octet {

Shape broadcast_shape(std::string_view op, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      throw Error(std::string(op) + ": shapes " + to_string(a) + " and " + to_string(b) +
                  " cannot be broadcast together");
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

template <size_t N>
BroadcastRuns<N>::BroadcastRuns(std::string_view op, const Shape& out, const std::array<Shape, N>& inputs) {
  const size_t rank = out.size();
  // Each input right-aligned to the output's rank, with its contiguous element strides.
  std::array<Shape, N> shapes;
  std::array<std::vector<int64_t>, N> contiguous;
  for (size_t k = 0; k < N; ++k) {
    const Shape& in = inputs[k];
    if (in.size() > rank)
      throw Error(std::string(op) + ": input " + to_string(in) + " has more dimensions than the output " +
                  to_string(out));
    shapes[k] = Shape(rank - in.size(), 1);
    shapes[k].insert(shapes[k].end(), in.begin(), in.end());
    contiguous[k].assign(rank, 1);
    for (size_t d = rank; d-- > 1;)
      contiguous[k][d - 1] = contiguous[k][d] * shapes[k][d];
    for (size_t d = 0; d < rank; ++d)
      if (shapes[k][d] != out[d] && shapes[k][d] != 1)
        throw Error(std::string(op) + ": input " + to_string(in) + " does not broadcast to " +
                    to_string(out));
  }
  for (int64_t d : out)
    if (d == 0) {
      outer_ = inner_ = 0;
      steps_.fill(1);
      return;
    }
  // Groups of adjacent output dimensions (size-1 dimensions dropped) along which every input behaves the
  // same way: advancing, or broadcast.
  struct Group {
    int64_t size;
    std::array<bool, N> advances;
    std::array<int64_t, N> stride;  // of the group's last dimension
  };
  std::vector<Group> groups;
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;
    std::array<bool, N> advances{};
    std::array<int64_t, N> stride{};
    for (size_t k = 0; k < N; ++k) {
      advances[k] = shapes[k][d] != 1;
      stride[k] = contiguous[k][d];
    }
    if (!groups.empty() && groups.back().advances == advances) {
      groups.back().size *= out[d];
      groups.back().stride = stride;
    } else {
      groups.push_back({out[d], advances, stride});
    }
  }
  if (groups.empty()) {
    steps_.fill(1);
    return;
  }
  inner_ = groups.back().size;
  for (size_t k = 0; k < N; ++k)
    steps_[k] = groups.back().advances[k] ? 1 : 0;
  groups.pop_back();
  for (const Group& g : groups) {
    dims_.push_back(g.size);
    outer_ *= g.size;
    for (size_t k = 0; k < N; ++k)
      strides_[k].push_back(g.advances[k] ? g.stride[k] : 0);
  }
}

template class BroadcastRuns<1>;
template class BroadcastRuns<2>;
template class BroadcastRuns<3>;

}  // namespace octet
