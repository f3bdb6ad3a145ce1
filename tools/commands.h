#pragma once

#include <span>
#include <string_view>

namespace octet::tools {

// `octet demo`: quantization arithmetic and a reference convolution on generated data, checked against
// float math. Returns the process exit code.
int run_demo(std::span<const std::string_view> args);

}  // namespace octet::tools
