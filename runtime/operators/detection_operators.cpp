// RoiAlign (graph::OpKind::roi_align): the float reference, in parallel over regions (each region's
// outputs are its own, so any thread count gives the same bytes).

#include <tbb/parallel_for.h>

#include "kernels/reference/float_roi_align.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

using graph::Graph;
using graph::Node;

std::unique_ptr<const Operator> make_detection_operator(const Graph& g, const Node& node, Isa, RequantMode) {
  if (node.kind != graph::OpKind::roi_align) return nullptr;
  const ref::RoiAlignParams p = std::get<graph::RoiAlignAttrs>(node.attrs).params;
  const Shape x = g.value(node.inputs[0]).shape;  // NHWC
  const int64_t regions = g.value(node.inputs[1]).shape[0];
  return function([p, x, regions](std::span<const std::byte* const> inputs, std::byte* o) {
    // A bad region (its batch index, its coordinates) is found before any output is written.
    const int64_t* batch = as<int64_t>(inputs[2]);
    ref::check_roi_align_regions(as<float>(inputs[1]), batch, 0, regions, x[0], p);
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, regions), [&](const tbb::blocked_range<int64_t>& range) {
      ref::roi_align(as<float>(inputs[0]), x[0], x[1], x[2], x[3], as<float>(inputs[1]), batch, range.begin(),
                     range.size(), p, as<float>(o));
    });
  });
}

}  // namespace octet::runtime
