#include "runtime/operators.h"

#include "kernels/error.h"
#include "runtime/operators/operator_kit.h"

namespace octet::runtime {

std::unique_ptr<const Operator> make_operator(const graph::Graph& g, const graph::Node& node, Isa isa,
                                              RequantMode requant, const Placement& placement) {
  if (placement.output_stride > 0) {
    if (!takes_output_stride(g, node, isa))
      throw Error("node '" + node.name + "': its output cannot be stored with a pixel stride");
    return make_strided_conv_operator(g, node, isa, requant, placement.output_stride);
  }
  if (!placement.inputs_in_place.empty())
    return make_concat_operator(g, node, isa, requant, placement.inputs_in_place);
  // Each family binds its own operator kinds (runtime/operators/*.cpp); adding a family touches one file.
  for (auto family :
       {make_conv_operator, make_pooling_operator, make_elementwise_operator, make_movement_operator,
        make_reduce_operator, make_recurrent_operator, make_detection_operator})
    if (auto op = family(g, node, isa, requant)) return op;
  throw Error("node '" + node.name + "': no operator for " + graph::name_of(node.kind));
}

}  // namespace octet::runtime
