// libFuzzer target: arbitrary bytes as an ONNX model. Loading runs the protobuf parser, the importer and
// every graph pass; a model that loads is then run once, so that the compiled program, the memory plan and
// the kernels see whatever shapes and parameters the fuzzer invents.

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "octet/octet.h"
#include "tests/fuzz/fuzz_targets.h"

namespace octet::fuzz {

namespace {

// Limits on what the harness runs, not on what octet accepts: a valid model may legitimately need a lot of
// memory or time (docs/SECURITY.md), and libFuzzer would report that as an out-of-memory or a timeout
// finding. Loading itself is never skipped. Operators without MACs (resize, transposes) cost time in
// proportion to the bytes they write, hence the bound on all activations together: a 600-byte model that
// resized to 72 MiB took 13 s per run under ASan.
constexpr int64_t kMaxInputElements = 1'000'000;
constexpr int64_t kMaxActivationBytes = 16ll << 20;
constexpr int64_t kMaxMacs = 50'000'000;

// The declared shape with dynamic dimensions as 1; false when the input is too large to be worth running.
bool concrete_shape(const TensorInfo& info, std::vector<int64_t>& shape, int64_t& count) {
  shape = info.shape;
  count = 1;
  for (int64_t& d : shape) {
    if (d < 0) d = 1;
    if (d != 0 && count > kMaxInputElements / d) return false;
    count *= d;
  }
  return true;
}

HostTensor make_input(const TensorInfo& info, const std::vector<int64_t>& shape, int64_t count) {
  const auto n = static_cast<size_t>(count);
  if (info.dtype == DataType::int64) {
    std::vector<int64_t> values(n);
    for (size_t i = 0; i < n; ++i)
      values[i] = static_cast<int64_t>(i % 7) - 3;
    return HostTensor::from_int64(shape, std::move(values));
  }
  if (info.dtype == DataType::int32) {
    std::vector<int32_t> values(n);
    for (size_t i = 0; i < n; ++i)
      values[i] = static_cast<int32_t>(i % 7) - 3;
    return HostTensor::from_int32(shape, std::move(values));
  }
  if (info.dtype == DataType::boolean) {
    std::vector<uint8_t> values(n);
    for (size_t i = 0; i < n; ++i)
      values[i] = static_cast<uint8_t>(i % 3 == 0);
    return HostTensor::from_bool(shape, std::move(values));
  }
  if (info.dtype == DataType::uint8) {
    std::vector<uint8_t> values(n);
    for (size_t i = 0; i < n; ++i)
      values[i] = static_cast<uint8_t>(i * 37 + 11);
    // Scale 0: "the model's own params", so the input is accepted whatever they are.
    return HostTensor::from_uint8(shape, std::move(values));
  }
  // Floats over a few quantization ranges, negative and positive, with one NaN and one infinity: a model's
  // quantize step must give them their defined results (the zero point; saturation), whatever its scale.
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = static_cast<float>(static_cast<int>(i % 41) - 20) * 0.37f;
  if (n > 2) {
    values[1] = std::numeric_limits<float>::quiet_NaN();
    values[2] = std::numeric_limits<float>::infinity();
  }
  return HostTensor::from_float(shape, std::move(values));
}

void load_and_run(std::span<const std::byte> bytes) {
  const Model model = Model::load_from_memory(bytes);
  // The reports every caller may ask for (octet info) walk the compiled graph too.
  const std::vector<NodeInfo> nodes = model.nodes();
  (void)model.planned_arena_bytes();
  if (model.unplanned_activation_bytes() > kMaxActivationBytes) return;
  int64_t macs = 0;
  for (const NodeInfo& n : nodes) {
    if (n.macs < 0) std::abort();  // a negative count is a bug in the MAC accounting
    macs += std::min(n.macs, kMaxMacs + 1);
    if (macs > kMaxMacs) return;
  }

  std::map<std::string, HostTensor> inputs;
  for (const TensorInfo& info : model.inputs()) {
    std::vector<int64_t> shape;
    int64_t count = 0;
    if (!concrete_shape(info, shape, count)) return;
    inputs.emplace(info.name, make_input(info, shape, count));
  }
  // One thread: the session's own task arena then runs in the calling thread, keeping each execution quick
  // and deterministic for libFuzzer.
  // A Loop's trip count is data that a mutation can make huge: the limit keeps each input within the
  // fuzzer's timeout.
  Session session(model, {.threads = 1, .max_arena_bytes = kMaxActivationBytes, .max_loop_iterations = 256});
  const auto outputs = session.run(inputs);
  if (outputs.size() != model.outputs().size()) std::abort();
  const auto quantized = session.run(inputs, {.quantized_outputs = true});
  if (quantized.size() != model.outputs().size()) std::abort();
}

}  // namespace

void model_load_one(const uint8_t* data, size_t size) {
  try {
    load_and_run({reinterpret_cast<const std::byte*>(data), size});
  } catch (const Error&) {
    // Refusing a malformed model or input with an octet::Error is the promised behavior.
  }
}

}  // namespace octet::fuzz

#ifndef OCTET_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  octet::fuzz::model_load_one(data, size);
  return 0;
}
#endif
