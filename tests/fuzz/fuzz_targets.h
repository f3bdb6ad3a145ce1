#pragma once

// The bodies of octet's libFuzzer targets, callable without libFuzzer so that fuzz_regression_tests can
// replay saved crashing inputs through exactly the code the fuzzers ran. Each returns normally when octet
// accepted the input or refused it with an octet::Error; anything else (another exception, a crash, a
// sanitizer report) is a finding.

#include <cstddef>
#include <cstdint>

namespace octet::fuzz {

// Bytes -> Model::load_from_memory; when the model loads, one Session runs it on deterministic inputs.
void model_load_one(const uint8_t* data, size_t size);

// Bytes -> npy::parse, then the conversions that apply to the parsed dtype, and a serialize round trip.
void npy_one(const uint8_t* data, size_t size);

}  // namespace octet::fuzz
