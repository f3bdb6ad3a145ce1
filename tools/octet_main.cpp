// The `octet` command: one entry point, a subcommand per job.

#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/error.h"
#include "kernels/quantization/requant_mode.h"
#include "tools/commands.h"

namespace {

void print_usage(std::ostream& out) {
  out << "usage: octet <command> [options]\n\n"
         "commands:\n"
         "  info MODEL [--shape NAME=AxBxC] [--requant fixed|float]\n"
         "                                  inputs, outputs, every operator with its quantization and MACs\n"
         "                                  (FLOAT: computed in float), the planned activation memory;\n"
         "                                  --shape fixes an input's dynamic dimensions\n"
         "  run MODEL --input NAME=FILE.npy [--input ...] [--output-dir DIR] [--threads N] [--nhwc]\n"
         "            [--requant fixed|float] [--isa NAME]\n"
         "                                  run a model on .npy inputs, write each output to DIR/NAME.npy\n"
         "  classify MODEL --images FILE.npy --labels FILE.npy [--classes FILE.txt] [--threads N]\n"
         "                                  [--batch B] [--show N] [--repeat R] [--requant fixed|float]\n"
         "                                  [--isa NAME]\n"
         "                                  classify images: accuracy, and time as the median of R runs\n"
         "  bench MODEL [--threads N] [--iterations N | --min-time S] [--warmup W] [--batch B]\n"
         "              [--requant fixed|float] [--isa NAME]\n"
         "              [--streams S] [--input NAME=FILE.npy | --shape NAME=AxBxC] [--save-inputs DIR]\n"
         "              [--profile]\n"
         "              [--plot FILE.png] [--remeasure-peak] [--trace FILE.json] [--json FILE]\n"
         "                                  load time, first-run and steady-state latency (min, median,\n"
         "                                  p90, p99, max), throughput; --profile adds a per-layer table\n"
         "                                  (% of peak from the peak cache; --remeasure-peak renews it)\n"
         "  quantize FLOAT.onnx -o INT8.onnx --calibration [NAME=]FILE.npy|DIR ...\n"
         "           [--method minmax|percentile|entropy|mse] [--percentile P] [--per-tensor-weights]\n"
         "           [--exclude NODE,...] [--input NAME] [--threads N] [--report R.json]\n"
         "                                  post-training quantization: a float model and sample inputs\n"
         "                                  in, an int8 QDQ model out (docs/quantize.md)\n"
         "  peak [--threads N]              this machine's int8 peak per ISA and thread count, and memory\n"
         "                                  read bandwidth, saved in the peak cache (docs/bench.md)\n"
         "  demo [--size N] [--channels C]  the quantization arithmetic and one reference convolution\n"
         "  help                            this text\n"
         "\n"
         "--requant: how quantized operators round their int32 accumulators: fixed (the default, a Q31\n"
         "multiplier and a rounding shift) or float (ONNX Runtime's float32 scale, rounded half to even).\n"
         "--isa: the kernels' instruction set, one of `octet peak`'s list (default: the fastest, or the\n"
         "OCTET_ISA environment variable; avx512amx only when named); every one gives the same bytes.\n";
}

}  // namespace

namespace octet::tools {

Requantization parse_requantization(std::string_view option, std::string_view value) {
  // The kernels' spelling of the modes, one list for the whole project.
  if (const std::optional<RequantMode> mode = parse_requant_mode(value))
    return *mode == RequantMode::float_scale ? Requantization::float_scale : Requantization::fixed_point;
  throw Error(std::string(option) + " expects fixed or float, got '" + std::string(value) + "'");
}

int64_t parse_int(std::string_view option, std::string_view value, int64_t min, int64_t max) {
  try {
    size_t used = 0;
    const long long v = std::stoll(std::string(value), &used);
    if (used == value.size() && v >= min && v <= max) return v;
  } catch (const std::exception&) {
  }
  throw Error(std::string(option) + " expects an integer in [" + std::to_string(min) + ", " +
              std::to_string(max) + "], got '" + std::string(value) + "'");
}

}  // namespace octet::tools

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  try {
    const auto rest = std::span(args).subspan(1);
    if (args[0] == "demo") return octet::tools::run_demo(rest);
    if (args[0] == "info") return octet::tools::run_info(rest);
    if (args[0] == "run") return octet::tools::run_run(rest);
    if (args[0] == "classify") return octet::tools::run_classify(rest);
    if (args[0] == "bench") return octet::tools::run_bench(rest);
    if (args[0] == "peak") return octet::tools::run_peak(rest);
    if (args[0] == "quantize") return octet::tools::run_quantize(rest);
    std::cerr << "octet: unknown command '" << args[0] << "'\n\n";
    print_usage(std::cerr);
    return 2;
  } catch (const octet::Error& e) {
    std::cerr << "octet: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc& e) {
    std::cerr << "octet: out of memory: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "octet: internal error: " << e.what() << "\n";
    return 3;
  }
}
