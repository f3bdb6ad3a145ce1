#include <cstdio>
#include <string>

#include "kernels/error.h"
#include "kernels/tensor.h"
#include "octet/octet.h"
#include "tools/commands.h"

namespace octet::tools {

namespace {

std::string describe(const TensorInfo& t) {
  std::string s = t.name + "  " + (t.dtype == DataType::float32 ? "float32 " : "uint8 ") + to_string(t.shape);
  if (t.scale > 0)
    s += "  (quantized: scale " + std::to_string(t.scale) + ", zero point " + std::to_string(t.zero_point) +
         ")";
  return s;
}

}  // namespace

int run_info(std::span<const std::string_view> args) {
  if (args.size() != 1) throw Error("usage: octet info MODEL");
  const Model model = Model::load(std::string(args[0]));
  std::printf("model: %s\n", std::string(args[0]).c_str());
  for (const auto& t : model.inputs())
    std::printf("input:  %s\n", describe(t).c_str());
  for (const auto& t : model.outputs())
    std::printf("output: %s\n", describe(t).c_str());
  std::printf("\n%-4s %-28s %-20s %-20s %-22s %-30s %12s\n", "#", "node", "onnx op", "octet op",
              "output shape", "output quantization", "MACs");
  int64_t total = 0;
  int i = 0;
  for (const NodeInfo& n : model.nodes()) {
    std::printf("%-4d %-28s %-20s %-20s %-22s %-30s %12lld\n", i++, n.name.c_str(), n.onnx_op.c_str(),
                n.op.c_str(), to_string(n.output_shape).c_str(), n.quantization.c_str(),
                static_cast<long long>(n.macs));
    total += n.macs;
  }
  std::printf("\ntotal: %d operators, %.3f GMAC per inference\n", i, total * 1e-9);
  std::printf("activation memory: %.2f MiB planned arena (one buffer per tensor would need %.2f MiB)\n",
              model.planned_arena_bytes() / 1048576.0, model.unplanned_activation_bytes() / 1048576.0);
  return 0;
}

}  // namespace octet::tools
