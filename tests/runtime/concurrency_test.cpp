// The concurrency contract of the public API (octet.h): a Model is immutable and shared, and Sessions made
// from it run at the same time on different threads. Every concurrent result must be bit-identical to a
// single-threaded run, whatever the number of threads inside a session, and whatever input shapes other
// sessions are compiling programs for at the same moment (Model::Impl::program_for, under its mutex).
//
// The run counts are small on purpose: scripts/run-tsan.sh runs this test under ThreadSanitizer, where a
// run costs ten times more, and a data race shows up in one overlapping run as well as in a thousand.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "octet/octet.h"
#include "tools/npy.h"

namespace octet {
namespace {

namespace fs = std::filesystem;

using Tensors = std::map<std::string, HostTensor>;

constexpr int kThreads = 4;
constexpr int kRunsPerThread = 20;

const fs::path kBundledDir(OCTET_BUNDLED_MODEL_DIR);
const fs::path kTestModelsDir(OCTET_TEST_MODELS_DIR);

// A model and how to make inputs for it for a batch size (the first dimension, where it is dynamic).
struct Subject {
  std::string name;
  fs::path path;
  std::function<Tensors(const Model&, int64_t batch)> inputs;
};

// Deterministic inputs of the declared shapes, dynamic dimensions as 1 except a dynamic batch dimension.
Tensors synthetic_inputs(const Model& model, int64_t batch) {
  Tensors inputs;
  for (const TensorInfo& info : model.inputs()) {
    std::vector<int64_t> shape = info.shape;
    for (size_t d = 0; d < shape.size(); ++d)
      if (shape[d] < 0) shape[d] = d == 0 ? batch : 1;
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    const auto n = static_cast<size_t>(count);
    if (info.dtype == DataType::uint8) {
      std::vector<uint8_t> values(n);
      for (size_t i = 0; i < n; ++i)
        values[i] = static_cast<uint8_t>(i * 29 + info.name.size());
      inputs.emplace(info.name, HostTensor::from_uint8(shape, std::move(values)));
    } else {
      std::vector<float> values(n);
      for (size_t i = 0; i < n; ++i)
        values[i] = std::sin(0.37f * static_cast<float>(i) + static_cast<float>(info.name.size()));
      inputs.emplace(info.name, HostTensor::from_float(shape, std::move(values)));
    }
  }
  return inputs;
}

// The bundled Fashion-MNIST samples: real images, so every class path through the network is taken.
Tensors fashion_mnist_inputs(const Model& model, int64_t batch) {
  static const npy::Array images = npy::read((kBundledDir / "samples" / "images.npy").string());
  const std::vector<float> all = images.to_float();
  const int64_t per_image = 28 * 28, available = images.shape.at(0);
  std::vector<float> values;
  for (int64_t b = 0; b < batch; ++b) {
    const auto first = all.begin() + (b % available) * per_image;
    values.insert(values.end(), first, first + per_image);
  }
  return {{model.inputs().at(0).name, HostTensor::from_float({batch, 1, 28, 28}, std::move(values))}};
}

std::vector<Subject> subjects() {
  std::vector<Subject> out{
      {"fashion_mnist", kBundledDir / "fashion_mnist_int8_qdq.onnx", fashion_mnist_inputs}};
  // A second, structurally different network from the graph tests' models, when they are generated.
  for (const char* name : {"qdq_small_net", "qdq_conv_dynamic_batch"})
    if (fs::exists(kTestModelsDir / (std::string(name) + ".onnx")))
      out.push_back({name, kTestModelsDir / (std::string(name) + ".onnx"), synthetic_inputs});
  return out;
}

bool identical(const HostTensor& a, const HostTensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.dtype() == DataType::uint8)
    return a.scale() == b.scale() && a.zero_point() == b.zero_point() &&
           std::equal(a.uint8_data().begin(), a.uint8_data().end(), b.uint8_data().begin());
  // Bitwise, not ==: identical means identical, NaN payloads and signed zeros included. bytes() holds the
  // elements of any type (an empty tensor may have no storage at all).
  return a.bytes().size() == b.bytes().size() &&
         (a.bytes().empty() || std::memcmp(a.bytes().data(), b.bytes().data(), a.bytes().size()) == 0);
}

bool identical(const Tensors& a, const Tensors& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, tensor] : a) {
    const auto it = b.find(name);
    if (it == b.end() || !identical(tensor, it->second)) return false;
  }
  return true;
}

Tensors run_once(const Model& model, const Tensors& inputs, int threads = 1) {
  Session session(model, {.threads = threads});
  return session.run(inputs);
}

