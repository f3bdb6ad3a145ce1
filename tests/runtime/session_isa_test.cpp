// The public API's choice of instruction set per session (SessionOptions::isa, available_isas(),
// default_isa()): every ISA this CPU runs, on 1 to 4 threads, gives the default ISA's bytes on every test
// model in both requantization modes (what scripts/check-isa-determinism.sh checks through the `octet`
// command, here inside the suite, so also under the sanitizers and qemu), and a name that is wrong or not
// runnable here is refused with a message naming it.
//
// With OCTET_OUTPUT_DIGESTS=FILE in the environment, the test also writes a digest of every output it
// compared to FILE, one line each. Every ISA gave those bytes, so two architectures' files are equal exactly
// when their outputs are: scripts/run-aarch64-tests.sh --compare diffs the aarch64 suite's (under qemu)
// with the x86 build's.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <vector>

#include "octet/octet.h"
#include "tests/kernels/test_util.h"
#include "tools/model_inputs.h"
#include "tools/npy.h"

namespace octet {
namespace {

namespace fs = std::filesystem;

using Tensors = std::map<std::string, HostTensor>;

const fs::path kTestModelsDir(OCTET_TEST_MODELS_DIR);
const fs::path kBundledModel(OCTET_BUNDLED_MODEL);

// The inputs tests/models/onnx keeps beside a model (NAME.input.npy, NAME.input1.npy, ...), or nothing when
// the model has none there (a model the tests only load).
bool stored_inputs(const fs::path& model_path, const Model& model, Tensors& inputs) {
  const std::string base = (model_path.parent_path() / model_path.stem()).string();
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const fs::path file = base + ".input" + (i == 0 ? "" : std::to_string(i)) + ".npy";
    if (!fs::exists(file)) return false;
    const TensorInfo& info = model.inputs()[i];
    inputs.emplace(info.name, tools::to_host_tensor(file.string(), info, npy::read(file.string())));
  }
  return true;
}

bool identical(const HostTensor& a, const HostTensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.scale() == b.scale() &&
         a.zero_point() == b.zero_point() && a.bytes().size() == b.bytes().size() &&
         std::memcmp(a.bytes().data(), b.bytes().data(), a.bytes().size()) == 0;
}

// FNV-1a, 64 bits: a fixed function of the bytes alone, the same on every architecture and standard library
// (std::hash promises neither).
uint64_t fnv1a(std::span<const std::byte> bytes) {
  uint64_t hash = 0xcbf29ce484222325u;
  for (const std::byte b : bytes)
    hash = (hash ^ static_cast<uint64_t>(b)) * 0x100000001b3u;
  return hash;
}

// One line per output: model, mode, output form, name, type, shape, quantization parameters (the scale's
// exact bits) and the hash of the bytes.
std::string digest_line(const std::string& model, Requantization mode, bool quantized,
                        const std::string& name, const HostTensor& tensor) {
  std::string shape;
  for (const int64_t d : tensor.shape())
    shape += (shape.empty() ? "" : "x") + std::to_string(d);
  char numbers[96];
  std::snprintf(numbers, sizeof numbers, "scale %a zp %d fnv1a %016llx", static_cast<double>(tensor.scale()),
                static_cast<int>(tensor.zero_point()),
                static_cast<unsigned long long>(fnv1a(tensor.bytes())));
  return model + " " + name_of(mode) + (quantized ? " quantized " : " float ") + name + " " +
         name_of(tensor.dtype()) + " [" + shape + "] " + numbers + "\n";
}

TEST(SessionIsa, ListsWhatThisCpuRuns) {
  const std::vector<std::string> isas = available_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), "scalar");
  EXPECT_NE(std::find(isas.begin(), isas.end(), default_isa()), isas.end()) << default_isa();
  EXPECT_TRUE(std::regex_match(version(), std::regex(R"(\d+\.\d+\.\d+)"))) << version();
}

TEST(SessionIsa, EveryIsaGivesTheDefaultIsasBytes) {
  std::vector<fs::path> models{kBundledModel};
  for (const auto& entry : fs::directory_iterator(kTestModelsDir))
    if (entry.path().extension() == ".onnx") models.push_back(entry.path());
  std::sort(models.begin() + 1, models.end());
  const char* const digest_path = std::getenv("OCTET_OUTPUT_DIGESTS");
  std::string digests;
  int compared = 0;
  for (const fs::path& path : models) {
    SCOPED_TRACE(path.filename().string());
    Tensors inputs;
    std::optional<Model> loaded;
    try {
      loaded = Model::load(path.string());
    } catch (const Error&) {
      continue;  // refused by design (model_tests checks the refusals)
    }
    const Model& model = *loaded;
    if (path == kBundledModel) {
      const npy::Array images = npy::read((path.parent_path() / "samples" / "images.npy").string());
      inputs.emplace(model.inputs().at(0).name, HostTensor::from_float(images.shape, images.to_float()));
    } else if (!stored_inputs(path, model, inputs)) {
      continue;
    }
    for (const Requantization mode : {Requantization::fixed_point, Requantization::float_scale}) {
      for (const bool quantized : {false, true}) {
        Session reference(model, {.requantization = mode});
        const Tensors want = reference.run(inputs, {.quantized_outputs = quantized});
        for (const std::string& isa : available_isas()) {
          // Thread counts 1 to 4: even and uneven splits of every operator's work. Under a sanitizer 1 and
          // 3 (one and an uneven split; a session costs 10-30 times as much there, and the kernel tests
          // run their own thread counts); the plain builds, Release and aarch64, compare all four.
          for (int threads = 1; threads <= 4; threads += test::kSanitized ? 2 : 1) {
            Session session(model, {.threads = threads, .requantization = mode, .isa = isa});
            const Tensors got = session.run(inputs, {.quantized_outputs = quantized});
            ASSERT_EQ(got.size(), want.size());
            for (const auto& [name, tensor] : want)
              ASSERT_TRUE(identical(got.at(name), tensor))
                  << name << " on " << isa << ", " << threads << " threads, in " << name_of(mode)
                  << (quantized ? ", quantized" : "");
          }
        }
        if (digest_path != nullptr)  // hashed only when asked for (the suite runs under qemu and ASan too)
          for (const auto& [name, tensor] : want)
            digests += digest_line(path.filename().string(), mode, quantized, name, tensor);
      }
    }
    ++compared;
  }
  EXPECT_GT(compared, 20);
  if (digest_path != nullptr && *digest_path != '\0') {
    std::ofstream file(digest_path, std::ios::binary | std::ios::trunc);
    file << digests;
    file.close();
    ASSERT_TRUE(file) << "cannot write OCTET_OUTPUT_DIGESTS=" << digest_path;
  }
}

// The message names the bad value and what would have been accepted.
void expect_refused(const std::string& isa, const std::string& says) {
  const Model model = Model::load(kBundledModel.string());
  try {
    Session session(model, {.isa = isa});
    FAIL() << "isa '" << isa << "' was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(says), std::string::npos) << message;
    EXPECT_NE(message.find("scalar"), std::string::npos) << message;
  }
}

TEST(SessionIsa, RefusesUnknownAndUnavailableNames) {
  expect_refused("avx9000", "unknown instruction set 'avx9000'");
  expect_refused("AVX2", "unknown instruction set 'AVX2'");
  // An instruction set of the other architecture.
#if defined(__x86_64__)
  expect_refused("neon", "'neon' is not available on this CPU");
#else
  expect_refused("avx2", "'avx2' is not available on this CPU");
#endif
}

}  // namespace
}  // namespace octet
