#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "kernels/error.h"
#include "kernels/tensor.h"
#include "octet/octet.h"
#include "tools/commands.h"
#include "tools/model_inputs.h"
#include "tools/npy.h"

namespace octet::tools {

int run_run(std::span<const std::string_view> args) {
  if (args.empty())
    throw Error(
        "usage: octet run MODEL --input NAME=FILE.npy ... [--output-dir DIR] [--threads N] [--nhwc] "
        "[--requant fixed|float] [--isa NAME]");
  const std::string model_path(args[0]);
  ModelInputs in;
  std::string output_dir = ".";
  int threads = 1;
  std::string isa;
  LoadOptions load_options;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--nhwc") {
      load_options.nhwc_io = true;
      continue;
    }
    if (flag != "--input" && flag != "--output-dir" && flag != "--threads" && flag != "--requant" &&
        flag != "--isa")
      throw Error("run: unknown option '" + std::string(flag) + "'");
    if (i + 1 >= args.size()) throw Error("run: option '" + std::string(flag) + "' needs a value");
    const std::string value(args[++i]);
    if (take_input_flag("run", flag, value, in)) continue;
    if (flag == "--output-dir")
      output_dir = value;
    else if (flag == "--requant")
      load_options.requantization = parse_requantization(flag, value);
    else if (flag == "--isa")
      isa = value;
    else
      threads = static_cast<int>(parse_int(flag, value, 0, 1024));
  }
  read_input_files(in);
  const auto load_start = std::chrono::steady_clock::now();
  const Model model = load_for_inputs("run", model_path, in, 0, load_options);
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();

  std::map<std::string, HostTensor> inputs;
  for (const TensorInfo& info : model.inputs()) {
    const auto it = in.data.find(info.name);
    if (it == in.data.end())
      throw Error("run: model input '" + info.name + "' needs --input " + info.name + "=FILE.npy");
    inputs.emplace(info.name, to_host_tensor(in.files.at(info.name), info, it->second));
  }

  // Before the run, which may be long: a folder that cannot be made fails at once.
  npy::create_directory(output_dir, "run: --output-dir");
  Session session(model, {.threads = threads, .requantization = load_options.requantization, .isa = isa});
  const auto start = std::chrono::steady_clock::now();
  const auto outputs = session.run(inputs);
  const double run_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::string summary;
  for (const auto& [name, t] : outputs) {
    // Output names may contain characters a file name cannot; keep letters, digits, '-', '_', '.'.
    std::string file = name;
    for (char& c : file)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    const std::string path = (std::filesystem::path(output_dir) / (file + ".npy")).string();
    npy::write(path, to_npy(t));
    summary += " " + name + to_string(t.shape()) + "->" + path;
  }
  std::printf("octet run: %s, load %.1f ms, inference %.2f ms (%d thread%s, %s requantization), outputs:%s\n",
              model_path.c_str(), load_ms, run_ms, threads, threads == 1 ? "" : "s",
              name_of(load_options.requantization), summary.c_str());
  return 0;
}

}  // namespace octet::tools
