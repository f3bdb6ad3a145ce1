// The `octet` command: one entry point, a subcommand per job.

#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

#include "kernels/error.h"
#include "tools/commands.h"

namespace {

void print_usage(std::ostream& out) {
  out << "usage: octet <command> [options]\n\n"
         "commands:\n"
         "  demo [--size N] [--channels C]   quantize an image, run a reference int8 3x3 convolution and\n"
         "                                   compare it with the same convolution in float\n"
         "  help                             this text\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  try {
    if (args[0] == "demo") return octet::tools::run_demo(std::span(args).subspan(1));
    std::cerr << "octet: unknown command '" << args[0] << "'\n\n";
    print_usage(std::cerr);
    return 2;
  } catch (const octet::Error& e) {
    std::cerr << "octet: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "octet: internal error: " << e.what() << "\n";
    return 3;
  }
}
