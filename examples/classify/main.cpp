// Loads an int8 ONNX model with octet, runs it on a synthetic input and prints the top classes of its first
// output. Usage: classify MODEL.onnx [THREADS]

#include <octet/octet.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.onnx [THREADS]\n", argv[0]);
    return 2;
  }
  try {
    const octet::Model model = octet::Model::load(argv[1]);
    octet::Session session(model, {.threads = argc > 2 ? std::stoi(argv[2]) : 1});

    // One input tensor per model input; dynamic dimensions (-1) get size 1. A smooth ramp in [0, 1].
    std::map<std::string, octet::HostTensor> inputs;
    for (const octet::TensorInfo& info : model.inputs()) {
      std::vector<int64_t> shape = info.shape;
      for (int64_t& d : shape)
        d = std::max<int64_t>(d, 1);
      const auto n =
          static_cast<size_t>(std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>()));
      std::vector<float> values(n);
      for (size_t i = 0; i < n; ++i)
        values[i] = static_cast<float>(i % 256) / 255.0f;
      inputs.emplace(info.name, octet::HostTensor::from_float(shape, std::move(values)));
    }

    const auto outputs = session.run(inputs);
    const octet::HostTensor& out = outputs.at(model.outputs().at(0).name);
    std::vector<float> scores;
    if (out.dtype() == octet::DataType::float32) {
      scores.assign(out.float_data().begin(), out.float_data().end());
    } else {
      for (uint8_t q : out.uint8_data())
        scores.push_back(out.scale() * (static_cast<int32_t>(q) - out.zero_point()));
    }
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t top = std::min<size_t>(3, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                      [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    std::printf("%s: %zu outputs in '%s'; top:", argv[1], scores.size(), model.outputs()[0].name.c_str());
    for (size_t i = 0; i < top; ++i)
      std::printf(" [%zu] %.3f", order[i], scores[order[i]]);
    std::printf("\n");
    return 0;
  } catch (const octet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