// Collects what went wrong on worker threads: an exception escaping a std::thread would terminate the test
// binary instead of failing one test.
class Findings {
 public:
  void add(const std::string& what) {
    const std::lock_guard lock(mutex_);
    if (messages_.size() < 10) messages_.push_back(what);
    ++count_;
  }
  void expect_none() const {
    EXPECT_EQ(count_, 0);
    for (const std::string& m : messages_)
      ADD_FAILURE() << m;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> messages_;
  int count_ = 0;
};

template <class Body>
void run_threads(int count, Findings& findings, Body body) {
  // All threads start together, so that session creation and the first runs overlap as much as they can.
  std::latch start(count);
  std::vector<std::thread> threads;
  for (int t = 0; t < count; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        body(t);
      } catch (const std::exception& e) {
        findings.add("thread " + std::to_string(t) + ": " + e.what());
      }
    });
  for (std::thread& thread : threads)
    thread.join();
}

TEST(ConcurrentSessions, SessionsOnOneSharedModelMatchASingleThreadedRun) {
  for (const Subject& subject : subjects()) {
    SCOPED_TRACE(subject.name);
    const Model model = Model::load(subject.path.string());
    const Tensors inputs = subject.inputs(model, 2);
    const Tensors expected = run_once(model, inputs);
    Findings findings;
    std::atomic<int> runs{0};
    run_threads(kThreads, findings, [&](int t) {
      Session session(model);  // each thread its own Session; the Model is shared
      for (int r = 0; r < kRunsPerThread; ++r) {
        if (!identical(session.run(inputs), expected))
          findings.add("thread " + std::to_string(t) + " run " + std::to_string(r) + " differs");
        ++runs;
      }
    });
    findings.expect_none();
    EXPECT_EQ(runs.load(), kThreads * kRunsPerThread);
  }
}

TEST(ConcurrentSessions, ThreadCountsInsideASessionGiveIdenticalOutputs) {
  for (const Subject& subject : subjects()) {
    SCOPED_TRACE(subject.name);
    const Model model = Model::load(subject.path.string());
    const Tensors inputs = subject.inputs(model, 8);
    const Tensors expected = run_once(model, inputs, 1);
    for (int threads = 2; threads <= 4; ++threads)
      EXPECT_TRUE(identical(run_once(model, inputs, threads), expected)) << threads << " threads";
    // The same thread counts again, now all at once, each session with its own oneTBB arena.
    Findings findings;
    run_threads(kThreads, findings, [&](int t) {
      Session session(model, {.threads = t + 1});
      for (int r = 0; r < 3; ++r)
        if (!identical(session.run(inputs), expected))
          findings.add(std::to_string(t + 1) + " threads, run " + std::to_string(r) + " differs");
    });
    findings.expect_none();
  }
}

TEST(ConcurrentSessions, NewBatchSizesCompileConcurrently) {
  const std::vector<int64_t> batches{2, 3, 5, 8};
  for (const Subject& subject : subjects()) {
    SCOPED_TRACE(subject.name);
    // The expected outputs come from a Model of their own, so that the shared one below starts with no
    // programs compiled for these batch sizes and its threads race to compile them.
    const Model reference = Model::load(subject.path.string());
    if (reference.inputs().empty() || reference.inputs()[0].shape.empty() ||
        reference.inputs()[0].shape[0] >= 0)
      continue;  // no dynamic batch dimension
    std::map<int64_t, Tensors> inputs, expected;
    for (int64_t b : batches) {
      inputs[b] = subject.inputs(reference, b);
      expected[b] = run_once(reference, inputs[b]);
    }
    const Model model = Model::load(subject.path.string());
    Findings findings;
    run_threads(kThreads, findings, [&](int t) {
      Session session(model);
      // Each thread walks the sizes from a different start, so several threads ask for the same new
      // shape at once and every program is also reused by sessions that did not compile it.
      for (size_t r = 0; r < 2 * batches.size(); ++r) {
        const int64_t b = batches[(static_cast<size_t>(t) + r) % batches.size()];
        if (!identical(session.run(inputs[b]), expected[b]))
          findings.add("thread " + std::to_string(t) + " batch " + std::to_string(b) + " differs");
      }
    });
    findings.expect_none();
  }
}

