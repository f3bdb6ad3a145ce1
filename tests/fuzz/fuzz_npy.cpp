// libFuzzer target: arbitrary bytes as a NumPy .npy file, the input format of `octet run` and `octet
// classify`. Parsing must either produce a consistent array or throw octet::Error.

#include <cstdlib>
#include <span>

#include "kernels/error.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tools/npy.h"

namespace octet::fuzz {

namespace {

bool is_integer(npy::Dtype d) {
  return d == npy::Dtype::uint8 || d == npy::Dtype::int8 || d == npy::Dtype::int32 || d == npy::Dtype::int64;
}

// Only the parse may refuse the bytes: once a file is accepted, the conversions that apply to its dtype and
// a write / read round trip must succeed, so an octet::Error from them escapes as a finding.
void parse_and_convert(std::span<const std::byte> bytes) {
  npy::Array a;
  try {
    a = npy::parse(bytes, "fuzz.npy");
  } catch (const Error&) {
    return;  // a malformed file refused with an octet::Error is the promised behavior
  }
  const auto count = static_cast<size_t>(a.element_count());
  if (a.to_float().size() != count) std::abort();
  if (a.dtype == npy::Dtype::uint8 && a.to_uint8().size() != count) std::abort();
  if (is_integer(a.dtype) && a.to_int64().size() != count) std::abort();
  // What octet writes, it must read back unchanged.
  const npy::Array b = npy::parse(npy::serialize(a), "round trip");
  if (b.dtype != a.dtype || b.shape != a.shape || b.data != a.data) std::abort();
}

}  // namespace

void npy_one(const uint8_t* data, size_t size) {
  parse_and_convert({reinterpret_cast<const std::byte*>(data), size});
}

}  // namespace octet::fuzz

#ifndef OCTET_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  octet::fuzz::npy_one(data, size);
  return 0;
}
#endif
