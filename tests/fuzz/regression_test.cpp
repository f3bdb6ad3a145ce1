// Replays the fuzzers' saved findings (regressions/model_load/*, regressions/npy/*) through the same
// harness code the fuzzers run (fuzz_targets.h). A finding that comes back fails here as an exception other
// than octet::Error, a crash, or, in the ASan + UBSan build, a sanitizer report.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tools/npy.h"

namespace octet::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file) << "cannot open " << path;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// Every regular file of a folder, sorted, so that failures name the same file on every run.
std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

void replay(const fs::path& dir, void (*target)(const uint8_t*, size_t)) {
  for (const fs::path& path : files_in(dir)) {
    SCOPED_TRACE(path.string());
    const std::vector<uint8_t> bytes = read_bytes(path);
    EXPECT_NO_THROW(target(bytes.data(), bytes.size()));
  }
}

const fs::path kRegressions(OCTET_FUZZ_REGRESSIONS_DIR);

TEST(FuzzRegression, ModelLoad) {
  replay(kRegressions / "model_load", model_load_one);
}

TEST(FuzzRegression, Npy) {
  replay(kRegressions / "npy", npy_one);
}

// The harness itself: the bundled model loads and runs through it, and the malformed models (when that
// corpus is present) are refused through it, so a harness that silently stopped running models would show.
TEST(FuzzHarness, BundledModelAndMalformedModels) {
  const std::vector<uint8_t> model = read_bytes(OCTET_FUZZ_MODEL);
  ASSERT_FALSE(model.empty());
  EXPECT_NO_THROW(model_load_one(model.data(), model.size()));
  // Truncations of a valid model reach the importer's checks at every depth of the protobuf.
  for (size_t size : {size_t{0}, size_t{1}, size_t{64}, model.size() / 3, model.size() / 2, model.size() - 1})
    EXPECT_NO_THROW(model_load_one(model.data(), size)) << "truncated to " << size << " bytes";
  replay(OCTET_FUZZ_MALFORMED_DIR, model_load_one);
}

// The .npy header scanner that replaced std::regex (whose recursion overflowed the stack on long headers):
// the forms NumPy writes parse, malformed shapes are refused, and a header too long for format version 1
// is written as version 2.
std::vector<std::byte> npy_file(const std::string& shape, size_t data_bytes) {
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': " + shape + ", }\n";
  std::vector<std::byte> out(10 + header.size() + data_bytes, std::byte{7});
  std::memcpy(out.data(), "\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<uint16_t>(header.size());
  std::memcpy(out.data() + 8, &len, 2);
  std::memcpy(out.data() + 10, header.data(), header.size());
  return out;
}

TEST(NpyHeader, ParsesTheShapesNumPyWrites) {
  EXPECT_EQ(npy::parse(npy_file("()", 1), "scalar").shape, std::vector<int64_t>{});
  EXPECT_EQ(npy::parse(npy_file("(5,)", 5), "1-d").shape, std::vector<int64_t>{5});
  EXPECT_EQ(npy::parse(npy_file("(2, 3)", 6), "2-d").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(npy::parse(npy_file("(2, 3, )", 6), "trailing comma").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(npy::parse(npy_file("(0, 4)", 0), "empty").element_count(), 0);
}

TEST(NpyHeader, RefusesMalformedShapes) {
  for (const char* shape : {"(3 4)", "(,)", "(-1,)", "(2,,3)", "(1e3,)", "(1234567890123456789,)"})
    EXPECT_THROW(npy::parse(npy_file(shape, 12), shape), Error) << shape;
}

TEST(NpyHeader, LongHeadersRoundTripThroughVersion2) {
  npy::Array a{npy::Dtype::uint8, std::vector<int64_t>(40000, 1), {std::byte{42}}};
  const std::vector<std::byte> bytes = npy::serialize(a);
  EXPECT_EQ(bytes[6], std::byte{2});
  const npy::Array b = npy::parse(bytes, "many dimensions");
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.data, a.data);
}

}  // namespace
}  // namespace octet::fuzz