// A model with a data-dependent selection (graph/stages.h): each score threshold selects a different number
// of boxes, so the stage after NonMaxSuppression compiles once per count (Model::Impl::stage_program, its
// cache under the model's mutex, the compile outside it) while other sessions run the counts they have. The
// thresholds include one that selects nothing.
TEST(ConcurrentSessions, SelectionSizesCompileConcurrently) {
  const fs::path path = kTestModelsDir / "qdq_detector_nms.onnx";
  if (!fs::exists(path)) GTEST_SKIP() << "no generated test models";
  const std::vector<float> image =
      npy::read((kTestModelsDir / "qdq_detector_nms.input.npy").string()).to_float();
  const std::vector<float> thresholds{0.2f, 0.5f, 0.8f, 10.0f};
  std::vector<Tensors> inputs;
  for (float threshold : thresholds)
    inputs.push_back({{"input", HostTensor::from_float({1, 6, 4, 4}, image)},
                      {"score_threshold", HostTensor::from_float({1}, {threshold})}});
  const Model reference = Model::load(path.string());
  std::vector<Tensors> expected;
  std::set<int64_t> counts;
  for (const Tensors& in : inputs) {
    expected.push_back(run_once(reference, in));
    counts.insert(expected.back().at(reference.outputs().at(0).name).shape().at(0));
  }
  ASSERT_EQ(counts.size(), thresholds.size()) << "each threshold should select a different count";
  ASSERT_TRUE(counts.count(0));
  const Model model = Model::load(path.string());
  Findings findings;
  run_threads(kThreads, findings, [&](int t) {
    Session session(model, SessionOptions{.threads = 1 + t % 2});
    for (size_t r = 0; r < 2 * thresholds.size(); ++r) {
      const size_t i = (static_cast<size_t>(t) + r) % thresholds.size();
      if (!identical(session.run(inputs[i]), expected[i]))
        findings.add("thread " + std::to_string(t) + " threshold " + std::to_string(thresholds[i]) +
                     " differs");
    }
  });
  findings.expect_none();
}

// A MatMul of two uint8 activations packs its right-hand operand on every run into storage it keeps for the
// next runs (gemm::PackedOperandSets): sessions sharing the model, at 1 and 2 threads, each on inputs of
// its own, must never see another run's packing.
TEST(ConcurrentSessions, ActivationMatmulsKeepTheirPackingApart) {
  const fs::path path = kTestModelsDir / "qdq_attention.onnx";
  if (!fs::exists(path)) GTEST_SKIP() << "no generated test models";
  const Model model = Model::load(path.string());
  std::vector<Tensors> inputs;
  std::vector<Tensors> expected;
  for (int i = 0; i < 6; ++i) {
    std::vector<float> values(2 * 5 * 8);
    for (size_t j = 0; j < values.size(); ++j)
      values[j] = std::sin(0.37f * static_cast<float>(j) + 1.3f * static_cast<float>(i));
    inputs.push_back({{model.inputs().at(0).name, HostTensor::from_float({2, 5, 8}, std::move(values))}});
    expected.push_back(run_once(model, inputs.back()));
  }
  Findings findings;
  run_threads(kThreads, findings, [&](int t) {
    Session session(model, SessionOptions{.threads = 1 + t % 2});
    for (size_t r = 0; r < 3 * inputs.size(); ++r) {
      const size_t i = (static_cast<size_t>(t) + r) % inputs.size();
      if (!identical(session.run(inputs[i]), expected[i]))
        findings.add("thread " + std::to_string(t) + " input " + std::to_string(i) + " differs");
    }
  });
  findings.expect_none();
}

// Static int8 quantization treats every image of a batch alone: an image's outputs must not depend on the
// batch it came in, which is what lets sessions of different batch sizes share one set of packed weights.
TEST(ConcurrentSessions, BatchedOutputsMatchOneImageAtATime) {
  const Subject subject = subjects().front();
  const Model model = Model::load(subject.path.string());
  const Tensors batch = run_once(model, subject.inputs(model, 8));
  for (int64_t i = 0; i < 8; ++i) {
    Tensors one = subject.inputs(model, 8);
    const auto& images = one.begin()->second;
    const std::vector<float> pixels(images.float_data().begin() + i * 28 * 28,
                                    images.float_data().begin() + (i + 1) * 28 * 28);
    const Tensors single =
        run_once(model, {{one.begin()->first, HostTensor::from_float({1, 1, 28, 28}, pixels)}});
    for (const auto& [name, tensor] : single) {
      const std::span<const float> all = batch.at(name).float_data(), row = tensor.float_data();
      ASSERT_EQ(all.size(), 8 * row.size()) << name;
      EXPECT_TRUE(std::equal(row.begin(), row.end(), all.begin() + i * static_cast<int64_t>(row.size())))
          << name << " image " << i;
    }
  }
}

}  // namespace
}  // namespace octet
