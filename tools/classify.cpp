#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "octet/octet.h"
#include "tools/commands.h"
#include "tools/npy.h"

namespace octet::tools {

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error("cannot open '" + path + "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

int run_classify(std::span<const std::string_view> args) {
  if (args.empty())
    throw Error("usage: octet classify MODEL --images FILE.npy --labels FILE.npy [--classes FILE.txt]");
  const std::string model_path(args[0]);
  std::string images_path, labels_path, classes_path;
  int threads = 1;
  int64_t batch = 100, show = 0, repeat = 1;
  Requantization requantization = Requantization::fixed_point;
  std::string isa;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (i + 1 >= args.size()) throw Error("classify: option '" + std::string(flag) + "' needs a value");
    const std::string_view value = args[++i];
    if (flag == "--images")
      images_path = value;
    else if (flag == "--labels")
      labels_path = value;
    else if (flag == "--classes")
      classes_path = value;
    else if (flag == "--threads")
      threads = static_cast<int>(parse_int(flag, value, 0, 1024));
    else if (flag == "--batch")
      batch = parse_int(flag, value, 1, 1 << 20);
    else if (flag == "--show")
      show = parse_int(flag, value, 0, 1 << 20);
    else if (flag == "--repeat")
      repeat = parse_int(flag, value, 1, 1 << 20);
    else if (flag == "--requant")
      requantization = parse_requantization(flag, value);
    else if (flag == "--isa")
      isa = value;
    else
      throw Error("classify: unknown option '" + std::string(flag) + "'");
  }
  if (images_path.empty() || labels_path.empty()) throw Error("classify: --images and --labels are required");
  const Model model = Model::load(model_path, {.requantization = requantization});
  if (model.inputs().size() != 1 || model.outputs().empty())
    throw Error("classify: the model must have one input and at least one output");
  const TensorInfo& input = model.inputs()[0];
  const npy::Array images = npy::read(images_path);
  const std::vector<int64_t> labels = npy::read(labels_path).to_int64();
  if (images.shape.empty() || images.shape[0] != static_cast<int64_t>(labels.size()))
    throw Error("classify: " + std::to_string(labels.size()) + " labels for images of shape " +
                std::to_string(images.shape.empty() ? 0 : images.shape[0]) + " x ...");
  const std::vector<std::string> classes =
      classes_path.empty() ? std::vector<std::string>{} : read_lines(classes_path);
  const std::vector<float> pixels = images.to_float();
  const int64_t count = images.shape[0], per_image = count ? images.element_count() / count : 0;

  Session session(model, {.threads = threads, .requantization = requantization, .isa = isa});
  int64_t correct = 0;
  double total_ms = 0.0;
  std::vector<double> batch_ms;
  auto name = [&](int64_t c) {
    return c >= 0 && c < static_cast<int64_t>(classes.size()) ? classes[static_cast<size_t>(c)]
                                                              : std::to_string(c);
  };
  for (int64_t first = 0; first < count; first += batch) {
    const int64_t n = std::min(batch, count - first);
    std::vector<int64_t> shape = images.shape;
    shape[0] = n;
    std::vector<float> chunk(pixels.begin() + first * per_image, pixels.begin() + (first + n) * per_image);
    const std::map<std::string, HostTensor> feed{
        {input.name, HostTensor::from_float(shape, std::move(chunk))}};
    std::map<std::string, HostTensor> outputs;
    // With --repeat, each batch runs several times and its median time counts: a short benchmark.
    std::vector<double> runs;
    for (int64_t r = 0; r < repeat; ++r) {
      const auto start = std::chrono::steady_clock::now();
      outputs = session.run(feed);
      runs.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(runs.begin(), runs.end());
    const double ms = runs[runs.size() / 2];
    total_ms += ms;
    batch_ms.push_back(ms);
    const HostTensor& logits = outputs.at(model.outputs()[0].name);
    const auto scores = logits.float_data();
    const int64_t k = n ? logits.element_count() / n : 0;
    for (int64_t i = 0; i < n; ++i) {
      const auto row = scores.subspan(static_cast<size_t>(i * k), static_cast<size_t>(k));
      const int64_t predicted = std::max_element(row.begin(), row.end()) - row.begin();
      const int64_t truth = labels[static_cast<size_t>(first + i)];
      correct += predicted == truth;
      if (first + i < show)
        std::printf("  image %4lld: predicted %-12s true %-12s %s\n", static_cast<long long>(first + i),
                    name(predicted).c_str(), name(truth).c_str(), predicted == truth ? "" : "  <- wrong");
    }
  }
  std::sort(batch_ms.begin(), batch_ms.end());
  std::printf(
      "octet classify: %lld images, %lld correct: accuracy %.2f%% | %.3f ms per image (%lld per batch, "
      "median batch %.2f ms, %d thread%s%s)\n",
      static_cast<long long>(count), static_cast<long long>(correct), count ? 100.0 * correct / count : 0.0,
      count ? total_ms / count : 0.0, static_cast<long long>(batch),
      batch_ms.empty() ? 0.0 : batch_ms[batch_ms.size() / 2], threads, threads == 1 ? "" : "s",
      repeat > 1 ? (", median of " + std::to_string(repeat) + " runs of each batch").c_str() : "");
  return 0;
}

}  // namespace octet::tools
