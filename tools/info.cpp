#include <cstdio>
#include <string>

#include "kernels/error.h"
#include "kernels/tensor.h"
#include "kernels/x86/amx_support.h"
#include "octet/octet.h"
#include "tools/commands.h"
#include "tools/model_inputs.h"

namespace octet::tools {

namespace {

std::string describe(const TensorInfo& t) {
  std::string s = t.name + "  " + name_of(t.dtype) + " " + describe_dims(t);
  if (t.scale > 0)
    s += "  (quantized: scale " + std::to_string(t.scale) + ", zero point " + std::to_string(t.zero_point) +
         ")";
  return s;
}

}  // namespace

int run_info(std::span<const std::string_view> args) {
  if (args.empty()) throw Error("usage: octet info MODEL [--shape NAME=AxBxC | --input NAME=FILE.npy ...]");
  ModelInputs in;
  LoadOptions options;
  // Every option takes a value: two arguments a step.
  for (size_t i = 1; i < args.size(); i += 2) {
    if (i + 1 < args.size() && args[i] == "--requant") {
      options.requantization = parse_requantization(args[i], args[i + 1]);
    } else if (i + 1 >= args.size() || !take_input_flag("info", args[i], std::string(args[i + 1]), in)) {
      throw Error("info: unknown option '" + std::string(args[i]) +
                  "' (usage: octet info MODEL [--shape NAME=AxBxC | --input NAME=FILE.npy] "
                  "[--requant fixed|float])");
    }
  }
  read_input_files(in);
  const Model model = load_for_inputs("info", std::string(args[0]), in, 1, options);
  std::printf("model: %s\n", std::string(args[0]).c_str());
  std::printf("requantization: %s (--requant fixed|float)\n", name_of(options.requantization));
  // This machine, not the model: the avx512amx ISA runs only when named (docs/kernels.md, "AMX").
  std::printf("AMX: %s%s\n", describe_amx_support().c_str(),
              amx_support().usable ? " (ISA avx512amx: OCTET_ISA=avx512amx or --isa)" : "");
  for (const auto& t : model.inputs())
    std::printf("input:  %s\n", describe(t).c_str());
  for (const auto& t : model.outputs())
    std::printf("output: %s\n", describe(t).c_str());
  for (const auto& [name, shape] : in.shapes)
    std::printf("compiled for: %s %s\n", name.c_str(), to_string(shape).c_str());
  // FLOAT marks the operators the model computes in float: what its quantizer left out.
  std::printf("\n%-4s %-28s %-20s %-16s %-5s %-22s %-30s %12s\n", "#", "node", "onnx op", "octet op", "math",
              "output shape", "output type", "MACs");
  int64_t total = 0, float_macs = 0;
  int i = 0, floats = 0;
  std::string in_place;
  int in_place_count = 0;
  for (const NodeInfo& n : model.nodes()) {
    if (!n.stores_into.empty()) {
      in_place += "\n  " + n.name + " -> " + n.stores_into;
      ++in_place_count;
    }
    std::printf("%-4d %-28s %-20s %-16s %-5s %-22s %-30s %12lld\n", i++, n.name.c_str(), n.onnx_op.c_str(),
                n.op.c_str(), n.computes_in_float ? "FLOAT" : "", to_string(n.output_shape).c_str(),
                n.quantization.c_str(), static_cast<long long>(n.macs));
    total += n.macs;
    if (n.computes_in_float) ++floats, float_macs += n.macs;
  }
  std::printf("\nfloat: %d operators compute in float (%.3f GMAC), the rest in int8 or moving bytes\n",
              floats, float_macs * 1e-9);
  std::printf("total: %d operators, %.3f GMAC per inference\n", i, total * 1e-9);
  std::printf("activation memory: %.2f MiB planned arena (one buffer per tensor would need %.2f MiB)\n",
              model.planned_arena_bytes() / 1048576.0, model.unplanned_activation_bytes() / 1048576.0);
  // Inside the arena: the outputs that share their Concat's bytes (runtime/in_place_concat.h).
  if (in_place_count == 0)
    std::printf("in place: no operator output is stored straight into its Concat's output\n");
  else
    std::printf(
        "in place: %d operator outputs are stored straight into their Concat's output, not copied:%s\n",
        in_place_count, in_place.c_str());
  return 0;
}

}  // namespace octet::tools
