#include "tools/calibration_files.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "kernels/error.h"
#include "tools/npy.h"

namespace octet::tools {

namespace {

namespace fs = std::filesystem;

struct Chunk {
  size_t file = 0;
  int64_t first = 0;  // sample index within the file
  int64_t count = 0;
};

struct Source {
  TensorInfo input;
  std::vector<std::string> files;
  std::vector<Chunk> chunks;
  size_t cached_file = SIZE_MAX;  // the last file read, kept for its next chunks
  std::vector<int64_t> cached_shape;
  std::vector<float> cached_values;
};

std::vector<std::string> npy_files(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("--calibration: '" + path + "' does not exist");
  if (!fs::is_directory(path, ec)) return {path};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(path, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".npy") files.push_back(entry.path().string());
  if (ec) throw Error("--calibration: cannot list '" + path + "': " + ec.message());
  if (files.empty()) throw Error("--calibration: the folder '" + path + "' holds no .npy files");
  std::sort(files.begin(), files.end());
  return files;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

// How many samples `array` holds for `input` (a batch, or one sample without the batch dimension).
int64_t samples_in(const npy::Array& array, const TensorInfo& input, const std::string& file) {
  if (array.dtype != npy::Dtype::float32)
    throw Error("--calibration: '" + file + "' holds " + npy::name_of(array.dtype) + " data; input '" +
                input.name + "' takes float32 (numpy: a.astype(numpy.float32))");
  const size_t rank = input.shape.size();
  const bool batch = array.shape.size() == rank;
  if (!batch && array.shape.size() + 1 != rank)
    throw Error("--calibration: '" + file + "' has shape " + shape_text(array.shape) + "; input '" +
                input.name + "' takes " + shape_text(input.shape) +
                " (a batch) or one sample without the first dimension");
  const size_t offset = batch ? 1 : 0;
  for (size_t d = 1; d < rank; ++d)
    if (input.shape[d] >= 0 && array.shape[d - 1 + offset] != input.shape[d])
      throw Error("--calibration: '" + file + "' has shape " + shape_text(array.shape) + "; input '" +
                  input.name + "' takes " + shape_text(input.shape));
  return batch ? (rank ? array.shape[0] : 1) : 1;
}

}  // namespace

CalibrationData calibration_files(const std::string& path, const TensorInfo& input, int64_t max_batch,
                                  int64_t max_run_bytes) {
  if (input.dtype != DataType::float32)
    throw Error("--calibration: input '" + input.name + "' is " + name_of(input.dtype) +
                "; octet quantize calibrates float32 inputs");
  auto source = std::make_shared<Source>();
  source->input = input;
  source->files = npy_files(path);
  const int64_t model_batch = input.shape.empty() ? 1 : input.shape[0];
  for (size_t f = 0; f < source->files.size(); ++f) {
    // Only the header is needed here, but .npy files are small next to a model's run; read it whole.
    const npy::Array array = npy::read(source->files[f]);
    const int64_t n = samples_in(array, input, source->files[f]);
    if (n == 0) throw Error("--calibration: '" + source->files[f] + "' holds no samples");
    const bool is_batch = array.shape.size() == input.shape.size();
    const int64_t sample_bytes = std::max<int64_t>(1, array.element_count() / n * 4);
    const int64_t fitting =
        std::clamp<int64_t>(max_run_bytes / sample_bytes, 1, std::max<int64_t>(1, max_batch));
    const int64_t step = !is_batch ? 1 : model_batch > 0 ? model_batch : fitting;
    if (is_batch && model_batch > 0 && n % model_batch != 0)
      throw Error("--calibration: '" + source->files[f] + "' holds " + std::to_string(n) +
                  " samples; input '" + input.name + "' takes batches of exactly " +
                  std::to_string(model_batch));
    for (int64_t first = 0; first < n; first += step)
      source->chunks.push_back({f, first, std::min(step, n - first)});
  }
  CalibrationData data;
  data.count = source->chunks.size();
  data.load = [source](size_t index) {
    const Chunk& c = source->chunks.at(index);
    if (source->cached_file != c.file) {
      const npy::Array a = npy::read(source->files[c.file]);
      source->cached_shape = a.shape;
      source->cached_values = a.to_float();
      source->cached_file = c.file;
    }
    const std::vector<float>& all = source->cached_values;
    std::vector<int64_t> shape = source->cached_shape;
    if (shape.size() + 1 == source->input.shape.size()) shape.insert(shape.begin(), 1);
    const int64_t per_sample = shape[0] ? static_cast<int64_t>(all.size()) / shape[0] : 0;
    shape[0] = c.count;
    std::vector<float> values(all.begin() + c.first * per_sample,
                              all.begin() + (c.first + c.count) * per_sample);
    std::map<std::string, HostTensor> inputs;
    inputs.emplace(source->input.name, HostTensor::from_float(shape, std::move(values)));
    return inputs;
  };
  return data;
}

}  // namespace octet::tools
