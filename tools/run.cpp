#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "kernels/error.h"
#include "kernels/tensor.h"
#include "octet/octet.h"
#include "tools/commands.h"
#include "tools/npy.h"

namespace octet::tools {

int run_run(std::span<const std::string_view> args) {
  if (args.empty())
    throw Error("usage: octet run MODEL --input NAME=FILE.npy ... [--output-dir DIR] [--threads N]");
  const std::string model_path(args[0]);
  std::map<std::string, std::string> input_files;
  std::string output_dir = ".";
  int threads = 1;
  LoadOptions load_options;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--nhwc") {
      load_options.nhwc_io = true;
      continue;
    }
    if (flag != "--input" && flag != "--output-dir" && flag != "--threads")
      throw Error("run: unknown option '" + std::string(flag) + "'");
    if (i + 1 >= args.size()) throw Error("run: option '" + std::string(flag) + "' needs a value");
    const std::string value(args[++i]);
    if (flag == "--input") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
        throw Error("run: --input expects NAME=FILE.npy, got '" + value + "'");
      input_files[value.substr(0, eq)] = value.substr(eq + 1);
    } else if (flag == "--output-dir") {
      output_dir = value;
    } else {
      threads = static_cast<int>(parse_int(flag, value, 0, 1024));
    }
  }
  const auto load_start = std::chrono::steady_clock::now();
  const Model model = Model::load(model_path, load_options);
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();

  std::map<std::string, HostTensor> inputs;
  for (const TensorInfo& info : model.inputs()) {
    const auto it = input_files.find(info.name);
    if (it == input_files.end())
      throw Error("run: model input '" + info.name + "' needs --input " + info.name + "=FILE.npy");
    const npy::Array a = npy::read(it->second);
    if (info.dtype == DataType::float32) {
      if (a.dtype != npy::Dtype::float32 && a.dtype != npy::Dtype::uint8)
        throw Error(it->second + ": input '" + info.name +
                    "' takes float32 (or pre-quantized uint8) data, the file holds " + npy::name_of(a.dtype));
      inputs.emplace(info.name, a.dtype == npy::Dtype::float32
                                    ? HostTensor::from_float(a.shape, a.to_float())
                                    : HostTensor::from_uint8(a.shape, a.to_uint8()));
    } else {
      if (a.dtype != npy::Dtype::uint8)
        throw Error(it->second + ": input '" + info.name + "' takes uint8 data, the file holds " +
                    npy::name_of(a.dtype));
      inputs.emplace(info.name, HostTensor::from_uint8(a.shape, a.to_uint8()));
    }
    input_files.erase(it);
  }
  if (!input_files.empty())
    throw Error("run: the model has no input named '" + input_files.begin()->first + "'");

  Session session(model, {.threads = threads});
  const auto start = std::chrono::steady_clock::now();
  const auto outputs = session.run(inputs);
  const double run_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::filesystem::create_directories(output_dir);
  std::string summary;
  for (const auto& [name, t] : outputs) {
    // Output names may contain characters a file name cannot; keep letters, digits, '-', '_', '.'.
    std::string file = name;
    for (char& c : file)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    const std::string path = (std::filesystem::path(output_dir) / (file + ".npy")).string();
    npy::write(path, t.dtype() == DataType::float32 ? npy::from_float(t.shape(), t.float_data())
                                                    : npy::from_uint8(t.shape(), t.uint8_data()));
    summary += " " + name + to_string(t.shape()) + "->" + path;
  }
  std::printf("octet run: %s, load %.1f ms, inference %.2f ms (%d thread%s), outputs:%s\n",
              model_path.c_str(), load_ms, run_ms, threads, threads == 1 ? "" : "s", summary.c_str());
  return 0;
}

}  // namespace octet::tools
